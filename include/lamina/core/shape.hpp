#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"

namespace lamina {

/// Signed index type used for sizes, axes and positions (as Eigen::Index).
using index_t = std::ptrdiff_t;

/// The sizes of a tensor's axes, outermost first. Rank 0 is a scalar with one element.
class Shape {
 public:
  Shape() = default;
  Shape(std::initializer_list<index_t> dims) : dims_(dims) {}
  explicit Shape(std::vector<index_t> dims) : dims_(std::move(dims)) {}

  /// Number of axes.
  int rank() const { return static_cast<int>(dims_.size()); }
  /// Product of the sizes (1 for a scalar).
  index_t numel() const {
    index_t n = 1;
    for (index_t d : dims_) n *= d;
    return n;
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
  std::string str() const {
    std::string s = "[";
    for (std::size_t i = 0; i < dims_.size(); ++i) {
      if (i) s += ", ";
      s += std::to_string(dims_[i]);
    }
    return s + "]";
  }

  friend bool operator==(const Shape& a, const Shape& b) { return a.dims_ == b.dims_; }
  friend std::ostream& operator<<(std::ostream& out, const Shape& s) { return out << s.str(); }

 private:
  std::vector<index_t> dims_;
};

}  // namespace lamina
