#pragma once

#include <type_traits>

#include "lamina/autograd/variable.hpp"
#include "lamina/detail/kernels.hpp"

namespace lamina {

// Binary ops broadcast as NumPy does; the engine sums each gradient back to its input's shape,
// so every rule below may hand over a gradient of the output's (broadcast) shape.

/// a + b, broadcasting.
template <class T>
Variable<T> add(const Variable<T>& a, const Variable<T>& b) {
  Tensor<T> y = detail::broadcast_zip(a.value(), b.value(), "add", [](T x, T z) { return x + z; });
  return Variable<T>::from_op("add", std::move(y), {a, b},
                              [](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d(a + b)/da = 1, d(a + b)/db = 1
                                grads.add(0, g);
                                grads.add(1, g);
                              });
}

/// a - b, broadcasting.
template <class T>
Variable<T> sub(const Variable<T>& a, const Variable<T>& b) {
  Tensor<T> y = detail::broadcast_zip(a.value(), b.value(), "sub", [](T x, T z) { return x - z; });
  return Variable<T>::from_op("sub", std::move(y), {a, b},
                              [](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d(a - b)/da = 1, d(a - b)/db = -1
                                grads.add(0, g);
                                if (grads.wants(1))
                                  grads.add(1, detail::map(g, [](T v) { return -v; }));
                              });
}

/// a * b elementwise, broadcasting.
template <class T>
Variable<T> mul(const Variable<T>& a, const Variable<T>& b) {
  Tensor<T> y = detail::broadcast_zip(a.value(), b.value(), "mul", [](T x, T z) { return x * z; });
  return Variable<T>::from_op(
      "mul", std::move(y), {a, b},
      [av = a.value(), bv = b.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        const auto times = [](T x, T z) { return x * z; };
        // d(ab)/da = b, d(ab)/db = a
        if (grads.wants(0)) grads.add(0, detail::broadcast_zip(g, bv, "mul", times));
        if (grads.wants(1)) grads.add(1, detail::broadcast_zip(g, av, "mul", times));
      });
}

/// a / b elementwise, broadcasting.
template <class T>
Variable<T> div(const Variable<T>& a, const Variable<T>& b) {
  Tensor<T> y = detail::broadcast_zip(a.value(), b.value(), "div", [](T x, T z) { return x / z; });
  return Variable<T>::from_op(
      "div", std::move(y), {a, b},
      [av = a.value(), bv = b.value(), yv = y](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -(a/b)/b
        if (grads.wants(0))
          grads.add(0, detail::broadcast_zip(g, bv, "div", [](T x, T z) { return x / z; }));
        if (grads.wants(1)) {
          Tensor<T> gy = detail::zip(g, yv, [](T x, T q) { return -x * q; });
          grads.add(1, detail::broadcast_zip(gy, bv, "div", [](T x, T z) { return x / z; }));
        }
      });
}

/// -a.
template <class T>
Variable<T> neg(const Variable<T>& a) {
  return Variable<T>::from_op("neg", detail::map(a.value(), [](T x) { return -x; }), {a},
                              [](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d(-a)/da = -1
                                grads.add(0, detail::map(g, [](T v) { return -v; }));
                              });
}

/// max(a, b) elementwise, broadcasting; where a == b the gradient goes to a.
template <class T>
Variable<T> maximum(const Variable<T>& a, const Variable<T>& b) {
  Tensor<T> y = detail::broadcast_zip(a.value(), b.value(), "maximum",
                                      [](T x, T z) { return x >= z ? x : z; });
  return Variable<T>::from_op(
      "maximum", std::move(y), {a, b},
      [av = a.value(), bv = b.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d max(a, b)/da = [a >= b], d max(a, b)/db = [a < b]
        const Tensor<T> a_wins =
            detail::broadcast_zip(av, bv, "maximum", [](T x, T z) { return T(x >= z); });
        if (grads.wants(0)) grads.add(0, detail::zip(g, a_wins, [](T v, T w) { return v * w; }));
        if (grads.wants(1))
          grads.add(1, detail::zip(g, a_wins, [](T v, T w) { return v * (T(1) - w); }));
      });
}

/// condition ? a : b elementwise, broadcasting all three; `condition` is nonzero for true.
/// No gradient flows to the condition.
template <class T>
Variable<T> where(const Tensor<T>& condition, const Variable<T>& a, const Variable<T>& b) {
  const Shape shape =
      broadcast_shapes(broadcast_shapes(condition.shape(), a.shape(), "where"), b.shape(), "where");
  const auto pick = [](T c, T x) { return c != T(0) ? x : T(0); };
  const auto drop = [](T c, T x) { return c != T(0) ? T(0) : x; };
  const Tensor<T> cond = detail::broadcast_to(condition, shape, "where");
  const Tensor<T> ya = detail::broadcast_zip(cond, a.value(), "where", pick);
  const Tensor<T> yb = detail::broadcast_zip(cond, b.value(), "where", drop);
  Tensor<T> y = detail::zip(ya, yb, [](T x, T z) { return x + z; });
  return Variable<T>::from_op(
      "where", std::move(y), {a, b},
      [cond, pick, drop](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d/da = [condition], d/db = [not condition]
        if (grads.wants(0)) grads.add(0, detail::zip(cond, g, pick));
        if (grads.wants(1)) grads.add(1, detail::zip(cond, g, drop));
      });
}

namespace detail {
template <class T>
Variable<T> constant_like(T value) {
  return Variable<T>(Tensor<T>::scalar(value));
}
}  // namespace detail

// Scalar operands and operators. The scalar side is never differentiated.
template <class T>
Variable<T> add(const Variable<T>& a, std::type_identity_t<T> s) {
  return add(a, detail::constant_like<T>(s));
}
template <class T>
Variable<T> sub(const Variable<T>& a, std::type_identity_t<T> s) {
  return sub(a, detail::constant_like<T>(s));
}
template <class T>
Variable<T> sub(std::type_identity_t<T> s, const Variable<T>& a) {
  return sub(detail::constant_like<T>(s), a);
}
template <class T>
Variable<T> mul(const Variable<T>& a, std::type_identity_t<T> s) {
  return mul(a, detail::constant_like<T>(s));
}
template <class T>
Variable<T> div(const Variable<T>& a, std::type_identity_t<T> s) {
  return div(a, detail::constant_like<T>(s));
}
template <class T>
Variable<T> div(std::type_identity_t<T> s, const Variable<T>& a) {
  return div(detail::constant_like<T>(s), a);
}

template <class T>
Variable<T> operator+(const Variable<T>& a, const Variable<T>& b) {
  return add(a, b);
}
template <class T>
Variable<T> operator-(const Variable<T>& a, const Variable<T>& b) {
  return sub(a, b);
}
template <class T>
Variable<T> operator*(const Variable<T>& a, const Variable<T>& b) {
  return mul(a, b);
}
template <class T>
Variable<T> operator/(const Variable<T>& a, const Variable<T>& b) {
  return div(a, b);
}
template <class T>
Variable<T> operator-(const Variable<T>& a) {
  return neg(a);
}
template <class T>
Variable<T> operator+(const Variable<T>& a, std::type_identity_t<T> s) {
  return add(a, s);
}
template <class T>
Variable<T> operator+(std::type_identity_t<T> s, const Variable<T>& a) {
  return add(a, s);
}
template <class T>
Variable<T> operator-(const Variable<T>& a, std::type_identity_t<T> s) {
  return sub(a, s);
}
template <class T>
Variable<T> operator-(std::type_identity_t<T> s, const Variable<T>& a) {
  return sub(s, a);
}
template <class T>
Variable<T> operator*(const Variable<T>& a, std::type_identity_t<T> s) {
  return mul(a, s);
}
template <class T>
Variable<T> operator*(std::type_identity_t<T> s, const Variable<T>& a) {
  return mul(a, s);
}
template <class T>
Variable<T> operator/(const Variable<T>& a, std::type_identity_t<T> s) {
  return div(a, s);
}
template <class T>
Variable<T> operator/(std::type_identity_t<T> s, const Variable<T>& a) {
  return div(s, a);
}

}  // namespace lamina
