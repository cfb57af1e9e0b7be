#pragma once

#include <algorithm>
#include <utility>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/detail/gemm.hpp"
#include "lamina/detail/parallel.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/conv.hpp"

namespace lamina {

/// The output length of a transposed convolution along one axis, Keras's rule (without
/// output_padding): in * stride for `same`, in * stride + max(kernel - stride, 0) for `valid`
/// (that is (in - 1) * stride + kernel when kernel >= stride).
inline index_t conv_transpose_length(index_t in, index_t kernel, index_t stride, Padding padding) {
  return padding == Padding::same ? in * stride
                                  : in * stride + std::max<index_t>(kernel - stride, 0);
}

namespace detail {

/// conv2d_transpose with an optional bias (null when absent).
///
/// A transposed convolution is the input gradient of conv2d: for the output size L that
/// conv_transpose_length gives, conv2d over an [L_h, L_w, filters] image with the same kernel,
/// strides and padding has exactly x's height and width. So the geometry is conv2d's (Window2D,
/// with TensorFlow's split of the 'same' padding: max(kernel - stride, 0) in all, half before
/// and the odd one after), seen from the other side: x's pixels are the window positions and y
/// is the image the windows lie on.
template <class T>
Variable<T> conv2d_transpose(const Variable<T>& x, const Variable<T>& kernel,
                             const Variable<T>* bias, const Conv2DOptions& options) {
  const Shape& xs = x.shape();
  const Shape& ks = kernel.shape();
  const char* op = "conv2d_transpose";
  check<ShapeError>(xs.rank() == 4, op, ": input must be [batch, height, width, channels], got ",
                    xs);
  check<ShapeError>(ks.rank() == 4, op,
                    ": kernel must be [kernel_h, kernel_w, filters, in_channels], got ", ks);
  check<ShapeError>(ks[0] > 0 && ks[1] > 0 && ks[2] > 0, op, ": kernel ", ks,
                    " must have a positive height, width and number of filters");
  check<ShapeError>(xs[1] > 0 && xs[2] > 0, op, ": input ", xs,
                    " must have a positive height and width");
  check<ShapeError>(xs[3] == ks[3], op, ": input ", xs, " has ", xs[3], " channels but kernel ", ks,
                    " expects ", ks[3]);
  check<ShapeError>(!bias || bias->shape() == Shape{ks[2]}, op, ": bias ",
                    bias ? bias->shape() : Shape{}, " does not match the ", ks[2],
                    " filters of kernel ", ks, " (expected [", ks[2], "])");
  const auto [sh, sw] = options.strides;
  check<ValueError>(sh > 0 && sw > 0, op, ": strides must be positive, got [", sh, ", ", sw, "]");
  const Pointwise act = pointwise(op, options.activation);
  const index_t filters = ks[2], in_channels = ks[3];
  const Shape ys{xs[0], conv_transpose_length(xs[1], ks[0], sh, options.padding),
                 conv_transpose_length(xs[2], ks[1], sw, options.padding), filters};
  // conv2d's plan for the conv2d from y's shape to x's: its patch matrix has one row per pixel
  // of x and one column per kernel entry and filter; its "filters" are x's channels.
  const ConvPlan plan(
      window_2d(op, ys, ks[0], ks[1], options.strides, options.padding, "kernel " + ks.str()), ks);
  check(plan.w.out_h == xs[1] && plan.w.out_w == xs[2], op, ": internal: output ", ys,
        " does not map back to input ", xs);
  const index_t depth = plan.depth, image = plan.image_size();
  Tensor<T> y = Tensor<T>::empty(ys);
  {
    const T* px = x.value().data();
    const auto k = matrix(kernel.value().data(), depth, in_channels);
    const T* b = bias ? bias->value().data() : nullptr;
    T* py = y.data();
    parallel_for(plan.w.batch, plan.grain, plan.threads, [&](index_t n0, index_t n1, int) {
      // Y = col2im(X Kᵀ): each input pixel spreads its kernel-weighted values over its window.
      const index_t rows = (n1 - n0) * plan.pixels;
      const auto xm = matrix(px + n0 * plan.pixels * in_channels, rows, in_channels);
      T* yn = py + n0 * image;
      if (plan.pointwise) {
        gemm_views(matrix(yn, rows, depth), xm, k.transpose());
      } else {
        T* dp = scratch<T>(1, rows * depth);
        gemm_views(matrix(dp, rows, depth), xm, k.transpose());
        col2im(dp, plan.piece(n0, n1), yn);
      }
      bias_activation(yn, (n1 - n0) * image / filters, filters, b, act);
    });
  }
  std::vector<Variable<T>> inputs{x, kernel};
  if (bias) inputs.push_back(*bias);
  // The rule needs the output itself only to find act'(z) (never for "linear").
  Tensor<T> kept = act == Pointwise::linear ? Tensor<T>() : y;
  return Variable<T>::from_op(
      op, std::move(y), std::move(inputs),
      [plan, act, has_bias = bias != nullptr, yv = std::move(kept), xv = x.value(),
       kv = kernel.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // Y = act(Z), Z = col2im(X Kᵀ) + b  =>  dZ = dY act'(Z),  db = sum over pixels of dZ,
        // d(X Kᵀ) = im2col(dZ) =: Q (im2col is col2im's adjoint),  dX = Q K (a conv2d of dZ
        // with the same kernel),  dK = Qᵀ X. db and dK sum over the images: each part of the
        // batch into its own partial sums, added in part order, as conv2d does.
        const index_t depth = plan.depth, in_channels = plan.filters, filters = plan.w.channels;
        const index_t batch = plan.w.batch, image = plan.image_size();
        const bool want_x = grads.wants(0), want_k = grads.wants(1);
        const bool want_b = has_bias && grads.wants(2);
        const index_t part_size = split_grain(batch, plan.threads, 1);
        // Per part: dK [depth, in_channels] then db [filters].
        const index_t part = depth * in_channels + filters;
        Tensor<T> partial =
            want_k || want_b ? Tensor<T>::empty({part_count(batch, part_size), part}) : Tensor<T>();
        Tensor<T> dx = want_x ? Tensor<T>::empty(xv.shape()) : Tensor<T>();
        const auto k = matrix(kv.data(), depth, in_channels);
        parallel_for_parts(
            batch, part_size, plan.grain, plan.threads, [&](index_t n0, index_t n1, index_t p) {
              const index_t rows = (n1 - n0) * plan.pixels, values = (n1 - n0) * image;
              const bool first = n0 == p * part_size;  // the part's first piece starts its sums
              const T* dz = g.data() + n0 * image;
              T* sums = want_k || want_b ? partial.data() + p * part : nullptr;
              if (act != Pointwise::linear) {
                T* buf = scratch<T>(2, values);
                bias_activation_backward(dz, yv.data() + n0 * image, buf, values, act);
                dz = buf;
              }
              if (want_b) {
                if (first) std::fill_n(sums + depth * in_channels, filters, T(0));
                add_column_sums(dz, values / filters, filters, sums + depth * in_channels);
              }
              if (!want_k && !want_x) return;
              const auto q = matrix(plan.patches(dz, 0, n1 - n0, 0), rows, depth);
              const auto xm = matrix(xv.data() + n0 * plan.pixels * in_channels, rows, in_channels);
              if (want_k) {
                if (first)
                  gemm_views(matrix(sums, depth, in_channels), q.transpose(), xm);
                else
                  gemm_views(matrix(sums, depth, in_channels), q.transpose(), xm, true);
              }
              if (want_x) {
                gemm_views(matrix(dx.data() + n0 * plan.pixels * in_channels, rows, in_channels), q,
                           k);
              }
            });
        if (want_x) grads.add(0, std::move(dx));
        if (!want_k && !want_b) return;
        T* sum = partial.data();
        sum_parts(sum, partial.dim(0), part);
        if (want_k) {
          Tensor<T> dk = Tensor<T>::empty(kv.shape());
          std::copy_n(sum, depth * in_channels, dk.data());
          grads.add(1, std::move(dk));
        }
        if (want_b) {
          Tensor<T> db = Tensor<T>::empty({filters});
          std::copy_n(sum + depth * in_channels, filters, db.data());
          grads.add(2, std::move(db));
        }
      });
}

}  // namespace detail

/// 2-D transposed convolution (Keras Conv2DTranspose without output_padding and dilation;
/// torch.nn.functional.conv_transpose2d with TensorFlow's padding), then options.activation.
/// x: [batch, height, width, in_channels]; kernel: [kernel_h, kernel_w, filters, in_channels]
/// (Keras layout); returns [batch, out_h, out_w, filters] with out = conv_transpose_length(in,
/// kernel, stride, padding): in * stride for `same`, in * stride + max(kernel - stride, 0) for
/// `valid`. Each input pixel adds its kernel-weighted values to a kernel-sized window of the
/// output, the windows stride apart; `same` then crops max(kernel - stride, 0) rows (columns),
/// half at the start and the odd one at the end.
///
/// The adjoint of conv2d, lowered with the same pieces: forward, the GEMM X Kᵀ gives the patch
/// matrix and col2im sums it into the image; backward, im2col of the output gradient times the
/// kernel is the input gradient (a conv2d), and its transpose times X the kernel gradient.
template <class T>
Variable<T> conv2d_transpose(const Variable<T>& x, const Variable<T>& kernel,
                             Conv2DOptions options = {}) {
  return detail::conv2d_transpose<T>(x, kernel, nullptr, options);
}

/// activation(conv2d_transpose(x, kernel) + bias) as one op; bias: [filters], added to every
/// output pixel.
template <class T>
Variable<T> conv2d_transpose(const Variable<T>& x, const Variable<T>& kernel,
                             const Variable<T>& bias, Conv2DOptions options = {}) {
  return detail::conv2d_transpose(x, kernel, &bias, options);
}

}  // namespace lamina
