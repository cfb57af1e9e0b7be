#pragma once

#include <cmath>
#include <limits>
#include <type_traits>

#include "lamina/autograd/variable.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/detail/kernels.hpp"

// Elementwise math. Each op maps one tensor to one of the same shape; the transcendental ones
// run through Eigen's vectorised array functions over the contiguous buffer.

namespace lamina {

namespace detail {

/// e^x elementwise, vectorised, exactly 0 where it underflows.
template <class T>
Tensor<T> exp_kernel(const Tensor<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  vector(y).array() = vector(x).array().exp();
  flush_subnormals(y.data(), y.size());
  return y;
}

}  // namespace detail

/// e^x elementwise; any shape.
template <class T>
Variable<T> exp(const Variable<T>& x) {
  Tensor<T> y = detail::exp_kernel(x.value());
  return Variable<T>::from_op("exp", y, {x},
                              [y](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d e^x/dx = e^x = y
                                grads.add(0, detail::zip(g, y, [](T v, T e) { return v * e; }));
                              });
}

/// Natural logarithm elementwise; any shape (NaN below zero, -inf at zero, as std::log).
template <class T>
Variable<T> log(const Variable<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  detail::vector(y).array() = detail::vector(x.value()).array().log();
  // Eigen's vectorised log treats subnormal inputs as the smallest normal number: redo those.
  const T* xs = x.value().data();
  const index_t n = y.size();
  for (index_t i = 0; i < n; ++i) {
    if (xs[i] > T(0) && xs[i] < std::numeric_limits<T>::min()) y.data()[i] = std::log(xs[i]);
  }
  return Variable<T>::from_op("log", std::move(y), {x},
                              [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d log(x)/dx = 1/x
                                grads.add(0, detail::zip(g, xv, [](T v, T a) { return v / a; }));
                              });
}

/// Square root elementwise; any shape.
template <class T>
Variable<T> sqrt(const Variable<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  detail::vector(y).array() = detail::vector(x.value()).array().sqrt();
  return Variable<T>::from_op(
      "sqrt", y, {x}, [y](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d sqrt(x)/dx = 1 / (2 sqrt(x)) = 1 / (2y)
        grads.add(0, detail::zip(g, y, [](T v, T r) { return v / (T(2) * r); }));
      });
}

/// x^2 elementwise; any shape.
template <class T>
Variable<T> square(const Variable<T>& x) {
  return Variable<T>::from_op("square", detail::map(x.value(), [](T a) { return a * a; }), {x},
                              [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d x^2/dx = 2x
                                grads.add(
                                    0, detail::zip(g, xv, [](T v, T a) { return T(2) * a * v; }));
                              });
}

/// x^p elementwise for a constant exponent p (std::pow semantics); any shape. The gradient
/// p x^(p-1) is taken as 0 when p == 0, as PyTorch does.
template <class T>
Variable<T> pow(const Variable<T>& x, std::type_identity_t<T> p) {
  check<ValueError>(!std::isnan(p), "pow: exponent must not be NaN");
  Tensor<T> y = detail::map(x.value(), [p](T a) { return std::pow(a, p); });
  return Variable<T>::from_op(
      "pow", std::move(y), {x},
      [xv = x.value(), p](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d x^p/dx = p x^(p-1)
        if (p == T(0)) return grads.add(0, Tensor<T>::zeros(xv.shape()));
        grads.add(0, detail::zip(g, xv, [p](T v, T a) { return v * p * std::pow(a, p - T(1)); }));
      });
}

/// |x| elementwise; any shape. The gradient at 0 is 0, as PyTorch's sign(0).
template <class T>
Variable<T> abs(const Variable<T>& x) {
  return Variable<T>::from_op("abs", detail::map(x.value(), [](T a) { return std::abs(a); }), {x},
                              [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d|x|/dx = sign(x)
                                grads.add(0, detail::zip(g, xv, [](T v, T a) {
                                            return a > T(0) ? v : (a < T(0) ? -v : T(0));
                                          }));
                              });
}

/// min(max(x, low), high) elementwise; any shape. Throws ValueError unless low <= high. The
/// gradient is 1 where low <= x <= high (bounds included) and 0 outside, as PyTorch.
template <class T>
Variable<T> clamp(const Variable<T>& x, std::type_identity_t<T> low, std::type_identity_t<T> high) {
  check<ValueError>(low <= high, "clamp: low (", low, ") must not exceed high (", high, ")");
  Tensor<T> y =
      detail::map(x.value(), [low, high](T a) { return a < low ? low : (a > high ? high : a); });
  return Variable<T>::from_op(
      "clamp", std::move(y), {x},
      [xv = x.value(), low, high](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d clamp(x)/dx = [low <= x <= high]
        grads.add(0, detail::zip(g, xv, [low, high](T v, T a) {
                    return a >= low && a <= high ? v : T(0);
                  }));
      });
}

}  // namespace lamina
