#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

/// Options of SGD, with Keras's names and defaults.
struct SGDOptions {
  /// Step size: a positive constant or a schedule (e.g. ExponentialDecay), evaluated at
  /// each step.
  LearningRate learning_rate = 0.01;
  /// Velocity decay in [0, 1] (Keras's range); 0 is plain gradient descent.
  double momentum = 0.0;
  /// Nesterov momentum (ignored when momentum is 0, as in Keras).
  bool nesterov = false;
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

/// Per-parameter state of SGD: the velocity (empty when momentum is 0), shaped like the parameter.
template <class T>
struct SGDState {
  Tensor<T> velocity;
};

/// Stochastic gradient descent with optional (Nesterov) momentum, in Keras 3's form
/// (keras.optimizers.SGD; Nesterov momentum after Sutskever et al., "On the importance of
/// initialization and momentum in deep learning", ICML 2013):
///   momentum == 0:  p -= lr * g
///   otherwise:      v = momentum * v - lr * g;  p += v
///   Nesterov:       v = momentum * v - lr * g;  p += momentum * v - lr * g
/// The velocity v holds lr-scaled steps, so a learning-rate change affects new gradients only.
template <class T = float>
class SGD : public detail::OptimizerWithOptions<T, SGD<T>, SGDOptions, SGDState<T>> {
  using Base = detail::OptimizerWithOptions<T, SGD<T>, SGDOptions, SGDState<T>>;

 public:
  using State = SGDState<T>;

  explicit SGD(SGDOptions options = {}) : Base("SGD", options) {
    this->check_unit_closed(options.momentum, "momentum");
  }

  std::string name() const override { return "sgd"; }

  /// The options of SGD beyond those every optimizer has, for get_config and from_config.
  template <class F>
  static void fields(SGDOptions& o, F&& f) {
    f("momentum", o.momentum);
    f("nesterov", o.nesterov);
  }
  /// The state tensors by name (empty without momentum).
  static std::vector<std::pair<const char*, Tensor<T>*>> slots(State& s) {
    return {{"velocity", &s.velocity}};
  }

 protected:
  friend Base;
  State make_state(std::size_t i) const {
    State s;
    if (this->options_.momentum != 0) s.velocity = this->zeros_like_parameter(i);
    return s;
  }

  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad) override {
    const T lr = static_cast<T>(this->learning_rate());
    const T mu = static_cast<T>(this->options_.momentum);
    const bool nesterov = this->options_.nesterov;
    T* const p = value.data();
    const T* const g = grad.data();
    T* const v = this->options_.momentum == 0 ? nullptr : this->state_[i].velocity.data();
    detail::for_each_block(value.size(), 4, [&](index_t begin, index_t end) {
      const index_t n = end - begin;
      const auto gb = detail::array(g + begin, n);
      auto pb = detail::array(p + begin, n);
      if (!v) {
        pb -= gb * lr;
        return;
      }
      auto vb = detail::array(v + begin, n);
      vb = vb * mu - gb * lr;
      if (nesterov)
        pb += vb * mu - gb * lr;
      else
        pb += vb;
    });
  }
};

SGD()->SGD<float>;
SGD(SGDOptions)->SGD<float>;

}  // namespace lamina
