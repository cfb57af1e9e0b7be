#pragma once

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/detail/kernels.hpp"

// Reductions over a set of axes: sum, mean, max. When the reduced axes form one block (after
// dropping axes of size 1) the tensor is read as [outer, n, inner] with plain contiguous loops;
// other axis sets go through the general broadcast odometer.

namespace lamina {

/// Axes to reduce over; negative axes count from the end.
using Axes = std::vector<int>;

/// Options of the reductions.
struct ReduceOptions {
  /// Keep each reduced axis as size 1 (so the result broadcasts against the input).
  bool keepdims = false;
};

namespace detail {

/// Where a reduction reads and writes.
struct ReducePlan {
  Shape out_shape;       ///< the result's shape (reduced axes dropped unless keepdims)
  Shape keep_shape;      ///< the result with reduced axes kept as 1
  index_t count = 1;     ///< input elements per output element
  bool blocked = false;  ///< reduced axes form one block: input is [outer, n, inner]
  index_t outer = 1, n = 1, inner = 1;
};

inline std::string axes_str(const Axes& axes) {
  std::string s = "[";
  for (std::size_t i = 0; i < axes.size(); ++i) s += (i ? ", " : "") + std::to_string(axes[i]);
  return s + "]";
}

/// Validates `axes` against `shape` (ValueError naming op, axis and shape) and plans the loops.
inline ReducePlan plan_reduce(const Shape& shape, const Axes& axes, bool keepdims, const char* op) {
  std::vector<bool> reduced(static_cast<std::size_t>(shape.rank()), false);
  for (int a : axes) {
    check<ValueError>(a >= -shape.rank() && a < shape.rank(), op, ": axis ", a,
                      " is out of range for shape ", shape, " (rank ", shape.rank(), ")");
    const auto k = static_cast<std::size_t>(a < 0 ? a + shape.rank() : a);
    check<ValueError>(!reduced[k], op, ": duplicate axis ", a, " in axes ", axes_str(axes),
                      " for shape ", shape);
    reduced[k] = true;
  }
  ReducePlan p;
  std::vector<index_t> out, keep;
  // Runs of reduced / kept axes, ignoring size-1 axes (they can count as either).
  int runs = 0, first_run = -1;
  bool last = false, any = false;
  for (int i = 0; i < shape.rank(); ++i) {
    const bool r = reduced[static_cast<std::size_t>(i)];
    const index_t d = shape[i];
    keep.push_back(r ? 1 : d);
    if (!r || keepdims) out.push_back(r ? 1 : d);
    if (r) p.count *= d;
    if (d == 1) continue;
    if (!any || r != last) {
      ++runs;
      if (r && first_run < 0) first_run = runs;
    }
    any = true;
    last = r;
    (r ? p.n : (first_run < 0 ? p.outer : p.inner)) *= d;
  }
  p.out_shape = Shape(std::move(out));
  p.keep_shape = Shape(std::move(keep));
  // One block of reduced axes: at most kept, reduced, kept.
  const int reduced_runs = first_run < 0 ? 0 : (runs - first_run) / 2 + 1;
  p.blocked = reduced_runs <= 1;
  return p;
}

/// Folds x over the plan's reduced axes: out = combine(out, x) starting from `init`; `row`
/// reduces one contiguous run of n values when the reduced block is innermost.
template <class T, class Combine, class Row>
Tensor<T> reduce_kernel(const Tensor<T>& x, const ReducePlan& p, T init, Combine combine, Row row) {
  Tensor<T> out = Tensor<T>::full(p.out_shape, init);
  const T* src = x.data();
  T* dst = out.data();
  if (!p.blocked) {
    for_each_broadcast(x.shape(), x.shape().strides(), broadcast_strides(p.keep_shape, x.shape()),
                       [&](index_t i, index_t, index_t o) { dst[o] = combine(dst[o], src[i]); });
  } else if (p.inner == 1) {
    for (index_t o = 0; o < p.outer; ++o) dst[o] = row(src + o * p.n, p.n);
  } else {
    for (index_t o = 0; o < p.outer; ++o) {
      T* d = dst + o * p.inner;
      for (index_t r = 0; r < p.n; ++r) {
        const T* s = src + (o * p.n + r) * p.inner;
        for (index_t i = 0; i < p.inner; ++i) d[i] = combine(d[i], s[i]);
      }
    }
  }
  return out;
}

/// Copies g (the reduction's result shape) back along the reduced axes to `shape`.
template <class T>
Tensor<T> expand_kernel(const Tensor<T>& g, const ReducePlan& p, const Shape& shape) {
  if (!p.blocked) return broadcast_to(g.reshape(p.keep_shape), shape, "reduce");
  Tensor<T> out = Tensor<T>::empty(shape);
  const T* src = g.data();
  T* dst = out.data();
  for (index_t o = 0; o < p.outer; ++o) {
    if (p.inner == 1) {
      std::fill_n(dst + o * p.n, p.n, src[o]);
    } else {
      for (index_t r = 0; r < p.n; ++r)
        std::copy_n(src + o * p.inner, p.inner, dst + (o * p.n + r) * p.inner);
    }
  }
  return out;
}

template <class T>
Tensor<T> sum_kernel(const Tensor<T>& x, const ReducePlan& p) {
  return reduce_kernel(
      x, p, T(0), [](T a, T b) { return a + b; },
      [](const T* s, index_t n) { return ConstVectorMap<T>(s, n).sum(); });
}

/// max that propagates NaN (a NaN anywhere makes the result NaN, as PyTorch).
template <class T>
T max_nan(T a, T b) {
  return (a >= b || a != a) ? a : b;
}

inline Axes all_axes(int rank) {
  Axes axes(static_cast<std::size_t>(rank));
  for (int i = 0; i < rank; ++i) axes[static_cast<std::size_t>(i)] = i;
  return axes;
}

}  // namespace detail

/// Sum over `axes` (an empty list reduces nothing, as NumPy). x: any shape -> x's shape without
/// the reduced axes (kept as size 1 with keepdims).
template <class T>
Variable<T> sum(const Variable<T>& x, const Axes& axes, ReduceOptions options = {}) {
  const detail::ReducePlan p = detail::plan_reduce(x.shape(), axes, options.keepdims, "sum");
  return Variable<T>::from_op(
      "sum", detail::sum_kernel(x.value(), p), {x},
      [p, shape = x.shape()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d sum(x)/dx = 1 for every summed element
        grads.add(0, detail::expand_kernel(g, p, shape));
      });
}

/// Sum of all elements -> 0-D.
template <class T>
Variable<T> sum(const Variable<T>& x) {
  return sum(x, detail::all_axes(x.rank()));
}

/// Mean over `axes` (shapes as sum). Throws ValueError when the axes hold zero elements.
template <class T>
Variable<T> mean(const Variable<T>& x, const Axes& axes, ReduceOptions options = {}) {
  const detail::ReducePlan p = detail::plan_reduce(x.shape(), axes, options.keepdims, "mean");
  check<ValueError>(p.count > 0, "mean: the mean over axes ", detail::axes_str(axes), " of shape ",
                    x.shape(), " is over zero elements");
  Tensor<T> y = detail::sum_kernel(x.value(), p);
  const T count = static_cast<T>(p.count);
  for (T& v : y) v /= count;
  return Variable<T>::from_op(
      "mean", std::move(y), {x},
      [p, shape = x.shape()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d mean(x)/dx = 1/count for every averaged element
        Tensor<T> gx = detail::expand_kernel(g, p, shape);
        if (gx.shares_storage_with(g)) gx = gx.clone();
        const T count = static_cast<T>(p.count);
        for (T& v : gx) v /= count;
        grads.add(0, std::move(gx));
      });
}

/// Mean of all elements -> 0-D. Throws ValueError for an empty tensor.
template <class T>
Variable<T> mean(const Variable<T>& x) {
  return mean(x, detail::all_axes(x.rank()));
}

/// Maximum over `axes` (shapes as sum); NaN propagates. Throws ValueError when the axes hold
/// zero elements. The gradient goes to the positions equal to the maximum, split evenly among
/// ties (as PyTorch's amax).
template <class T>
Variable<T> max(const Variable<T>& x, const Axes& axes, ReduceOptions options = {}) {
  const detail::ReducePlan p = detail::plan_reduce(x.shape(), axes, options.keepdims, "max");
  check<ValueError>(p.count > 0, "max: the maximum over axes ", detail::axes_str(axes),
                    " of shape ", x.shape(), " is over zero elements");
  Tensor<T> y = detail::reduce_kernel(
      x.value(), p, -std::numeric_limits<T>::infinity(),
      [](T a, T b) { return detail::max_nan(a, b); },
      [](const T* s, index_t n) {
        return detail::ConstVectorMap<T>(s, n).template maxCoeff<Eigen::PropagateNaN>();
      });
  return Variable<T>::from_op(
      "max", y, {x}, [p, xv = x.value(), y](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d max(x)/dx = [x == max] / (number of ties)
        Tensor<T> gx = detail::expand_kernel(y, p, xv.shape());
        if (gx.shares_storage_with(y)) gx = gx.clone();
        const index_t n = gx.size(), m = g.size();
        const T* xs = xv.data();
        T* hit = gx.data();
        for (index_t k = 0; k < n; ++k) hit[k] = T(xs[k] == hit[k]);
        Tensor<T> share = detail::sum_kernel(gx, p);  // ties per output, then g / ties
        const T* gs = g.data();
        T* s = share.data();
        for (index_t k = 0; k < m; ++k) s[k] = s[k] > T(0) ? gs[k] / s[k] : T(0);
        const Tensor<T> spread = detail::expand_kernel(share, p, xv.shape());
        const T* sp = spread.data();
        for (index_t k = 0; k < n; ++k) hit[k] *= sp[k];
        grads.add(0, std::move(gx));
      });
}

/// Maximum of all elements -> 0-D. Throws ValueError for an empty tensor.
template <class T>
Variable<T> max(const Variable<T>& x) {
  return max(x, detail::all_axes(x.rank()));
}

}  // namespace lamina
