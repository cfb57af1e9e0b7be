#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/layers/initializers.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/linalg.hpp"

namespace lamina {

/// Options of Dense (Keras's keyword arguments and defaults).
struct DenseOptions {
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  /// Per-sample input shape, e.g. {784}; empty when it is inferred at build.
  Shape input_shape{};
  std::string name{};
};

/// A densely connected layer: activation(x @ kernel + bias).
/// input: [batch, ..., in]; kernel: [in, units]; bias: [units]; output: [batch, ..., units].
template <class T = float>
class Dense : public Layer<T> {
 public:
  explicit Dense(index_t units, DenseOptions options = {})
      : Layer<T>(options.name, options.input_shape),
        units_(units),
        options_(std::move(options)),
        activation_(detail::in_option("Dense", "activation",
                                      [&] { return activation_by_name<T>(options_.activation); })) {
    check<ValueError>(units > 0, "Dense: units must be positive, got ", units);
    Generator probe(0);
    // Validates the names now.
    detail::in_option("Dense", "kernel_initializer", [&] {
      return initialize<T>(options_.kernel_initializer, Shape{1, 1}, probe);
    });
    detail::in_option("Dense", "bias_initializer",
                      [&] { return initialize<T>(options_.bias_initializer, Shape{1}, probe); });
  }

  std::string type() const override { return "Dense"; }
  std::string output_activation() const override { return options_.activation; }
  index_t units() const { return units_; }
  /// The kernel [in, units] and bias [units] (valid once built).
  const Variable<T>& kernel() const { return kernel_; }
  const Variable<T>& bias() const { return bias_; }

  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["units"] = units_;
    c["activation"] = options_.activation;
    c["use_bias"] = options_.use_bias;
    c["kernel_initializer"] = options_.kernel_initializer;
    c["bias_initializer"] = options_.bias_initializer;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<Dense> from_config(const Json& config) {
    ConfigReader r(config, "Dense");
    DenseOptions o;
    detail::read_common_options(r, o);
    o.activation = r.get("activation", o.activation);
    o.use_bias = r.get("use_bias", o.use_bias);
    o.kernel_initializer = r.get("kernel_initializer", o.kernel_initializer);
    o.bias_initializer = r.get("bias_initializer", o.bias_initializer);
    const auto units = r.get<index_t>("units");
    return detail::finish_from_config(r, Dense(units, std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator& gen) override {
    check<ShapeError>(input_shape.rank() >= 1, this->label(),
                      ": expected input of rank >= 2 [batch, ..., features], got per-sample shape ",
                      input_shape);
    const index_t in = input_shape[input_shape.rank() - 1];
    kernel_ =
        this->add_weight("kernel", initialize<T>(options_.kernel_initializer, {in, units_}, gen));
    if (options_.use_bias)
      bias_ = this->add_weight("bias", initialize<T>(options_.bias_initializer, {units_}, gen));
    Shape out = input_shape;
    out[out.rank() - 1] = units_;
    return out;
  }
  Variable<T> forward(const Variable<T>& x) override {
    // Bias and an elementwise activation run inside the dense op, on each block of rows while
    // it is in cache; others (softmax) follow as their own op.
    if (!detail::is_pointwise(options_.activation)) return activation_(forward_pre_activation(x));
    return options_.use_bias ? dense(x, kernel_, bias_, options_.activation)
                             : dense(x, kernel_, options_.activation);
  }
  Variable<T> forward_pre_activation(const Variable<T>& x) override {
    return options_.use_bias ? dense(x, kernel_, bias_) : dense(x, kernel_);
  }

 private:
  index_t units_;
  DenseOptions options_;
  std::function<Variable<T>(const Variable<T>&)> activation_;
  Variable<T> kernel_, bias_;
};

}  // namespace lamina
