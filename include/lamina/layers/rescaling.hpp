#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/layer.hpp"
#include "lamina/ops/arithmetic.hpp"

namespace lamina {

/// Options of Rescaling (Keras's keyword arguments and defaults).
struct RescalingOptions {
  /// Added after scaling.
  double offset = 0.0;
  Shape input_shape{};
  std::string name{};
};

/// Keras's preprocessing layer Rescaling: y = x * scale + offset, in training and inference
/// alike (e.g. Rescaling(1.0 / 255) maps pixels to [0, 1], Rescaling(1.0 / 127.5, {.offset =
/// -1}) to [-1, 1]). scale and offset are scalars, cast to T as Keras casts them to the
/// layer's dtype. input: [batch, ...]; output: the same shape.
template <class T = float>
class Rescaling : public Layer<T> {
 public:
  explicit Rescaling(double scale, RescalingOptions options = {})
      : Layer<T>(options.name, options.input_shape), scale_(scale), offset_(options.offset) {
    check<ValueError>(std::isfinite(scale), "Rescaling: scale must be finite, got ", scale);
    check<ValueError>(std::isfinite(offset_), "Rescaling: offset must be finite, got ", offset_);
  }

  std::string type() const override { return "Rescaling"; }
  double scale() const { return scale_; }
  double offset() const { return offset_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["scale"] = scale_;
    c["offset"] = offset_;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<Rescaling> from_config(const Json& config) {
    ConfigReader r(config, "Rescaling");
    RescalingOptions o;
    detail::read_common_options(r, o);
    o.offset = r.get("offset", o.offset);
    const auto scale = r.get<double>("scale");
    return detail::finish_from_config(r, Rescaling(scale, std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override { return input_shape; }
  Variable<T> forward(const Variable<T>& x) override {
    const Variable<T> y = mul(x, static_cast<T>(scale_));
    return offset_ == 0.0 ? y : add(y, static_cast<T>(offset_));
  }

 private:
  double scale_, offset_;
};

}  // namespace lamina
