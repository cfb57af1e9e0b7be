#pragma once

#include <array>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/layer.hpp"
#include "lamina/ops/spatial.hpp"

namespace lamina {

/// Options of ZeroPadding2D.
struct ZeroPadding2DOptions {
  Shape input_shape{};
  std::string name{};
};

/// Adds rows and columns of zeros around each image.
/// input: [batch, height, width, channels];
/// output: [batch, top + height + bottom, left + width + right, channels].
template <class T = float>
class ZeroPadding2D : public Layer<T> {
 public:
  /// `padding` rows and columns on every side (Keras's padding=int; its default is 1).
  explicit ZeroPadding2D(index_t padding = 1, ZeroPadding2DOptions options = {})
      : ZeroPadding2D(Pad2D{padding, padding, padding, padding}, std::move(options), Sides{}) {}
  /// {height, width}: `height` rows above and below, `width` columns left and right.
  explicit ZeroPadding2D(std::array<index_t, 2> padding, ZeroPadding2DOptions options = {})
      : ZeroPadding2D(Pad2D{padding[0], padding[0], padding[1], padding[1]}, std::move(options),
                      Sides{}) {}
  /// {{top, bottom}, {left, right}}, as Keras's ((top, bottom), (left, right)).
  explicit ZeroPadding2D(std::initializer_list<std::array<index_t, 2>> padding,
                         ZeroPadding2DOptions options = {})
      : ZeroPadding2D(sides(padding), std::move(options), Sides{}) {}

  std::string type() const override { return "ZeroPadding2D"; }
  const Pad2D& padding() const { return pad_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["padding"] = {{pad_.top, pad_.bottom}, {pad_.left, pad_.right}};
    return c;
  }
  /// The layer get_config() describes; `padding` may also be an integer or [height, width].
  static std::shared_ptr<ZeroPadding2D> from_config(const Json& config) {
    ConfigReader r(config, "ZeroPadding2D");
    ZeroPadding2DOptions o;
    detail::read_common_options(r, o);
    const Json p = r.get("padding", Json(1));
    const auto integer = [](const Json& v) { return v.is_number_integer(); };
    const auto pair = [&](const Json& v) {
      return v.is_array() && v.size() == 2 && integer(v[0]) && integer(v[1]);
    };
    const auto at = [](const Json& v) { return static_cast<index_t>(v.get<std::int64_t>()); };
    Pad2D pad;
    if (integer(p)) {
      pad = {at(p), at(p), at(p), at(p)};
    } else if (pair(p)) {
      pad = {at(p[0]), at(p[0]), at(p[1]), at(p[1])};
    } else {
      check<ValueError>(p.is_array() && p.size() == 2 && pair(p[0]) && pair(p[1]),
                        "ZeroPadding2D config: option 'padding' must be an integer, [height, "
                        "width] or [[top, bottom], [left, right]], got ",
                        p.dump());
      pad = {at(p[0][0]), at(p[0][1]), at(p[1][0]), at(p[1][1])};
    }
    return detail::finish_from_config(r, ZeroPadding2D(pad, std::move(o), Sides{}));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override {
    detail::check_image_input(this->label(), input_shape);
    return {pad_.top + input_shape[0] + pad_.bottom, pad_.left + input_shape[1] + pad_.right,
            input_shape[2]};
  }
  Variable<T> forward(const Variable<T>& x) override { return zero_pad2d(x, pad_); }

 private:
  /// Marks the constructor from all four sides (private: a public one taking Pad2D would make
  /// ZeroPadding2D({1, 2}) ambiguous).
  struct Sides {};
  ZeroPadding2D(Pad2D padding, ZeroPadding2DOptions options, Sides)
      : Layer<T>(options.name, options.input_shape), pad_(padding) {
    check<ValueError>(pad_.top >= 0 && pad_.bottom >= 0 && pad_.left >= 0 && pad_.right >= 0,
                      "ZeroPadding2D: padding must be >= 0, got ", padding_str(pad_));
  }
  static Pad2D sides(std::initializer_list<std::array<index_t, 2>> padding) {
    check<ValueError>(padding.size() == 2,
                      "ZeroPadding2D: padding must be {{top, bottom}, {left, right}}, got ",
                      padding.size(), " pairs");
    const auto* p = padding.begin();
    return {p[0][0], p[0][1], p[1][0], p[1][1]};
  }
  static std::string padding_str(const Pad2D& p) {
    return detail::cat("((", p.top, ", ", p.bottom, "), (", p.left, ", ", p.right, "))");
  }

  Pad2D pad_;
};

}  // namespace lamina
