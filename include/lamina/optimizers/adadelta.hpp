#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

/// Options of Adadelta, with Keras's names and defaults.
struct AdadeltaOptions {
  /// Step size: a positive constant or a schedule, evaluated at each step (Keras's default
  /// 0.001; the paper's rule has no learning rate, i.e. 1.0).
  LearningRate learning_rate = 1e-3;
  /// Decay of both running averages, in [0, 1].
  double rho = 0.95;
  /// Added inside both square roots; >= 0.
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

/// Per-parameter state of Adadelta, each shaped like the parameter: the running averages of the
/// squared gradients and of the squared updates.
template <class T>
struct AdadeltaState {
  Tensor<T> accumulated_grad, accumulated_delta_var;
};

/// Adadelta (Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012), in Keras 3's form
/// (keras.optimizers.Adadelta), with rms(x) = sqrt(x + epsilon):
///   E[g^2] = rho * E[g^2] + (1 - rho) * g^2
///   delta = -rms(E[dx^2]) / rms(E[g^2]) * g
///   E[dx^2] = rho * E[dx^2] + (1 - rho) * delta^2;   p += lr * delta
/// torch.optim.Adadelta is the same rule.
template <class T = float>
class Adadelta
    : public detail::OptimizerWithOptions<T, Adadelta<T>, AdadeltaOptions, AdadeltaState<T>> {
  using Base = detail::OptimizerWithOptions<T, Adadelta<T>, AdadeltaOptions, AdadeltaState<T>>;

 public:
  using State = AdadeltaState<T>;

  explicit Adadelta(AdadeltaOptions options = {}) : Base("Adadelta", options) {
    this->check_unit_closed(options.rho, "rho");
    this->check_non_negative(options.epsilon, "epsilon");
  }

  std::string name() const override { return "adadelta"; }

  /// The options of Adadelta beyond those every optimizer has, for get_config and from_config.
  template <class F>
  static void fields(AdadeltaOptions& o, F&& f) {
    f("rho", o.rho);
    f("epsilon", o.epsilon);
  }
  /// The state tensors by name.
  static std::vector<std::pair<const char*, Tensor<T>*>> slots(State& s) {
    return {{"accumulated_grad", &s.accumulated_grad},
            {"accumulated_delta_var", &s.accumulated_delta_var}};
  }

 protected:
  friend Base;
  State make_state(std::size_t i) const {
    return {this->zeros_like_parameter(i), this->zeros_like_parameter(i)};
  }

  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad) override {
    const T lr = static_cast<T>(this->learning_rate());
    const T rho = static_cast<T>(this->options_.rho);
    const T one_minus_rho = static_cast<T>(1 - this->options_.rho);
    const T eps = static_cast<T>(this->options_.epsilon);
    State& s = this->state_[i];
    T* const p = value.data();
    const T* const g = grad.data();
    T* const eg = s.accumulated_grad.data();
    T* const edx = s.accumulated_delta_var.data();
    detail::for_each_block(value.size(), 16, [&](index_t begin, index_t end) {
      const index_t n = end - begin;
      const auto gb = detail::array(g + begin, n);
      auto egb = detail::array(eg + begin, n);
      auto edxb = detail::array(edx + begin, n);
      auto pb = detail::array(p + begin, n);
      egb = rho * egb + one_minus_rho * gb.square();
      for (index_t k = 0; k < n; ++k) {
        const T delta = -std::sqrt(edxb[k] + eps) / std::sqrt(egb[k] + eps) * gb[k];
        edxb[k] = rho * edxb[k] + one_minus_rho * delta * delta;
        pb[k] += lr * delta;
      }
    });
  }
};

Adadelta()->Adadelta<float>;
Adadelta(AdadeltaOptions)->Adadelta<float>;

}  // namespace lamina
