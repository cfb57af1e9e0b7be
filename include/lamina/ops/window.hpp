#pragma once

#include <algorithm>
#include <array>
#include <string>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"

// The geometry of sliding windows over NHWC images, shared by convolution and pooling: Keras's
// padding modes and where each window lands.

namespace lamina {

/// How a sliding window (convolution kernel or pooling window) treats the borders, as Keras:
/// `valid` keeps only windows that fit inside the input; `same` pads so that the output has
/// ceil(input / stride) positions per axis, splitting the padding as TensorFlow does (half
/// before, the odd one after).
enum class Padding { valid, same };

/// "valid" or "same".
inline const char* padding_name(Padding padding) {
  return padding == Padding::same ? "same" : "valid";
}

/// "valid" or "same"; anything else throws ValueError listing the valid names.
inline Padding parse_padding(const std::string& name) {
  if (name == "valid") return Padding::valid;
  if (name == "same") return Padding::same;
  throw ValueError("unknown padding '" + name + "'; valid names: valid, same");
}

namespace detail {

/// Where a window of size `k` with step `s` lands on an axis of length `in`: the number of
/// positions and the implicit padding before the first element (TensorFlow's rule).
struct WindowAxis {
  index_t out = 0;
  index_t pad_before = 0;
};

inline WindowAxis window_axis(index_t in, index_t k, index_t s, Padding padding) {
  if (padding == Padding::valid) return {in >= k ? (in - k) / s + 1 : 0, 0};
  const index_t out = (in + s - 1) / s;
  if (out == 0) return {0, 0};
  return {out, std::max<index_t>((out - 1) * s + k - in, 0) / 2};
}

/// The geometry of a 2-D sliding window over an NHWC input. Window position (oy, ox) covers
/// input rows [oy * stride_h - pad_top, ... + window_h) and the same for columns; positions
/// outside the input are padding.
struct Window2D {
  index_t batch = 0, in_h = 0, in_w = 0, channels = 0;
  index_t window_h = 0, window_w = 0, stride_h = 0, stride_w = 0;
  index_t out_h = 0, out_w = 0, pad_top = 0, pad_left = 0;

  /// Number of window positions over the whole batch.
  index_t positions() const { return batch * out_h * out_w; }
};

/// Validates strides and fit and computes the geometry; `window` names the window in errors
/// (e.g. "kernel [5, 5, 1, 8]" or "pool_size [3, 3]").
inline Window2D window_2d(const char* op, const Shape& x, index_t window_h, index_t window_w,
                          std::array<index_t, 2> strides, Padding padding,
                          const std::string& window) {
  check<ValueError>(strides[0] > 0 && strides[1] > 0, op, ": strides must be positive, got [",
                    strides[0], ", ", strides[1], "]");
  Window2D w;
  w.batch = x[0];
  w.in_h = x[1];
  w.in_w = x[2];
  w.channels = x[3];
  w.window_h = window_h;
  w.window_w = window_w;
  w.stride_h = strides[0];
  w.stride_w = strides[1];
  const WindowAxis rows = window_axis(w.in_h, window_h, w.stride_h, padding);
  const WindowAxis cols = window_axis(w.in_w, window_w, w.stride_w, padding);
  w.out_h = rows.out;
  w.out_w = cols.out;
  w.pad_top = rows.pad_before;
  w.pad_left = cols.pad_before;
  check<ShapeError>(w.out_h > 0 && w.out_w > 0, op, ": ", window, " is larger than input ", x,
                    " with padding '", padding_name(padding), "' and strides [", strides[0], ", ",
                    strides[1], "] (output would be ", w.out_h, "x", w.out_w, ")");
  return w;
}

}  // namespace detail

}  // namespace lamina
