#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <ostream>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "lamina/core/error.hpp"

namespace lamina {

/// Signed index type used for sizes, axes and positions (as Eigen::Index).
using index_t = std::ptrdiff_t;

/// Two sizes, along height and width: Keras's kernel_size, strides, pool_size. A single
/// integer means a square window, as in Keras (`Conv2D(32, 3)`, `.strides = 2`), and so does
/// `{3}`; `{3, 5}` gives each. It is a std::array<index_t, 2> otherwise.
struct Size2 : std::array<index_t, 2> {
  constexpr Size2(index_t n) : std::array<index_t, 2>{n, n} {}  // NOLINT: implicit, as Keras
  constexpr Size2(index_t height, index_t width) : std::array<index_t, 2>{height, width} {}
  constexpr Size2(const std::array<index_t, 2>& sizes)  // NOLINT: implicit
      : std::array<index_t, 2>(sizes) {}
  /// A fractional size is a mistake, not a truncation.
  template <class F>
  requires std::is_floating_point_v<F> Size2(F)
  = delete;
};

/// The sizes of a tensor's axes, outermost first. Rank 0 is a scalar with one element.
class Shape {
 public:
  Shape() = default;
  /// Throws ShapeError naming the sizes when the product of the nonzero ones overflows index_t
  /// (then no product of sizes, element count or stride, can overflow).
  Shape(std::initializer_list<index_t> dims) : dims_(dims) { check_fits(dims_); }
  explicit Shape(std::vector<index_t> dims) : dims_(std::move(dims)) { check_fits(dims_); }

  /// Number of axes.
  int rank() const { return static_cast<int>(dims_.size()); }
  /// Product of the sizes (1 for a scalar, 0 when any size is 0). Throws ShapeError if a size
  /// changed through operator[] made it overflow.
  index_t numel() const {
    if (std::find(dims_.begin(), dims_.end(), index_t{0}) != dims_.end()) return 0;
    check_fits(dims_);
    index_t n = 1;
    for (index_t d : dims_) n *= d;
    return n;
  }
  /// Whether the product of the magnitudes of the nonzero sizes fits index_t.
  static bool fits(const std::vector<index_t>& dims) {
    constexpr index_t kMax = std::numeric_limits<index_t>::max();
    index_t product = 1;
    for (index_t d : dims) {
      if (d == 0) continue;
      if (d < -kMax) return false;
      const index_t m = d < 0 ? -d : d;
      if (product > kMax / m) return false;
      product *= m;
    }
    return true;
  }
  /// "[32, 784]" for sizes that need not make a valid Shape.
  static std::string format(const std::vector<index_t>& dims) {
    std::string s = "[";
    for (std::size_t i = 0; i < dims.size(); ++i) {
      if (i) s += ", ";
      s += std::to_string(dims[i]);
    }
    return s + "]";
  }
  index_t operator[](int axis) const { return dims_[static_cast<std::size_t>(axis)]; }
  index_t& operator[](int axis) { return dims_[static_cast<std::size_t>(axis)]; }
  /// Size of an axis; negative axes count from the end. Throws ValueError when out of range.
  index_t dim(int axis) const { return dims_[static_cast<std::size_t>(normalize_axis(axis))]; }

  /// Maps a possibly negative axis into [0, rank). Throws ValueError naming the shape.
  int normalize_axis(int axis, const char* op = "shape") const {
    const int r = rank();
    check<ValueError>(axis >= -r && axis < r, op, ": axis ", axis, " is out of range for shape ",
                      *this, " (rank ", r, ")");
    return axis < 0 ? axis + r : axis;
  }

  const std::vector<index_t>& dims() const { return dims_; }
  auto begin() const { return dims_.begin(); }
  auto end() const { return dims_.end(); }

  /// Row-major strides in elements.
  std::vector<index_t> strides() const {
    std::vector<index_t> s(dims_.size(), 1);
    for (int i = rank() - 2; i >= 0; --i)
      s[static_cast<std::size_t>(i)] =
          s[static_cast<std::size_t>(i) + 1] * dims_[static_cast<std::size_t>(i) + 1];
    return s;
  }

  /// "[32, 784]" style text.
  std::string str() const { return format(dims_); }

  friend bool operator==(const Shape& a, const Shape& b) { return a.dims_ == b.dims_; }
  friend std::ostream& operator<<(std::ostream& out, const Shape& s) { return out << s.str(); }

 private:
  // Every tensor operation makes shapes: the message is formatted only when the check fails.
  static void check_fits(const std::vector<index_t>& dims) {
    if (!fits(dims)) [[unlikely]]
      detail::fail<ShapeError>("Shape: sizes ", format(dims), " hold more than ",
                               std::numeric_limits<index_t>::max(),
                               " elements (the most index_t can count)");
  }

  std::vector<index_t> dims_;
};

}  // namespace lamina

/// Size2 binds like its array: `const auto [h, w] = strides;`.
template <>
struct std::tuple_size<lamina::Size2> : std::integral_constant<std::size_t, 2> {};
template <std::size_t I>
struct std::tuple_element<I, lamina::Size2> {
  using type = lamina::index_t;
};
