#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/layers/layer.hpp"
#include "lamina/ops/activation.hpp"

namespace lamina {

/// Options of Activation.
struct ActivationOptions {
  Shape input_shape{};
  std::string name{};
};

/// Applies a named activation ("relu", "softmax", ...) elementwise (softmax over the last axis).
/// input: [batch, ...]; output: the same shape.
template <class T = float>
class Activation : public Layer<T> {
 public:
  explicit Activation(std::string activation, ActivationOptions options = {})
      : Layer<T>(options.name, options.input_shape),
        activation_name_(std::move(activation)),
        activation_(detail::in_option("Activation", "activation",
                                      [&] { return activation_by_name<T>(activation_name_); })) {}

  std::string type() const override { return "Activation"; }
  std::string output_activation() const override { return activation_name_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["activation"] = activation_name_;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<Activation> from_config(const Json& config) {
    ConfigReader r(config, "Activation");
    ActivationOptions o;
    detail::read_common_options(r, o);
    auto activation = r.get<std::string>("activation");
    return detail::finish_from_config(r, Activation(std::move(activation), std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override { return input_shape; }
  Variable<T> forward(const Variable<T>& x) override { return activation_(x); }
  Variable<T> forward_pre_activation(const Variable<T>& x) override { return x; }

 private:
  std::string activation_name_;
  std::function<Variable<T>(const Variable<T>&)> activation_;
};

}  // namespace lamina
