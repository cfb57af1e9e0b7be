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

/// Options of Conv2D and Conv2DTranspose (Keras's keyword arguments and defaults).
struct Conv2DLayerOptions {
  Size2 strides{1, 1};
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

namespace detail {

/// The shared part of Conv2D and Conv2DTranspose: Keras's options and their checks, the
/// config, the weights, and building and calling around the layer's op (conv()).
template <class T>
class ConvLayer2D : public Layer<T> {
 public:
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

 protected:
  /// Validates the options; `type` names the layer class in errors.
  ConvLayer2D(const char* type, index_t filters, Size2 kernel_size, Conv2DLayerOptions options)
      : Layer<T>(options.name, options.input_shape),
        filters_(filters),
        kernel_size_(kernel_size),
        options_(std::move(options)),
        padding_(in_option(type, "padding", [&] { return parse_padding(options_.padding); })),
        activation_(in_option(type, "activation",
                              [&] { return activation_by_name<T>(options_.activation); })) {
    check<ValueError>(filters > 0, type, ": filters must be positive, got ", filters);
    check<ValueError>(kernel_size[0] > 0 && kernel_size[1] > 0, type,
                      ": kernel_size must be positive, got [", kernel_size[0], ", ", kernel_size[1],
                      "]");
    check<ValueError>(options_.strides[0] > 0 && options_.strides[1] > 0, type,
                      ": strides must be positive, got [", options_.strides[0], ", ",
                      options_.strides[1], "]");
    Generator probe(0);
    // Validates the names now.
    in_option(type, "kernel_initializer", [&] {
      return initialize<T>(options_.kernel_initializer, Shape{1, 1}, probe);
    });
    in_option(type, "bias_initializer",
              [&] { return initialize<T>(options_.bias_initializer, Shape{1}, probe); });
  }

  /// The kernel's shape for inputs of `channels` channels.
  virtual Shape kernel_shape(index_t channels) const = 0;
  /// The layer's op on x with `bias` (null when none): conv2d or conv2d_transpose.
  virtual Variable<T> conv(const Variable<T>& x, const Variable<T>& kernel, const Variable<T>* bias,
                           const Conv2DOptions& options) const = 0;

  Shape build_impl(const Shape& input_shape, Generator& gen) override {
    check_image_input(this->label(), input_shape);
    const Shape kernel_shape = this->kernel_shape(input_shape[2]);
    // The output shape comes from the op itself, so the layer and the op never disagree. It is
    // found before any weight is added, so that an input that does not fit leaves none behind.
    const Shape out =
        probe_output_shape<T>(this->label(), input_shape, "the kernel", [&](const Variable<T>& x) {
          return conv(x, Variable<T>(Tensor<T>(kernel_shape)), nullptr, conv_options());
        });
    kernel_ =
        this->add_weight("kernel", initialize<T>(options_.kernel_initializer, kernel_shape, gen));
    if (options_.use_bias)
      bias_ = this->add_weight("bias", initialize<T>(options_.bias_initializer, {filters_}, gen));
    return out;
  }
  Variable<T> forward(const Variable<T>& x) override {
    // Bias and an elementwise activation run inside the op, on each piece of the batch while it
    // is in cache; others (softmax) follow as their own op.
    if (!is_pointwise(options_.activation)) return activation_(forward_pre_activation(x));
    Conv2DOptions o = conv_options();
    o.activation = options_.activation;
    return conv(x, kernel_, options_.use_bias ? &bias_ : nullptr, o);
  }
  Variable<T> forward_pre_activation(const Variable<T>& x) override {
    return conv(x, kernel_, options_.use_bias ? &bias_ : nullptr, conv_options());
  }

  /// The layer L (Conv2D or Conv2DTranspose) a get_config() describes.
  template <class L>
  static std::shared_ptr<L> from_config_as(const Json& config, const char* type) {
    ConfigReader r(config, type);
    Conv2DLayerOptions o;
    read_common_options(r, o);
    o.strides = r.get("strides", o.strides);
    o.padding = r.get("padding", o.padding);
    o.activation = r.get("activation", o.activation);
    o.use_bias = r.get("use_bias", o.use_bias);
    o.kernel_initializer = r.get("kernel_initializer", o.kernel_initializer);
    o.bias_initializer = r.get("bias_initializer", o.bias_initializer);
    const auto filters = r.get<index_t>("filters");
    const auto kernel_size = r.get<Size2>("kernel_size");
    return finish_from_config(r, L(filters, kernel_size, std::move(o)));
  }

  index_t filters_;
  Size2 kernel_size_;

 private:
  Conv2DOptions conv_options() const { return {.strides = options_.strides, .padding = padding_}; }

  Conv2DLayerOptions options_;
  Padding padding_;
  std::function<Variable<T>(const Variable<T>&)> activation_;
  Variable<T> kernel_, bias_;
};

}  // namespace detail

/// 2-D convolution over channels_last images: activation(conv2d(x, kernel) + bias).
/// input: [batch, height, width, channels]; kernel: [kh, kw, channels, filters];
/// output: [batch, out_height, out_width, filters].
template <class T = float>
class Conv2D : public detail::ConvLayer2D<T> {
 public:
  Conv2D(index_t filters, Size2 kernel_size, Conv2DLayerOptions options = {})
      : detail::ConvLayer2D<T>("Conv2D", filters, kernel_size, std::move(options)) {}

  std::string type() const override { return "Conv2D"; }
  /// The layer get_config() describes.
  static std::shared_ptr<Conv2D> from_config(const Json& config) {
    return detail::ConvLayer2D<T>::template from_config_as<Conv2D>(config, "Conv2D");
  }

 protected:
  Shape kernel_shape(index_t channels) const override {
    return {this->kernel_size_[0], this->kernel_size_[1], channels, this->filters_};
  }
  Variable<T> conv(const Variable<T>& x, const Variable<T>& kernel, const Variable<T>* bias,
                   const Conv2DOptions& options) const override {
    return detail::conv2d(x, kernel, bias, options);
  }
};

}  // namespace lamina
