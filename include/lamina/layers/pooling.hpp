#pragma once

#include <array>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/layers/layer.hpp"
#include "lamina/ops/pool.hpp"
#include "lamina/ops/shape_ops.hpp"

namespace lamina {

/// Options of MaxPooling2D and AveragePooling2D (Keras's defaults: strides = pool_size).
struct Pooling2DOptions {
  /// {0, 0} means equal to pool_size, as Keras's strides=None.
  Size2 strides{0, 0};
  /// "valid" or "same".
  std::string padding = "valid";
  Shape input_shape{};
  std::string name{};
};

namespace detail {

/// The shared part of the two pooling layers; `Op` is max_pool2d or avg_pool2d.
template <class T>
class Pooling2D : public Layer<T> {
 public:
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["pool_size"] = options_.pool_size;
    c["strides"] = options_.strides;
    c["padding"] = padding_name_;
    return c;
  }

 protected:
  Pooling2D(const char* type, Size2 pool_size, Pooling2DOptions options)
      : Layer<T>(options.name, options.input_shape), padding_name_(options.padding) {
    check<ValueError>(pool_size[0] > 0 && pool_size[1] > 0, type,
                      ": pool_size must be positive, got [", pool_size[0], ", ", pool_size[1], "]");
    // {0, 0} stands for Keras's strides=None; one zero alone would be silently replaced.
    const bool none = options.strides[0] == 0 && options.strides[1] == 0;
    check<ValueError>(none || (options.strides[0] > 0 && options.strides[1] > 0), type,
                      ": strides must be positive (or {0, 0} for the pool size), got [",
                      options.strides[0], ", ", options.strides[1], "]");
    options_.pool_size = pool_size;
    options_.strides = options.strides[0] == 0 ? pool_size : options.strides;
    options_.padding =
        detail::in_option(type, "padding", [&] { return parse_padding(options.padding); });
  }
  virtual Variable<T> pool(const Variable<T>& x) const = 0;

  Shape build_impl(const Shape& input_shape, Generator&) override {
    detail::check_image_input(this->label(), input_shape);
    return probe_output_shape<T>(this->label(), input_shape, "the pool",
                                 [&](const Variable<T>& x) { return pool(x); });
  }
  Variable<T> forward(const Variable<T>& x) override { return pool(x); }

  /// The pooling layer L a get_config() describes.
  template <class L>
  static std::shared_ptr<L> from_config_as(const Json& config, const char* type) {
    ConfigReader r(config, type);
    Pooling2DOptions o;
    detail::read_common_options(r, o);
    o.strides = r.get("strides", o.strides);
    o.padding = r.get("padding", o.padding);
    const auto pool_size = r.get("pool_size", Size2{2, 2});
    return detail::finish_from_config(r, L(pool_size, std::move(o)));
  }

  Pool2DOptions options_;
  std::string padding_name_;
};

}  // namespace detail

/// Max over pool_size windows of channels_last images.
/// input: [batch, height, width, channels]; output: [batch, out_height, out_width, channels].
template <class T = float>
class MaxPooling2D : public detail::Pooling2D<T> {
 public:
  explicit MaxPooling2D(Size2 pool_size = {2, 2}, Pooling2DOptions options = {})
      : detail::Pooling2D<T>("MaxPooling2D", pool_size, std::move(options)) {}
  std::string type() const override { return "MaxPooling2D"; }
  /// The layer get_config() describes.
  static std::shared_ptr<MaxPooling2D> from_config(const Json& config) {
    return detail::Pooling2D<T>::template from_config_as<MaxPooling2D>(config, "MaxPooling2D");
  }

 protected:
  Variable<T> pool(const Variable<T>& x) const override { return max_pool2d(x, this->options_); }
};

/// Mean over pool_size windows (only in-bounds elements with "same" padding, as Keras).
/// input: [batch, height, width, channels]; output: [batch, out_height, out_width, channels].
template <class T = float>
class AveragePooling2D : public detail::Pooling2D<T> {
 public:
  explicit AveragePooling2D(Size2 pool_size = {2, 2}, Pooling2DOptions options = {})
      : detail::Pooling2D<T>("AveragePooling2D", pool_size, std::move(options)) {}
  std::string type() const override { return "AveragePooling2D"; }
  /// The layer get_config() describes.
  static std::shared_ptr<AveragePooling2D> from_config(const Json& config) {
    return detail::Pooling2D<T>::template from_config_as<AveragePooling2D>(config,
                                                                           "AveragePooling2D");
  }

 protected:
  Variable<T> pool(const Variable<T>& x) const override { return avg_pool2d(x, this->options_); }
};

/// Options of MaxPooling1D and AveragePooling1D (Keras's defaults: strides = pool_size).
struct Pooling1DOptions {
  /// 0 means equal to pool_size, as Keras's strides=None.
  index_t strides = 0;
  /// "valid" or "same".
  std::string padding = "valid";
  Shape input_shape{};
  std::string name{};
};

namespace detail {

/// The shared part of the two 1-D pooling layers: the 2-D pooling op on the sequence seen as an
/// image one row high ([batch, steps, channels] as [batch, 1, steps, channels]; the reshapes
/// share storage).
template <class T>
class Pooling1D : public Layer<T> {
 public:
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["pool_size"] = Json::array({options_.pool_size[1]});
    c["strides"] = Json::array({options_.strides[1]});
    c["padding"] = padding_name_;
    return c;
  }

 protected:
  Pooling1D(const char* type, index_t pool_size, Pooling1DOptions options)
      : Layer<T>(options.name, options.input_shape), padding_name_(options.padding) {
    check<ValueError>(pool_size > 0, type, ": pool_size must be positive, got ", pool_size);
    check<ValueError>(options.strides >= 0, type,
                      ": strides must be positive (or 0 for the pool size), got ", options.strides);
    options_.pool_size = {1, pool_size};
    options_.strides = {1, options.strides == 0 ? pool_size : options.strides};
    options_.padding = in_option(type, "padding", [&] { return parse_padding(options.padding); });
  }
  /// The 2-D op (max_pool2d or avg_pool2d) on x: [batch, 1, steps, channels].
  virtual Variable<T> pool2d(const Variable<T>& x, const Pool2DOptions& o) const = 0;

  Shape build_impl(const Shape& input_shape, Generator&) override {
    check_sequence_input(this->label(), input_shape);
    const index_t steps = input_shape[0], pool_size = options_.pool_size[1];
    check<ShapeError>(options_.padding == Padding::same || steps >= pool_size, this->label(),
                      ": input ", batch_shape_str(input_shape), " has ", steps,
                      " steps, fewer than pool_size ", pool_size, " with padding 'valid'");
    return probe_output_shape<T>(this->label(), input_shape, "the pool",
                                 [&](const Variable<T>& x) { return forward(x); });
  }
  Variable<T> forward(const Variable<T>& x) override {
    const Shape& xs = x.shape();
    const Variable<T> y = pool2d(reshape(x, Shape{xs[0], 1, xs[1], xs[2]}), options_);
    return reshape(y, Shape{xs[0], y.shape()[2], y.shape()[3]});
  }

  /// The pooling layer L a get_config() describes; pool_size and strides may be integers or
  /// Keras's lists of one (strides also null, Keras's None).
  template <class L>
  static std::shared_ptr<L> from_config_as(const Json& config, const char* type) {
    ConfigReader r(config, type);
    Pooling1DOptions o;
    read_common_options(r, o);
    const Json strides = r.get("strides", Json());
    if (!strides.is_null()) o.strides = size1_from_json(r.who(), "strides", strides);
    o.padding = r.get("padding", o.padding);
    const index_t pool_size = size1_from_json(r.who(), "pool_size", r.get("pool_size", Json(2)));
    return finish_from_config(r, L(pool_size, std::move(o)));
  }

 private:
  Pool2DOptions options_;
  std::string padding_name_;
};

}  // namespace detail

/// Max over pool_size windows of sequences.
/// input: [batch, steps, channels]; output: [batch, new_steps, channels] with new_steps =
/// floor((steps - pool_size) / strides) + 1 for "valid" and ceil(steps / strides) for "same".
template <class T = float>
class MaxPooling1D : public detail::Pooling1D<T> {
 public:
  explicit MaxPooling1D(index_t pool_size = 2, Pooling1DOptions options = {})
      : detail::Pooling1D<T>("MaxPooling1D", pool_size, std::move(options)) {}
  std::string type() const override { return "MaxPooling1D"; }
  /// The layer get_config() describes.
  static std::shared_ptr<MaxPooling1D> from_config(const Json& config) {
    return detail::Pooling1D<T>::template from_config_as<MaxPooling1D>(config, "MaxPooling1D");
  }

 protected:
  Variable<T> pool2d(const Variable<T>& x, const Pool2DOptions& o) const override {
    return max_pool2d(x, o);
  }
};

/// Mean over pool_size windows of sequences (only in-bounds steps with "same" padding, as
/// Keras). input: [batch, steps, channels]; output: [batch, new_steps, channels].
template <class T = float>
class AveragePooling1D : public detail::Pooling1D<T> {
 public:
  explicit AveragePooling1D(index_t pool_size = 2, Pooling1DOptions options = {})
      : detail::Pooling1D<T>("AveragePooling1D", pool_size, std::move(options)) {}
  std::string type() const override { return "AveragePooling1D"; }
  /// The layer get_config() describes.
  static std::shared_ptr<AveragePooling1D> from_config(const Json& config) {
    return detail::Pooling1D<T>::template from_config_as<AveragePooling1D>(config,
                                                                           "AveragePooling1D");
  }

 protected:
  Variable<T> pool2d(const Variable<T>& x, const Pool2DOptions& o) const override {
    return avg_pool2d(x, o);
  }
};

}  // namespace lamina
