#pragma once

#include <algorithm>
#include <cstddef>
#include <numeric>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/detail/gemm.hpp"
#include "lamina/detail/parallel.hpp"
#include "lamina/ops/activation.hpp"

namespace lamina {

namespace detail {

/// The geometry of one matmul: `batch` products of [m, k] x [k, n]. With `shared_b` the right
/// operand is one 2-D [k, n] matrix used by every batch entry, so the left operand can be viewed
/// as a single [batch * m, k] matrix.
struct MatmulDims {
  index_t batch = 1, m = 0, k = 0, n = 0;
  bool shared_b = true;
  Shape out;
};

/// Validates the operands of matmul and works out its geometry.
inline MatmulDims matmul_dims(const Shape& a, const Shape& b) {
  check<ShapeError>(a.rank() >= 2 && b.rank() >= 2, "matmul: ", a, " x ", b,
                    ": both operands need rank >= 2 ([..., m, k] x [..., k, n] or [k, n])");
  const int ra = a.rank(), rb = b.rank();
  MatmulDims d;
  d.shared_b = rb == 2;
  if (!d.shared_b) {
    bool same = ra == rb;
    for (int i = 0; same && i < ra - 2; ++i) same = a[i] == b[i];
    check<ShapeError>(same, "matmul: ", a, " x ", b,
                      ": batch axes differ (b must be 2-D [k, n] or have the same leading axes "
                      "as a)");
  }
  d.m = a[ra - 2];
  d.k = a[ra - 1];
  d.n = b[rb - 1];
  check<ShapeError>(b[rb - 2] == d.k, "matmul: ", a, " x ", b, ": inner dimensions differ (", d.k,
                    " vs ", b[rb - 2], ")");
  std::vector<index_t> out(a.begin(), a.end());
  out.back() = d.n;
  d.out = Shape(std::move(out));
  for (int i = 0; i < ra - 2; ++i) d.batch *= a[i];
  return d;
}

/// Copies `x` with its axes reordered: output axis i is input axis axes[i] (all validated).
template <class T>
Tensor<T> permute_copy(const Tensor<T>& x, const std::vector<int>& axes) {
  const int r = x.rank();
  std::vector<index_t> dims(static_cast<std::size_t>(r));
  std::vector<index_t> in_strides(static_cast<std::size_t>(r));
  const std::vector<index_t> own = x.shape().strides();
  for (int i = 0; i < r; ++i) {
    const auto u = static_cast<std::size_t>(i);
    dims[u] = x.shape()[axes[u]];
    in_strides[u] = own[static_cast<std::size_t>(axes[u])];
  }
  Tensor<T> y = Tensor<T>::empty(Shape(dims));
  if (y.size() == 0) return y;
  if (r == 0) {
    y.data()[0] = x.data()[0];
    return y;
  }
  // Walk the output in order; the innermost output axis is a strided loop over the input.
  const T* src = x.data();
  T* dst = y.data();
  const index_t inner = dims.back(), step = in_strides.back();
  std::vector<index_t> counter(static_cast<std::size_t>(r), 0);
  index_t at = 0;
  for (index_t o = 0; o < y.size(); o += inner) {
    for (index_t j = 0; j < inner; ++j) dst[o + j] = src[at + j * step];
    for (int axis = r - 2; axis >= 0; --axis) {
      const auto u = static_cast<std::size_t>(axis);
      at += in_strides[u];
      if (++counter[u] < dims[u]) break;
      at -= in_strides[u] * dims[u];
      counter[u] = 0;
    }
  }
  return y;
}

}  // namespace detail

namespace detail {

/// c_i = a_i b_i for `batch` row-major products [m, k] x [k, n] stored one after another, with
/// a_i, b_i, c_i read through `op_a`, `op_b` (identity or transpose of the stored matrix): one
/// product split over the threads, or several products shared out among them.
template <class T, class OpA, class OpB>
void batched_gemm(index_t batch, const T* a, index_t a_rows, index_t a_cols, const T* b,
                  index_t b_rows, index_t b_cols, T* c, index_t c_rows, index_t c_cols, OpA op_a,
                  OpB op_b) {
  const auto product = [&](index_t i) {
    return std::make_tuple(matrix(c + i * c_rows * c_cols, c_rows, c_cols),
                           op_a(matrix(a + i * a_rows * a_cols, a_rows, a_cols)),
                           op_b(matrix(b + i * b_rows * b_cols, b_rows, b_cols)));
  };
  if (batch == 1) {
    auto [ci, ai, bi] = product(0);
    return gemm(ci, ai, bi);
  }
  const int threads = threads_for(static_cast<double>(batch) * static_cast<double>(c_rows) *
                                  static_cast<double>(c_cols) * static_cast<double>(a_cols));
  parallel_for(batch, split_grain(batch, threads, 1), threads,
               [&](index_t begin, index_t end, int) {
                 for (index_t i = begin; i < end; ++i) {
                   auto [ci, ai, bi] = product(i);
                   gemm_views(ci, ai, bi);
                 }
               });
}

inline constexpr auto as_is = [](const auto& m) { return m; };
inline constexpr auto transposed = [](const auto& m) { return m.transpose(); };

}  // namespace detail

/// Matrix product. a: [m, k], b: [k, n] -> [m, n]. Batched: a [..., m, k] x b [..., k, n] with
/// equal leading axes -> [..., m, n], one GEMM per batch entry; or a [..., m, k] x a 2-D
/// b [k, n] shared across the batch (a Dense layer on a sequence), computed as one
/// [(...) * m, k] x [k, n] GEMM in both directions. Throws ShapeError naming both shapes.
template <class T>
Variable<T> matmul(const Variable<T>& a, const Variable<T>& b) {
  const detail::MatmulDims d = detail::matmul_dims(a.shape(), b.shape());
  // With a shared b the batch folds into the rows: [batch * m, k] x [k, n].
  const index_t batch = d.shared_b ? 1 : d.batch;
  const index_t m = d.shared_b ? d.batch * d.m : d.m, k = d.k, n = d.n;
  Tensor<T> y = Tensor<T>::empty(d.out);
  detail::batched_gemm(batch, a.value().data(), m, k, b.value().data(), k, n, y.data(), m, n,
                       detail::as_is, detail::as_is);
  return Variable<T>::from_op(
      "matmul", std::move(y), {a, b},
      [av = a.value(), bv = b.value(), batch, m, k, n](const Tensor<T>& g,
                                                       autograd::Gradients<T>& grads) {
        // C = A B: dA = dC Bᵀ, dB = Aᵀ dC (per batch entry; a shared B sums over the batch,
        // which the folded [batch * m, k] view does inside one GEMM).
        if (grads.wants(0)) {
          Tensor<T> ga = Tensor<T>::empty(av.shape());
          detail::batched_gemm(batch, g.data(), m, n, bv.data(), k, n, ga.data(), m, k,
                               detail::as_is, detail::transposed);
          grads.add(0, std::move(ga));
        }
        if (grads.wants(1)) {
          Tensor<T> gb = Tensor<T>::empty(bv.shape());
          detail::batched_gemm(batch, av.data(), m, k, g.data(), m, n, gb.data(), k, n,
                               detail::transposed, detail::as_is);
          grads.add(1, std::move(gb));
        }
      });
}

namespace detail {

/// dense with an optional bias (null when absent).
template <class T>
Variable<T> dense(const Variable<T>& x, const Variable<T>& kernel, const Variable<T>* bias,
                  const std::string& activation) {
  const Shape& xs = x.shape();
  const Shape& ks = kernel.shape();
  check<ShapeError>(ks.rank() == 2, "dense: kernel must be [in, units], got ", ks);
  check<ShapeError>(xs.rank() >= 2 && xs[xs.rank() - 1] == ks[0], "dense: input ", xs,
                    " does not match kernel ", ks, " (expected [..., ", ks[0], "])");
  check<ShapeError>(!bias || bias->shape() == Shape{ks[1]}, "dense: bias ",
                    bias ? bias->shape() : Shape{}, " does not match kernel ", ks, " (expected [",
                    ks[1], "])");
  const Pointwise act = pointwise("dense", activation);
  const index_t in = ks[0], units = ks[1];
  index_t rows = 1;
  for (int i = 0; i + 1 < xs.rank(); ++i) rows *= xs[i];
  std::vector<index_t> out(xs.begin(), xs.end());
  out.back() = units;
  Tensor<T> y = Tensor<T>::empty(Shape(std::move(out)));
  const int threads =
      threads_for(static_cast<double>(rows) * static_cast<double>(units) * static_cast<double>(in));
  const index_t grain = split_grain(rows, threads, 16, kGemmPiecesPerThread);
  {
    const auto w = matrix(kernel.value().data(), in, units);
    const T* px = x.value().data();
    const T* b = bias ? bias->value().data() : nullptr;
    T* py = y.data();
    parallel_for(rows, grain, threads, [&](index_t r0, index_t r1, int) {
      gemm_views(matrix(py + r0 * units, r1 - r0, units), matrix(px + r0 * in, r1 - r0, in), w);
      bias_activation(py + r0 * units, r1 - r0, units, b, act);
    });
  }
  std::vector<Variable<T>> inputs{x, kernel};
  if (bias) inputs.push_back(*bias);
  Tensor<T> kept = act == Pointwise::linear ? Tensor<T>() : y;
  return Variable<T>::from_op(
      "dense", std::move(y), std::move(inputs),
      [act, has_bias = bias != nullptr, yv = std::move(kept), xv = x.value(), kv = kernel.value(),
       rows, in, units](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // Y = act(Z), Z = X W + b  =>  dZ = dY act'(Z),  db = sum over rows of dZ,  dW = Xᵀ dZ,
        // dX = dZ Wᵀ
        const bool want_x = grads.wants(0), want_w = grads.wants(1);
        const bool want_b = has_bias && grads.wants(2);
        Tensor<T> dz = act == Pointwise::linear ? g : Tensor<T>::empty(g.shape());
        Tensor<T> dx = want_x ? Tensor<T>::empty(xv.shape()) : Tensor<T>();
        // The elementwise part is split on its own (much smaller) amount of work.
        const int ew_threads =
            threads_for(static_cast<double>(rows) * static_cast<double>(units) * kElementwiseWork);
        const index_t ew_grain = split_grain(rows, ew_threads);
        // db: one partial sum per row block, added in block order (reproducible bits).
        Tensor<T> db_parts = want_b ? Tensor<T>({part_count(rows, ew_grain), units}) : Tensor<T>();
        // dZ and db row block by row block; then dX and dW, each a GEMM split its own way (dX
        // by columns when it is wide, so that no thread packs all of W).
        if (act != Pointwise::linear || want_b) {
          parallel_for_parts(
              rows, ew_grain, ew_grain, ew_threads, [&](index_t r0, index_t r1, index_t part) {
                const index_t count = r1 - r0;
                if (act != Pointwise::linear)
                  bias_activation_backward(g.data() + r0 * units, yv.data() + r0 * units,
                                           dz.data() + r0 * units, count * units, act);
                if (want_b)
                  add_column_sums(dz.data() + r0 * units, count, units,
                                  db_parts.data() + part * units);
              });
        }
        if (want_x)
          gemm(matrix(dx.data(), rows, in), matrix(dz.data(), rows, units),
               matrix(kv.data(), in, units).transpose());
        if (want_x) grads.add(0, std::move(dx));
        if (want_w) {
          Tensor<T> dw = Tensor<T>::empty(kv.shape());
          gemm(matrix(dw.data(), in, units), matrix(xv.data(), rows, in).transpose(),
               matrix(dz.data(), rows, units));
          grads.add(1, std::move(dw));
        }
        if (want_b) {
          Tensor<T> db = Tensor<T>::empty({units});
          sum_parts(db_parts.data(), db_parts.dim(0), units);
          std::copy_n(db_parts.data(), units, db.data());
          grads.add(2, std::move(db));
        }
      });
}

}  // namespace detail

/// A fully connected layer's computation as one op: activation(x kernel + bias).
/// x: [..., in]; kernel: [in, units]; bias: [units]; returns [..., units]. `activation` is
/// applied inside the op: "linear" (none), "relu", "sigmoid", "tanh", "leaky_relu" or "elu",
/// with their Keras defaults. The rows of x are split into blocks on all threads, each block's
/// bias and activation applied while it is in cache.
template <class T>
Variable<T> dense(const Variable<T>& x, const Variable<T>& kernel, const Variable<T>& bias,
                  const std::string& activation = "linear") {
  return detail::dense(x, kernel, &bias, activation);
}

/// activation(x kernel) as one op, without a bias (see the overload with one).
template <class T>
Variable<T> dense(const Variable<T>& x, const Variable<T>& kernel,
                  const std::string& activation = "linear") {
  return detail::dense<T>(x, kernel, nullptr, activation);
}

/// Reorders the axes: output axis i is input axis axes[i] (a permutation of 0..rank-1;
/// negative entries count from the end). Throws ValueError naming the axes and the shape.
template <class T>
Variable<T> permute(const Variable<T>& x, std::vector<int> axes) {
  const int r = x.rank();
  std::vector<int> inverse(static_cast<std::size_t>(r), -1);
  bool ok = static_cast<int>(axes.size()) == r;
  for (int i = 0; ok && i < r; ++i) {
    const int a = axes[static_cast<std::size_t>(i)];
    const int u = a < 0 ? a + r : a;
    ok = a >= -r && a < r && inverse[static_cast<std::size_t>(u)] < 0;
    if (ok) inverse[static_cast<std::size_t>(u)] = i;
  }
  check<ValueError>(ok, "permute: axes ", Shape(std::vector<index_t>(axes.begin(), axes.end())),
                    " are not a permutation of the ", r, " axes of shape ", x.shape());
  for (int& a : axes) a = a < 0 ? a + r : a;
  return Variable<T>::from_op("permute", detail::permute_copy(x.value(), axes), {x},
                              [inverse](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // y[i_0.. i_r] = x[i_p^-1...]: the gradient moves back through
                                // the inverse permutation.
                                grads.add(0, detail::permute_copy(g, inverse));
                              });
}

/// Swaps the last two axes: [..., m, n] -> [..., n, m]. Throws ShapeError below rank 2.
template <class T>
Variable<T> transpose(const Variable<T>& x) {
  check<ShapeError>(x.rank() >= 2, "transpose: needs rank >= 2 to swap the last two axes, got ",
                    x.shape());
  std::vector<int> axes(static_cast<std::size_t>(x.rank()));
  std::iota(axes.begin(), axes.end(), 0);
  std::swap(axes[axes.size() - 1], axes[axes.size() - 2]);
  return permute(x, std::move(axes));
}

}  // namespace lamina
