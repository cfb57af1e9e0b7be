#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <utility>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/detail/gemm.hpp"
#include "lamina/detail/parallel.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/window.hpp"

namespace lamina {

/// Options of conv2d (Keras Conv2D's keyword arguments of the same names).
struct Conv2DOptions {
  /// Step of the kernel along height and width.
  Size2 strides{1, 1};
  Padding padding = Padding::valid;
  /// Applied to the result inside the op, with its Keras defaults: "linear" (none) or another
  /// fusable name ("relu", "sigmoid", "tanh", "leaky_relu", "elu", "selu", "relu6",
  /// "hard_sigmoid", "softsign"; detail::activation_name_list(true)).
  std::string activation = "linear";
};

namespace detail {

/// for_each_patch_span for a single input channel, where a span would be only window_w values:
/// too short to pay for its bookkeeping. Walks each image row once per kernel column instead,
/// one entry at a time (about 3x faster for the tutorial's [32, 28, 28, 1] input, 3x3 kernel).
template <class Inside, class Outside>
void for_each_patch_entry_one_channel(const Window2D& w, Inside& inside, Outside& outside) {
  const index_t depth = w.window_h * w.window_w;
  const auto ceil_div = [](index_t a, index_t b) { return a <= 0 ? 0 : (a + b - 1) / b; };
  index_t row = 0;  // first patch row of the current output row
  for (index_t n = 0; n < w.batch; ++n) {
    for (index_t oy = 0; oy < w.out_h; ++oy, row += w.out_w) {
      for (index_t ky = 0; ky < w.window_h; ++ky) {
        const index_t y = oy * w.stride_h - w.pad_top + ky;
        const bool row_inside = y >= 0 && y < w.in_h;
        const index_t image_row = (n * w.in_h + y) * w.in_w - w.pad_left;
        for (index_t kx = 0; kx < w.window_w; ++kx) {
          // Input column ox * stride_w - pad_left + kx is inside for ox in [lo, hi).
          const index_t lo =
              row_inside ? std::min(ceil_div(w.pad_left - kx, w.stride_w), w.out_w) : w.out_w;
          const index_t hi =
              row_inside ? std::clamp(ceil_div(w.in_w + w.pad_left - kx, w.stride_w), lo, w.out_w)
                         : w.out_w;
          const index_t p = row * depth + ky * w.window_w + kx;
          for (index_t ox = 0; ox < lo; ++ox) outside(p + ox * depth, 1);
          for (index_t ox = lo; ox < hi; ++ox)
            inside(p + ox * depth, image_row + ox * w.stride_w + kx, 1);
          for (index_t ox = hi; ox < w.out_w; ++ox) outside(p + ox * depth, 1);
        }
      }
    }
  }
}

/// Walks the patch matrix of im2col: row (n, oy, ox) holds the window's values in the order
/// [window_h, window_w, channels], so each window row is one contiguous span of the NHWC input.
/// Calls inside(patch_offset, input_offset, count) for spans inside the input and
/// outside(patch_offset, count) for the padding.
template <class Inside, class Outside>
void for_each_patch_span(const Window2D& w, Inside&& inside, Outside&& outside) {
  if (w.channels == 1) return for_each_patch_entry_one_channel(w, inside, outside);
  const index_t span = w.window_w * w.channels, depth = w.window_h * span;
  index_t row = 0;
  for (index_t n = 0; n < w.batch; ++n) {
    for (index_t oy = 0; oy < w.out_h; ++oy) {
      for (index_t ox = 0; ox < w.out_w; ++ox, ++row) {
        const index_t x0 = ox * w.stride_w - w.pad_left;
        const index_t lo = std::max<index_t>(0, -x0) * w.channels;
        const index_t hi = std::min<index_t>(w.window_w, w.in_w - x0) * w.channels;
        for (index_t ky = 0; ky < w.window_h; ++ky) {
          const index_t p = row * depth + ky * span;
          const index_t y = oy * w.stride_h - w.pad_top + ky;
          if (y < 0 || y >= w.in_h) {
            outside(p, span);
            continue;
          }
          if (lo > 0) outside(p, lo);
          inside(p + lo, ((n * w.in_h + y) * w.in_w + x0) * w.channels + lo, hi - lo);
          if (hi < span) outside(p + hi, span - hi);
        }
      }
    }
  }
}

/// im2col of the w.batch images at `x`: writes their patch matrix
/// [w.batch * out_h * out_w, window_h * window_w * channels] to `cols`.
template <class T>
void im2col(const T* x, const Window2D& w, T* cols) {
  for_each_patch_span(
      w,
      [&](index_t p, index_t i, index_t n) {
        for (index_t k = 0; k < n; ++k) cols[p + k] = x[i + k];
      },
      [&](index_t p, index_t n) { std::fill_n(cols + p, n, T(0)); });
}

/// The adjoint of im2col: overwrites the w.batch images at `x` with the sums of the patch-matrix
/// entries that came from each input element.
template <class T>
void col2im(const T* cols, const Window2D& w, T* x) {
  std::fill_n(x, w.batch * w.in_h * w.in_w * w.channels, T(0));
  for_each_patch_span(
      w,
      [&](index_t p, index_t i, index_t n) {
        for (index_t k = 0; k < n; ++k) x[i + k] += cols[p + k];
      },
      [](index_t, index_t) {});
}

/// How conv2d splits a batch: pieces of `grain` images, each lowered to its own patch matrix
/// (small enough to stay in a core's cache) and its own GEMM, on all threads.
struct ConvPlan {
  Window2D w;
  index_t depth = 0, filters = 0;
  /// Output pixels per image (rows of the patch matrix per image).
  index_t pixels = 0;
  /// 1x1 kernel with stride 1: the input is its own patch matrix.
  bool pointwise = false;
  /// Threads (1 for a small convolution) and images per piece.
  int threads = 1;
  index_t grain = 1;

  ConvPlan(const Window2D& window, const Shape& kernel) : w(window) {
    depth = kernel[0] * kernel[1] * kernel[2];
    filters = kernel[3];
    pixels = w.out_h * w.out_w;
    pointwise = kernel[0] == 1 && kernel[1] == 1 && w.stride_h == 1 && w.stride_w == 1;
    threads = threads_for(static_cast<double>(w.batch) * static_cast<double>(pixels) *
                          static_cast<double>(depth) * static_cast<double>(filters));
    // At most ~256 KB of patches per piece, and about four pieces per thread to share out.
    constexpr index_t kPatchValues = index_t{1} << 16;
    const index_t fit = std::max<index_t>(1, kPatchValues / std::max<index_t>(1, pixels * depth));
    grain = std::min(fit, split_grain(w.batch, threads, 1));
  }

  /// The geometry of images [n0, n1) alone.
  Window2D piece(index_t n0, index_t n1) const {
    Window2D p = w;
    p.batch = n1 - n0;
    return p;
  }
  index_t image_size() const { return w.in_h * w.in_w * w.channels; }
  /// The patch matrix of images [n0, n1) of x: x itself when pointwise, else im2col into `buf`.
  template <class T>
  const T* patches(const T* x, index_t n0, index_t n1, int slot) const {
    if (pointwise) return x + n0 * image_size();
    T* buf = scratch<T>(slot, (n1 - n0) * pixels * depth);
    im2col(x + n0 * image_size(), piece(n0, n1), buf);
    return buf;
  }
};

}  // namespace detail

namespace detail {

/// conv2d with an optional bias (null when absent).
template <class T>
Variable<T> conv2d(const Variable<T>& x, const Variable<T>& kernel, const Variable<T>* bias,
                   const Conv2DOptions& options) {
  const Shape& xs = x.shape();
  const Shape& ks = kernel.shape();
  check<ShapeError>(xs.rank() == 4, "conv2d: input must be [batch, height, width, channels], got ",
                    xs);
  check<ShapeError>(ks.rank() == 4,
                    "conv2d: kernel must be [kernel_h, kernel_w, in_channels, filters], got ", ks);
  check<ShapeError>(ks[0] > 0 && ks[1] > 0, "conv2d: kernel ", ks,
                    " must have a positive height and width");
  check<ShapeError>(xs[3] == ks[2], "conv2d: input ", xs, " has ", xs[3], " channels but kernel ",
                    ks, " expects ", ks[2]);
  check<ShapeError>(!bias || bias->shape() == Shape{ks[3]}, "conv2d: bias ",
                    bias ? bias->shape() : Shape{}, " does not match the ", ks[3],
                    " filters of kernel ", ks, " (expected [", ks[3], "])");
  const Pointwise act = pointwise("conv2d", options.activation);
  const ConvPlan plan(
      window_2d("conv2d", xs, ks[0], ks[1], options.strides, options.padding, "kernel " + ks.str()),
      ks);
  const index_t depth = plan.depth, filters = plan.filters;
  Tensor<T> y = Tensor<T>::empty({plan.w.batch, plan.w.out_h, plan.w.out_w, filters});
  {
    const T* px = x.value().data();
    const auto k = matrix(kernel.value().data(), depth, filters);
    const T* b = bias ? bias->value().data() : nullptr;
    T* py = y.data();
    parallel_for(plan.w.batch, plan.grain, plan.threads, [&](index_t n0, index_t n1, int) {
      const index_t rows = (n1 - n0) * plan.pixels;
      T* yn = py + n0 * plan.pixels * filters;
      gemm_views(matrix(yn, rows, filters), matrix(plan.patches(px, n0, n1, 0), rows, depth), k);
      bias_activation(yn, rows, filters, b, act);
    });
  }
  std::vector<Variable<T>> inputs{x, kernel};
  if (bias) inputs.push_back(*bias);
  // The rule needs the output itself only to find act'(z) (never for "linear").
  Tensor<T> kept = act == Pointwise::linear ? Tensor<T>() : y;
  return Variable<T>::from_op(
      "conv2d", std::move(y), std::move(inputs),
      [plan, act, has_bias = bias != nullptr, yv = std::move(kept), xv = x.value(),
       kv = kernel.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // Y = act(Z), Z = P K + b  =>  dZ = dY act'(Z),  db = sum over rows of dZ,  dK = Pᵀ dZ,
        // dP = dZ Kᵀ,  dX = col2im(dP) (the adjoint of im2col). db and dK sum over the images:
        // each part of the batch into its own partial sums, added in part order, so that the
        // bits do not depend on which thread ran which part.
        const index_t depth = plan.depth, filters = plan.filters, batch = plan.w.batch;
        const bool want_x = grads.wants(0), want_k = grads.wants(1);
        const bool want_b = has_bias && grads.wants(2);
        const index_t part_size = split_grain(batch, plan.threads, 1);
        // Per part: dK [depth, filters] then db [filters].
        const index_t part = (depth + 1) * filters;
        Tensor<T> partial =
            want_k || want_b ? Tensor<T>::empty({part_count(batch, part_size), part}) : Tensor<T>();
        Tensor<T> dx = want_x ? Tensor<T>::empty(xv.shape()) : Tensor<T>();
        const auto k = matrix(kv.data(), depth, filters);
        parallel_for_parts(
            batch, part_size, plan.grain, plan.threads, [&](index_t n0, index_t n1, index_t p) {
              const index_t rows = (n1 - n0) * plan.pixels, offset = n0 * plan.pixels * filters;
              const bool first = n0 == p * part_size;  // the part's first piece starts its sums
              const T* dz = g.data() + offset;
              T* sums = want_k || want_b ? partial.data() + p * part : nullptr;
              if (act != Pointwise::linear) {
                T* buf = scratch<T>(2, rows * filters);
                bias_activation_backward(dz, yv.data() + offset, buf, rows * filters, act);
                dz = buf;
              }
              if (want_b) {
                if (first) std::fill_n(sums + depth * filters, filters, T(0));
                add_column_sums(dz, rows, filters, sums + depth * filters);
              }
              const auto dzm = matrix(dz, rows, filters);
              if (want_k) {
                const auto pm = matrix(plan.patches(xv.data(), n0, n1, 0), rows, depth);
                if (first)
                  gemm_views(matrix(sums, depth, filters), pm.transpose(), dzm);
                else
                  gemm_views(matrix(sums, depth, filters), pm.transpose(), dzm, true);
              }
              if (want_x) {
                T* dxn = dx.data() + n0 * plan.image_size();
                if (plan.pointwise) {
                  gemm_views(matrix(dxn, rows, depth), dzm, k.transpose());
                } else {
                  T* dp = scratch<T>(1, rows * depth);
                  gemm_views(matrix(dp, rows, depth), dzm, k.transpose());
                  col2im(dp, plan.piece(n0, n1), dxn);
                }
              }
            });
        if (want_x) grads.add(0, std::move(dx));
        if (!want_k && !want_b) return;
        T* sum = partial.data();
        sum_parts(sum, partial.dim(0), part);
        if (want_k) {
          Tensor<T> dk = Tensor<T>::empty(kv.shape());
          std::copy_n(sum, depth * filters, dk.data());
          grads.add(1, std::move(dk));
        }
        if (want_b) {
          Tensor<T> db = Tensor<T>::empty({filters});
          std::copy_n(sum + depth * filters, filters, db.data());
          grads.add(2, std::move(db));
        }
      });
}

}  // namespace detail

/// 2-D convolution (cross-correlation, as Keras Conv2D and torch.nn.functional.conv2d), then
/// options.activation. x: [batch, height, width, in_channels]; kernel: [kernel_h, kernel_w,
/// in_channels, filters] (Keras layout); returns [batch, out_h, out_w, filters] with
/// out = floor((in - k) / s) + 1 for `valid` and ceil(in / s) for `same` padding.
///
/// Lowered to GEMMs: the im2col patch matrix P [batch * out_h * out_w, kh * kw * in_channels]
/// times the kernel viewed as K [kh * kw * in_channels, filters] is the NHWC output itself.
/// The batch is split into pieces of a few images, each with its own patch matrix and GEMM, on
/// all threads; a 1x1 kernel with stride 1 needs no im2col (P is x). The backward rebuilds each
/// piece's patches rather than keeping P (about kh * kw times the input) from the forward:
/// redoing im2col in cache costs less than writing P to memory and reading it back. Bias and
/// activation are applied to each piece while it is in cache.
template <class T>
Variable<T> conv2d(const Variable<T>& x, const Variable<T>& kernel, Conv2DOptions options = {}) {
  return detail::conv2d<T>(x, kernel, nullptr, options);
}

/// activation(conv2d(x, kernel) + bias) as one op; bias: [filters], added to every pixel.
template <class T>
Variable<T> conv2d(const Variable<T>& x, const Variable<T>& kernel, const Variable<T>& bias,
                   Conv2DOptions options = {}) {
  return detail::conv2d(x, kernel, &bias, options);
}

}  // namespace lamina
