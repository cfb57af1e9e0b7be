#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

/// Options of RMSprop, with Keras's names and defaults.
struct RMSpropOptions {
  /// Step size: a positive constant or a schedule (e.g. ExponentialDecay), evaluated at
  /// each step.
  LearningRate learning_rate = 1e-3;
  /// Decay of the running average of squared gradients, in [0, 1).
  double rho = 0.9;
  /// Decay of the momentum accumulator, in [0, 1]; 0 disables momentum.
  double momentum = 0.0;
  /// Added to the mean square inside the square root; >= 0.
  double epsilon = 1e-7;
  /// Divide by an estimate of the gradient's variance (mean square minus squared mean) instead
  /// of its uncentered second moment.
  bool centered = false;
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

/// Per-parameter state of RMSprop, each shaped like the parameter: the mean square, the momentum
/// accumulator (only when momentum > 0) and the mean gradient (only when centered).
template <class T>
struct RMSpropState {
  Tensor<T> velocity, momentum, average_gradient;
};

/// RMSprop (Hinton, Neural Networks for Machine Learning, lecture 6e, 2012; centered variant after
/// Graves, "Generating Sequences With Recurrent Neural Networks", 2013), in Keras 3's form
/// (keras.optimizers.RMSprop):
///   v = rho * v + (1 - rho) * g^2
///   centered: a = rho * a + (1 - rho) * g;  d = v - a^2 + epsilon,  otherwise d = v + epsilon
///   step = lr * g / sqrt(d)
///   momentum > 0: mom = momentum * mom + step;  p -= mom,  otherwise p -= step
/// Keras adds epsilon inside the square root; PyTorch's torch.optim.RMSprop adds it outside
/// (and keeps its momentum buffer unscaled by lr); both agree when epsilon is 0 and lr is constant.
template <class T = float>
class RMSprop
    : public detail::OptimizerWithOptions<T, RMSprop<T>, RMSpropOptions, RMSpropState<T>> {
  using Base = detail::OptimizerWithOptions<T, RMSprop<T>, RMSpropOptions, RMSpropState<T>>;

 public:
  using State = RMSpropState<T>;

  explicit RMSprop(RMSpropOptions options = {}) : Base("RMSprop", options) {
    this->check_unit_half_open(options.rho, "rho");
    this->check_unit_closed(options.momentum, "momentum");
    this->check_non_negative(options.epsilon, "epsilon");
  }

  std::string name() const override { return "rmsprop"; }

  /// The options of RMSprop beyond those every optimizer has, for get_config and from_config.
  template <class F>
  static void fields(RMSpropOptions& o, F&& f) {
    f("rho", o.rho);
    f("momentum", o.momentum);
    f("epsilon", o.epsilon);
    f("centered", o.centered);
  }
  /// The state tensors by name (momentum and average_gradient may be empty).
  static std::vector<std::pair<const char*, Tensor<T>*>> slots(State& s) {
    return {{"velocity", &s.velocity},
            {"momentum", &s.momentum},
            {"average_gradient", &s.average_gradient}};
  }

 protected:
  friend Base;
  State make_state(std::size_t i) const {
    State s;
    s.velocity = this->zeros_like_parameter(i);
    if (this->options_.momentum > 0) s.momentum = this->zeros_like_parameter(i);
    if (this->options_.centered) s.average_gradient = this->zeros_like_parameter(i);
    return s;
  }

  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad) override {
    const RMSpropOptions& o = this->options_;
    const T lr = static_cast<T>(this->learning_rate());
    const T rho = static_cast<T>(o.rho), one_minus_rho = static_cast<T>(1 - o.rho);
    const T mu = static_cast<T>(o.momentum);
    const T eps = static_cast<T>(o.epsilon);
    State& s = this->state_[i];
    T* const p = value.data();
    const T* const g = grad.data();
    T* const v = s.velocity.data();
    T* const mom = o.momentum > 0 ? s.momentum.data() : nullptr;
    T* const avg = o.centered ? s.average_gradient.data() : nullptr;
    detail::for_each_block(value.size(), 16, [&](index_t begin, index_t end) {
      const index_t n = end - begin;
      const auto gb = detail::array(g + begin, n);
      auto vb = detail::array(v + begin, n);
      auto pb = detail::array(p + begin, n);
      vb = rho * vb + one_minus_rho * gb.square();
      // increment = lr g / sqrt(v + eps), or with `centered` lr g / sqrt(v - avg^2 + eps)
      const auto step = [&](const auto& denominator) {
        if (mom) {
          auto mb = detail::array(mom + begin, n);
          mb = mu * mb + lr * gb / denominator.sqrt();
          pb -= mb;
        } else {
          pb -= lr * gb / denominator.sqrt();
        }
      };
      if (avg) {
        auto ab = detail::array(avg + begin, n);
        ab = rho * ab + one_minus_rho * gb;
        step(vb - ab.square() + eps);
      } else {
        step(vb + eps);
      }
    });
  }
};

RMSprop()->RMSprop<float>;
RMSprop(RMSpropOptions)->RMSprop<float>;

}  // namespace lamina
