#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/ops/kernels.hpp"
#include "lamina/ops/math.hpp"
#include "lamina/ops/softmax.hpp"

// Activation functions, elementwise on any shape (softmax lives in softmax.hpp), and the
// name -> activation resolver that layers use for Keras's `activation="relu"` strings.

namespace lamina {

namespace detail {

/// 1 / (1 + e^-x) without overflow: with z = e^-|x| (never above 1), 1 / (1 + z) for x >= 0
/// and z / (1 + z) for x < 0.
template <class T>
Tensor<T> sigmoid_kernel(const Tensor<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  vector(y).array() = (-vector(x).array().abs()).exp();
  flush_subnormals(y.data(), y.size());
  const T* xs = x.data();
  T* ys = y.data();
  const index_t n = y.size();
  for (index_t i = 0; i < n; ++i) ys[i] = (xs[i] >= T(0) ? T(1) : ys[i]) / (T(1) + ys[i]);
  return y;
}

}  // namespace detail

/// The identity (Keras's "linear" activation): returns `x` itself, recording nothing.
template <class T>
Variable<T> linear(const Variable<T>& x) {
  return x;
}

/// max(x, 0) elementwise; the gradient at 0 is 0.
template <class T>
Variable<T> relu(const Variable<T>& x) {
  // x < 0 ? 0 : x keeps NaN as NaN.
  Tensor<T> y = detail::map(x.value(), [](T a) { return a < T(0) ? T(0) : a; });
  return Variable<T>::from_op(
      "relu", std::move(y), {x},
      [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d relu(x)/dx = [x > 0]
        grads.add(0, detail::zip(g, xv, [](T v, T a) { return a > T(0) ? v : T(0); }));
      });
}

/// x for x > 0, negative_slope * x otherwise (Keras 3 default slope 0.2); the gradient at 0 is
/// negative_slope, as PyTorch.
template <class T>
Variable<T> leaky_relu(const Variable<T>& x, std::type_identity_t<T> negative_slope = T(0.2)) {
  check<ValueError>(std::isfinite(negative_slope),
                    "leaky_relu: negative_slope must be finite, got ", negative_slope);
  const T s = negative_slope;
  Tensor<T> y = detail::map(x.value(), [s](T a) { return a > T(0) ? a : s * a; });
  return Variable<T>::from_op(
      "leaky_relu", std::move(y), {x},
      [xv = x.value(), s](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d/dx = 1 for x > 0, negative_slope otherwise
        grads.add(0, detail::zip(g, xv, [s](T v, T a) { return a > T(0) ? v : s * v; }));
      });
}

/// x for x > 0, alpha * (e^x - 1) otherwise (Keras and PyTorch default alpha 1).
template <class T>
Variable<T> elu(const Variable<T>& x, std::type_identity_t<T> alpha = T(1)) {
  check<ValueError>(std::isfinite(alpha), "elu: alpha must be finite, got ", alpha);
  Tensor<T> y = Tensor<T>::empty(x.shape());
  detail::vector(y).array() = alpha * detail::vector(x.value()).array().expm1();
  const T* xs = x.value().data();
  T* ys = y.data();
  const index_t n = y.size();
  for (index_t i = 0; i < n; ++i) ys[i] = xs[i] > T(0) ? xs[i] : ys[i];
  return Variable<T>::from_op(
      "elu", std::move(y), {x},
      [xv = x.value(), alpha](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d/dx = 1 for x > 0, alpha e^x otherwise
        Tensor<T> gx = detail::exp_kernel(xv);
        const T* xs = xv.data();
        const T* gs = g.data();
        T* d = gx.data();
        const index_t n = gx.size();
        for (index_t i = 0; i < n; ++i) d[i] = gs[i] * (xs[i] > T(0) ? T(1) : alpha * d[i]);
        grads.add(0, std::move(gx));
      });
}

/// 1 / (1 + e^-x) elementwise, finite and accurate for large |x|.
template <class T>
Variable<T> sigmoid(const Variable<T>& x) {
  Tensor<T> y = detail::sigmoid_kernel(x.value());
  return Variable<T>::from_op(
      "sigmoid", y, {x}, [y](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d sigmoid(x)/dx = y (1 - y)
        grads.add(0, detail::zip(g, y, [](T v, T s) { return v * s * (T(1) - s); }));
      });
}

/// Hyperbolic tangent elementwise.
template <class T>
Variable<T> tanh(const Variable<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  detail::vector(y).array() = detail::vector(x.value()).array().tanh();
  return Variable<T>::from_op(
      "tanh", y, {x}, [y](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d tanh(x)/dx = 1 - y^2
        grads.add(0, detail::zip(g, y, [](T v, T t) { return v * (T(1) - t * t); }));
      });
}

/// log(1 + e^x) elementwise, computed as max(x, 0) + log1p(e^-|x|) so that it neither
/// overflows for large x nor loses precision for very negative x.
template <class T>
Variable<T> softplus(const Variable<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  const auto xa = detail::vector(x.value()).array();
  auto ya = detail::vector(y).array();
  ya = (-xa.abs()).exp();
  detail::flush_subnormals(y.data(), y.size());
  ya = xa.max(T(0)) + ya.log1p();
  return Variable<T>::from_op("softplus", std::move(y), {x},
                              [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d softplus(x)/dx = sigmoid(x)
                                Tensor<T> gx = detail::sigmoid_kernel(xv);
                                detail::vector(gx).array() *= detail::vector(g).array();
                                grads.add(0, std::move(gx));
                              });
}

namespace detail {

template <class T>
struct NamedActivation {
  const char* name;
  Variable<T> (*fn)(const Variable<T>&);
};

/// The one list of activations known by name, in the order error messages show them.
template <class T>
const std::vector<NamedActivation<T>>& activation_table() {
  using V = Variable<T>;
  static const std::vector<NamedActivation<T>> table{
      {"linear", [](const V& x) { return linear(x); }},
      {"relu", [](const V& x) { return relu(x); }},
      {"sigmoid", [](const V& x) { return sigmoid(x); }},
      {"tanh", [](const V& x) { return tanh(x); }},
      {"softmax", [](const V& x) { return softmax(x, -1); }},
      {"leaky_relu", [](const V& x) { return leaky_relu(x); }},
      {"elu", [](const V& x) { return elu(x); }},
      {"softplus", [](const V& x) { return softplus(x); }},
  };
  return table;
}

}  // namespace detail

/// The names activation_by_name accepts: linear, relu, sigmoid, tanh, softmax (over the last
/// axis), leaky_relu, elu, softplus (each with its Keras default parameters).
inline std::vector<std::string> activation_names() {
  std::vector<std::string> names;
  for (const auto& a : detail::activation_table<double>()) names.emplace_back(a.name);
  return names;
}

/// The activation called `name` (one of activation_names()), as a callable on Variables.
/// Throws ValueError naming the unknown name and listing the valid ones.
template <class T>
std::function<Variable<T>(const Variable<T>&)> activation_by_name(const std::string& name) {
  std::string valid;
  for (const auto& a : detail::activation_table<T>()) {
    if (name == a.name) return a.fn;
    valid += (valid.empty() ? "" : ", ") + std::string(a.name);
  }
  throw ValueError("unknown activation '" + name + "'; valid names: " + valid);
}

}  // namespace lamina
