#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

/// Options of Adamax, with Keras's names and defaults.
struct AdamaxOptions {
  /// Step size: a positive constant or a schedule, evaluated at each step.
  LearningRate learning_rate = 1e-3;
  /// Decay of the first-moment estimate, in [0, 1).
  double beta_1 = 0.9;
  /// Decay of the exponentially weighted infinity norm, in [0, 1).
  double beta_2 = 0.999;
  /// Added to the infinity norm in the denominator; >= 0.
  double epsilon = 1e-7;
  /// Decoupled weight decay: p -= p * weight_decay * lr before each update; unset or >= 0.
  std::optional<double> weight_decay = std::nullopt;
  /// When set (> 0), each gradient g is scaled by clipnorm / max(||g||_2, clipnorm).
  std::optional<double> clipnorm = std::nullopt;
  /// When set (> 0), each gradient is clipped elementwise to [-clipvalue, clipvalue].
  std::optional<double> clipvalue = std::nullopt;
  /// When set (> 0), all gradients of a step are scaled by c / max(||all of them||_2, c).
  std::optional<double> global_clipnorm = std::nullopt;
  /// Keep a moving average of the weights and overwrite the weights with it when fit ends.
  bool use_ema = false;
  /// Decay of that moving average, in [0, 1].
  double ema_momentum = 0.99;
  /// When set (> 0), also overwrite the weights with their averages every this many steps.
  std::optional<std::int64_t> ema_overwrite_frequency = std::nullopt;
};

/// Per-parameter state of Adamax, each shaped like the parameter: the first moment and the
/// exponentially weighted infinity norm.
template <class T>
struct AdamaxState {
  Tensor<T> m, u;
};

/// Adamax (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, section 7.1),
/// in Keras 3's form (keras.optimizers.Adamax), with t = iterations() + 1:
///   m = m + (g - m) * (1 - beta_1);   u = max(beta_2 * u, |g|)
///   p -= lr * m / ((1 - beta_1^t) * (u + epsilon))
/// torch.optim.Adamax adds eps inside the max (u = max(beta_2 u, |g| + eps)) and divides by u;
/// both agree when epsilon is 0.
template <class T = float>
class Adamax : public detail::OptimizerWithOptions<T, Adamax<T>, AdamaxOptions, AdamaxState<T>> {
  using Base = detail::OptimizerWithOptions<T, Adamax<T>, AdamaxOptions, AdamaxState<T>>;

 public:
  using State = AdamaxState<T>;

  explicit Adamax(AdamaxOptions options = {}) : Base("Adamax", options) {
    this->check_unit_half_open(options.beta_1, "beta_1");
    this->check_unit_half_open(options.beta_2, "beta_2");
    this->check_non_negative(options.epsilon, "epsilon");
  }

  std::string name() const override { return "adamax"; }

  /// The options of Adamax beyond those every optimizer has, for get_config and from_config.
  template <class F>
  static void fields(AdamaxOptions& o, F&& f) {
    f("beta_1", o.beta_1);
    f("beta_2", o.beta_2);
    f("epsilon", o.epsilon);
  }
  /// The state tensors by name.
  static std::vector<std::pair<const char*, Tensor<T>*>> slots(State& s) {
    return {{"m", &s.m}, {"u", &s.u}};
  }

 protected:
  friend Base;
  State make_state(std::size_t i) const {
    return {this->zeros_like_parameter(i), this->zeros_like_parameter(i)};
  }

  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad) override {
    const AdamaxOptions& o = this->options_;
    const double t = static_cast<double>(this->iterations() + 1);
    const T step = static_cast<T>(this->learning_rate() / (1 - std::pow(o.beta_1, t)));
    const T b2 = static_cast<T>(o.beta_2);
    const T one_minus_b1 = static_cast<T>(1 - o.beta_1);
    const T eps = static_cast<T>(o.epsilon);
    State& s = this->state_[i];
    T* const p = value.data();
    const T* const g = grad.data();
    T* const m = s.m.data();
    T* const u = s.u.data();
    detail::for_each_block(value.size(), 8, [&](index_t begin, index_t end) {
      const index_t n = end - begin;
      const auto gb = detail::array(g + begin, n);
      auto mb = detail::array(m + begin, n);
      auto ub = detail::array(u + begin, n);
      auto pb = detail::array(p + begin, n);
      mb += (gb - mb) * one_minus_b1;
      ub = (ub * b2).max(gb.abs());
      pb -= step * mb / (ub + eps);
    });
  }
};

Adamax()->Adamax<float>;
Adamax(AdamaxOptions)->Adamax<float>;

}  // namespace lamina
