#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

/// Options of Adagrad, with Keras's names and defaults.
struct AdagradOptions {
  /// Step size: a positive constant or a schedule, evaluated at each step.
  LearningRate learning_rate = 1e-3;
  /// Starting value of every accumulator; >= 0.
  double initial_accumulator_value = 0.1;
  /// Added to the accumulator inside the square root; >= 0.
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

/// Per-parameter state of Adagrad: the sum of squared gradients (plus the initial value).
template <class T>
struct AdagradState {
  Tensor<T> accumulator;
};

/// Adagrad (Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
/// Stochastic Optimization", JMLR 2011), in Keras 3's form (keras.optimizers.Adagrad):
///   a = a + g^2   (a starts at initial_accumulator_value);   p -= lr * g / sqrt(a + epsilon)
/// Keras adds epsilon inside the square root; torch.optim.Adagrad adds it outside
/// (lr * g / (sqrt(a) + eps)); both agree when epsilon is 0.
template <class T = float>
class Adagrad
    : public detail::OptimizerWithOptions<T, Adagrad<T>, AdagradOptions, AdagradState<T>> {
  using Base = detail::OptimizerWithOptions<T, Adagrad<T>, AdagradOptions, AdagradState<T>>;

 public:
  using State = AdagradState<T>;

  explicit Adagrad(AdagradOptions options = {}) : Base("Adagrad", options) {
    this->check_non_negative(options.initial_accumulator_value, "initial_accumulator_value");
    this->check_non_negative(options.epsilon, "epsilon");
  }

  std::string name() const override { return "adagrad"; }

  /// The options of Adagrad beyond those every optimizer has, for get_config and from_config.
  template <class F>
  static void fields(AdagradOptions& o, F&& f) {
    f("initial_accumulator_value", o.initial_accumulator_value);
    f("epsilon", o.epsilon);
  }
  /// The state tensors by name.
  static std::vector<std::pair<const char*, Tensor<T>*>> slots(State& s) {
    return {{"accumulator", &s.accumulator}};
  }

 protected:
  friend Base;
  State make_state(std::size_t i) const {
    return {Tensor<T>::full(this->parameters().at(i).shape(),
                            static_cast<T>(this->options_.initial_accumulator_value))};
  }

  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad) override {
    const T lr = static_cast<T>(this->learning_rate());
    const T eps = static_cast<T>(this->options_.epsilon);
    T* const p = value.data();
    const T* const g = grad.data();
    T* const a = this->state_[i].accumulator.data();
    detail::for_each_block(value.size(), 8, [&](index_t begin, index_t end) {
      const index_t n = end - begin;
      const auto gb = detail::array(g + begin, n);
      auto ab = detail::array(a + begin, n);
      auto pb = detail::array(p + begin, n);
      ab += gb.square();
      pb -= lr * gb / (ab + eps).sqrt();
    });
  }
};

Adagrad()->Adagrad<float>;
Adagrad(AdagradOptions)->Adagrad<float>;

}  // namespace lamina
