#pragma once

#include <cstddef>
#include <numeric>
#include <utility>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/detail/eigen.hpp"

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
  {
    const T* pa = a.value().data();
    const T* pb = b.value().data();
    T* py = y.data();
    for (index_t i = 0; i < batch; ++i) {
      detail::matrix(py + i * m * n, m, n).noalias() =
          detail::matrix(pa + i * m * k, m, k) * detail::matrix(pb + i * k * n, k, n);
    }
  }
  return Variable<T>::from_op("matmul", std::move(y), {a, b},
                              [av = a.value(), bv = b.value(), batch, m, k, n](
                                  const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // C = A B: dA = dC B^T, dB = A^T dC (per batch entry; a shared B
                                // sums over the batch, which the folded [batch * m, k] view does
                                // inside one GEMM).
                                const T* pg = g.data();
                                if (grads.wants(0)) {
                                  Tensor<T> ga = Tensor<T>::empty(av.shape());
                                  const T* pb = bv.data();
                                  for (index_t i = 0; i < batch; ++i) {
                                    detail::matrix(ga.data() + i * m * k, m, k).noalias() =
                                        detail::matrix(pg + i * m * n, m, n) *
                                        detail::matrix(pb + i * k * n, k, n).transpose();
                                  }
                                  grads.add(0, std::move(ga));
                                }
                                if (grads.wants(1)) {
                                  Tensor<T> gb = Tensor<T>::empty(bv.shape());
                                  const T* pa = av.data();
                                  for (index_t i = 0; i < batch; ++i) {
                                    detail::matrix(gb.data() + i * k * n, k, n).noalias() =
                                        detail::matrix(pa + i * m * k, m, k).transpose() *
                                        detail::matrix(pg + i * m * n, m, n);
                                  }
                                  grads.add(1, std::move(gb));
                                }
                              });
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
