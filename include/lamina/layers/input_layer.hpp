#pragma once

#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/layer.hpp"

namespace lamina {

/// Options of InputLayer and of the functional API's Input.
struct InputOptions {
  std::string name{};
};

/// The entry of a functional model (Keras's InputLayer): passes its per-sample input of `shape`
/// through unchanged. Input<T>(shape) makes one and returns its symbolic tensor; a functional
/// model lists it among its layers (0 parameters) as Keras does.
template <class T = float>
class InputLayer : public Layer<T> {
 public:
  explicit InputLayer(Shape shape, InputOptions options = {})
      : Layer<T>(std::move(options.name), shape) {
    check<ShapeError>(shape.rank() >= 1, "InputLayer: shape must have at least one axis, got ",
                      shape);
    for (index_t d : shape.dims())
      check<ShapeError>(d > 0, "InputLayer: sizes must be positive, got shape ", shape);
  }
  std::string type() const override { return "InputLayer"; }
  /// The layer get_config() describes ({"name", "input_shape", ...}).
  static std::shared_ptr<InputLayer> from_config(const Json& config) {
    ConfigReader r(config, "InputLayer");
    InputOptions o{.name = r.get<std::string>("name", "")};
    const auto shape = r.get<Shape>("input_shape");
    return detail::finish_from_config(r, InputLayer(shape, std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override { return input_shape; }
  Variable<T> forward(const Variable<T>& x) override { return x; }
};

}  // namespace lamina
