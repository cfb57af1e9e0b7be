#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "lamina/core/finite.hpp"
#include "lamina/layers/initializers.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/ops/normalization.hpp"

namespace lamina {

/// Options of BatchNormalization (Keras's keyword arguments and defaults).
struct BatchNormalizationOptions {
  /// The feature axis; only the last one is supported (-1, or its positive index counting the
  /// batch axis, e.g. 3 for [batch, h, w, channels]).
  int axis = -1;
  /// Moving statistics: moving = moving * momentum + batch * (1 - momentum); in [0, 1].
  double momentum = 0.99;
  /// Added to the variance before its square root; positive.
  double epsilon = 1e-3;
  /// Add the trainable offset beta.
  bool center = true;
  /// Multiply by the trainable scale gamma.
  bool scale = true;
  std::string beta_initializer = "zeros";
  std::string gamma_initializer = "ones";
  std::string moving_mean_initializer = "zeros";
  std::string moving_variance_initializer = "ones";
  Shape input_shape{};
  std::string name{};
};

/// Options of LayerNormalization (Keras's keyword arguments and defaults).
struct LayerNormalizationOptions {
  /// The axis normalised over; only the last one is supported (-1 or its positive index).
  int axis = -1;
  /// Added to the variance before its square root; positive.
  double epsilon = 1e-3;
  bool center = true;
  bool scale = true;
  std::string beta_initializer = "zeros";
  std::string gamma_initializer = "ones";
  Shape input_shape{};
  std::string name{};
};

namespace detail {

/// Reads the options both normalisation layers have into their options struct.
template <class Options>
void read_normalization_options(ConfigReader& r, Options& o) {
  read_common_options(r, o);
  o.axis = r.get("axis", o.axis);
  o.epsilon = r.get("epsilon", o.epsilon);
  o.center = r.get("center", o.center);
  o.scale = r.get("scale", o.scale);
  o.beta_initializer = r.get("beta_initializer", o.beta_initializer);
  o.gamma_initializer = r.get("gamma_initializer", o.gamma_initializer);
}

/// What BatchNormalization and LayerNormalization share: the feature axis (the last), epsilon,
/// and the weights gamma and beta [features] (constant ones and zeros, not weights, when scale
/// or center is off, so that the ops always get both).
template <class T>
class NormalizationBase : public Layer<T> {
 public:
  /// gamma [features] when scale, beta [features] when center (valid once built).
  const Variable<T>& gamma() const { return gamma_; }
  const Variable<T>& beta() const { return beta_; }
  double epsilon() const { return epsilon_; }

  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["axis"] = axis_;
    c["epsilon"] = epsilon_;
    c["center"] = center_;
    c["scale"] = scale_;
    c["beta_initializer"] = beta_initializer_;
    c["gamma_initializer"] = gamma_initializer_;
    return c;
  }

 protected:
  template <class Options>
  explicit NormalizationBase(const Options& o)
      : Layer<T>(o.name, o.input_shape),
        axis_(o.axis),
        epsilon_(o.epsilon),
        center_(o.center),
        scale_(o.scale),
        beta_initializer_(o.beta_initializer),
        gamma_initializer_(o.gamma_initializer) {}

  /// Validates the shared options; the subclass's constructor calls it (label() needs type()).
  void check_options() const {
    check<ValueError>(axis_ == -1 || axis_ >= 1, this->label(),
                      ": only the last axis is supported (axis -1), got axis ", axis_);
    check<ValueError>(std::isfinite(epsilon_) && epsilon_ > 0, this->label(),
                      ": epsilon must be positive, got ", epsilon_);
    check_initializer("beta_initializer", beta_initializer_);
    check_initializer("gamma_initializer", gamma_initializer_);
  }
  void check_initializer(const char* option, const std::string& name) const {
    Generator probe(0);
    in_option(this->type(), option, [&] { return initialize<T>(name, Shape{1}, probe); });
  }

  /// Checks the per-sample input shape (rank >= 1, axis its last, features >= 1), adds gamma
  /// then beta (Keras's order) and returns the number of features.
  index_t build_scale_shift(const Shape& input_shape, Generator& gen) {
    check<ShapeError>(input_shape.rank() >= 1, this->label(),
                      ": expected input of rank >= 2 [batch, ..., features], got ",
                      batch_shape_str(input_shape));
    check<ValueError>(axis_ == -1 || axis_ == input_shape.rank(), this->label(), ": axis ", axis_,
                      " is not the last axis of input ", batch_shape_str(input_shape),
                      "; only the last axis (-1 or ", input_shape.rank(), ") is supported");
    const index_t features = input_shape[input_shape.rank() - 1];
    check<ShapeError>(features > 0, this->label(), ": input ", batch_shape_str(input_shape),
                      " has no features");
    gamma_ = scale_ ? this->add_weight("gamma", initialize<T>(gamma_initializer_, {features}, gen))
                    : Variable<T>(Tensor<T>::ones({features}));
    beta_ = center_ ? this->add_weight("beta", initialize<T>(beta_initializer_, {features}, gen))
                    : Variable<T>(Tensor<T>::zeros({features}));
    return features;
  }

  NormOptions op_options() const { return {.epsilon = epsilon_}; }

 private:
  int axis_;
  double epsilon_;
  bool center_, scale_;
  std::string beta_initializer_, gamma_initializer_;
  Variable<T> gamma_, beta_;
};

}  // namespace detail

/// Batch normalisation (Ioffe and Szegedy 2015), as Keras's BatchNormalization. In training
/// mode (fit) each feature is normalised with the mean and biased variance of the batch over
/// every axis but the last, and the moving statistics move towards them:
/// moving = moving * momentum + batch * (1 - momentum). In inference mode (predict, evaluate),
/// and in training mode when the layer is not trainable (as Keras), the moving statistics are
/// used instead. y = (x - mean) / sqrt(variance + epsilon) * gamma + beta.
/// input: [batch, ..., features], e.g. [batch, features] after Dense or [batch, h, w, channels]
/// after Conv2D; output: the same shape. Weights: gamma, beta (trainable), moving_mean,
/// moving_variance (not trainable), each [features]. A batch whose statistics are not finite
/// leaves the moving statistics as they were (fit then stops on the non-finite loss).
template <class T = float>
class BatchNormalization : public detail::NormalizationBase<T> {
 public:
  explicit BatchNormalization(BatchNormalizationOptions options = {})
      : detail::NormalizationBase<T>(options),
        momentum_(options.momentum),
        moving_mean_initializer_(std::move(options.moving_mean_initializer)),
        moving_variance_initializer_(std::move(options.moving_variance_initializer)) {
    this->check_options();
    check<ValueError>(momentum_ >= 0.0 && momentum_ <= 1.0, this->label(),
                      ": momentum must be in [0, 1], got ", momentum_);
    this->check_initializer("moving_mean_initializer", moving_mean_initializer_);
    this->check_initializer("moving_variance_initializer", moving_variance_initializer_);
  }

  std::string type() const override { return "BatchNormalization"; }
  double momentum() const { return momentum_; }
  /// The moving mean and variance [features] (valid once built).
  const Variable<T>& moving_mean() const { return moving_mean_; }
  const Variable<T>& moving_variance() const { return moving_variance_; }

  Json get_config() const override {
    Json c = detail::NormalizationBase<T>::get_config();
    c["momentum"] = momentum_;
    c["moving_mean_initializer"] = moving_mean_initializer_;
    c["moving_variance_initializer"] = moving_variance_initializer_;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<BatchNormalization> from_config(const Json& config) {
    ConfigReader r(config, "BatchNormalization");
    BatchNormalizationOptions o;
    detail::read_normalization_options(r, o);
    o.momentum = r.get("momentum", o.momentum);
    o.moving_mean_initializer = r.get("moving_mean_initializer", o.moving_mean_initializer);
    o.moving_variance_initializer =
        r.get("moving_variance_initializer", o.moving_variance_initializer);
    return detail::finish_from_config(r, BatchNormalization(std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator& gen) override {
    const index_t features = this->build_scale_shift(input_shape, gen);
    moving_mean_ = this->add_weight(
        "moving_mean", initialize<T>(moving_mean_initializer_, {features}, gen), false);
    moving_variance_ = this->add_weight(
        "moving_variance", initialize<T>(moving_variance_initializer_, {features}, gen), false);
    return input_shape;
  }
  Variable<T> forward(const Variable<T>& x) override {
    if (!this->training() || !this->trainable()) {
      return batch_norm_inference(x, moving_mean_.value(), moving_variance_.value(), this->gamma(),
                                  this->beta(), this->op_options());
    }
    BatchNormResult<T> r = batch_norm(x, this->gamma(), this->beta(), this->op_options());
    update_moving(r.mean, r.variance);
    return std::move(r.y);
  }

 private:
  /// Keras's update, on the weights' storage (not differentiated); the variance is the biased
  /// one the batch was normalised with.
  void update_moving(const Tensor<T>& mean, const Tensor<T>& variance) {
    const index_t n = mean.size();
    if (!detail::all_finite(mean.data(), n) || !detail::all_finite(variance.data(), n)) return;
    const T keep = static_cast<T>(momentum_);
    const T take = static_cast<T>(1.0 - momentum_);
    T* mm = moving_mean_.value().data();
    T* mv = moving_variance_.value().data();
    for (index_t i = 0; i < n; ++i) {
      mm[i] = mm[i] * keep + mean.data()[i] * take;
      mv[i] = mv[i] * keep + variance.data()[i] * take;
    }
  }

  double momentum_;
  std::string moving_mean_initializer_, moving_variance_initializer_;
  Variable<T> moving_mean_, moving_variance_;
};

/// Layer normalisation (Ba et al. 2016), as Keras's LayerNormalization: each sample (each
/// position of a sequence) is normalised over its last axis with its own mean and biased
/// variance, y = (x - mean) / sqrt(variance + epsilon) * gamma + beta, the same in training and
/// inference. input: [batch, ..., features]; output: the same shape. Weights: gamma, beta
/// [features].
template <class T = float>
class LayerNormalization : public detail::NormalizationBase<T> {
 public:
  explicit LayerNormalization(LayerNormalizationOptions options = {})
      : detail::NormalizationBase<T>(options) {
    this->check_options();
  }

  std::string type() const override { return "LayerNormalization"; }

  /// The layer get_config() describes.
  static std::shared_ptr<LayerNormalization> from_config(const Json& config) {
    ConfigReader r(config, "LayerNormalization");
    LayerNormalizationOptions o;
    detail::read_normalization_options(r, o);
    return detail::finish_from_config(r, LayerNormalization(std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator& gen) override {
    this->build_scale_shift(input_shape, gen);
    return input_shape;
  }
  Variable<T> forward(const Variable<T>& x) override {
    return layer_norm(x, this->gamma(), this->beta(), this->op_options());
  }
};

}  // namespace lamina
