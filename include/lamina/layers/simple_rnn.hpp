#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/layers/initializers.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/linalg.hpp"
#include "lamina/ops/rnn.hpp"
#include "lamina/ops/shape_ops.hpp"

namespace lamina {

/// Options of SimpleRNN (Keras's keyword arguments and defaults).
struct SimpleRNNOptions {
  std::string activation = "tanh";
  bool use_bias = true;
  /// Return the whole sequence [batch, timesteps, units] rather than the last state.
  bool return_sequences = false;
  std::string kernel_initializer = "glorot_uniform";
  std::string recurrent_initializer = "orthogonal";
  std::string bias_initializer = "zeros";
  /// Per-sample input shape [timesteps, features]; empty when inferred at build.
  Shape input_shape{};
  std::string name{};
};

/// Fully connected recurrent layer (Elman 1990): h_t = activation(x_t W + h_{t-1} U + b),
/// h_0 = 0. input: [batch, timesteps, features]; output: [batch, units], or
/// [batch, timesteps, units] with return_sequences.
template <class T = float>
class SimpleRNN : public Layer<T> {
 public:
  explicit SimpleRNN(index_t units, SimpleRNNOptions options = {})
      : Layer<T>(options.name, options.input_shape),
        units_(units),
        options_(std::move(options)),
        activation_(detail::in_option("SimpleRNN", "activation",
                                      [&] { return activation_by_name<T>(options_.activation); })) {
    check<ValueError>(units > 0, "SimpleRNN: units must be positive, got ", units);
    Generator probe(0);
    // Validates the names now.
    detail::in_option("SimpleRNN", "kernel_initializer", [&] {
      return initialize<T>(options_.kernel_initializer, Shape{1, 1}, probe);
    });
    detail::in_option("SimpleRNN", "recurrent_initializer", [&] {
      return initialize<T>(options_.recurrent_initializer, Shape{1, 1}, probe);
    });
    detail::in_option("SimpleRNN", "bias_initializer",
                      [&] { return initialize<T>(options_.bias_initializer, Shape{1}, probe); });
  }

  std::string type() const override { return "SimpleRNN"; }
  const Variable<T>& kernel() const { return kernel_; }
  const Variable<T>& recurrent_kernel() const { return recurrent_kernel_; }
  const Variable<T>& bias() const { return bias_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["units"] = units_;
    c["activation"] = options_.activation;
    c["use_bias"] = options_.use_bias;
    c["return_sequences"] = options_.return_sequences;
    c["kernel_initializer"] = options_.kernel_initializer;
    c["recurrent_initializer"] = options_.recurrent_initializer;
    c["bias_initializer"] = options_.bias_initializer;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<SimpleRNN> from_config(const Json& config) {
    ConfigReader r(config, "SimpleRNN");
    SimpleRNNOptions o;
    detail::read_common_options(r, o);
    o.activation = r.get("activation", o.activation);
    o.use_bias = r.get("use_bias", o.use_bias);
    o.return_sequences = r.get("return_sequences", o.return_sequences);
    o.kernel_initializer = r.get("kernel_initializer", o.kernel_initializer);
    o.recurrent_initializer = r.get("recurrent_initializer", o.recurrent_initializer);
    o.bias_initializer = r.get("bias_initializer", o.bias_initializer);
    const auto units = r.get<index_t>("units");
    return detail::finish_from_config(r, SimpleRNN(units, std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator& gen) override {
    check<ShapeError>(input_shape.rank() == 2 && input_shape[0] > 0, this->label(),
                      ": expected input [batch, timesteps, features] with timesteps > 0, got "
                      "per-sample shape ",
                      input_shape);
    const index_t features = input_shape[1];
    kernel_ = this->add_weight("kernel",
                               initialize<T>(options_.kernel_initializer, {features, units_}, gen));
    recurrent_kernel_ = this->add_weight(
        "recurrent_kernel", initialize<T>(options_.recurrent_initializer, {units_, units_}, gen));
    if (options_.use_bias)
      bias_ = this->add_weight("bias", initialize<T>(options_.bias_initializer, {units_}, gen));
    if (options_.return_sequences) return {input_shape[0], units_};
    return {units_};
  }

  Variable<T> forward(const Variable<T>& x) override {
    // The whole sequence as one op, unless the activation is not elementwise-fusable (softmax,
    // softplus): then one op per step.
    if (detail::is_pointwise(options_.activation)) {
      const RNNOptions o{.activation = options_.activation,
                         .return_sequences = options_.return_sequences};
      return options_.use_bias ? simple_rnn(x, kernel_, recurrent_kernel_, bias_, o)
                               : simple_rnn(x, kernel_, recurrent_kernel_, o);
    }
    const index_t batch = x.dim(0), steps = x.dim(1);
    // The input projection of all steps at once: one GEMM [batch * steps, features] x [features,
    // units].
    Variable<T> projected = matmul(x, kernel_);
    if (options_.use_bias) projected = add(projected, bias_);
    Variable<T> h;
    std::vector<Variable<T>> outputs;
    for (index_t t = 0; t < steps; ++t) {
      Variable<T> pre = reshape(slice(projected, 1, t, t + 1), {batch, units_});
      if (t > 0) pre = add(pre, matmul(h, recurrent_kernel_));
      h = activation_(pre);
      if (options_.return_sequences) outputs.push_back(reshape(h, {batch, 1, units_}));
    }
    return options_.return_sequences ? concat(outputs, 1) : h;
  }

 private:
  index_t units_;
  SimpleRNNOptions options_;
  std::function<Variable<T>(const Variable<T>&)> activation_;
  Variable<T> kernel_, recurrent_kernel_, bias_;
};

}  // namespace lamina
