#pragma once

#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/layer.hpp"
#include "lamina/ops/reduce.hpp"

namespace lamina {

/// Options of GlobalAveragePooling2D and GlobalMaxPooling2D (Keras's defaults).
struct GlobalPooling2DOptions {
  /// Keep height and width as size 1: output [batch, 1, 1, channels] instead of
  /// [batch, channels].
  bool keepdims = false;
  Shape input_shape{};
  std::string name{};
};

namespace detail {

/// The shared part of the two global pooling layers: a reduction over height and width.
template <class T>
class GlobalPooling2D : public Layer<T> {
 public:
  bool keepdims() const { return keepdims_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["keepdims"] = keepdims_;
    return c;
  }

 protected:
  explicit GlobalPooling2D(GlobalPooling2DOptions options)
      : Layer<T>(options.name, options.input_shape), keepdims_(options.keepdims) {}
  /// The reduction over axes {1, 2}: mean or max.
  virtual Variable<T> pool(const Variable<T>& x, const Axes& axes, ReduceOptions o) const = 0;

  Shape build_impl(const Shape& input_shape, Generator&) override {
    check_image_input(this->label(), input_shape);
    check<ShapeError>(input_shape[0] > 0 && input_shape[1] > 0, this->label(), ": input ",
                      batch_shape_str(input_shape), " has no pixels to pool");
    return keepdims_ ? Shape{1, 1, input_shape[2]} : Shape{input_shape[2]};
  }
  Variable<T> forward(const Variable<T>& x) override {
    return pool(x, {1, 2}, {.keepdims = keepdims_});
  }

  /// The global pooling layer L a get_config() describes.
  template <class L>
  static std::shared_ptr<L> from_config_as(const Json& config, const char* type) {
    ConfigReader r(config, type);
    GlobalPooling2DOptions o;
    read_common_options(r, o);
    o.keepdims = r.get("keepdims", o.keepdims);
    return finish_from_config(r, L(std::move(o)));
  }

 private:
  bool keepdims_;
};

}  // namespace detail

/// Mean over height and width of channels_last images.
/// input: [batch, height, width, channels]; output: [batch, channels] ([batch, 1, 1, channels]
/// with keepdims).
template <class T = float>
class GlobalAveragePooling2D : public detail::GlobalPooling2D<T> {
 public:
  explicit GlobalAveragePooling2D(GlobalPooling2DOptions options = {})
      : detail::GlobalPooling2D<T>(std::move(options)) {}
  std::string type() const override { return "GlobalAveragePooling2D"; }
  /// The layer get_config() describes.
  static std::shared_ptr<GlobalAveragePooling2D> from_config(const Json& config) {
    return detail::GlobalPooling2D<T>::template from_config_as<GlobalAveragePooling2D>(
        config, "GlobalAveragePooling2D");
  }

 protected:
  Variable<T> pool(const Variable<T>& x, const Axes& axes, ReduceOptions o) const override {
    return mean(x, axes, o);
  }
};

/// Maximum over height and width of channels_last images; the gradient is shared evenly among
/// tied maxima (as TensorFlow's and PyTorch's).
/// input: [batch, height, width, channels]; output: [batch, channels] ([batch, 1, 1, channels]
/// with keepdims).
template <class T = float>
class GlobalMaxPooling2D : public detail::GlobalPooling2D<T> {
 public:
  explicit GlobalMaxPooling2D(GlobalPooling2DOptions options = {})
      : detail::GlobalPooling2D<T>(std::move(options)) {}
  std::string type() const override { return "GlobalMaxPooling2D"; }
  /// The layer get_config() describes.
  static std::shared_ptr<GlobalMaxPooling2D> from_config(const Json& config) {
    return detail::GlobalPooling2D<T>::template from_config_as<GlobalMaxPooling2D>(
        config, "GlobalMaxPooling2D");
  }

 protected:
  Variable<T> pool(const Variable<T>& x, const Axes& axes, ReduceOptions o) const override {
    return max(x, axes, o);
  }
};

}  // namespace lamina
