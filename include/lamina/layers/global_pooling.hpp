#pragma once

#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/layer.hpp"
#include "lamina/ops/reduce.hpp"

namespace lamina {

/// Options of the global pooling layers, 1-D and 2-D (Keras's defaults).
struct GlobalPoolingOptions {
  /// Keep the pooled axes as size 1: output [batch, 1, channels] (1-D) or [batch, 1, 1,
  /// channels] (2-D) instead of [batch, channels].
  bool keepdims = false;
  Shape input_shape{};
  std::string name{};
};
/// Options of GlobalAveragePooling2D and GlobalMaxPooling2D.
using GlobalPooling2DOptions = GlobalPoolingOptions;
/// Options of GlobalAveragePooling1D and GlobalMaxPooling1D.
using GlobalPooling1DOptions = GlobalPoolingOptions;

namespace detail {

/// The shared part of the global pooling layers: a reduction over the steps (1-D) or over
/// height and width (2-D).
template <class T>
class GlobalPooling : public Layer<T> {
 public:
  bool keepdims() const { return keepdims_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["keepdims"] = keepdims_;
    return c;
  }

 protected:
  /// `spatial_rank` is 1 (sequences) or 2 (images).
  GlobalPooling(int spatial_rank, GlobalPoolingOptions options)
      : Layer<T>(options.name, options.input_shape),
        spatial_rank_(spatial_rank),
        keepdims_(options.keepdims) {}
  /// The reduction over the pooled axes: mean or max.
  virtual Variable<T> pool(const Variable<T>& x, const Axes& axes, ReduceOptions o) const = 0;

  Shape build_impl(const Shape& input_shape, Generator&) override {
    if (spatial_rank_ == 1) {
      check_sequence_input(this->label(), input_shape);
      check<ShapeError>(input_shape[0] > 0, this->label(), ": input ", batch_shape_str(input_shape),
                        " has no steps to pool");
      return keepdims_ ? Shape{1, input_shape[1]} : Shape{input_shape[1]};
    }
    check_image_input(this->label(), input_shape);
    check<ShapeError>(input_shape[0] > 0 && input_shape[1] > 0, this->label(), ": input ",
                      batch_shape_str(input_shape), " has no pixels to pool");
    return keepdims_ ? Shape{1, 1, input_shape[2]} : Shape{input_shape[2]};
  }
  Variable<T> forward(const Variable<T>& x) override {
    return pool(x, spatial_rank_ == 1 ? Axes{1} : Axes{1, 2}, {.keepdims = keepdims_});
  }

  /// The global pooling layer L a get_config() describes.
  template <class L>
  static std::shared_ptr<L> from_config_as(const Json& config, const char* type) {
    ConfigReader r(config, type);
    GlobalPoolingOptions o;
    read_common_options(r, o);
    o.keepdims = r.get("keepdims", o.keepdims);
    return finish_from_config(r, L(std::move(o)));
  }

 private:
  int spatial_rank_;
  bool keepdims_;
};

}  // namespace detail

/// Mean over height and width of channels_last images.
/// input: [batch, height, width, channels]; output: [batch, channels] ([batch, 1, 1, channels]
/// with keepdims).
template <class T = float>
class GlobalAveragePooling2D : public detail::GlobalPooling<T> {
 public:
  explicit GlobalAveragePooling2D(GlobalPooling2DOptions options = {})
      : detail::GlobalPooling<T>(2, std::move(options)) {}
  std::string type() const override { return "GlobalAveragePooling2D"; }
  /// The layer get_config() describes.
  static std::shared_ptr<GlobalAveragePooling2D> from_config(const Json& config) {
    return detail::GlobalPooling<T>::template from_config_as<GlobalAveragePooling2D>(
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
class GlobalMaxPooling2D : public detail::GlobalPooling<T> {
 public:
  explicit GlobalMaxPooling2D(GlobalPooling2DOptions options = {})
      : detail::GlobalPooling<T>(2, std::move(options)) {}
  std::string type() const override { return "GlobalMaxPooling2D"; }
  /// The layer get_config() describes.
  static std::shared_ptr<GlobalMaxPooling2D> from_config(const Json& config) {
    return detail::GlobalPooling<T>::template from_config_as<GlobalMaxPooling2D>(
        config, "GlobalMaxPooling2D");
  }

 protected:
  Variable<T> pool(const Variable<T>& x, const Axes& axes, ReduceOptions o) const override {
    return max(x, axes, o);
  }
};

/// Mean over the steps of sequences.
/// input: [batch, steps, channels]; output: [batch, channels] ([batch, 1, channels] with
/// keepdims).
template <class T = float>
class GlobalAveragePooling1D : public detail::GlobalPooling<T> {
 public:
  explicit GlobalAveragePooling1D(GlobalPooling1DOptions options = {})
      : detail::GlobalPooling<T>(1, std::move(options)) {}
  std::string type() const override { return "GlobalAveragePooling1D"; }
  /// The layer get_config() describes.
  static std::shared_ptr<GlobalAveragePooling1D> from_config(const Json& config) {
    return detail::GlobalPooling<T>::template from_config_as<GlobalAveragePooling1D>(
        config, "GlobalAveragePooling1D");
  }

 protected:
  Variable<T> pool(const Variable<T>& x, const Axes& axes, ReduceOptions o) const override {
    return mean(x, axes, o);
  }
};

/// Maximum over the steps of sequences; the gradient is shared evenly among tied maxima.
/// input: [batch, steps, channels]; output: [batch, channels] ([batch, 1, channels] with
/// keepdims).
template <class T = float>
class GlobalMaxPooling1D : public detail::GlobalPooling<T> {
 public:
  explicit GlobalMaxPooling1D(GlobalPooling1DOptions options = {})
      : detail::GlobalPooling<T>(1, std::move(options)) {}
  std::string type() const override { return "GlobalMaxPooling1D"; }
  /// The layer get_config() describes.
  static std::shared_ptr<GlobalMaxPooling1D> from_config(const Json& config) {
    return detail::GlobalPooling<T>::template from_config_as<GlobalMaxPooling1D>(
        config, "GlobalMaxPooling1D");
  }

 protected:
  Variable<T> pool(const Variable<T>& x, const Axes& axes, ReduceOptions o) const override {
    return max(x, axes, o);
  }
};

}  // namespace lamina
