#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <optional>
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

/// y = 1 / (1 + e^-x) without overflow: with z = e^-|x| (never above 1), 1 / (1 + z) for x >= 0
/// and z / (1 + z) for x < 0. `y` may be `x` (in place).
template <class T>
void sigmoid_values(const T* x, T* y, index_t n) {
  constexpr index_t kChunk = 256;
  T z[kChunk];
  for (index_t i0 = 0; i0 < n; i0 += kChunk) {
    const index_t m = std::min(kChunk, n - i0);
    VectorMap<T>(z, m).array() = (-ConstVectorMap<T>(x + i0, m).array().abs()).exp();
    flush_subnormals(z, m);
    for (index_t i = 0; i < m; ++i) y[i0 + i] = (x[i0 + i] >= T(0) ? T(1) : z[i]) / (T(1) + z[i]);
  }
}

template <class T>
Tensor<T> sigmoid_kernel(const Tensor<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  sigmoid_values(x.data(), y.data(), y.size());
  return y;
}

/// y = alpha (e^x - 1) for x <= 0, x above; `y` may be `x`.
template <class T>
void elu_values(const T* x, T* y, index_t n, T alpha) {
  constexpr index_t kChunk = 256;
  T e[kChunk];
  for (index_t i0 = 0; i0 < n; i0 += kChunk) {
    const index_t m = std::min(kChunk, n - i0);
    VectorMap<T>(e, m).array() = alpha * ConstVectorMap<T>(x + i0, m).array().expm1();
    for (index_t i = 0; i < m; ++i) y[i0 + i] = x[i0 + i] > T(0) ? x[i0 + i] : e[i];
  }
}

/// The activations that an op producing a matrix (conv2d, dense) can apply to its result in
/// place, each with its Keras default parameter: elementwise, and with a derivative that the
/// output alone determines, so the op keeps only its output for the backward.
enum class Pointwise { linear, relu, sigmoid, tanh, leaky_relu, elu };

/// The default parameters of leaky_relu (Keras 3) and elu, also used when they are fused.
inline constexpr double kLeakyReluSlope = 0.2, kEluAlpha = 1.0;

/// y = act(y + bias) in place over a rows x cols row-major block; `bias` [cols] may be null.
template <class T>
void bias_activation(T* y, index_t rows, index_t cols, const T* bias, Pointwise act) {
  if (bias) {
    for (index_t r = 0; r < rows; ++r) {
      T* yr = y + r * cols;
      for (index_t c = 0; c < cols; ++c) yr[c] += bias[c];
    }
  }
  const index_t n = rows * cols;
  switch (act) {
    case Pointwise::linear:
      break;
    case Pointwise::relu:  // x < 0 ? 0 : x keeps NaN, as relu()
      for (index_t i = 0; i < n; ++i) y[i] = y[i] < T(0) ? T(0) : y[i];
      break;
    case Pointwise::sigmoid:
      sigmoid_values(y, y, n);
      break;
    case Pointwise::tanh:
      VectorMap<T>(y, n).array() = VectorMap<T>(y, n).array().tanh();
      break;
    case Pointwise::leaky_relu: {
      const T s = T(kLeakyReluSlope);
      for (index_t i = 0; i < n; ++i) y[i] = y[i] > T(0) ? y[i] : s * y[i];
      break;
    }
    case Pointwise::elu:
      elu_values(y, y, n, T(kEluAlpha));
      break;
  }
}

/// The backward of the activation in bias_activation, over n values: dz = g * act'(z), with
/// act'(z) found from the output a = act(z). `dz` may be `g`.
template <class T>
void bias_activation_backward(const T* g, const T* a, T* dz, index_t n, Pointwise act) {
  switch (act) {
    case Pointwise::linear:  // 1
      if (dz != g) std::copy_n(g, n, dz);
      break;
    case Pointwise::relu:  // [z > 0] = [a > 0]
      for (index_t i = 0; i < n; ++i) dz[i] = a[i] > T(0) ? g[i] : T(0);
      break;
    case Pointwise::sigmoid:  // a (1 - a)
      for (index_t i = 0; i < n; ++i) dz[i] = g[i] * a[i] * (T(1) - a[i]);
      break;
    case Pointwise::tanh:  // 1 - a^2
      for (index_t i = 0; i < n; ++i) dz[i] = g[i] * (T(1) - a[i] * a[i]);
      break;
    case Pointwise::leaky_relu: {  // 1 for z > 0 (a > 0, as the slope is positive), slope else
      const T s = T(kLeakyReluSlope);
      for (index_t i = 0; i < n; ++i) dz[i] = a[i] > T(0) ? g[i] : s * g[i];
      break;
    }
    case Pointwise::elu: {  // 1 for z > 0, alpha e^z = a + alpha otherwise
      const T alpha = T(kEluAlpha);
      for (index_t i = 0; i < n; ++i) dz[i] = a[i] > T(0) ? g[i] : g[i] * (a[i] + alpha);
      break;
    }
  }
}

/// sums[c] += the sum of column c of a rows x cols row-major block (a bias gradient).
template <class T>
void add_column_sums(const T* m, index_t rows, index_t cols, T* sums) {
  for (index_t r = 0; r < rows; ++r) {
    const T* mr = m + r * cols;
    for (index_t c = 0; c < cols; ++c) sums[c] += mr[c];
  }
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
Variable<T> leaky_relu(const Variable<T>& x,
                       std::type_identity_t<T> negative_slope = T(detail::kLeakyReluSlope)) {
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
Variable<T> elu(const Variable<T>& x, std::type_identity_t<T> alpha = T(detail::kEluAlpha)) {
  check<ValueError>(std::isfinite(alpha), "elu: alpha must be finite, got ", alpha);
  Tensor<T> y = Tensor<T>::empty(x.shape());
  detail::elu_values(x.value().data(), y.data(), y.size(), T(alpha));
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

/// An activation known by name, and how conv2d and dense apply it inside the op, if they can.
struct ActivationName {
  const char* name;
  std::optional<Pointwise> fused;
};

/// The one list of activations known by name, in the order error messages show them. Not
/// templated on the scalar, so that looking a name up instantiates no kernel.
inline constexpr std::array<ActivationName, 8> kActivationNames{{
    {"linear", Pointwise::linear},
    {"relu", Pointwise::relu},
    {"sigmoid", Pointwise::sigmoid},
    {"tanh", Pointwise::tanh},
    {"softmax", std::nullopt},
    {"leaky_relu", Pointwise::leaky_relu},
    {"elu", Pointwise::elu},
    {"softplus", std::nullopt},
}};

/// The functions of kActivationNames, in its order.
template <class T>
const std::array<Variable<T> (*)(const Variable<T>&), kActivationNames.size()>&
activation_functions() {
  using V = Variable<T>;
  static constexpr std::array<V (*)(const V&), kActivationNames.size()> functions{
      [](const V& x) { return linear(x); },      [](const V& x) { return relu(x); },
      [](const V& x) { return sigmoid(x); },     [](const V& x) { return tanh(x); },
      [](const V& x) { return softmax(x, -1); }, [](const V& x) { return leaky_relu(x); },
      [](const V& x) { return elu(x); },         [](const V& x) { return softplus(x); },
  };
  return functions;
}

/// The valid names, comma-separated, for error messages (only the fusable ones if asked).
inline std::string activation_name_list(bool fused_only) {
  std::string valid;
  for (const ActivationName& a : kActivationNames)
    if (!fused_only || a.fused) valid += (valid.empty() ? "" : ", ") + std::string(a.name);
  return valid;
}

/// Whether conv2d and dense can apply the activation `name` inside the op (softmax and
/// softplus they cannot).
inline bool is_pointwise(const std::string& name) {
  for (const ActivationName& a : kActivationNames)
    if (name == a.name) return a.fused.has_value();
  return false;
}

/// The fusable activation called `name`; throws ValueError naming `op` and the valid names.
inline Pointwise pointwise(const char* op, const std::string& name) {
  for (const ActivationName& a : kActivationNames)
    if (a.fused && name == a.name) return *a.fused;
  throw ValueError(std::string(op) + ": activation '" + name +
                   "' cannot be applied inside the op; valid names: " + activation_name_list(true));
}

}  // namespace detail

/// The names activation_by_name accepts: linear, relu, sigmoid, tanh, softmax (over the last
/// axis), leaky_relu, elu, softplus (each with its Keras default parameters).
inline std::vector<std::string> activation_names() {
  std::vector<std::string> names;
  for (const detail::ActivationName& a : detail::kActivationNames) names.emplace_back(a.name);
  return names;
}

/// The activation called `name` (one of activation_names()), as a callable on Variables.
/// Throws ValueError naming the unknown name and listing the valid ones.
template <class T>
std::function<Variable<T>(const Variable<T>&)> activation_by_name(const std::string& name) {
  for (std::size_t i = 0; i < detail::kActivationNames.size(); ++i)
    if (name == detail::kActivationNames[i].name) return detail::activation_functions<T>()[i];
  throw ValueError("unknown activation '" + name +
                   "'; valid names: " + detail::activation_name_list(false));
}

}  // namespace lamina
