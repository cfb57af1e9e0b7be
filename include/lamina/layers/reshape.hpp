#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/layers/layer.hpp"
#include "lamina/ops/shape_ops.hpp"

namespace lamina {

/// Options of Flatten and Reshape.
struct ReshapeOptions {
  Shape input_shape{};
  std::string name{};
};

/// Flattens each sample: [batch, d1, d2, ...] -> [batch, d1 * d2 * ...]. Shares storage.
template <class T = float>
class Flatten : public Layer<T> {
 public:
  explicit Flatten(ReshapeOptions options = {}) : Layer<T>(options.name, options.input_shape) {}
  std::string type() const override { return "Flatten"; }
  /// The layer get_config() describes.
  static std::shared_ptr<Flatten> from_config(const Json& config) {
    ConfigReader r(config, "Flatten");
    ReshapeOptions o;
    detail::read_common_options(r, o);
    return detail::finish_from_config(r, Flatten(std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override { return {input_shape.numel()}; }
  Variable<T> forward(const Variable<T>& x) override { return flatten(x); }
};

/// Reshapes each sample to `target_shape` (one size may be -1): [batch, ...] -> [batch, ...target].
template <class T = float>
class Reshape : public Layer<T> {
 public:
  explicit Reshape(Shape target_shape, ReshapeOptions options = {})
      : Layer<T>(options.name, options.input_shape), target_(std::move(target_shape)) {}
  std::string type() const override { return "Reshape"; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["target_shape"] = target_.dims();
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<Reshape> from_config(const Json& config) {
    ConfigReader r(config, "Reshape");
    ReshapeOptions o;
    detail::read_common_options(r, o);
    auto target = r.get<Json>("target_shape");
    check<ValueError>(target.is_array() && target.size() <= 32,
                      "Reshape config: option 'target_shape' must be a list of sizes, got ",
                      target.dump());
    std::vector<index_t> dims;
    for (const Json& d : target) {
      check<ValueError>(
          d.is_number_integer() && d.get<std::int64_t>() >= -1 &&
              d.get<std::int64_t>() <= (std::int64_t(1) << 40),
          "Reshape config: option 'target_shape' must be a list of sizes (or -1), got ",
          target.dump());
      dims.push_back(static_cast<index_t>(d.get<std::int64_t>()));
    }
    return detail::finish_from_config(r, Reshape(Shape(std::move(dims)), std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override {
    try {
      return Tensor<T>::infer_shape(target_, input_shape.numel(), input_shape);
    } catch (const ShapeError& e) {
      throw ShapeError(this->label() + ": cannot reshape input " + batch_shape_str(input_shape) +
                       " to " + batch_shape_str(target_) + " (" + e.what() + ")");
    }
  }
  Variable<T> forward(const Variable<T>& x) override {
    std::vector<index_t> dims{x.dim(0)};
    for (index_t d : this->output_shape()) dims.push_back(d);
    return reshape(x, Shape(std::move(dims)));
  }

 private:
  Shape target_;
};

}  // namespace lamina
