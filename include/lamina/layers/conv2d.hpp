#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/layers/initializers.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/conv.hpp"

namespace lamina {

/// Options of Conv2D (Keras's keyword arguments and defaults).
struct Conv2DLayerOptions {
  std::array<index_t, 2> strides{1, 1};
  /// "valid" or "same".
  std::string padding = "valid";
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  /// Per-sample input shape [height, width, channels]; empty when inferred at build.
  Shape input_shape{};
  std::string name{};
};

/// 2-D convolution over channels_last images: activation(conv2d(x, kernel) + bias).
/// input: [batch, height, width, channels]; kernel: [kh, kw, channels, filters];
/// output: [batch, out_height, out_width, filters].
template <class T = float>
class Conv2D : public Layer<T> {
 public:
  Conv2D(index_t filters, std::array<index_t, 2> kernel_size, Conv2DLayerOptions options = {})
      : Layer<T>(options.name, options.input_shape),
        filters_(filters),
        kernel_size_(kernel_size),
        options_(std::move(options)),
        padding_(detail::in_option("Conv2D", "padding",
                                   [&] { return parse_padding(options_.padding); })),
        activation_(detail::in_option("Conv2D", "activation",
                                      [&] { return activation_by_name<T>(options_.activation); })) {
    check<ValueError>(filters > 0, "Conv2D: filters must be positive, got ", filters);
    check<ValueError>(kernel_size[0] > 0 && kernel_size[1] > 0,
                      "Conv2D: kernel_size must be positive, got [", kernel_size[0], ", ",
                      kernel_size[1], "]");
    check<ValueError>(options_.strides[0] > 0 && options_.strides[1] > 0,
                      "Conv2D: strides must be positive, got [", options_.strides[0], ", ",
                      options_.strides[1], "]");
    Generator probe(0);
    // Validates the names now.
    detail::in_option("Conv2D", "kernel_initializer", [&] {
      return initialize<T>(options_.kernel_initializer, Shape{1, 1}, probe);
    });
    detail::in_option("Conv2D", "bias_initializer",
                      [&] { return initialize<T>(options_.bias_initializer, Shape{1}, probe); });
  }

  std::string type() const override { return "Conv2D"; }
  std::string output_activation() const override { return options_.activation; }
  const Variable<T>& kernel() const { return kernel_; }
  const Variable<T>& bias() const { return bias_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["filters"] = filters_;
    c["kernel_size"] = kernel_size_;
    c["strides"] = options_.strides;
    c["padding"] = options_.padding;
    c["activation"] = options_.activation;
    c["use_bias"] = options_.use_bias;
    c["kernel_initializer"] = options_.kernel_initializer;
    c["bias_initializer"] = options_.bias_initializer;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<Conv2D> from_config(const Json& config) {
    ConfigReader r(config, "Conv2D");
    Conv2DLayerOptions o;
    detail::read_common_options(r, o);
    o.strides = r.get("strides", o.strides);
    o.padding = r.get("padding", o.padding);
    o.activation = r.get("activation", o.activation);
    o.use_bias = r.get("use_bias", o.use_bias);
    o.kernel_initializer = r.get("kernel_initializer", o.kernel_initializer);
    o.bias_initializer = r.get("bias_initializer", o.bias_initializer);
    const auto filters = r.get<index_t>("filters");
    const auto kernel_size = r.get<std::array<index_t, 2>>("kernel_size");
    return detail::finish_from_config(r, Conv2D(filters, kernel_size, std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator& gen) override {
    check<ShapeError>(input_shape.rank() == 3, this->label(),
                      ": expected input [batch, height, width, channels], got per-sample shape ",
                      input_shape);
    const index_t channels = input_shape[2];
    const Shape kernel_shape{kernel_size_[0], kernel_size_[1], channels, filters_};
    // The output shape comes from the op itself, so the layer and the op never disagree. It is
    // found before any weight is added, so that an input that does not fit leaves none behind.
    Shape out;
    {
      NoGradGuard no_grad;
      const Variable<T> probe(Tensor<T>(Shape{1, input_shape[0], input_shape[1], channels}));
      try {
        out = conv2d(probe, Variable<T>(Tensor<T>(kernel_shape)), conv_options()).shape();
      } catch (const Error& e) {
        throw ShapeError(this->label() + ": input " + batch_shape_str(input_shape) +
                         " does not fit the kernel: " + e.what());
      }
    }
    kernel_ =
        this->add_weight("kernel", initialize<T>(options_.kernel_initializer, kernel_shape, gen));
    if (options_.use_bias)
      bias_ = this->add_weight("bias", initialize<T>(options_.bias_initializer, {filters_}, gen));
    return {out[1], out[2], out[3]};
  }
  Variable<T> forward(const Variable<T>& x) override {
    // Bias and an elementwise activation run inside the conv2d op, on each piece of the batch
    // while it is in cache; others (softmax) follow as their own op.
    if (!detail::is_pointwise(options_.activation)) return activation_(forward_pre_activation(x));
    Conv2DOptions o = conv_options();
    o.activation = options_.activation;
    return options_.use_bias ? conv2d(x, kernel_, bias_, o) : conv2d(x, kernel_, o);
  }
  Variable<T> forward_pre_activation(const Variable<T>& x) override {
    return options_.use_bias ? conv2d(x, kernel_, bias_, conv_options())
                             : conv2d(x, kernel_, conv_options());
  }

 private:
  Conv2DOptions conv_options() const { return {.strides = options_.strides, .padding = padding_}; }

  index_t filters_;
  std::array<index_t, 2> kernel_size_;
  Conv2DLayerOptions options_;
  Padding padding_;
  std::function<Variable<T>(const Variable<T>&)> activation_;
  Variable<T> kernel_, bias_;
};

}  // namespace lamina
