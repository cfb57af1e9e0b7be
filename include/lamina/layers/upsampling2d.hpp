#pragma once

#include <array>
#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/layer.hpp"
#include "lamina/ops/spatial.hpp"

namespace lamina {

/// Options of UpSampling2D (Keras's keyword arguments and defaults).
struct UpSampling2DOptions {
  /// "nearest"; Keras's other methods ("bilinear", "bicubic", "lanczos3", "lanczos5") are
  /// refused with a ValueError saying they are not supported yet.
  std::string interpolation = "nearest";
  Shape input_shape{};
  std::string name{};
};

/// Repeats each pixel size[0] times down and size[1] times across (nearest-neighbour
/// upsampling). input: [batch, height, width, channels]; output: [batch, height * size[0],
/// width * size[1], channels].
template <class T = float>
class UpSampling2D : public Layer<T> {
 public:
  explicit UpSampling2D(Size2 size = {2, 2}, UpSampling2DOptions options = {})
      : Layer<T>(options.name, options.input_shape),
        size_(size),
        interpolation_(std::move(options.interpolation)) {
    check<ValueError>(size[0] > 0 && size[1] > 0, "UpSampling2D: size must be positive, got [",
                      size[0], ", ", size[1], "]");
    const bool later = interpolation_ == "bilinear" || interpolation_ == "bicubic" ||
                       interpolation_ == "lanczos3" || interpolation_ == "lanczos5";
    check<ValueError>(!later, "UpSampling2D option interpolation: '", interpolation_,
                      "' is not supported yet; supported: nearest");
    check<ValueError>(interpolation_ == "nearest",
                      "UpSampling2D option interpolation: unknown interpolation '", interpolation_,
                      "'; valid names: nearest");
  }

  std::string type() const override { return "UpSampling2D"; }
  const std::array<index_t, 2>& size() const { return size_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["size"] = size_;
    c["interpolation"] = interpolation_;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<UpSampling2D> from_config(const Json& config) {
    ConfigReader r(config, "UpSampling2D");
    UpSampling2DOptions o;
    detail::read_common_options(r, o);
    o.interpolation = r.get("interpolation", o.interpolation);
    const auto size = r.get("size", Size2{2, 2});
    return detail::finish_from_config(r, UpSampling2D(size, std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override {
    detail::check_image_input(this->label(), input_shape);
    return {input_shape[0] * size_[0], input_shape[1] * size_[1], input_shape[2]};
  }
  Variable<T> forward(const Variable<T>& x) override { return upsample_nearest2d(x, size_); }

 private:
  std::array<index_t, 2> size_;
  std::string interpolation_;
};

}  // namespace lamina
