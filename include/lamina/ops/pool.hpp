#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/detail/parallel.hpp"
#include "lamina/ops/window.hpp"

namespace lamina {

/// Options of max_pool2d and avg_pool2d (Keras MaxPooling2D / AveragePooling2D arguments).
struct Pool2DOptions {
  /// Window height and width.
  Size2 pool_size{2, 2};
  /// Step along height and width; 0 means the pool size (Keras's `strides=None`).
  Size2 strides{0, 0};
  Padding padding = Padding::valid;
};

namespace detail {

inline Window2D pool_window(const char* op, const Shape& x, const Pool2DOptions& o) {
  check<ShapeError>(x.rank() == 4, op, ": input must be [batch, height, width, channels], got ", x);
  const auto [ph, pw] = o.pool_size;
  check<ValueError>(ph > 0 && pw > 0, op, ": pool_size must be positive, got [", ph, ", ", pw, "]");
  check<ValueError>(o.strides[0] >= 0 && o.strides[1] >= 0, op,
                    ": strides must be positive (or 0 for the pool size), got [", o.strides[0],
                    ", ", o.strides[1], "]");
  const std::array<index_t, 2> strides{o.strides[0] == 0 ? ph : o.strides[0],
                                       o.strides[1] == 0 ? pw : o.strides[1]};
  return window_2d(op, x, ph, pw, strides, o.padding, cat("pool_size [", ph, ", ", pw, "]"));
}

/// Calls f(out, in, y0, y1, x0, x1) for every window position of images [n0, n1) (all of them
/// by default): `out` is the offset of its channel row in the NHWC output, `in` the offset of
/// the image in the input, and the window covers the in-bounds rows [y0, y1) and columns
/// [x0, x1) (padding excluded; never empty).
template <class F>
void for_each_window(const Window2D& w, F&& f, index_t n0 = 0, index_t n1 = -1) {
  if (n1 < 0) n1 = w.batch;
  index_t out = n0 * w.out_h * w.out_w * w.channels;
  for (index_t n = n0; n < n1; ++n) {
    const index_t in = n * w.in_h * w.in_w * w.channels;
    for (index_t oy = 0; oy < w.out_h; ++oy) {
      const index_t ty = oy * w.stride_h - w.pad_top;
      const index_t y0 = std::max<index_t>(ty, 0), y1 = std::min(ty + w.window_h, w.in_h);
      for (index_t ox = 0; ox < w.out_w; ++ox, out += w.channels) {
        const index_t tx = ox * w.stride_w - w.pad_left;
        const index_t x0 = std::max<index_t>(tx, 0), x1 = std::min(tx + w.window_w, w.in_w);
        f(out, in, y0, y1, x0, x1);
      }
    }
  }
}

/// Calls f(n0, n1) on pieces of the batch of a pooling of `w`, on all threads when the pooling
/// is large enough to gain from them.
template <class F>
void for_each_image_range(const Window2D& w, F&& f) {
  const int threads =
      threads_for(static_cast<double>(w.batch * w.in_h * w.in_w * w.channels) * kElementwiseWork);
  parallel_for(w.batch, split_grain(w.batch, threads, 1), threads,
               [&](index_t n0, index_t n1, int) { f(n0, n1); });
}

/// Max pooling forward; with `argmax`, also records where each maximum is, as its pixel
/// (row * width + column) within its image: the first in row-major window order on ties; NaN
/// wins and propagates, as in PyTorch. Branch-free over the contiguous channels, so that it
/// vectorises (random data would mispredict a branch half the time).
template <class T>
void max_pool_forward(const T* x, const Window2D& w, T* y, std::int32_t* argmax) {
  const index_t c_count = w.channels;
  const auto window = [&](index_t out, index_t in, index_t y0, index_t y1, index_t x0, index_t x1) {
    T* best = y + out;
    std::copy_n(x + in + (y0 * w.in_w + x0) * c_count, c_count, best);
    std::int32_t* arg = argmax ? argmax + out : nullptr;
    if (arg) std::fill_n(arg, c_count, static_cast<std::int32_t>(y0 * w.in_w + x0));
    for (index_t iy = y0; iy < y1; ++iy) {
      for (index_t ix = iy == y0 ? x0 + 1 : x0; ix < x1; ++ix) {
        const T* v = x + in + (iy * w.in_w + ix) * c_count;
        if (arg) {
          const auto pixel = static_cast<std::int32_t>(iy * w.in_w + ix);
          for (index_t c = 0; c < c_count; ++c) {
            const bool wins = v[c] > best[c] || std::isnan(v[c]);
            best[c] = wins ? v[c] : best[c];
            arg[c] = wins ? pixel : arg[c];
          }
        } else {
          for (index_t c = 0; c < c_count; ++c)
            best[c] = (v[c] > best[c] || std::isnan(v[c])) ? v[c] : best[c];
        }
      }
    }
  };
  for_each_image_range(w, [&](index_t n0, index_t n1) { for_each_window(w, window, n0, n1); });
}

}  // namespace detail

/// Max pooling over 2-D windows (Keras MaxPooling2D). x: [batch, height, width, channels];
/// returns [batch, out_h, out_w, channels]; padded positions never win. The gradient goes to
/// the maximum of each window (the first one on ties), whose position the forward records.
template <class T>
Variable<T> max_pool2d(const Variable<T>& x, Pool2DOptions options = {}) {
  const detail::Window2D w = detail::pool_window("max_pool2d", x.shape(), options);
  Tensor<T> y = Tensor<T>::empty({w.batch, w.out_h, w.out_w, w.channels});
  std::shared_ptr<std::int32_t[]> argmax;
  if (x.requires_grad() && is_grad_enabled()) {
    check<ShapeError>(w.in_h * w.in_w <= std::numeric_limits<std::int32_t>::max(),
                      "max_pool2d: input ", x.shape(), " has too many pixels per image");
    argmax.reset(new std::int32_t[static_cast<std::size_t>(y.size())]);
  }
  detail::max_pool_forward(x.value().data(), w, y.data(), argmax.get());
  return Variable<T>::from_op(
      "max_pool2d", std::move(y), {x},
      [argmax, w, shape = x.shape()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d max_j(x_j) / d x_i = [i = argmax]
        Tensor<T> dx = Tensor<T>::empty(shape);
        T* d = dx.data();
        const T* gy = g.data();
        const index_t c_count = w.channels, image = w.in_h * w.in_w * c_count;
        // Image by image on all threads: each image's gradient is zeroed, then the window
        // gradients are added in while it is in cache.
        detail::for_each_image_range(w, [&](index_t n0, index_t n1) {
          for (index_t n = n0; n < n1; ++n) {
            std::fill_n(d + n * image, image, T(0));
            detail::for_each_window(
                w,
                [&](index_t out, index_t in, index_t, index_t, index_t, index_t) {
                  for (index_t c = 0; c < c_count; ++c)
                    d[in + argmax[out + c] * c_count + c] += gy[out + c];
                },
                n, n + 1);
          }
        });
        grads.add(0, std::move(dx));
      });
}

/// Average pooling over 2-D windows (Keras AveragePooling2D). x: [batch, height, width,
/// channels]; returns [batch, out_h, out_w, channels]. With `same` padding each window averages
/// only its in-bounds elements (TensorFlow; PyTorch's count_include_pad = false).
template <class T>
Variable<T> avg_pool2d(const Variable<T>& x, Pool2DOptions options = {}) {
  const detail::Window2D w = detail::pool_window("avg_pool2d", x.shape(), options);
  Tensor<T> y = Tensor<T>::empty({w.batch, w.out_h, w.out_w, w.channels});
  const index_t c_count = w.channels;
  const T* src = x.value().data();
  T* dst = y.data();
  detail::for_each_window(
      w, [&](index_t out, index_t in, index_t y0, index_t y1, index_t x0, index_t x1) {
        T* sum = dst + out;
        std::fill_n(sum, c_count, T(0));
        for (index_t iy = y0; iy < y1; ++iy)
          for (index_t ix = x0; ix < x1; ++ix) {
            const T* v = src + in + (iy * w.in_w + ix) * c_count;
            for (index_t c = 0; c < c_count; ++c) sum[c] += v[c];
          }
        const T scale = T(1) / static_cast<T>((y1 - y0) * (x1 - x0));
        for (index_t c = 0; c < c_count; ++c) sum[c] *= scale;
      });
  return Variable<T>::from_op(
      "avg_pool2d", std::move(y), {x},
      [w, shape = x.shape()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // y = (1/count) sum_j x_j  =>  dx_j = dy / count for each in-bounds x_j of the window
        Tensor<T> dx(shape);
        T* d = dx.data();
        const T* gy = g.data();
        const index_t c_count = w.channels;
        detail::for_each_window(
            w, [&](index_t out, index_t in, index_t y0, index_t y1, index_t x0, index_t x1) {
              const T scale = T(1) / static_cast<T>((y1 - y0) * (x1 - x0));
              for (index_t iy = y0; iy < y1; ++iy)
                for (index_t ix = x0; ix < x1; ++ix) {
                  T* v = d + in + (iy * w.in_w + ix) * c_count;
                  for (index_t c = 0; c < c_count; ++c) v[c] += gy[out + c] * scale;
                }
            });
        grads.add(0, std::move(dx));
      });
}

}  // namespace lamina
