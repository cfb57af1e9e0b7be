#pragma once

#include <limits>
#include <vector>

#include "lamina/core/broadcast.hpp"
#include "lamina/core/tensor.hpp"

/// Tensor-level loops shared by the ops' forward and backward rules (no autograd here).
namespace lamina::detail {

/// Sets every value below the smallest normal number to 0, in one vectorisable pass. Eigen's
/// vectorised exp clamps its argument near the underflow bound, so e^-1000 and e^-inf come out as
/// ~3e-39 (float) or ~6e-309 (double) instead of 0; kernels that take exp through Eigen pass the
/// (positive) result through here to restore exact zeros.
template <class T>
void flush_subnormals(T* y, index_t n) {
  constexpr T tiny = std::numeric_limits<T>::min();
  for (index_t i = 0; i < n; ++i) y[i] = y[i] < tiny ? T(0) : y[i];
}

/// out[i] = f(a[i]) for every element.
template <class T, class F>
Tensor<T> map(const Tensor<T>& a, F&& f) {
  Tensor<T> out = Tensor<T>::empty(a.shape());
  const T* x = a.data();
  T* y = out.data();
  const index_t n = a.size();
  for (index_t i = 0; i < n; ++i) y[i] = f(x[i]);
  return out;
}

/// out[i] = f(a[i], b[i]) for two tensors of the same shape.
template <class T, class F>
Tensor<T> zip(const Tensor<T>& a, const Tensor<T>& b, F&& f) {
  Tensor<T> out = Tensor<T>::empty(a.shape());
  const T* x = a.data();
  const T* z = b.data();
  T* y = out.data();
  const index_t n = a.size();
  for (index_t i = 0; i < n; ++i) y[i] = f(x[i], z[i]);
  return out;
}

/// out = f(a, b) elementwise with NumPy broadcasting; `op` names the caller in shape errors.
template <class T, class F>
Tensor<T> broadcast_zip(const Tensor<T>& a, const Tensor<T>& b, const char* op, F&& f) {
  if (a.shape() == b.shape()) return zip(a, b, f);
  const Shape shape = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor<T> out = Tensor<T>::empty(shape);
  const T* x = a.data();
  const T* z = b.data();
  T* y = out.data();
  if (b.size() == 1) {
    const T s = z[0];
    if (a.shape() == shape) {
      for (index_t i = 0; i < out.size(); ++i) y[i] = f(x[i], s);
      return out;
    }
  }
  for_each_broadcast(shape, broadcast_strides(a.shape(), shape),
                     broadcast_strides(b.shape(), shape),
                     [&](index_t o, index_t ia, index_t ib) { y[o] = f(x[ia], z[ib]); });
  return out;
}

/// A copy of `a` expanded to the broadcast-compatible `shape`.
template <class T>
Tensor<T> broadcast_to(const Tensor<T>& a, const Shape& shape, const char* op) {
  check<ShapeError>(broadcast_shapes(a.shape(), shape, op) == shape, op, ": cannot broadcast ",
                    a.shape(), " to ", shape);
  if (a.shape() == shape) return a;
  Tensor<T> out = Tensor<T>::empty(shape);
  const T* x = a.data();
  T* y = out.data();
  for_each_broadcast(shape, broadcast_strides(a.shape(), shape),
                     std::vector<index_t>(static_cast<std::size_t>(shape.rank()), 0),
                     [&](index_t o, index_t ia, index_t) { y[o] = x[ia]; });
  return out;
}

}  // namespace lamina::detail
