#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

/// Options of Nadam, with Keras's names and defaults.
struct NadamOptions {
  /// Step size: a positive constant or a schedule, evaluated at each step.
  LearningRate learning_rate = 1e-3;
  /// Decay of the first-moment estimate, in [0, 1); the momentum schedule scales it.
  double beta_1 = 0.9;
  /// Decay of the second-moment estimate, in [0, 1).
  double beta_2 = 0.999;
  /// Added to sqrt(v_hat) in the denominator; >= 0.
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

/// Per-parameter state of Nadam, each shaped like the parameter: the first and second moments.
template <class T>
struct NadamState {
  Tensor<T> momentum, velocity;
};

/// Nadam (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop), in Keras 3's
/// form (keras.optimizers.Nadam), with t = iterations() + 1 and Keras's momentum schedule
///   u_t = beta_1 * (1 - 0.5 * 0.96^t),   U_t = u_1 * ... * u_t   (U_0 = 1):
///   m = m + (g - m) * (1 - beta_1);   v = v + (g^2 - v) * (1 - beta_2)
///   m_hat = u_{t+1} * m / (1 - U_t * u_{t+1}) + (1 - u_t) * g / (1 - U_t)
///   v_hat = v / (1 - beta_2^t);       p -= lr * m_hat / (sqrt(v_hat) + epsilon)
/// Keras keeps U_t as an optimizer variable; here it follows from iterations(), so a restored
/// iteration count restores it too. torch.optim.NAdam with momentum_decay = 1 would be the same
/// rule, but PyTorch 1.13 multiplies u_t into the product twice in the m term's denominator.
template <class T = float>
class Nadam : public detail::OptimizerWithOptions<T, Nadam<T>, NadamOptions, NadamState<T>> {
  using Base = detail::OptimizerWithOptions<T, Nadam<T>, NadamOptions, NadamState<T>>;

 public:
  using State = NadamState<T>;

  explicit Nadam(NadamOptions options = {}) : Base("Nadam", options) {
    this->check_unit_half_open(options.beta_1, "beta_1");
    this->check_unit_half_open(options.beta_2, "beta_2");
    this->check_non_negative(options.epsilon, "epsilon");
  }

  std::string name() const override { return "nadam"; }

  /// The options of Nadam beyond those every optimizer has, for get_config and from_config.
  template <class F>
  static void fields(NadamOptions& o, F&& f) {
    f("beta_1", o.beta_1);
    f("beta_2", o.beta_2);
    f("epsilon", o.epsilon);
  }
  /// The state tensors by name.
  static std::vector<std::pair<const char*, Tensor<T>*>> slots(State& s) {
    return {{"momentum", &s.momentum}, {"velocity", &s.velocity}};
  }

 protected:
  friend Base;
  State make_state(std::size_t i) const {
    return {this->zeros_like_parameter(i), this->zeros_like_parameter(i)};
  }

  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad) override {
    const NadamOptions& o = this->options_;
    const std::int64_t t = this->iterations() + 1;
    const double u_t = schedule(t), u_next = schedule(t + 1);
    const double product = u_product(t);
    const T c_m = static_cast<T>(u_next / (1 - product * u_next));
    const T c_g = static_cast<T>((1 - u_t) / (1 - product));
    const T v_scale = static_cast<T>(1 / (1 - std::pow(o.beta_2, static_cast<double>(t))));
    const T lr = static_cast<T>(this->learning_rate());
    const T one_minus_b1 = static_cast<T>(1 - o.beta_1),
            one_minus_b2 = static_cast<T>(1 - o.beta_2);
    const T eps = static_cast<T>(o.epsilon);
    State& s = this->state_[i];
    T* const p = value.data();
    const T* const g = grad.data();
    T* const m = s.momentum.data();
    T* const v = s.velocity.data();
    detail::for_each_block(value.size(), 16, [&](index_t begin, index_t end) {
      const index_t n = end - begin;
      const auto gb = detail::array(g + begin, n);
      auto mb = detail::array(m + begin, n);
      auto vb = detail::array(v + begin, n);
      mb += (gb - mb) * one_minus_b1;
      vb += (gb.square() - vb) * one_minus_b2;
      auto pb = detail::array(p + begin, n);
      pb -= (mb * c_m + gb * c_g) * lr / ((vb * v_scale).sqrt() + eps);
    });
  }

 private:
  double schedule(std::int64_t t) const {
    return this->options_.beta_1 * (1 - 0.5 * std::pow(0.96, static_cast<double>(t)));
  }
  /// U_t = u_1 * ... * u_t, cached for the common case of consecutive steps.
  double u_product(std::int64_t t) const {
    if (t < product_step_) {
      product_step_ = 0;
      product_ = 1;
    }
    while (product_step_ < t) product_ *= schedule(++product_step_);
    return product_;
  }
  mutable std::int64_t product_step_ = 0;
  mutable double product_ = 1;
};

Nadam()->Nadam<float>;
Nadam(NadamOptions)->Nadam<float>;

}  // namespace lamina
