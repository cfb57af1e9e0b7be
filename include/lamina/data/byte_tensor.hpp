#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

/// Options of ByteTensor: how its bytes become values of T, `value * scale + offset` (Keras's
/// Rescaling(scale, offset) layer; `{.scale = 1.0 / 255}` maps pixels 0..255 into [0, 1]).
struct ByteTensorOptions {
  double scale = 1.0;
  double offset = 0.0;
};

/// Samples held as 8-bit unsigned values [batch, ...] (contiguous, row-major), converted to
/// Tensor<T> only when asked, a batch at a time: what a uint8 NumPy array is to Keras's
/// `model.fit`, at a quarter of a float tensor's memory. Model::fit, evaluate and predict take one
/// wherever they take x as a Tensor<T>, and convert each batch just before its step.
///
/// Copies are cheap and share the bytes (as Tensor's do); `slice` and `reshape` are views.
class ByteTensor {
 public:
  /// An empty ByteTensor of shape [0].
  ByteTensor() : ByteTensor(Shape{0}) {}
  /// A zero-filled ByteTensor of the given shape (batch first, so rank >= 1), scale 1, offset 0.
  explicit ByteTensor(Shape shape)
      : ByteTensor(shape,
                   std::vector<std::uint8_t>(static_cast<std::size_t>(checked_numel(shape)))) {}
  /// A ByteTensor of the given shape holding `values` in row-major order (taken over, not
  /// copied). Throws ShapeError when the sizes disagree, ValueError on a non-finite scale or
  /// offset.
  ByteTensor(Shape shape, std::vector<std::uint8_t> values, ByteTensorOptions options = {})
      : shape_(std::move(shape)), options_(options) {
    const index_t n = checked_numel(shape_);
    check<ShapeError>(static_cast<index_t>(values.size()) == n, "ByteTensor: ", values.size(),
                      " values given for shape ", shape_, " (", n, " elements)");
    check_options(options_, "ByteTensor");
    bytes_ = std::make_shared<std::vector<std::uint8_t>>(std::move(values));
  }

  // ---- shape and data ----------------------------------------------------------------------

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  /// Size of one axis (negative axes count from the end).
  index_t dim(int axis) const { return shape_.dim(axis); }
  /// Number of elements (bytes).
  index_t size() const { return shape_.numel(); }
  bool empty() const { return size() == 0; }
  /// The factor and offset applied by the conversions.
  double scale() const { return options_.scale; }
  double offset() const { return options_.offset; }

  std::uint8_t* data() { return bytes_->data() + offset_; }
  const std::uint8_t* data() const { return bytes_->data() + offset_; }
  const std::uint8_t* begin() const { return data(); }
  const std::uint8_t* end() const { return data() + size(); }

  /// True when both view the same bytes.
  bool shares_storage_with(const ByteTensor& other) const { return bytes_ == other.bytes_; }

  // ---- views -------------------------------------------------------------------------------

  /// Rows [begin, end) along the first axis (a batch); shares the bytes.
  ByteTensor slice(index_t begin, index_t end) const {
    check<ValueError>(0 <= begin && begin <= end && end <= shape_[0], "ByteTensor::slice: range [",
                      begin, ", ", end, ") is out of bounds for shape ", shape_);
    ByteTensor t = *this;
    t.offset_ += begin * row_size();
    t.shape_[0] = end - begin;
    return t;
  }

  /// The same bytes under a new shape (batch first); one size may be -1 and is inferred.
  ByteTensor reshape(Shape new_shape) const {
    check<ShapeError>(new_shape.rank() >= 1, "ByteTensor::reshape: expected a shape [batch, ...], ",
                      "got ", new_shape);
    ByteTensor t = *this;
    t.shape_ =
        Tensor<float>::infer_shape(std::move(new_shape), size(), shape_, "ByteTensor::reshape");
    return t;
  }

  /// The same bytes (shared) converted with another scale and offset.
  ByteTensor rescaled(ByteTensorOptions options) const {
    check_options(options, "ByteTensor::rescaled");
    ByteTensor t = *this;
    t.options_ = options;
    return t;
  }

  // ---- conversions -------------------------------------------------------------------------

  /// All of it as T, `value * scale + offset`: same shape.
  template <class T>
  Tensor<T> to_tensor() const {
    Tensor<T> out = Tensor<T>::empty(shape_);
    const std::array<T, 256> table = value_table<T>();
    const std::uint8_t* src = data();
    T* dst = out.data();
    for (index_t i = 0; i < size(); ++i) dst[i] = table[src[i]];
    return out;
  }

  /// Rows `rows` (in that order, repeats allowed) as T, `value * scale + offset`:
  /// [rows.size(), ...]. Throws ValueError naming the first row out of range.
  template <class T>
  Tensor<T> take_rows(std::span<const index_t> rows) const {
    std::vector<index_t> dims(shape_.begin(), shape_.end());
    dims[0] = static_cast<index_t>(rows.size());
    Tensor<T> out = Tensor<T>::empty(Shape(std::move(dims)));
    const std::array<T, 256> table = value_table<T>();
    const index_t row = row_size();
    T* dst = out.data();
    for (const index_t r : rows) {
      check<ValueError>(r >= 0 && r < shape_[0], "ByteTensor::take_rows: row ", r,
                        " is out of range for shape ", shape_, " (", shape_[0], " rows)");
      const std::uint8_t* src = data() + r * row;
      for (index_t j = 0; j < row; ++j) dst[j] = table[src[j]];
      dst += row;
    }
    return out;
  }

 private:
  /// Elements per row (per sample).
  index_t row_size() const { return shape_[0] == 0 ? 0 : size() / shape_[0]; }

  /// Each of the 256 byte values converted once: `T(value) * T(scale) + T(offset)`, computed in T
  /// as Keras's Rescaling does, so that a conversion equals scaling a tensor of the raw values.
  template <class T>
  std::array<T, 256> value_table() const {
    const T scale = static_cast<T>(options_.scale), offset = static_cast<T>(options_.offset);
    std::array<T, 256> table{};
    for (int v = 0; v < 256; ++v)
      table[static_cast<std::size_t>(v)] = static_cast<T>(v) * scale + offset;
    return table;
  }

  static index_t checked_numel(const Shape& shape) {
    check<ShapeError>(shape.rank() >= 1, "ByteTensor: expected a shape [batch, ...], got ", shape);
    for (index_t d : shape) check<ShapeError>(d >= 0, "ByteTensor: negative size in shape ", shape);
    return shape.numel();
  }
  static void check_options(const ByteTensorOptions& options, const char* op) {
    check<ValueError>(std::isfinite(options.scale) && std::isfinite(options.offset), op,
                      ": scale and offset must be finite, got scale ", options.scale,
                      " and offset ", options.offset);
  }

  std::shared_ptr<std::vector<std::uint8_t>> bytes_;
  index_t offset_ = 0;
  Shape shape_;
  ByteTensorOptions options_;
};

}  // namespace lamina
