#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>
#include <optional>
#include <string>
#include <utility>

#include "lamina/layers/layer.hpp"
#include "lamina/ops/image_transform.hpp"

// Image augmentation layers (Keras 3's RandomFlip, RandomTranslation, RandomRotation,
// RandomZoom): in training each image of the batch gets its own random transform, drawn from
// the layer's seeded generator; in inference each layer returns its input unchanged.

namespace lamina {

/// The range a random layer draws from (Keras's `factor` arguments): a number f stands for
/// [-|f|, |f|], a pair {a, b} for [min(a, b), max(a, b)].
struct FactorRange {
  double lower = 0.0, upper = 0.0;
  FactorRange(double f) : lower(-std::abs(f)), upper(std::abs(f)) {}  // NOLINT: implicit
  FactorRange(double a, double b) : lower(std::min(a, b)), upper(std::max(a, b)) {}
};

/// Options of RandomTranslation, RandomRotation and RandomZoom (Keras's keyword arguments and
/// defaults).
struct RandomTransformOptions {
  /// How points outside the input are filled: "reflect", "wrap", "constant" or "nearest".
  std::string fill_mode = "reflect";
  /// "bilinear" or "nearest".
  std::string interpolation = "bilinear";
  /// Seed of the draws; by default the layer's seed, which the model sets.
  std::optional<std::uint64_t> seed{};
  /// The value outside the input when fill_mode is "constant".
  double fill_value = 0.0;
  Shape input_shape{};
  std::string name{};
};

/// Options of RandomZoom: RandomTransformOptions' fields led by Keras's width_factor (Keras's
/// keyword order). A struct of its own, not a second positional factor, so that
/// `RandomZoom({-0.3, 0.1})` means one pair and not a copy of RandomZoom(-0.3, 0.1).
struct RandomZoomOptions {
  /// The range of the width's zoom; by default (nullopt, Keras's None) the height's draw.
  std::optional<FactorRange> width_factor{};
  std::string fill_mode = "reflect";
  std::string interpolation = "bilinear";
  std::optional<std::uint64_t> seed{};
  double fill_value = 0.0;
  Shape input_shape{};
  std::string name{};
};

/// Options of RandomFlip.
struct RandomFlipOptions {
  /// Seed of the draws; by default the layer's seed, which the model sets.
  std::optional<std::uint64_t> seed{};
  Shape input_shape{};
  std::string name{};
};

namespace detail {

/// Checks that `f` lies within [min, max] (within (min, max] when `open_min`); the ValueError
/// names the layer (`who`, its label) and the option.
inline void check_factor(const std::string& who, const char* option, const FactorRange& f,
                         double min, double max, bool open_min = false) {
  const bool low_ok = open_min ? f.lower > min : f.lower >= min;
  check<ValueError>(std::isfinite(f.lower) && std::isfinite(f.upper) && low_ok && f.upper <= max,
                    who, " option ", option, ": must lie in ", open_min ? "(" : "[", min, ", ", max,
                    "], got [", f.lower, ", ", f.upper, "]");
}

inline Json factor_json(const FactorRange& f) { return Json::array({f.lower, f.upper}); }

/// The factor option `key` of a config: a number or a pair of numbers.
inline FactorRange read_factor(ConfigReader& r, const char* key) {
  const Json v = r.get<Json>(key);
  if (v.is_number()) return FactorRange(v.get<double>());
  check<ValueError>(v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number(), r.who(),
                    " config: option '", key, "' must be a number or a pair of numbers, got ",
                    v.dump());
  return FactorRange(v[0].get<double>(), v[1].get<double>());
}

/// The op options that fill_mode, interpolation and fill_value name, checked (o is
/// RandomTransformOptions or RandomZoomOptions).
template <class Options>
AffineTransformOptions transform_options(const char* type, const Options& o) {
  AffineTransformOptions op;
  op.fill_mode = in_option(type, "fill_mode", [&] { return parse_fill_mode(o.fill_mode); });
  op.interpolation =
      in_option(type, "interpolation", [&] { return parse_interpolation(o.interpolation); });
  check<ValueError>(std::isfinite(o.fill_value), type, " option fill_value: must be finite, got ",
                    o.fill_value);
  op.fill_value = o.fill_value;
  return op;
}

/// Reads the fill options and the common ones (RandomTransformOptions' fields) from a config.
template <class Options = RandomTransformOptions>
Options read_transform_options(ConfigReader& r) {
  Options o;
  read_common_options(r, o);
  o.fill_mode = r.get("fill_mode", o.fill_mode);
  o.interpolation = r.get("interpolation", o.interpolation);
  o.fill_value = r.get("fill_value", o.fill_value);
  return o;
}

/// Base of the augmentation layers: in training, draws one transform per image (draw()) and
/// applies them with affine_transform; in inference, the identity. input: [batch, height,
/// width, channels]; output: the same shape. No weights.
template <class T>
class RandomImageTransform : public Layer<T> {
 public:
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    if (with_fill_options_) {
      c["fill_mode"] = fill_mode_name(op_.fill_mode);
      c["interpolation"] = interpolation_name(op_.interpolation);
      c["fill_value"] = op_.fill_value;
    }
    return c;
  }
  const AffineTransformOptions& transform_options() const { return op_; }

 protected:
  /// `with_fill_options`: whether get_config() writes fill_mode, interpolation and fill_value.
  RandomImageTransform(const std::string& name, const Shape& input_shape,
                       std::optional<std::uint64_t> seed, AffineTransformOptions op,
                       bool with_fill_options)
      : Layer<T>(name, input_shape), op_(op), with_fill_options_(with_fill_options) {
    if (seed) this->set_seed(*seed);
  }

  /// The 8 parameters of affine_transform for one image of `height` x `width` pixels.
  virtual std::array<double, 8> draw(Generator& gen, double height, double width) = 0;

  Shape build_impl(const Shape& input_shape, Generator&) override {
    check_image_input(this->label(), input_shape);
    return input_shape;
  }
  Variable<T> forward(const Variable<T>& x) override {
    if (!this->training()) return x;
    Generator& gen = this->call_generator();
    const index_t batch = x.dim(0);
    Tensor<T> transforms = Tensor<T>::empty({batch, 8});
    for (index_t n = 0; n < batch; ++n) {
      const std::array<double, 8> t =
          draw(gen, static_cast<double>(x.dim(1)), static_cast<double>(x.dim(2)));
      for (index_t j = 0; j < 8; ++j) transforms.data()[n * 8 + j] = static_cast<T>(t[j]);
    }
    return affine_transform(x, transforms, op_);
  }

 private:
  AffineTransformOptions op_;
  bool with_fill_options_;
};

}  // namespace detail

/// Flips each image left-right ("horizontal"), top-bottom ("vertical") or both
/// ("horizontal_and_vertical", the default) with probability 1/2, in training only (Keras 3's
/// RandomFlip). As in Keras 3, "horizontal_and_vertical" draws one coin per image: it flips
/// both axes or neither. input: [batch, height, width, channels]; output: the same shape.
template <class T = float>
class RandomFlip : public detail::RandomImageTransform<T> {
 public:
  explicit RandomFlip(std::string mode = "horizontal_and_vertical", RandomFlipOptions options = {})
      : detail::RandomImageTransform<T>(options.name, options.input_shape, options.seed,
                                        {.interpolation = Interpolation::nearest},
                                        /*with_fill_options=*/false),
        mode_(std::move(mode)) {
    check<ValueError>(
        mode_ == "horizontal" || mode_ == "vertical" || mode_ == "horizontal_and_vertical",
        this->label(), " option mode: unknown mode '", mode_,
        "'; valid names: horizontal, vertical, horizontal_and_vertical");
  }
  std::string type() const override { return "RandomFlip"; }
  const std::string& mode() const { return mode_; }
  Json get_config() const override {
    Json c = detail::RandomImageTransform<T>::get_config();
    c["mode"] = mode_;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<RandomFlip> from_config(const Json& config) {
    ConfigReader r(config, "RandomFlip");
    RandomFlipOptions o;
    detail::read_common_options(r, o);
    auto mode = r.get<std::string>("mode", "horizontal_and_vertical");
    return detail::finish_from_config(r, RandomFlip(std::move(mode), std::move(o)));
  }

 protected:
  // A flip maps column x to width - 1 - x (row y to height - 1 - y): whole pixels, read exactly
  // with nearest interpolation.
  std::array<double, 8> draw(Generator& gen, double height, double width) override {
    const bool flip = gen.uniform() <= 0.5;  // Keras: uniform() <= 0.5
    const bool h = flip && mode_ != "vertical", v = flip && mode_ != "horizontal";
    return {h ? -1.0 : 1.0, 0, h ? width - 1 : 0, 0, v ? -1.0 : 1.0, v ? height - 1 : 0, 0, 0};
  }

 private:
  std::string mode_;
};

/// Shifts each image by a random fraction of its size, in training only (Keras 3's
/// RandomTranslation): down by height * U(height_factor), right by width * U(width_factor)
/// (negative: up, left); the uncovered area is filled by fill_mode. Factors lie in [-1, 1].
/// input: [batch, height, width, channels]; output: the same shape.
template <class T = float>
class RandomTranslation : public detail::RandomImageTransform<T> {
 public:
  RandomTranslation(FactorRange height_factor, FactorRange width_factor,
                    RandomTransformOptions options = {})
      : detail::RandomImageTransform<T>(options.name, options.input_shape, options.seed,
                                        detail::transform_options("RandomTranslation", options),
                                        true),
        height_(height_factor),
        width_(width_factor) {
    detail::check_factor(this->label(), "height_factor", height_, -1.0, 1.0);
    detail::check_factor(this->label(), "width_factor", width_, -1.0, 1.0);
  }
  std::string type() const override { return "RandomTranslation"; }
  const FactorRange& height_factor() const { return height_; }
  const FactorRange& width_factor() const { return width_; }
  Json get_config() const override {
    Json c = detail::RandomImageTransform<T>::get_config();
    c["height_factor"] = detail::factor_json(height_);
    c["width_factor"] = detail::factor_json(width_);
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<RandomTranslation> from_config(const Json& config) {
    ConfigReader r(config, "RandomTranslation");
    RandomTransformOptions o = detail::read_transform_options(r);
    const FactorRange h = detail::read_factor(r, "height_factor");
    const FactorRange w = detail::read_factor(r, "width_factor");
    return detail::finish_from_config(r, RandomTranslation(h, w, std::move(o)));
  }

 protected:
  // Keras: output (x, y) reads the input at (x - dx, y - dy).
  std::array<double, 8> draw(Generator& gen, double height, double width) override {
    const double dy = gen.uniform(height_.lower, height_.upper) * height;
    const double dx = gen.uniform(width_.lower, width_.upper) * width;
    return {1, 0, -dx, 0, 1, -dy, 0, 0};
  }

 private:
  FactorRange height_, width_;
};

/// Rotates each image about its centre by a random angle of U(factor) * 2 pi, in training only
/// (Keras 3's RandomRotation): positive angles turn counter-clockwise. The factor lies in
/// [-1, 1]; the uncovered area is filled by fill_mode. input: [batch, height, width,
/// channels]; output: the same shape.
template <class T = float>
class RandomRotation : public detail::RandomImageTransform<T> {
 public:
  explicit RandomRotation(FactorRange factor, RandomTransformOptions options = {})
      : detail::RandomImageTransform<T>(options.name, options.input_shape, options.seed,
                                        detail::transform_options("RandomRotation", options), true),
        factor_(factor) {
    detail::check_factor(this->label(), "factor", factor_, -1.0, 1.0);
  }
  std::string type() const override { return "RandomRotation"; }
  const FactorRange& factor() const { return factor_; }
  Json get_config() const override {
    Json c = detail::RandomImageTransform<T>::get_config();
    c["factor"] = detail::factor_json(factor_);
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<RandomRotation> from_config(const Json& config) {
    ConfigReader r(config, "RandomRotation");
    RandomTransformOptions o = detail::read_transform_options(r);
    const FactorRange f = detail::read_factor(r, "factor");
    return detail::finish_from_config(r, RandomRotation(f, std::move(o)));
  }

 protected:
  // Keras: the rotation by angle a about the centre ((width - 1) / 2, (height - 1) / 2),
  //   x' = cos a x - sin a y + x_offset,  y' = sin a x + cos a y + y_offset.
  std::array<double, 8> draw(Generator& gen, double height, double width) override {
    const double angle = gen.uniform(factor_.lower, factor_.upper) * 2.0 * std::numbers::pi;
    const double c = std::cos(angle), s = std::sin(angle);
    const double x_offset = ((width - 1) - (c * (width - 1) - s * (height - 1))) / 2.0;
    const double y_offset = ((height - 1) - (s * (width - 1) + c * (height - 1))) / 2.0;
    return {c, -s, x_offset, s, c, y_offset, 0, 0};
  }

 private:
  FactorRange factor_;
};

/// Zooms each image about its centre by a random factor, in training only (Keras 3's
/// RandomZoom): the output reads an area (1 + U(height_factor)) times the image's height and
/// (1 + U(width_factor)) times its width, so a positive factor zooms out and a negative one
/// zooms in. Without options.width_factor both axes use the height's draw (the aspect is kept):
/// `RandomZoom(0.2)`, `RandomZoom({-0.3, 0.1}, {.width_factor = 0.2, .fill_mode = "constant"})`.
/// Factors lie in (-1, 1] (Keras 3 also takes -1, a zoom onto one point; lamina refuses it);
/// the uncovered area is filled by fill_mode.
/// input: [batch, height, width, channels]; output: the same shape.
template <class T = float>
class RandomZoom : public detail::RandomImageTransform<T> {
 public:
  explicit RandomZoom(FactorRange height_factor, RandomZoomOptions options = {})
      : detail::RandomImageTransform<T>(options.name, options.input_shape, options.seed,
                                        detail::transform_options("RandomZoom", options), true),
        height_(height_factor),
        width_(options.width_factor) {
    detail::check_factor(this->label(), "height_factor", height_, -1.0, 1.0, /*open_min=*/true);
    if (width_) detail::check_factor(this->label(), "width_factor", *width_, -1.0, 1.0, true);
  }
  std::string type() const override { return "RandomZoom"; }
  const FactorRange& height_factor() const { return height_; }
  const std::optional<FactorRange>& width_factor() const { return width_; }
  Json get_config() const override {
    Json c = detail::RandomImageTransform<T>::get_config();
    c["height_factor"] = detail::factor_json(height_);
    c["width_factor"] = width_ ? detail::factor_json(*width_) : Json(nullptr);
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<RandomZoom> from_config(const Json& config) {
    ConfigReader r(config, "RandomZoom");
    RandomZoomOptions o = detail::read_transform_options<RandomZoomOptions>(r);
    const FactorRange h = detail::read_factor(r, "height_factor");
    if (r.has("width_factor") && !config.at("width_factor").is_null())
      o.width_factor = detail::read_factor(r, "width_factor");
    else if (r.has("width_factor"))
      r.get<Json>("width_factor");  // null: marks the option as read
    return detail::finish_from_config(r, RandomZoom(h, std::move(o)));
  }

 protected:
  // Keras: x' = zx x + (width - 1) / 2 (1 - zx), y' = zy y + (height - 1) / 2 (1 - zy).
  std::array<double, 8> draw(Generator& gen, double height, double width) override {
    const double zy = 1.0 + gen.uniform(height_.lower, height_.upper);
    const double zx = width_ ? 1.0 + gen.uniform(width_->lower, width_->upper) : zy;
    return {zx, 0, (width - 1) / 2.0 * (1.0 - zx), 0, zy, (height - 1) / 2.0 * (1.0 - zy), 0, 0};
  }

 private:
  FactorRange height_;
  std::optional<FactorRange> width_;
};

}  // namespace lamina
