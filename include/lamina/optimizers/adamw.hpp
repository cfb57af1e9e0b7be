#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "lamina/optimizers/adam.hpp"

namespace lamina {

/// Options of AdamW, with Keras's names and defaults (Keras's argument order).
struct AdamWOptions {
  /// Step size: a positive constant or a schedule, evaluated at each step.
  LearningRate learning_rate = 1e-3;
  /// Decoupled weight decay: p -= p * weight_decay * lr before each Adam update; must be set,
  /// >= 0.
  std::optional<double> weight_decay = 0.004;
  /// Decay of the first-moment estimate, in [0, 1).
  double beta_1 = 0.9;
  /// Decay of the second-moment estimate, in [0, 1).
  double beta_2 = 0.999;
  /// Added to sqrt(v) before the bias-corrected step, as in Adam; >= 0.
  double epsilon = 1e-7;
  /// Use the AMSGrad variant.
  bool amsgrad = false;
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

/// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), in Keras 3's
/// form (keras.optimizers.AdamW): Adam whose base optimizer first decays each parameter with a
/// gradient, p -= p * weight_decay * lr, then applies Adam's update (see Adam). Adam with the
/// same weight_decay is the same optimizer, as in Keras. torch.optim.AdamW decays the same way
/// but places epsilon as torch.optim.Adam does.
template <class T = float>
class AdamW : public detail::AdamBase<T, AdamW<T>, AdamWOptions> {
 public:
  explicit AdamW(AdamWOptions options = {})
      : detail::AdamBase<T, AdamW<T>, AdamWOptions>("AdamW", options) {
    check<ValueError>(options.weight_decay.has_value(),
                      "AdamW: weight_decay must be a number, got none");
  }

  std::string name() const override { return "adamw"; }
};

AdamW()->AdamW<float>;
AdamW(AdamWOptions)->AdamW<float>;

}  // namespace lamina
