#pragma once

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
  std::vector<std::pair<std::string, std::string>> config() const override {
    return {{"target_shape", target_.str()}};
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
