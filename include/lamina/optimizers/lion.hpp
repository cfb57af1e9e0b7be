#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

/// Options of Lion, with Keras's names and defaults.
struct LionOptions {
  /// Step size: a positive constant or a schedule, evaluated at each step (Lion's steps have
  /// size lr per element, so it wants a smaller rate than Adam).
  LearningRate learning_rate = 1e-3;
  /// Interpolation between momentum and gradient for the update's sign, in (0, 1].
  double beta_1 = 0.9;
  /// Decay of the momentum, in [0, 1].
  double beta_2 = 0.99;
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

/// Per-parameter state of Lion: the momentum, shaped like the parameter.
template <class T>
struct LionState {
  Tensor<T> momentum;
};

/// Lion (Chen et al., "Symbolic Discovery of Optimization Algorithms", 2023), in Keras 3's form
/// (keras.optimizers.Lion):
///   p -= lr * sign(beta_1 * m + (1 - beta_1) * g);   m = beta_2 * m + (1 - beta_2) * g
/// PyTorch 1.13 has no Lion; the test reference is this rule written out in the generator.
template <class T = float>
class Lion : public detail::OptimizerWithOptions<T, Lion<T>, LionOptions, LionState<T>> {
  using Base = detail::OptimizerWithOptions<T, Lion<T>, LionOptions, LionState<T>>;

 public:
  using State = LionState<T>;

  explicit Lion(LionOptions options = {}) : Base("Lion", options) {
    check<ValueError>(options.beta_1 > 0 && options.beta_1 <= 1,
                      "Lion: beta_1 must be in (0, 1] (at 0 Lion is SignSGD), got ",
                      options.beta_1);
    this->check_unit_closed(options.beta_2, "beta_2");
  }

  std::string name() const override { return "lion"; }

  /// The options of Lion beyond those every optimizer has, for get_config and from_config.
  template <class F>
  static void fields(LionOptions& o, F&& f) {
    f("beta_1", o.beta_1);
    f("beta_2", o.beta_2);
  }
  /// The state tensors by name.
  static std::vector<std::pair<const char*, Tensor<T>*>> slots(State& s) {
    return {{"momentum", &s.momentum}};
  }

 protected:
  friend Base;
  State make_state(std::size_t i) const { return {this->zeros_like_parameter(i)}; }

  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad) override {
    const T lr = static_cast<T>(this->learning_rate());
    const T b1 = static_cast<T>(this->options_.beta_1);
    const T b2 = static_cast<T>(this->options_.beta_2);
    const T one = 1;
    T* const p = value.data();
    const T* const g = grad.data();
    T* const m = this->state_[i].momentum.data();
    detail::for_each_block(value.size(), 8, [&](index_t begin, index_t end) {
      const index_t n = end - begin;
      const auto gb = detail::array(g + begin, n);
      auto mb = detail::array(m + begin, n);
      auto pb = detail::array(p + begin, n);
      pb -= lr * (b1 * mb + (one - b1) * gb).sign();
      mb = b2 * mb + (one - b2) * gb;
    });
  }
};

Lion()->Lion<float>;
Lion(LionOptions)->Lion<float>;

}  // namespace lamina
