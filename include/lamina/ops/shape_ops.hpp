#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

namespace detail {

/// The same values under `shape` (already resolved), sharing x's storage; `op` names the node.
template <class T>
Variable<T> reshape_as(const Variable<T>& x, const Shape& shape, const char* op) {
  return Variable<T>::from_op(
      op, x.value().reshape(shape), {x},
      [from = x.shape()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // A reshape moves no value: the gradient is reshaped back.
        grads.add(0, g.reshape(from));
      });
}

/// Views a tensor as [outer, size along `axis`, inner] with outer/inner the products of the axes
/// before/after it; blocks along the axis are then contiguous runs of size * inner values.
struct AxisSplit {
  index_t outer = 1, size = 0, inner = 1;
};
inline AxisSplit split_at(const Shape& s, int axis) {
  AxisSplit p;
  for (int i = 0; i < axis; ++i) p.outer *= s[i];
  p.size = s[axis];
  for (int i = axis + 1; i < s.rank(); ++i) p.inner *= s[i];
  return p;
}

/// Copies rows [begin, end) along the split axis of `src` into `dst` at row `dst_begin`, both
/// seen through their own AxisSplit (same outer and inner).
template <class T>
void copy_rows(const T* src, const AxisSplit& s, index_t begin, index_t end, T* dst,
               const AxisSplit& d, index_t dst_begin) {
  const index_t run = (end - begin) * s.inner;
  for (index_t o = 0; o < s.outer; ++o) {
    std::copy_n(src + (o * s.size + begin) * s.inner, run,
                dst + (o * d.size + dst_begin) * d.inner);
  }
}

}  // namespace detail

/// The same values under a new shape with the same number of elements; one size may be -1 and
/// is inferred. Shares the input's storage (no copy). Throws ShapeError naming both shapes.
template <class T>
Variable<T> reshape(const Variable<T>& x, const Shape& shape) {
  int unknown = 0;
  bool negative = false;
  for (index_t d : shape) {
    unknown += d == -1;
    negative = negative || d < -1;
  }
  check<ShapeError>(unknown <= 1 && !negative, "reshape: cannot reshape ", x.shape(), " to ", shape,
                    ": sizes must be >= 0, with at most one -1 to infer");
  return detail::reshape_as(x, Tensor<T>::infer_shape(shape, x.size(), x.shape()), "reshape");
}

/// Keras Flatten: [batch, d1, d2, ...] -> [batch, d1 * d2 * ...]; a rank-1 input [n] becomes
/// [n, 1]. Shares the input's storage. Throws ShapeError for a 0-D input.
template <class T>
Variable<T> flatten(const Variable<T>& x) {
  check<ShapeError>(x.rank() >= 1, "flatten: needs an input with a batch axis, got shape ",
                    x.shape());
  const index_t batch = x.dim(0);
  index_t rest = 1;
  for (int i = 1; i < x.rank(); ++i) rest *= x.shape()[i];
  return detail::reshape_as(x, Shape{batch, rest}, "flatten");
}

/// Joins tensors along `axis` (negative counts from the end). All shapes must agree except
/// along `axis`: [2, 3] and [2, 5] along 1 give [2, 8]. Throws ValueError for an empty list or
/// a bad axis, ShapeError naming the shapes and the axis when they do not fit.
template <class T>
Variable<T> concat(const std::vector<Variable<T>>& xs, int axis) {
  check<ValueError>(!xs.empty(), "concat: needs at least one tensor, got an empty list");
  const Shape& first = xs.front().shape();
  check<ShapeError>(first.rank() >= 1, "concat: cannot concatenate 0-D tensors (shape ", first,
                    ")");
  const int ax = first.normalize_axis(axis, "concat");
  std::vector<index_t> dims = first.dims();
  dims[static_cast<std::size_t>(ax)] = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const Shape& s = xs[i].shape();
    bool fits = s.rank() == first.rank();
    for (int j = 0; fits && j < s.rank(); ++j) fits = j == ax || s[j] == first[j];
    check<ShapeError>(fits, "concat: shapes must agree except along axis ", axis, ", but input ", i,
                      " has shape ", s, " and input 0 has shape ", first);
    dims[static_cast<std::size_t>(ax)] += s[ax];
  }
  Tensor<T> y = Tensor<T>::empty(Shape(dims));
  const detail::AxisSplit out = detail::split_at(y.shape(), ax);
  std::vector<index_t> starts;
  index_t at = 0;
  for (const Variable<T>& x : xs) {
    const detail::AxisSplit in = detail::split_at(x.shape(), ax);
    detail::copy_rows(x.value().data(), in, 0, in.size, y.data(), out, at);
    starts.push_back(at);
    at += in.size;
  }
  std::vector<Shape> shapes;
  for (const Variable<T>& x : xs) shapes.push_back(x.shape());
  return Variable<T>::from_op("concat", std::move(y), xs,
                              [shapes = std::move(shapes), starts = std::move(starts), ax, out](
                                  const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // Each input receives its own block of the output gradient.
                                for (std::size_t i = 0; i < shapes.size(); ++i) {
                                  if (!grads.wants(i)) continue;
                                  Tensor<T> gi = Tensor<T>::empty(shapes[i]);
                                  const detail::AxisSplit in = detail::split_at(shapes[i], ax);
                                  detail::copy_rows(g.data(), out, starts[i], starts[i] + in.size,
                                                    gi.data(), in, 0);
                                  grads.add(i, std::move(gi));
                                }
                              });
}

/// Elements [begin, end) along `axis` (negative counts from the end): [4, 6] sliced along 1
/// from 2 to 5 gives [4, 3]. Requires 0 <= begin <= end <= size of the axis; throws ValueError
/// naming begin, end and the shape otherwise.
template <class T>
Variable<T> slice(const Variable<T>& x, int axis, index_t begin, index_t end) {
  check<ShapeError>(x.rank() >= 1, "slice: cannot slice a 0-D tensor (shape ", x.shape(), ")");
  const int ax = x.shape().normalize_axis(axis, "slice");
  const detail::AxisSplit in = detail::split_at(x.shape(), ax);
  check<ValueError>(0 <= begin && begin <= end && end <= in.size, "slice: range [", begin, ", ",
                    end, ") is out of bounds for axis ", axis, " of shape ", x.shape());
  Tensor<T> y;
  if (in.outer == 1) {
    // One contiguous run: a view, as Tensor::slice along the first axis.
    y = x.value().reshape({in.size, in.inner}).slice(begin, end);
    std::vector<index_t> dims = x.shape().dims();
    dims[static_cast<std::size_t>(ax)] = end - begin;
    y = y.reshape(Shape(std::move(dims)));
  } else {
    std::vector<index_t> dims = x.shape().dims();
    dims[static_cast<std::size_t>(ax)] = end - begin;
    y = Tensor<T>::empty(Shape(std::move(dims)));
    detail::copy_rows(x.value().data(), in, begin, end, y.data(), detail::split_at(y.shape(), ax),
                      0);
  }
  return Variable<T>::from_op(
      "slice", std::move(y), {x},
      [from = x.shape(), in, begin, end, ax](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // y = x[begin:end] along the axis: the gradient is g there and zero elsewhere.
        Tensor<T> gx = Tensor<T>::zeros(from);
        detail::copy_rows(g.data(), detail::split_at(g.shape(), ax), 0, end - begin, gx.data(), in,
                          begin);
        grads.add(0, std::move(gx));
      });
}

/// The elements in reverse order along `axis` (negative counts from the end), as Keras's
/// ops.flip: [[1, 2, 3]] flipped along 1 gives [[3, 2, 1]].
template <class T>
Variable<T> flip(const Variable<T>& x, int axis) {
  check<ShapeError>(x.rank() >= 1, "flip: cannot flip a 0-D tensor (shape ", x.shape(), ")");
  const int ax = x.shape().normalize_axis(axis, "flip");
  const detail::AxisSplit in = detail::split_at(x.shape(), ax);
  const auto reversed = [in](const T* src, T* dst) {
    for (index_t o = 0; o < in.outer; ++o)
      for (index_t i = 0; i < in.size; ++i)
        std::copy_n(src + (o * in.size + i) * in.inner, in.inner,
                    dst + (o * in.size + in.size - 1 - i) * in.inner);
  };
  Tensor<T> y = Tensor<T>::empty(x.shape());
  reversed(x.value().data(), y.data());
  return Variable<T>::from_op("flip", std::move(y), {x},
                              [reversed](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // A permutation: the gradient is permuted back (flipped again).
                                Tensor<T> gx = Tensor<T>::empty(g.shape());
                                reversed(g.data(), gx.data());
                                grads.add(0, std::move(gx));
                              });
}

}  // namespace lamina
