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
#include "lamina/detail/activation_kernels.hpp"
#include "lamina/detail/eigen.hpp"
#include "lamina/detail/kernels.hpp"
#include "lamina/ops/math.hpp"
#include "lamina/ops/softmax.hpp"

// Activation functions, elementwise on any shape (softmax lives in softmax.hpp), and the
// name -> activation resolver that layers use for Keras's `activation="relu"` strings.

namespace lamina {

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

/// Options of relu with Keras's keyword arguments (keras.activations.relu and the ReLU layer).
struct ReluOpOptions {
  /// Slope below the threshold: f(x) = negative_slope * (x - threshold) for x <= threshold.
  double negative_slope = 0.0;
  /// Upper bound of the output (none by default).
  std::optional<double> max_value{};
  /// Inputs at or below it count as negative.
  double threshold = 0.0;
};

/// Keras's relu with options: min(x, max_value) for x > threshold, negative_slope * (x -
/// threshold) otherwise (keras.activations.relu's code; its gradient is 0 at and above
/// max_value and negative_slope at the threshold). All options finite; max_value and threshold
/// not negative (ValueError naming relu and the value otherwise).
template <class T>
Variable<T> relu(const Variable<T>& x, const ReluOpOptions& options) {
  check<ValueError>(std::isfinite(options.negative_slope),
                    "relu: negative_slope must be finite, got ", options.negative_slope);
  check<ValueError>(std::isfinite(options.threshold) && options.threshold >= 0,
                    "relu: threshold must be finite and >= 0, got ", options.threshold);
  check<ValueError>(
      !options.max_value || (std::isfinite(*options.max_value) && *options.max_value >= 0),
      "relu: max_value must be finite and >= 0, got ", options.max_value.value_or(0.0));
  const T s = T(options.negative_slope), t = T(options.threshold);
  const bool bounded = options.max_value.has_value();
  const T m = T(options.max_value.value_or(0.0));
  Tensor<T> y = detail::map(x.value(), [=](T a) {
    return a > t ? (bounded && a > m ? m : a) : s * (a - t);  // NaN gives NaN
  });
  return Variable<T>::from_op(
      "relu", std::move(y), {x},
      [xv = x.value(), s, t, bounded, m](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d/dx = [x < max_value] for x > threshold, negative_slope otherwise
        grads.add(0, detail::zip(g, xv, [=](T v, T a) {
                    return a > t ? (bounded && a >= m ? T(0) : v) : s * v;
                  }));
      });
}

/// min(max(x, 0), 6) elementwise (Keras's relu6, PyTorch's relu6); the gradient is 0 at 0 and 6.
template <class T>
Variable<T> relu6(const Variable<T>& x) {
  Tensor<T> y = detail::map(x.value(), [](T a) { return detail::relu6_scalar(a); });
  return Variable<T>::from_op(
      "relu6", std::move(y), {x},
      [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d/dx = [0 < x < 6]
        grads.add(0, detail::zip(g, xv, [](T v, T a) { return a > T(0) && a < T(6) ? v : T(0); }));
      });
}

/// Keras 3's hard_sigmoid, relu6(x + 3) / 6 (= PyTorch's hardsigmoid): 0 below -3, 1 above 3,
/// x / 6 + 1/2 between. Keras 2 used 0.2 x + 0.5 clipped to [0, 1]; lamina follows Keras 3.
template <class T>
Variable<T> hard_sigmoid(const Variable<T>& x) {
  Tensor<T> y = detail::map(x.value(), [](T a) { return detail::relu6_scalar(a + T(3)) / T(6); });
  return Variable<T>::from_op("hard_sigmoid", std::move(y), {x},
                              [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d/dx = 1/6 for -3 < x < 3, 0 otherwise (0 at +-3, as PyTorch)
                                grads.add(0, detail::zip(g, xv, [](T v, T a) {
                                            return a > T(-3) && a < T(3) ? v / T(6) : T(0);
                                          }));
                              });
}

/// x / (1 + |x|) elementwise.
template <class T>
Variable<T> softsign(const Variable<T>& x) {
  Tensor<T> y = detail::map(x.value(), [](T a) { return a / (T(1) + std::abs(a)); });
  return Variable<T>::from_op("softsign", std::move(y), {x},
                              [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d/dx = 1 / (1 + |x|)^2 (each factor below 1: no overflow for
                                // large |x|)
                                grads.add(0, detail::zip(g, xv, [](T v, T a) {
                                            const T r = T(1) / (T(1) + std::abs(a));
                                            return v * r * r;
                                          }));
                              });
}

/// scale * x for x > 0, scale * alpha * (e^x - 1) otherwise, with SELU's fixed alpha
/// 1.67326... and scale 1.05070... (Keras and PyTorch); the gradient at 0 is scale * alpha.
template <class T>
Variable<T> selu(const Variable<T>& x) {
  Tensor<T> y = Tensor<T>::empty(x.shape());
  detail::elu_values(x.value().data(), y.data(), y.size(), T(detail::kSeluAlpha));
  detail::vector(y) *= T(detail::kSeluScale);
  return Variable<T>::from_op("selu", std::move(y), {x},
                              [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d/dx = scale for x > 0, scale alpha e^x otherwise
                                const T scale = T(detail::kSeluScale),
                                        sa = T(detail::kSeluScale * detail::kSeluAlpha);
                                grads.add(0, detail::zip(g, xv, [=](T v, T a) {
                                            return v * (a > T(0) ? scale : sa * std::exp(a));
                                          }));
                              });
}

/// x * sigmoid(x) elementwise (Keras's silu, also called swish; PyTorch's silu).
template <class T>
Variable<T> silu(const Variable<T>& x) {
  Tensor<T> y = detail::sigmoid_kernel(x.value());
  detail::vector(y).array() *= detail::vector(x.value()).array();
  return Variable<T>::from_op("silu", std::move(y), {x},
                              [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
                                // d/dx = s + x s (1 - s) with s = sigmoid(x); 1 - s is computed as
                                // sigmoid(-x), exact in the tails, and every factor stays finite
                                // for finite x.
                                grads.add(0, detail::zip(g, xv, [](T v, T a) {
                                            const T s = detail::sigmoid_scalar(a);
                                            return v * s * (T(1) + a * detail::sigmoid_scalar(-a));
                                          }));
                              });
}

/// Keras's name for silu.
template <class T>
Variable<T> swish(const Variable<T>& x) {
  return silu(x);
}

/// x * tanh(softplus(x)) elementwise (Misra 2019; Keras's and PyTorch's mish).
template <class T>
Variable<T> mish(const Variable<T>& x) {
  Tensor<T> y =
      detail::map(x.value(), [](T a) { return a * std::tanh(detail::softplus_scalar(a)); });
  return Variable<T>::from_op(
      "mish", std::move(y), {x},
      [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d/dx = t + x (1 - t^2) sigmoid(x) with t = tanh(softplus(x)), as d softplus/dx =
        // sigmoid(x); all factors are bounded, so no inf * 0 for large |x|.
        grads.add(0, detail::zip(g, xv, [](T v, T a) {
                    const T t = std::tanh(detail::softplus_scalar(a));
                    return v * (t + a * (T(1) - t * t) * detail::sigmoid_scalar(a));
                  }));
      });
}

/// Options of gelu.
struct GeluOpOptions {
  /// false (Keras's default): x * Phi(x) with the normal CDF Phi, through erf; true: the tanh
  /// approximation 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (PyTorch's
  /// approximate="tanh").
  bool approximate = false;
};

/// The Gaussian error linear unit (Hendrycks and Gimpel 2016), elementwise: x * Phi(x) exactly,
/// or its tanh approximation when options.approximate.
template <class T>
Variable<T> gelu(const Variable<T>& x, const GeluOpOptions& options = {}) {
  // sqrt(2 / pi), 1 / sqrt(2), 1 / sqrt(2 pi), and the cubic coefficient of the approximation.
  constexpr T kC = T(0.7978845608028654), kInvSqrt2 = T(0.7071067811865476),
              kInvSqrt2Pi = T(0.3989422804014327), kCubic = T(0.044715);
  if (!options.approximate) {
    // Phi(x) = erfc(-x / sqrt 2) / 2: unlike 1 + erf, it keeps its precision for x << 0.
    Tensor<T> y =
        detail::map(x.value(), [](T a) { return T(0.5) * a * std::erfc(-a * kInvSqrt2); });
    return Variable<T>::from_op(
        "gelu", std::move(y), {x},
        [xv = x.value()](const Tensor<T>& g, autograd::Gradients<T>& grads) {
          // d/dx = Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi) (0, not NaN, once x^2
          // overflows)
          grads.add(0, detail::zip(g, xv, [](T v, T a) {
                      return v * (T(0.5) * std::erfc(-a * kInvSqrt2) +
                                  a * kInvSqrt2Pi * std::exp(T(-0.5) * a * a));
                    }));
        });
  }
  // 0.5 (1 + tanh(u)) = sigmoid(2u), so y = x sigmoid(2u): finite and exact in both tails.
  const auto two_u = [](T a) { return T(2) * kC * (a + kCubic * a * a * a); };
  Tensor<T> y =
      detail::map(x.value(), [two_u](T a) { return a * detail::sigmoid_scalar(two_u(a)); });
  return Variable<T>::from_op(
      "gelu", std::move(y), {x},
      [xv = x.value(), two_u](const Tensor<T>& g, autograd::Gradients<T>& grads) {
        // d/dx = s + x s (1 - s) 2u', s = sigmoid(2u), u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2);
        // s (1 - s) = sigmoid(2u) sigmoid(-2u) is exactly 0 wherever u' could overflow.
        grads.add(0, detail::zip(g, xv, [two_u](T v, T a) {
                    const T z = two_u(a), s = detail::sigmoid_scalar(z);
                    const T p = s * detail::sigmoid_scalar(-z);
                    const T du = T(2) * kC * (T(1) + T(3) * kCubic * a * a);
                    return v * (s + (p == T(0) ? T(0) : a * p * du));
                  }));
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
inline constexpr std::array<ActivationName, 16> kActivationNames{{
    {"linear", Pointwise::linear},
    {"relu", Pointwise::relu},
    {"sigmoid", Pointwise::sigmoid},
    {"tanh", Pointwise::tanh},
    {"softmax", std::nullopt},
    {"leaky_relu", Pointwise::leaky_relu},
    {"elu", Pointwise::elu},
    {"softplus", std::nullopt},
    {"selu", Pointwise::selu},
    {"gelu", std::nullopt},  // its derivative needs the input, not only the output
    {"silu", std::nullopt},  // not monotonic: the output does not determine the input
    {"swish", std::nullopt},
    {"mish", std::nullopt},
    {"hard_sigmoid", Pointwise::hard_sigmoid},
    {"softsign", Pointwise::softsign},
    {"relu6", Pointwise::relu6},
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
      [](const V& x) { return selu(x); },        [](const V& x) { return gelu(x); },
      [](const V& x) { return silu(x); },        [](const V& x) { return swish(x); },
      [](const V& x) { return mish(x); },        [](const V& x) { return hard_sigmoid(x); },
      [](const V& x) { return softsign(x); },    [](const V& x) { return relu6(x); },
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

/// Whether conv2d and dense can apply the activation `name` inside the op (softmax, softplus,
/// gelu, silu/swish and mish they cannot).
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
/// axis), leaky_relu, elu, softplus, selu, gelu (exact, Keras's default), silu and its Keras
/// alias swish, mish, hard_sigmoid (Keras 3's), softsign, relu6 (each with its Keras default
/// parameters).
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
