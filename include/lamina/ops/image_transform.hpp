#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

// One projective transform per image (Keras's keras.ops.image.affine_transform, TensorFlow's
// ImageProjectiveTransformV3), the op behind RandomFlip, RandomTranslation, RandomRotation and
// RandomZoom.

namespace lamina {

/// How affine_transform reads the input between pixel centres.
enum class Interpolation { nearest, bilinear };

/// How affine_transform extends the input beyond its edges (Keras's fill_mode), shown on a row
/// a b c d:
///   reflect  (d c b a | a b c d | d c b a)  mirrored about the edge of the last pixel
///   wrap     (a b c d | a b c d | a b c d)  the opposite edge
///   constant (k k k k | a b c d | k k k k)  fill_value
///   nearest  (a a a a | a b c d | d d d d)  the edge pixel
enum class FillMode { reflect, wrap, constant, nearest };

/// "nearest" or "bilinear".
inline const char* interpolation_name(Interpolation i) {
  return i == Interpolation::nearest ? "nearest" : "bilinear";
}

/// "nearest" or "bilinear"; anything else throws ValueError listing the valid names.
inline Interpolation parse_interpolation(const std::string& name) {
  if (name == "bilinear") return Interpolation::bilinear;
  if (name == "nearest") return Interpolation::nearest;
  throw ValueError("unknown interpolation '" + name + "'; valid names: bilinear, nearest");
}

/// "reflect", "wrap", "constant" or "nearest".
inline const char* fill_mode_name(FillMode m) {
  switch (m) {
    case FillMode::reflect:
      return "reflect";
    case FillMode::wrap:
      return "wrap";
    case FillMode::constant:
      return "constant";
    case FillMode::nearest:
      return "nearest";
  }
  return "?";
}

/// "reflect", "wrap", "constant" or "nearest"; anything else throws ValueError listing them.
inline FillMode parse_fill_mode(const std::string& name) {
  for (FillMode m : {FillMode::reflect, FillMode::wrap, FillMode::constant, FillMode::nearest})
    if (name == fill_mode_name(m)) return m;
  throw ValueError("unknown fill_mode '" + name +
                   "'; valid names: reflect, wrap, constant, nearest");
}

/// Options of affine_transform (keras.ops.image.affine_transform's keyword arguments).
struct AffineTransformOptions {
  Interpolation interpolation = Interpolation::bilinear;
  FillMode fill_mode = FillMode::constant;
  /// The value outside the image when fill_mode is constant.
  double fill_value = 0.0;
};

namespace detail {

/// Index i of an axis of n pixels, brought into [0, n) as `mode` extends the axis; -1 for a
/// point of the constant fill.
inline index_t fill_index(index_t i, index_t n, FillMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case FillMode::constant:
      return -1;
    case FillMode::nearest:
      return i < 0 ? 0 : n - 1;
    case FillMode::wrap: {
      const index_t m = i % n;
      return m < 0 ? m + n : m;
    }
    case FillMode::reflect: {  // period 2n: a b c d d c b a
      index_t m = i % (2 * n);
      if (m < 0) m += 2 * n;
      return m < n ? m : 2 * n - 1 - m;
    }
  }
  return -1;
}

/// Calls tap(pixel, weight) for each input pixel that output pixel (row, col) of an h x w image
/// reads under the 8 transform parameters t, with pixel = row * w + col of the input, or -1 for
/// the fill value. Taps of weight 0 are skipped, so an integer coordinate reads one pixel only.
///
/// The transform maps the output point (x, y) = (col, row) to the input point
///   x' = (t0 x + t1 y + t2) / k,  y' = (t3 x + t4 y + t5) / k,  k = t6 x + t7 y + 1
/// (TensorFlow's ImageProjectiveTransformV3; k == 0 reads the fill value, as there). Nearest
/// interpolation reads the pixel at (round(y'), round(x')), rounding halves away from zero;
/// bilinear weighs the four pixels around (y', x'). Each pixel index outside the image is
/// brought inside by the fill mode (fill_index) before it is read.
template <class F>
void for_each_tap(const double* t, index_t h, index_t w, index_t row, index_t col,
                  const AffineTransformOptions& o, F&& tap) {
  const double x = static_cast<double>(col), y = static_cast<double>(row);
  const double k = t[6] * x + t[7] * y + 1.0;
  if (k == 0.0) {
    tap(index_t{-1}, 1.0);
    return;
  }
  // Far-away points keep their place modulo any period while floor() stays representable.
  constexpr double far = 1e15;
  const double xi = std::clamp((t[0] * x + t[1] * y + t[2]) / k, -far, far);
  const double yi = std::clamp((t[3] * x + t[4] * y + t[5]) / k, -far, far);
  const auto read = [&](double r, double c, double weight) {
    if (weight == 0.0) return;
    const index_t ri = fill_index(static_cast<index_t>(r), h, o.fill_mode);
    const index_t ci = fill_index(static_cast<index_t>(c), w, o.fill_mode);
    tap(ri < 0 || ci < 0 ? index_t{-1} : ri * w + ci, weight);
  };
  if (o.interpolation == Interpolation::nearest) {
    read(std::round(yi), std::round(xi), 1.0);
    return;
  }
  const double y0 = std::floor(yi), x0 = std::floor(xi);
  const double fy = yi - y0, fx = xi - x0;
  read(y0, x0, (1.0 - fy) * (1.0 - fx));
  read(y0, x0 + 1.0, (1.0 - fy) * fx);
  read(y0 + 1.0, x0, fy * (1.0 - fx));
  read(y0 + 1.0, x0 + 1.0, fy * fx);
}

}  // namespace detail

/// Applies one projective transform to each image (Keras's keras.ops.image.affine_transform):
/// output pixel (row, col) of image n reads the input at the point that transforms[n] maps
/// (col, row) to (see detail::for_each_tap for the formula, the interpolation and the fill).
/// x: [batch, height, width, channels]; transforms: [batch, 8] (one per image) or [8] (the same
/// for all), the parameters [a0, a1, a2, b0, b1, b2, c0, c1] of TensorFlow's
/// ImageProjectiveTransform (the first two rows of a 3x3 matrix, row-major, and the third row's
/// first two entries; the last entry is 1). Returns x's shape. Differentiable in x (the
/// transforms are data): each output's gradient is scattered back with the weights it read.
/// Throws ShapeError for a bad x or transforms shape, ValueError for a non-finite transform
/// or fill_value.
template <class T>
Variable<T> affine_transform(const Variable<T>& x, const Tensor<T>& transforms,
                             AffineTransformOptions options = {}) {
  const char* op = "affine_transform";
  check<ShapeError>(x.rank() == 4, op, ": input must be [batch, height, width, channels], got ",
                    x.shape());
  const index_t batch = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  const bool shared = transforms.rank() == 1;
  check<ShapeError>(
      (shared && transforms.dim(0) == 8) ||
          (transforms.rank() == 2 && transforms.dim(0) == batch && transforms.dim(1) == 8),
      op, ": transforms must be [", batch, ", 8] or [8] for input ", x.shape(), ", got ",
      transforms.shape());
  for (index_t i = 0; i < transforms.size(); ++i) {
    check<ValueError>(std::isfinite(static_cast<double>(transforms.data()[i])), op,
                      ": transforms must be finite, got ", transforms.data()[i], " at flat index ",
                      i);
  }
  check<ValueError>(std::isfinite(options.fill_value), op, ": fill_value must be finite, got ",
                    options.fill_value);
  // The parameters in double, one row of 8 per image.
  std::vector<double> t(static_cast<std::size_t>(batch * 8));
  for (index_t n = 0; n < batch; ++n)
    for (index_t j = 0; j < 8; ++j)
      t[static_cast<std::size_t>(n * 8 + j)] =
          static_cast<double>(transforms.data()[(shared ? 0 : n * 8) + j]);

  // Calls f(image, output pixel, input pixel or -1, weight) for every tap of every output pixel.
  const auto for_each = [t = std::move(t), batch, h, w, options](auto&& f) {
    for (index_t n = 0; n < batch; ++n)
      for (index_t r = 0; r < h; ++r)
        for (index_t q = 0; q < w; ++q)
          detail::for_each_tap(
              t.data() + n * 8, h, w, r, q, options,
              [&](index_t pixel, double weight) { f(n, r * w + q, pixel, weight); });
  };

  Tensor<T> y = Tensor<T>::zeros(x.shape());
  {
    std::vector<double> acc(static_cast<std::size_t>(c));
    const T* src = x.value().data();
    T* dst = y.data();
    // Taps arrive grouped by output pixel: accumulate each pixel's channels in double.
    index_t current = -1;
    const auto flush = [&] {
      if (current < 0) return;
      for (index_t ch = 0; ch < c; ++ch) dst[current * c + ch] = static_cast<T>(acc[ch]);
    };
    for_each([&](index_t n, index_t out, index_t in, double weight) {
      const index_t flat = n * h * w + out;
      if (flat != current) {
        flush();
        current = flat;
        std::fill(acc.begin(), acc.end(), 0.0);
      }
      if (in < 0) {
        for (index_t ch = 0; ch < c; ++ch) acc[ch] += weight * options.fill_value;
      } else {
        const T* p = src + (n * h * w + in) * c;
        for (index_t ch = 0; ch < c; ++ch) acc[ch] += weight * static_cast<double>(p[ch]);
      }
    });
    flush();
  }
  return Variable<T>::from_op(
      op, std::move(y), {x},
      [for_each, shape = x.shape()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // y[n, out] = sum over taps of weight * x[n, in] (+ weight * fill_value)
        //   =>  dx[n, in] += weight * dy[n, out]; the fill value takes no gradient.
        const index_t h = shape[1], w = shape[2], c = shape[3];
        Tensor<T> dx = Tensor<T>::zeros(shape);
        const T* gy = g.data();
        T* d = dx.data();
        for_each([&](index_t n, index_t out, index_t in, double weight) {
          if (in < 0) return;
          const T* go = gy + (n * h * w + out) * c;
          T* di = d + (n * h * w + in) * c;
          for (index_t ch = 0; ch < c; ++ch) di[ch] += static_cast<T>(weight) * go[ch];
        });
        grads.add(0, std::move(dx));
      });
}

}  // namespace lamina
