#pragma once

#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "lamina/layers/layer.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/softmax.hpp"

// Keras's activation layers with parameters (Keras 2's "advanced activations"): LeakyReLU, ELU,
// ReLU and Softmax. Each has no weights and keeps its input shape; each composes one op.

namespace lamina {

/// Options of LeakyReLU (Keras's keyword arguments and defaults).
struct LeakyReLUOptions {
  /// Slope for x < 0. Keras 3's LeakyReLU *layer* defaults to 0.3, while its function
  /// keras.activations.leaky_relu (and lamina's activation "leaky_relu") defaults to 0.2;
  /// lamina keeps both of Keras's numbers. Finite and >= 0, as Keras requires.
  double negative_slope = 0.3;
  Shape input_shape{};
  std::string name{};
};

/// x for x > 0, negative_slope * x otherwise, elementwise.
/// input: [batch, ...]; output: the same shape.
template <class T = float>
class LeakyReLU : public Layer<T> {
 public:
  explicit LeakyReLU(LeakyReLUOptions options = {})
      : Layer<T>(options.name, options.input_shape), negative_slope_(options.negative_slope) {
    check<ValueError>(std::isfinite(negative_slope_) && negative_slope_ >= 0, this->label(),
                      ": negative_slope must be finite and >= 0, got ", negative_slope_);
  }

  std::string type() const override { return "LeakyReLU"; }
  double negative_slope() const { return negative_slope_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["negative_slope"] = negative_slope_;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<LeakyReLU> from_config(const Json& config) {
    ConfigReader r(config, "LeakyReLU");
    LeakyReLUOptions o;
    detail::read_common_options(r, o);
    o.negative_slope = r.get("negative_slope", o.negative_slope);
    return detail::finish_from_config(r, LeakyReLU(std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override { return input_shape; }
  Variable<T> forward(const Variable<T>& x) override { return leaky_relu(x, T(negative_slope_)); }

 private:
  double negative_slope_;
};

/// Options of ELU (Keras's keyword arguments and defaults).
struct ELUOptions {
  /// Scale of the negative part (finite).
  double alpha = 1.0;
  Shape input_shape{};
  std::string name{};
};

/// x for x > 0, alpha * (e^x - 1) otherwise, elementwise.
/// input: [batch, ...]; output: the same shape.
template <class T = float>
class ELU : public Layer<T> {
 public:
  explicit ELU(ELUOptions options = {})
      : Layer<T>(options.name, options.input_shape), alpha_(options.alpha) {
    check<ValueError>(std::isfinite(alpha_), this->label(), ": alpha must be finite, got ", alpha_);
  }

  std::string type() const override { return "ELU"; }
  double alpha() const { return alpha_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["alpha"] = alpha_;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<ELU> from_config(const Json& config) {
    ConfigReader r(config, "ELU");
    ELUOptions o;
    detail::read_common_options(r, o);
    o.alpha = r.get("alpha", o.alpha);
    return detail::finish_from_config(r, ELU(std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override { return input_shape; }
  Variable<T> forward(const Variable<T>& x) override { return elu(x, T(alpha_)); }

 private:
  double alpha_;
};

/// Options of ReLU (Keras's keyword arguments and defaults).
struct ReLUOptions {
  /// Upper bound of the output; none by default. Finite and >= 0 when given.
  std::optional<double> max_value{};
  /// Slope below the threshold (finite, >= 0).
  double negative_slope = 0.0;
  /// Inputs at or below it count as negative (finite, >= 0).
  double threshold = 0.0;
  Shape input_shape{};
  std::string name{};
};

/// Keras's ReLU layer: min(x, max_value) for x > threshold, negative_slope * (x - threshold)
/// otherwise, elementwise (plain relu with the defaults). input: [batch, ...]; output: the same.
template <class T = float>
class ReLU : public Layer<T> {
 public:
  explicit ReLU(ReLUOptions options = {})
      : Layer<T>(options.name, options.input_shape),
        op_options_{.negative_slope = options.negative_slope,
                    .max_value = options.max_value,
                    .threshold = options.threshold} {
    // Keras's own checks: none of the three may be negative.
    const auto& o = op_options_;
    check<ValueError>(!o.max_value || (std::isfinite(*o.max_value) && *o.max_value >= 0),
                      this->label(), ": max_value must be finite and >= 0, got ",
                      o.max_value.value_or(0.0));
    check<ValueError>(std::isfinite(o.negative_slope) && o.negative_slope >= 0, this->label(),
                      ": negative_slope must be finite and >= 0, got ", o.negative_slope);
    check<ValueError>(std::isfinite(o.threshold) && o.threshold >= 0, this->label(),
                      ": threshold must be finite and >= 0, got ", o.threshold);
  }

  std::string type() const override { return "ReLU"; }
  const std::optional<double>& max_value() const { return op_options_.max_value; }
  double negative_slope() const { return op_options_.negative_slope; }
  double threshold() const { return op_options_.threshold; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["max_value"] = op_options_.max_value ? Json(*op_options_.max_value) : Json(nullptr);
    c["negative_slope"] = op_options_.negative_slope;
    c["threshold"] = op_options_.threshold;
    return c;
  }
  /// The layer get_config() describes (max_value null for none, as Keras writes it).
  static std::shared_ptr<ReLU> from_config(const Json& config) {
    ConfigReader r(config, "ReLU");
    ReLUOptions o;
    detail::read_common_options(r, o);
    o.max_value = r.get<std::optional<double>>("max_value", std::nullopt);
    o.negative_slope = r.get("negative_slope", o.negative_slope);
    o.threshold = r.get("threshold", o.threshold);
    return detail::finish_from_config(r, ReLU(std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override { return input_shape; }
  Variable<T> forward(const Variable<T>& x) override { return relu(x, op_options_); }

 private:
  ReluOpOptions op_options_;
};

/// Options of Softmax (Keras's keyword arguments and defaults).
struct SoftmaxOptions {
  /// The axis the outputs sum to one along, counted over the whole input (the batch axis is
  /// 0); negative axes count from the end.
  int axis = -1;
  Shape input_shape{};
  std::string name{};
};

/// Softmax along one axis. input: [batch, ...]; output: the same shape. Over the last axis (the
/// default) it reports "softmax" as its output activation, so that a cross-entropy loss fuses
/// with it as with Dense(..., activation="softmax").
template <class T = float>
class Softmax : public Layer<T> {
 public:
  explicit Softmax(SoftmaxOptions options = {})
      : Layer<T>(options.name, options.input_shape), axis_(options.axis) {}

  std::string type() const override { return "Softmax"; }
  int axis() const { return axis_; }
  std::string output_activation() const override { return axis_ == -1 ? "softmax" : "linear"; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["axis"] = axis_;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<Softmax> from_config(const Json& config) {
    ConfigReader r(config, "Softmax");
    SoftmaxOptions o;
    detail::read_common_options(r, o);
    o.axis = r.get("axis", o.axis);
    return detail::finish_from_config(r, Softmax(std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override {
    const int rank = input_shape.rank() + 1;  // with the batch axis
    check<ValueError>(axis_ >= -rank && axis_ < rank, this->label(), ": axis ", axis_,
                      " is out of range for input ", batch_shape_str(input_shape), " (rank ", rank,
                      ", valid axes ", -rank, " to ", rank - 1, ")");
    return input_shape;
  }
  Variable<T> forward(const Variable<T>& x) override { return softmax(x, axis_); }
  Variable<T> forward_pre_activation(const Variable<T>& x) override {
    return axis_ == -1 ? x : forward(x);
  }

 private:
  int axis_;
};

}  // namespace lamina
