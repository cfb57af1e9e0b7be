#pragma once

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <iomanip>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/storage.hpp"

namespace lamina {

/// A contiguous, row-major, n-dimensional array of T (float or double).
///
/// Copies are cheap and share the underlying storage (as PyTorch tensors and NumPy views do);
/// `clone()` makes an independent copy. The first axis is the batch; images are
/// [batch, height, width, channels] and sequences [batch, time, features].
template <class T>
class Tensor {
  static_assert(std::is_floating_point_v<T>, "lamina::Tensor<T>: T must be float or double");

 public:
  using value_type = T;

  /// An empty tensor of shape [0].
  Tensor() : Tensor(Shape{0}) {}
  /// A zero-filled tensor of the given shape.
  explicit Tensor(Shape shape) : shape_(std::move(shape)) {
    validate_shape(shape_, "Tensor");
    storage_ = std::make_shared<detail::Storage<T>>(shape_.numel());
    std::fill_n(data(), size(), T(0));
  }
  /// A tensor of the given shape holding `values` in row-major order.
  Tensor(Shape shape, const std::vector<T>& values)
      : Tensor(std::move(shape), values.data(), static_cast<index_t>(values.size())) {}
  Tensor(Shape shape, std::initializer_list<T> values)
      : Tensor(std::move(shape), values.begin(), static_cast<index_t>(values.size())) {}

  // ---- factories ---------------------------------------------------------------------------

  static Tensor zeros(Shape shape) { return Tensor(std::move(shape)); }
  static Tensor ones(Shape shape) { return full(std::move(shape), T(1)); }
  static Tensor full(Shape shape, T value) {
    Tensor t(std::move(shape), uninitialized_tag{});
    std::fill_n(t.data(), t.size(), value);
    return t;
  }
  /// A 0-D tensor holding one value.
  static Tensor scalar(T value) { return full(Shape{}, value); }
  /// [start, start + step, ...) below `stop` (above it for a negative step), as NumPy.
  static Tensor arange(T start, T stop, T step = T(1)) {
    check<ValueError>(step != T(0), "arange: step must not be zero");
    check<ValueError>(std::isfinite(start) && std::isfinite(stop) && std::isfinite(step),
                      "arange: start, stop and step must be finite, got ", start, ", ", stop, ", ",
                      step);
    const auto n = static_cast<index_t>(
        std::max<double>(0.0, std::ceil((static_cast<double>(stop) - start) / step)));
    Tensor t(Shape{n}, uninitialized_tag{});
    for (index_t i = 0; i < n; ++i) t.data()[i] = start + static_cast<T>(i) * step;
    return t;
  }
  static Tensor arange(T stop) { return arange(T(0), stop); }
  /// Uniform draws in [low, high) from `gen`.
  static Tensor uniform(Shape shape, T low, T high, Generator& gen) {
    check<ValueError>(low <= high, "uniform: low (", low, ") must not exceed high (", high, ")");
    Tensor t(std::move(shape), uninitialized_tag{});
    // A double just below `high` can round up to `high` in T; such draws become T's largest
    // value below `high`, so that the range stays half-open.
    const T below_high = std::nextafter(high, low);
    for (index_t i = 0; i < t.size(); ++i) {
      const T v = static_cast<T>(gen.uniform(low, high));
      t.data()[i] = v < high ? v : below_high;
    }
    return t;
  }
  /// Normal draws with the given mean and standard deviation from `gen`.
  static Tensor normal(Shape shape, T mean, T stddev, Generator& gen) {
    check<ValueError>(stddev >= T(0), "normal: stddev must be non-negative, got ", stddev);
    Tensor t(std::move(shape), uninitialized_tag{});
    for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<T>(gen.normal(mean, stddev));
    return t;
  }
  /// Standard normal draws from `gen`.
  static Tensor randn(Shape shape, Generator& gen) {
    return normal(std::move(shape), T(0), T(1), gen);
  }
  /// A tensor of uninitialised memory, for kernels that overwrite every element.
  static Tensor empty(Shape shape) { return Tensor(std::move(shape), uninitialized_tag{}); }

  // ---- shape and data ----------------------------------------------------------------------

  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  /// Size of one axis (negative axes count from the end).
  index_t dim(int axis) const { return shape_.dim(axis); }
  /// Number of elements.
  index_t size() const { return shape_.numel(); }
  bool empty() const { return size() == 0; }

  T* data() { return storage_->data() + offset_; }
  const T* data() const { return storage_->data() + offset_; }
  T* begin() { return data(); }
  T* end() { return data() + size(); }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size(); }
  std::vector<T> to_vector() const { return std::vector<T>(begin(), end()); }

  /// True when both tensors view the same buffer.
  bool shares_storage_with(const Tensor& other) const { return storage_ == other.storage_; }
  /// True when no other tensor shares this one's storage (so it may be modified in place).
  bool owns_storage() const { return storage_.use_count() == 1; }

  /// Bounds-checked element access by multi-index; throws ValueError naming index and shape.
  T& at(std::initializer_list<index_t> index) { return data()[flat_index(index)]; }
  const T& at(std::initializer_list<index_t> index) const { return data()[flat_index(index)]; }

  /// The single value of a one-element tensor.
  T item() const {
    check<ShapeError>(size() == 1, "item: tensor of shape ", shape_, " has ", size(),
                      " elements, expected exactly one");
    return data()[0];
  }

  // ---- views and copies ----------------------------------------------------------------------

  /// An independent deep copy.
  Tensor clone() const {
    Tensor t(shape_, uninitialized_tag{});
    std::copy(begin(), end(), t.data());
    return t;
  }

  /// The same data under a new shape (shares storage). One size may be -1 and is inferred.
  Tensor reshape(Shape new_shape) const {
    Tensor t = *this;
    t.shape_ = infer_shape(std::move(new_shape), size(), shape_);
    return t;
  }

  /// Rows [begin, end) along the first axis (a batch); shares storage.
  Tensor slice(index_t begin, index_t end) const {
    check<ShapeError>(rank() >= 1, "slice: cannot slice a 0-D tensor");
    check<ValueError>(0 <= begin && begin <= end && end <= shape_[0], "slice: range [", begin, ", ",
                      end, ") is out of bounds for shape ", shape_);
    Tensor t = *this;
    const index_t row = shape_[0] == 0 ? 0 : size() / shape_[0];
    t.offset_ += begin * row;
    t.shape_[0] = end - begin;
    return t;
  }

  /// Sets every element to `value`.
  Tensor& fill(T value) {
    std::fill(begin(), end(), value);
    return *this;
  }

  /// Copies the values of `other` (same number of elements) into this tensor's storage.
  Tensor& assign(const Tensor& other) {
    check<ShapeError>(other.shape_ == shape_, "assign: shape ", other.shape_, " does not match ",
                      shape_);
    std::copy(other.begin(), other.end(), data());
    return *this;
  }

  /// Converts to another scalar type (always a copy).
  template <class U>
  Tensor<U> cast() const {
    Tensor<U> t = Tensor<U>::empty(shape_);
    for (index_t i = 0; i < size(); ++i) t.data()[i] = static_cast<U>(data()[i]);
    return t;
  }

  /// Resolves a single -1 in `shape` so that it holds `numel` elements.
  static Shape infer_shape(Shape shape, index_t numel, const Shape& from,
                           const char* op = "reshape") {
    int inferred = -1;
    index_t known = 1;
    for (int i = 0; i < shape.rank(); ++i) {
      if (shape[i] == -1) {
        check<ShapeError>(inferred < 0, op, ": only one size may be -1, got ", shape);
        inferred = i;
      } else {
        check<ShapeError>(shape[i] >= 0, op, ": negative size in ", shape);
        known *= shape[i];
      }
    }
    if (inferred >= 0) {
      check<ShapeError>(known != 0 && numel % known == 0, op, ": cannot reshape ", from, " (",
                        numel, " elements) to ", shape);
      shape[inferred] = numel / known;
    }
    check<ShapeError>(shape.numel() == numel, op, ": cannot reshape ", from, " (", numel,
                      " elements) to ", shape, " (", shape.numel(), " elements)");
    return shape;
  }

 private:
  struct uninitialized_tag {};
  Tensor(Shape shape, uninitialized_tag) : shape_(std::move(shape)) {
    validate_shape(shape_, "Tensor");
    storage_ = std::make_shared<detail::Storage<T>>(shape_.numel());
  }
  Tensor(Shape shape, const T* values, index_t n) : Tensor(std::move(shape), uninitialized_tag{}) {
    check<ShapeError>(n == size(), "Tensor: ", n, " values given for shape ", shape_, " (", size(),
                      " elements)");
    std::copy(values, values + n, data());
  }

  static void validate_shape(const Shape& s, const char* op) {
    for (index_t d : s) check<ShapeError>(d >= 0, op, ": negative size in shape ", s);
  }

  index_t flat_index(std::initializer_list<index_t> index) const {
    check<ValueError>(static_cast<int>(index.size()) == rank(), "at: index of rank ", index.size(),
                      " for a tensor of shape ", shape_);
    index_t flat = 0;
    int axis = 0;
    for (index_t i : index) {
      check<ValueError>(i >= 0 && i < shape_[axis], "at: index ", i, " is out of range for axis ",
                        axis, " of shape ", shape_);
      flat = flat * shape_[axis] + i;
      ++axis;
    }
    return flat;
  }

  std::shared_ptr<detail::Storage<T>> storage_;
  index_t offset_ = 0;
  Shape shape_;
};

namespace detail {

/// Printing follows NumPy: tensors with more than kPrintThreshold elements are summarised,
/// keeping kPrintEdge entries at each end of every axis longer than 2 * kPrintEdge.
inline constexpr index_t kPrintThreshold = 1000;
inline constexpr index_t kPrintEdge = 3;

/// One element as printed: up to 8 significant digits (NumPy's default precision).
template <class T>
std::string format_element(T value) {
  std::ostringstream out;
  out << std::setprecision(8) << value;
  return out.str();
}

/// Whether an axis of size n shows only its first and last kPrintEdge entries.
inline bool elided(index_t n, bool summarize) { return summarize && n > 2 * kPrintEdge; }

/// Number of elements in one entry of `axis` (the product of the sizes after it).
inline index_t block_size(const Shape& shape, int axis) {
  index_t m = 1;
  for (int i = axis + 1; i < shape.rank(); ++i) m *= shape[i];
  return m;
}

/// The widest printed element of the block at `axis`, so that columns line up as in NumPy.
template <class T>
std::size_t print_width(const T* data, const Shape& shape, int axis, bool summarize) {
  const index_t n = shape[axis];
  const index_t inner = block_size(shape, axis);
  std::size_t width = 0;
  for (index_t i = 0; i < n; ++i) {
    if (elided(n, summarize) && i == kPrintEdge) i = n - kPrintEdge;
    width = std::max(width, axis + 1 == shape.rank()
                                ? format_element(data[i]).size()
                                : print_width(data + i * inner, shape, axis + 1, summarize));
  }
  return width;
}

template <class T>
void print_block(std::ostream& out, const T* data, const Shape& shape, int axis, int indent,
                 bool summarize, std::size_t width) {
  const index_t n = shape[axis];
  const index_t inner = block_size(shape, axis);
  const bool innermost = axis + 1 == shape.rank();
  // Between blocks: a comma, one newline per axis below this one, and the indent.
  // (Built with append: GCC 12 at -O3 flags `"," + std::string(...)` with a false
  // -Wstringop-overflow.)
  std::string separator = ",";
  if (innermost) {
    separator += ' ';
  } else {
    separator.append(static_cast<std::size_t>(shape.rank() - axis - 1), '\n');
    separator.append(static_cast<std::size_t>(indent + 1), ' ');
  }
  out << '[';
  for (index_t i = 0; i < n; ++i) {
    if (i > 0) out << separator;
    if (elided(n, summarize) && i == kPrintEdge) {
      out << "..." << separator;
      i = n - kPrintEdge;
    }
    if (innermost) {
      out << std::setw(static_cast<int>(width)) << format_element(data[i]);
    } else {
      print_block(out, data + i * inner, shape, axis + 1, indent + 1, summarize, width);
    }
  }
  out << ']';
}

}  // namespace detail

/// Prints like NumPy: `Tensor([[ 1, 20],\n        [30,  4]], shape=[2, 2])`, with up to 8
/// significant digits, right-aligned columns, and `...` in tensors of more than 1000 elements.
template <class T>
std::ostream& operator<<(std::ostream& out, const Tensor<T>& t) {
  std::ostringstream body;
  const std::string head = "Tensor(";
  if (t.rank() == 0) {
    body << detail::format_element(t.data()[0]);
  } else if (t.empty()) {
    body << "[]";
  } else {
    const bool summarize = t.size() > detail::kPrintThreshold;
    detail::print_block(body, t.data(), t.shape(), 0, static_cast<int>(head.size()), summarize,
                        detail::print_width(t.data(), t.shape(), 0, summarize));
  }
  return out << head << body.str() << ", shape=" << t.shape() << ")";
}

}  // namespace lamina
