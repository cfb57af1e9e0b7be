#pragma once

#include <vector>

#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

/// NumPy broadcasting of two shapes; throws ShapeError naming `op` and both shapes.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const int r = a.rank() > b.rank() ? a.rank() : b.rank();
  std::vector<index_t> out(static_cast<std::size_t>(r));
  for (int i = 0; i < r; ++i) {
    const int ia = a.rank() - r + i, ib = b.rank() - r + i;
    const index_t da = ia >= 0 ? a[ia] : 1, db = ib >= 0 ? b[ib] : 1;
    check<ShapeError>(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
                      " cannot be broadcast (axis ", i - r, ": ", da, " vs ", db, ")");
    out[static_cast<std::size_t>(i)] = da == 1 ? db : da;
  }
  return Shape(std::move(out));
}

namespace detail {

/// Strides (in elements) for reading a tensor of shape `in` as if it had the broadcast shape
/// `out`: 0 along axes where `in` has size 1 or is missing.
inline std::vector<index_t> broadcast_strides(const Shape& in, const Shape& out) {
  std::vector<index_t> s(static_cast<std::size_t>(out.rank()), 0);
  const std::vector<index_t> own = in.strides();
  for (int i = 0; i < in.rank(); ++i) {
    const int o = out.rank() - in.rank() + i;
    if (in[i] != 1) s[static_cast<std::size_t>(o)] = own[static_cast<std::size_t>(i)];
  }
  return s;
}

/// Calls f(out_index, a_index, b_index) for every element of `out`, where a and b are read
/// with the strides `sa` and `sb` (from broadcast_strides). The innermost axis is a plain loop.
template <class F>
void for_each_broadcast(const Shape& out, const std::vector<index_t>& sa,
                        const std::vector<index_t>& sb, F&& f) {
  const index_t n = out.numel();
  if (n == 0) return;
  const int r = out.rank();
  if (r == 0) {
    f(0, 0, 0);
    return;
  }
  const index_t inner = out[r - 1];
  const index_t ia_step = sa[static_cast<std::size_t>(r - 1)];
  const index_t ib_step = sb[static_cast<std::size_t>(r - 1)];
  std::vector<index_t> counter(static_cast<std::size_t>(r), 0);
  index_t ia = 0, ib = 0;
  for (index_t o = 0; o < n; o += inner) {
    for (index_t k = 0; k < inner; ++k) f(o + k, ia + k * ia_step, ib + k * ib_step);
    // Advance the outer counter (axes r-2 .. 0) like an odometer.
    for (int axis = r - 2; axis >= 0; --axis) {
      const auto u = static_cast<std::size_t>(axis);
      ia += sa[u];
      ib += sb[u];
      if (++counter[u] < out[axis]) break;
      ia -= sa[u] * out[axis];
      ib -= sb[u] * out[axis];
      counter[u] = 0;
    }
  }
}

/// Sums `g` over the axes along which a tensor of shape `target` was broadcast to g's shape.
template <class T>
Tensor<T> sum_to_shape(const Tensor<T>& g, const Shape& target) {
  if (g.shape() == target) return g;
  Tensor<T> out(target);
  const std::vector<index_t> st = broadcast_strides(target, g.shape());
  const std::vector<index_t> zero(static_cast<std::size_t>(g.rank()), 0);
  const T* src = g.data();
  T* dst = out.data();
  for_each_broadcast(g.shape(), st, zero,
                     [&](index_t o, index_t it, index_t) { dst[it] += src[o]; });
  return out;
}

}  // namespace detail
}  // namespace lamina
