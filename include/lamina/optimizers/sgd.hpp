#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

/// Options of SGD, with Keras's names and defaults.
struct SGDOptions {
  /// Step size; must be positive.
  double learning_rate = 0.01;
  /// Velocity decay in [0, 1] (Keras's range); 0 is plain gradient descent.
  double momentum = 0.0;
  /// Nesterov momentum (ignored when momentum is 0, as in Keras).
  bool nesterov = false;
  /// When set (> 0), each gradient g is scaled by clipnorm / max(||g||_2, clipnorm).
  std::optional<double> clipnorm = std::nullopt;
  /// When set (> 0), each gradient is clipped elementwise to [-clipvalue, clipvalue].
  std::optional<double> clipvalue = std::nullopt;
};

/// Stochastic gradient descent with optional (Nesterov) momentum, in Keras 3's form
/// (keras.optimizers.SGD; Nesterov momentum after Sutskever et al., "On the importance of
/// initialization and momentum in deep learning", ICML 2013):
///   momentum == 0:  p -= lr * g
///   otherwise:      v = momentum * v - lr * g;  p += v
///   Nesterov:       v = momentum * v - lr * g;  p += momentum * v - lr * g
/// The velocity v holds lr-scaled steps, so a learning-rate change affects new gradients only.
template <class T = float>
class SGD : public Optimizer<T> {
 public:
  /// Per-parameter state: the velocity (empty when momentum is 0), shaped like the parameter.
  struct State {
    Tensor<T> velocity;
  };

  explicit SGD(SGDOptions options = {})
      : Optimizer<T>("SGD", options.learning_rate, options.clipnorm, options.clipvalue),
        options_(options) {
    this->check_range(options.momentum, "momentum", 0.0, 1.0, /*closed=*/true);
  }

  std::string name() const override { return "sgd"; }
  std::unique_ptr<Optimizer<T>> clone() const override { return std::make_unique<SGD>(options()); }
  /// The options, with the current learning rate.
  SGDOptions options() const {
    SGDOptions o = options_;
    o.learning_rate = this->learning_rate();
    return o;
  }
  /// State of parameter i (after build()).
  const State& state(std::size_t i) const { return state_.at(i); }

 protected:
  void reset_state(std::size_t n) override {
    state_.assign(n, State{});
    if (options_.momentum == 0) return;
    for (std::size_t i = 0; i < n; ++i)
      state_[i].velocity = Tensor<T>::zeros(this->parameters()[i].shape());
  }

  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad) override {
    const T lr = static_cast<T>(this->learning_rate());
    const T mu = static_cast<T>(options_.momentum);
    T* p = value.data();
    const T* g = grad.data();
    const index_t n = value.size();
    if (options_.momentum == 0) {
      for (index_t k = 0; k < n; ++k) p[k] -= g[k] * lr;
      return;
    }
    T* v = state_[i].velocity.data();
    for (index_t k = 0; k < n; ++k) {
      v[k] = v[k] * mu - g[k] * lr;
      p[k] += options_.nesterov ? v[k] * mu - g[k] * lr : v[k];
    }
  }

 private:
  SGDOptions options_;
  std::vector<State> state_;
};

SGD()->SGD<float>;
SGD(SGDOptions)->SGD<float>;

}  // namespace lamina
