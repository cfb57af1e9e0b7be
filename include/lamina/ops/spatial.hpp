#pragma once

#include <algorithm>
#include <array>
#include <utility>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

// Ops that move the pixels of NHWC images without weighing them: nearest-neighbour
// upsampling and zero padding.

namespace lamina {

/// Rows to add on each side of an image (zero_pad2d).
struct Pad2D {
  index_t top = 0, bottom = 0, left = 0, right = 0;
};

namespace detail {

inline void check_image(const char* op, const Shape& x) {
  check<ShapeError>(x.rank() == 4, op, ": input must be [batch, height, width, channels], got ", x);
}

}  // namespace detail

/// Nearest-neighbour upsampling (Keras UpSampling2D with interpolation "nearest"): each pixel
/// repeated size[0] times down and size[1] times across. x: [batch, height, width, channels];
/// returns [batch, height * size[0], width * size[1], channels]. Throws ValueError for a size
/// that is not positive.
template <class T>
Variable<T> upsample_nearest2d(const Variable<T>& x, std::array<index_t, 2> size) {
  const char* op = "upsample_nearest2d";
  detail::check_image(op, x.shape());
  const auto [sh, sw] = size;
  check<ValueError>(sh > 0 && sw > 0, op, ": size must be positive, got [", sh, ", ", sw, "]");
  const index_t batch = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  const index_t out_row = w * sw * c;  // values in one output row
  Tensor<T> y = Tensor<T>::empty({batch, h * sh, w * sw, c});
  const T* src = x.value().data();
  T* dst = y.data();
  for (index_t r = 0; r < batch * h; ++r) {
    // Build the first copy of the row, pixel by pixel, then repeat it sh - 1 times.
    T* row = dst + r * sh * out_row;
    for (index_t j = 0; j < w; ++j)
      for (index_t k = 0; k < sw; ++k)
        std::copy_n(src + (r * w + j) * c, c, row + (j * sw + k) * c);
    for (index_t k = 1; k < sh; ++k) std::copy_n(row, out_row, row + k * out_row);
  }
  return Variable<T>::from_op(
      op, std::move(y), {x},
      [size, shape = x.shape()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // y[i, j] = x[i / sh, j / sw]  =>  dx[i, j] = the sum of dy over its sh x sw block
        const auto [sh, sw] = size;
        const index_t h = shape[1], w = shape[2], c = shape[3];
        const index_t out_row = w * sw * c;
        Tensor<T> dx = Tensor<T>::zeros(shape);
        const T* gy = g.data();
        T* d = dx.data();
        for (index_t r = 0; r < shape[0] * h; ++r) {
          for (index_t k = 0; k < sh; ++k) {
            const T* row = gy + (r * sh + k) * out_row;
            for (index_t j = 0; j < w; ++j) {
              T* dj = d + (r * w + j) * c;
              for (index_t m = 0; m < sw; ++m) {
                const T* gj = row + (j * sw + m) * c;
                for (index_t ch = 0; ch < c; ++ch) dj[ch] += gj[ch];
              }
            }
          }
        }
        grads.add(0, std::move(dx));
      });
}

/// Zero padding around each image (Keras ZeroPadding2D): x: [batch, height, width, channels];
/// returns [batch, top + height + bottom, left + width + right, channels] with x in the middle
/// and zeros around it. Throws ValueError for a negative padding.
template <class T>
Variable<T> zero_pad2d(const Variable<T>& x, Pad2D pad) {
  const char* op = "zero_pad2d";
  detail::check_image(op, x.shape());
  check<ValueError>(pad.top >= 0 && pad.bottom >= 0 && pad.left >= 0 && pad.right >= 0, op,
                    ": padding must be >= 0, got top ", pad.top, ", bottom ", pad.bottom, ", left ",
                    pad.left, ", right ", pad.right);
  const Shape& xs = x.shape();
  const Shape ys{xs[0], pad.top + xs[1] + pad.bottom, pad.left + xs[2] + pad.right, xs[3]};
  // Calls f(offset in x, offset in y, count) for each image row of x and where it lies in y.
  const auto for_each_row = [xs, ys, pad](auto&& f) {
    const index_t in_row = xs[2] * xs[3];
    for (index_t n = 0; n < xs[0]; ++n)
      for (index_t i = 0; i < xs[1]; ++i)
        f((n * xs[1] + i) * in_row, ((n * ys[1] + pad.top + i) * ys[2] + pad.left) * ys[3], in_row);
  };
  Tensor<T> y = Tensor<T>::zeros(ys);
  const T* src = x.value().data();
  T* dst = y.data();
  for_each_row([&](index_t from, index_t to, index_t n) { std::copy_n(src + from, n, dst + to); });
  return Variable<T>::from_op(
      op, std::move(y), {x}, [for_each_row, xs](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // y = x in the middle, 0 around it  =>  dx = the middle of dy
        Tensor<T> dx = Tensor<T>::empty(xs);
        const T* gy = g.data();
        T* d = dx.data();
        for_each_row(
            [&](index_t from, index_t to, index_t n) { std::copy_n(gy + to, n, d + from); });
        grads.add(0, std::move(dx));
      });
}

}  // namespace lamina
