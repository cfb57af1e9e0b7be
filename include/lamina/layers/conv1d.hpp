#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/initializers.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/conv.hpp"
#include "lamina/ops/shape_ops.hpp"
#include "lamina/ops/spatial.hpp"

namespace lamina {

/// Options of Conv1D (Keras's keyword arguments and defaults).
struct Conv1DLayerOptions {
  /// Step of the kernel along the steps.
  index_t strides = 1;
  /// "valid", "same" or "causal" (zeros before the sequence only, so that output step t sees
  /// input steps up to t; the output has ceil(steps / strides) steps).
  std::string padding = "valid";
  /// Only 1 for now: lamina's conv2d op, which Conv1D runs on, has no dilation.
  index_t dilation_rate = 1;
  std::string activation = "linear";
  bool use_bias = true;
  std::string kernel_initializer = "glorot_uniform";
  std::string bias_initializer = "zeros";
  /// Per-sample input shape [steps, channels]; empty when inferred at build.
  Shape input_shape{};
  std::string name{};
};

/// 1-D convolution over sequences: activation(conv1d(x, kernel) + bias), run as conv2d on the
/// sequence seen as an image one row high (reshapes share storage; "causal" zero-pads it in
/// front first). input: [batch, steps, channels]; kernel: [kernel_size, channels, filters];
/// bias: [filters]; output: [batch, new_steps, filters] with new_steps = floor((steps -
/// kernel_size) / strides) + 1 for "valid" and ceil(steps / strides) for "same" and "causal".
template <class T = float>
class Conv1D : public Layer<T> {
 public:
  Conv1D(index_t filters, index_t kernel_size, Conv1DLayerOptions options = {})
      : Layer<T>(options.name, options.input_shape),
        filters_(filters),
        kernel_size_(kernel_size),
        options_(std::move(options)),
        causal_(options_.padding == "causal"),
        padding_(detail::in_option("Conv1D", "padding", [&] { return parse(options_.padding); })),
        activation_(detail::in_option("Conv1D", "activation",
                                      [&] { return activation_by_name<T>(options_.activation); })) {
    check<ValueError>(filters > 0, "Conv1D: filters must be positive, got ", filters);
    check<ValueError>(kernel_size > 0, "Conv1D: kernel_size must be positive, got ", kernel_size);
    check<ValueError>(options_.strides > 0, "Conv1D: strides must be positive, got ",
                      options_.strides);
    check<ValueError>(options_.dilation_rate > 0, "Conv1D: dilation_rate must be positive, got ",
                      options_.dilation_rate);
    check<ValueError>(options_.dilation_rate == 1, "Conv1D: dilation_rate ", options_.dilation_rate,
                      " is not supported yet (only 1: the conv2d op has no dilation)");
    Generator probe(0);
    // Validates the names now.
    detail::in_option("Conv1D", "kernel_initializer", [&] {
      return initialize<T>(options_.kernel_initializer, Shape{1, 1}, probe);
    });
    detail::in_option("Conv1D", "bias_initializer",
                      [&] { return initialize<T>(options_.bias_initializer, Shape{1}, probe); });
  }

  std::string type() const override { return "Conv1D"; }
  std::string output_activation() const override { return options_.activation; }
  const Variable<T>& kernel() const { return kernel_; }
  const Variable<T>& bias() const { return bias_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["filters"] = filters_;
    c["kernel_size"] = Json::array({kernel_size_});
    c["strides"] = Json::array({options_.strides});
    c["padding"] = options_.padding;
    c["dilation_rate"] = Json::array({options_.dilation_rate});
    c["activation"] = options_.activation;
    c["use_bias"] = options_.use_bias;
    c["kernel_initializer"] = options_.kernel_initializer;
    c["bias_initializer"] = options_.bias_initializer;
    return c;
  }
  /// The layer get_config() describes; kernel_size, strides and dilation_rate may be integers
  /// or Keras's lists of one.
  static std::shared_ptr<Conv1D> from_config(const Json& config) {
    ConfigReader r(config, "Conv1D");
    Conv1DLayerOptions o;
    detail::read_common_options(r, o);
    const auto size = [&](const char* key, index_t fallback) {
      return detail::size1_from_json(r.who(), key, r.get(key, Json(fallback)));
    };
    o.strides = size("strides", o.strides);
    o.padding = r.get("padding", o.padding);
    o.dilation_rate = size("dilation_rate", o.dilation_rate);
    o.activation = r.get("activation", o.activation);
    o.use_bias = r.get("use_bias", o.use_bias);
    o.kernel_initializer = r.get("kernel_initializer", o.kernel_initializer);
    o.bias_initializer = r.get("bias_initializer", o.bias_initializer);
    const auto filters = r.get<index_t>("filters");
    const index_t kernel_size =
        detail::size1_from_json(r.who(), "kernel_size", r.get<Json>("kernel_size"));
    return detail::finish_from_config(r, Conv1D(filters, kernel_size, std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator& gen) override {
    detail::check_sequence_input(this->label(), input_shape);
    const index_t steps = input_shape[0];
    check<ShapeError>(padding_ == Padding::same || causal_ || steps >= kernel_size_, this->label(),
                      ": input ", batch_shape_str(input_shape), " has ", steps,
                      " steps, fewer than kernel_size ", kernel_size_, " with padding 'valid'");
    const Shape kernel_shape{kernel_size_, input_shape[1], filters_};
    // The output shape comes from the op itself, so the layer and the op never disagree. It is
    // found before any weight is added, so that an input that does not fit leaves none behind.
    const Shape out = detail::probe_output_shape<T>(
        this->label(), input_shape, "the kernel", [&](const Variable<T>& x) {
          return conv(x, Variable<T>(Tensor<T>(kernel_shape)), nullptr, "linear");
        });
    kernel_ =
        this->add_weight("kernel", initialize<T>(options_.kernel_initializer, kernel_shape, gen));
    if (options_.use_bias)
      bias_ = this->add_weight("bias", initialize<T>(options_.bias_initializer, {filters_}, gen));
    return out;
  }
  Variable<T> forward(const Variable<T>& x) override {
    // Bias and an elementwise activation run inside the conv2d op; others (softmax) follow.
    if (!detail::is_pointwise(options_.activation)) return activation_(forward_pre_activation(x));
    return conv(x, kernel_, options_.use_bias ? &bias_ : nullptr, options_.activation);
  }
  Variable<T> forward_pre_activation(const Variable<T>& x) override {
    return conv(x, kernel_, options_.use_bias ? &bias_ : nullptr, "linear");
  }

 private:
  /// "valid" and "causal" run the op unpadded (causal pads the input itself), "same" as "same".
  static Padding parse(const std::string& name) {
    check<ValueError>(name == "valid" || name == "same" || name == "causal", "unknown padding '",
                      name, "'; valid names: valid, same, causal");
    return name == "same" ? Padding::same : Padding::valid;
  }

  /// x [batch, steps, channels] as an image [batch, 1, steps, channels] (causal: with
  /// kernel_size - 1 zeros in front), conv2d with the kernel seen as [1, k, channels, filters],
  /// and back to [batch, new_steps, filters].
  Variable<T> conv(const Variable<T>& x, const Variable<T>& kernel, const Variable<T>* bias,
                   const std::string& activation) const {
    const Shape& xs = x.shape();
    const Shape& ks = kernel.shape();
    Variable<T> image = reshape(x, Shape{xs[0], 1, xs[1], xs[2]});
    if (causal_) image = zero_pad2d(image, {.left = (ks[0] - 1) * options_.dilation_rate});
    const Variable<T> y = detail::conv2d(
        image, reshape(kernel, Shape{1, ks[0], ks[1], ks[2]}), bias,
        {.strides = {1, options_.strides}, .padding = padding_, .activation = activation});
    return reshape(y, Shape{xs[0], y.shape()[2], y.shape()[3]});
  }

  index_t filters_;
  index_t kernel_size_;
  Conv1DLayerOptions options_;
  bool causal_;
  Padding padding_;
  std::function<Variable<T>(const Variable<T>&)> activation_;
  Variable<T> kernel_, bias_;
};

}  // namespace lamina
