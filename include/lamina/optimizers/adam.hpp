#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lamina/optimizers/optimizer.hpp"

namespace lamina {

/// Options of Adam, with Keras's names and defaults.
struct AdamOptions {
  /// Step size: a positive constant or a schedule (e.g. ExponentialDecay), evaluated at
  /// each step.
  LearningRate learning_rate = 1e-3;
  /// Decay of the first-moment estimate, in [0, 1).
  double beta_1 = 0.9;
  /// Decay of the second-moment estimate, in [0, 1).
  double beta_2 = 0.999;
  /// "Epsilon hat" of Kingma & Ba (added to sqrt(v) before the bias-corrected step); >= 0.
  double epsilon = 1e-7;
  /// Use the AMSGrad variant (Reddi et al., "On the Convergence of Adam and Beyond", ICLR 2018).
  bool amsgrad = false;
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

/// Per-parameter state of Adam, each shaped like the parameter: the first and second moment
/// estimates and (only with amsgrad) the running maximum of v.
template <class T>
struct AdamState {
  Tensor<T> m, v, v_hat;
};

namespace detail {

/// Adam's update, shared by Adam and AdamW (which differ only in weight_decay's default).
template <class T, class Self, class Options>
class AdamBase : public OptimizerWithOptions<T, Self, Options, AdamState<T>> {
  using Base = OptimizerWithOptions<T, Self, Options, AdamState<T>>;

 public:
  using State = AdamState<T>;

  /// The options of Adam beyond those every optimizer has, for get_config and from_config.
  template <class F>
  static void fields(Options& o, F&& f) {
    f("beta_1", o.beta_1);
    f("beta_2", o.beta_2);
    f("epsilon", o.epsilon);
    f("amsgrad", o.amsgrad);
  }
  /// The state tensors by name (v_hat is empty unless amsgrad).
  static std::vector<std::pair<const char*, Tensor<T>*>> slots(State& s) {
    return {{"m", &s.m}, {"v", &s.v}, {"v_hat", &s.v_hat}};
  }

 protected:
  AdamBase(std::string who, const Options& options) : Base(std::move(who), options) {
    this->check_unit_half_open(options.beta_1, "beta_1");
    this->check_unit_half_open(options.beta_2, "beta_2");
    this->check_non_negative(options.epsilon, "epsilon");
  }

  friend Base;
  State make_state(std::size_t i) const {
    State s;
    s.m = this->zeros_like_parameter(i);
    s.v = this->zeros_like_parameter(i);
    if (this->options_.amsgrad) s.v_hat = this->zeros_like_parameter(i);
    return s;
  }

  void update(std::size_t i, Tensor<T>& value, const Tensor<T>& grad) override {
    const double t = static_cast<double>(this->iterations() + 1);
    const Options& o = this->options_;
    const double b1 = o.beta_1, b2 = o.beta_2;
    const T alpha = static_cast<T>(this->learning_rate() * std::sqrt(1 - std::pow(b2, t)) /
                                   (1 - std::pow(b1, t)));
    const T one_minus_b1 = static_cast<T>(1 - b1), one_minus_b2 = static_cast<T>(1 - b2);
    const T eps = static_cast<T>(o.epsilon);
    State& s = this->state_[i];
    T* const p = value.data();
    const T* const g = grad.data();
    T* const m = s.m.data();
    T* const v = s.v.data();
    T* const v_hat = o.amsgrad ? s.v_hat.data() : nullptr;
    for_each_block(value.size(), 16, [&](index_t begin, index_t end) {
      const index_t n = end - begin;
      const auto gb = array(g + begin, n);
      auto mb = array(m + begin, n);
      auto vb = array(v + begin, n);
      mb += (gb - mb) * one_minus_b1;
      vb += (gb.square() - vb) * one_minus_b2;
      auto pb = array(p + begin, n);
      if (v_hat) {
        auto hb = array(v_hat + begin, n);
        hb = hb.max(vb);
        pb -= mb * alpha / (hb.sqrt() + eps);
      } else {
        pb -= mb * alpha / (vb.sqrt() + eps);
      }
    });
  }
};

}  // namespace detail

/// Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015), in Keras 3's form
/// (keras.optimizers.Adam), with t = iterations() + 1 shared by all parameters:
///   m = m + (g - m) * (1 - beta_1);   v = v + (g^2 - v) * (1 - beta_2)
///   AMSGrad: v_hat = max(v_hat, v), used in place of v below
///   alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t);   p -= alpha * m / (sqrt(v) + epsilon)
/// This puts epsilon outside the bias correction of v ("epsilon hat" in the paper), whereas
/// PyTorch's torch.optim.Adam divides by sqrt(v / (1 - beta_2^t)) + eps; the two agree exactly
/// when epsilon is 0 and differ by O(epsilon / sqrt(1 - beta_2^t)) relative otherwise.
template <class T = float>
class Adam : public detail::AdamBase<T, Adam<T>, AdamOptions> {
 public:
  explicit Adam(AdamOptions options = {})
      : detail::AdamBase<T, Adam<T>, AdamOptions>("Adam", options) {}

  std::string name() const override { return "adam"; }
};

Adam()->Adam<float>;
Adam(AdamOptions)->Adam<float>;

}  // namespace lamina
