#pragma once

/// PNG pictures of image batches: grids of tiles with optional coloured frames and text labels.
///
/// PNG files are written by stb_image_write (Debian's libstb-dev), whose implementation must be
/// compiled into exactly one translation unit of a program: define LAMINA_IMAGE_IMPLEMENTATION
/// in one .cpp before including this header, unless the program already gets it elsewhere
/// (its own STB_IMAGE_WRITE_IMPLEMENTATION, or linking Debian's libstb). This header is not part
/// of <lamina/lamina.hpp>, so that lamina itself does not need stb.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#if defined(LAMINA_IMAGE_IMPLEMENTATION) && !defined(STB_IMAGE_WRITE_IMPLEMENTATION)
#define STB_IMAGE_WRITE_IMPLEMENTATION
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#if __has_include(<stb_image_write.h>)
#include <stb_image_write.h>
#else
#include <stb/stb_image_write.h>
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/io/bitmap_font.hpp"

namespace lamina {

/// An 8-bit RGB colour.
struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  friend bool operator==(const Rgb&, const Rgb&) = default;
};

/// A few colours for frames and labels.
namespace colors {
inline constexpr Rgb black{0, 0, 0}, white{255, 255, 255}, gray{150, 150, 150};
inline constexpr Rgb red{230, 40, 40}, green{60, 200, 80}, blue{60, 120, 230}, yellow{240, 210, 50};
}  // namespace colors

/// An 8-bit RGB picture: width x height pixels, row-major, 3 bytes per pixel.
class Image {
 public:
  Image(int width, int height, Rgb fill = colors::black) : width_(width), height_(height) {
    check<ValueError>(width > 0 && height > 0, "Image: width and height must be positive, got ",
                      width, "x", height);
    pixels_.resize(std::size_t(width) * std::size_t(height) * 3);
    fill_rect(0, 0, width, height, fill);
  }

  int width() const { return width_; }
  int height() const { return height_; }
  /// The bytes r, g, b of each pixel, row by row.
  const std::vector<std::uint8_t>& bytes() const { return pixels_; }

  /// The colour at column x, row y; throws ValueError outside the picture.
  Rgb pixel(int x, int y) const {
    check<ValueError>(inside(x, y), "Image::pixel: (", x, ", ", y, ") is outside the ", width_, "x",
                      height_, " picture");
    const std::uint8_t* p = &pixels_[offset(x, y)];
    return {p[0], p[1], p[2]};
  }
  /// Sets one pixel; pixels outside the picture are ignored (drawing is clipped).
  void set_pixel(int x, int y, Rgb c) {
    if (!inside(x, y)) return;
    std::uint8_t* p = &pixels_[offset(x, y)];
    p[0] = c.r, p[1] = c.g, p[2] = c.b;
  }
  /// Fills the w x h rectangle whose top-left pixel is (x, y), clipped to the picture.
  void fill_rect(int x, int y, int w, int h, Rgb c) {
    for (int yy = std::max(y, 0); yy < std::min(y + h, height_); ++yy)
      for (int xx = std::max(x, 0); xx < std::min(x + w, width_); ++xx) set_pixel(xx, yy, c);
  }
  /// A frame `thickness` pixels wide just inside the w x h rectangle at (x, y).
  void draw_frame(int x, int y, int w, int h, Rgb c, int thickness = 1) {
    fill_rect(x, y, w, thickness, c);
    fill_rect(x, y + h - thickness, w, thickness, c);
    fill_rect(x, y, thickness, h, c);
    fill_rect(x + w - thickness, y, thickness, h, c);
  }

 private:
  bool inside(int x, int y) const { return x >= 0 && y >= 0 && x < width_ && y < height_; }
  std::size_t offset(int x, int y) const {
    return (std::size_t(y) * std::size_t(width_) + std::size_t(x)) * 3;
  }

  int width_, height_;
  std::vector<std::uint8_t> pixels_;
};

/// Width and height in pixels of `text` in lamina's 5x7 font at `scale` ('\n' starts a line).
inline std::array<int, 2> text_size(std::string_view text, int scale = 1) {
  int lines = text.empty() ? 0 : 1, longest = 0, current = 0;
  for (char c : text) {
    if (c == '\n') {
      ++lines;
      current = 0;
    } else {
      longest = std::max(longest, ++current);
    }
  }
  const int w = longest == 0 ? 0 : (longest - 1) * detail::kGlyphAdvance + detail::kGlyphWidth;
  const int h = lines == 0 ? 0 : (lines - 1) * detail::kLineAdvance + detail::kGlyphHeight;
  return {w * scale, h * scale};
}

/// Draws `text` with its top-left corner at (x, y) in lamina's 5x7 bitmap font (digits, capital
/// letters, common punctuation; lower case is drawn as capitals), each font pixel `scale` x
/// `scale` pixels. '\n' starts a new line. Pixels right of `clip_right` (exclusive) or outside
/// the picture are not drawn.
inline void draw_text(Image& image, int x, int y, std::string_view text, Rgb color, int scale = 1,
                      std::optional<int> clip_right = std::nullopt) {
  check<ValueError>(scale > 0, "draw_text: scale must be positive, got ", scale);
  const int right = clip_right.value_or(image.width());
  int cx = x, cy = y;
  for (char c : text) {
    if (c == '\n') {
      cx = x;
      cy += detail::kLineAdvance * scale;
      continue;
    }
    const detail::Glyph& g = detail::glyph(c);
    for (int row = 0; row < detail::kGlyphHeight; ++row)
      for (int col = 0; col < detail::kGlyphWidth; ++col)
        if (g.rows[std::size_t(row)] & (0x10 >> col)) {
          const int px = cx + col * scale;
          image.fill_rect(px, cy + row * scale, std::min(scale, right - px), scale, color);
        }
    cx += detail::kGlyphAdvance * scale;
  }
}

/// Options of image_grid (and save_image_grid).
struct ImageGridOptions {
  /// Tiles per row; 0 chooses ceil(sqrt(n)) (or what `rows` leaves).
  int cols = 0;
  /// Rows of tiles; 0 takes as many as the images need. Images beyond rows * cols are left out.
  int rows = 0;
  /// Pixels between tiles and around the grid.
  int padding = 2;
  /// Each image pixel becomes scale x scale pixels.
  int scale = 1;
  /// Values mapped to black and white (clamped outside): {0, 1} for scaled pixels, {-1, 1}
  /// for tanh outputs.
  std::array<double, 2> value_range{0.0, 1.0};
  Rgb background{40, 40, 40};
  /// Per tile (in order; may be shorter than the images): a frame around the tile, e.g. red
  /// for a wrong prediction; nullopt for none. Space for frames is kept only when some are given.
  std::vector<std::optional<Rgb>> frames{};
  int frame_width = 1;
  /// Per tile (may be shorter than the images): text drawn below the image, clipped to its
  /// width; '\n' separates lines.
  std::vector<std::string> labels{};
  /// Per label colour (may be shorter: the rest are white).
  std::vector<Rgb> label_colors{};
  /// Font scale of the labels (a glyph is 5x7 font pixels).
  int label_scale = 1;
};

/// Lays out images [n, height, width], [n, height, width, 1] (grayscale) or [n, height, width, 3]
/// (RGB), values in options.value_range, as a grid of tiles, each with its optional frame and
/// label.
template <class T>
Image image_grid(const Tensor<T>& images, const ImageGridOptions& options = {}) {
  const Shape& s = images.shape();
  check<ShapeError>((s.rank() == 3 || (s.rank() == 4 && (s[3] == 1 || s[3] == 3))) && s[0] > 0 &&
                        s[1] > 0 && s[2] > 0,
                    "image_grid: expected images [n, height, width], [n, height, width, 1] or "
                    "[n, height, width, 3] with n > 0, got ",
                    s);
  check<ValueError>(options.cols >= 0 && options.rows >= 0,
                    "image_grid: rows and cols must not be "
                    "negative, got rows ",
                    options.rows, ", cols ", options.cols);
  check<ValueError>(options.padding >= 0 && options.scale > 0 && options.label_scale > 0 &&
                        options.frame_width > 0,
                    "image_grid: padding must be >= 0 and scale, label_scale and frame_width > 0, "
                    "got padding ",
                    options.padding, ", scale ", options.scale, ", label_scale ",
                    options.label_scale, ", frame_width ", options.frame_width);
  check<ValueError>(options.value_range[1] > options.value_range[0], "image_grid: value_range [",
                    options.value_range[0], ", ", options.value_range[1], "] is empty");
  const index_t n = s[0];
  check<ValueError>(index_t(options.frames.size()) <= n && index_t(options.labels.size()) <= n,
                    "image_grid: ", options.frames.size(), " frames and ", options.labels.size(),
                    " labels given for ", n, " images");
  int cols = options.cols, rows = options.rows;
  if (cols == 0)
    cols = rows > 0 ? int((n + rows - 1) / rows) : int(std::ceil(std::sqrt(double(n))));
  if (rows == 0) rows = int((n + cols - 1) / cols);
  const int shown = int(std::min<index_t>(n, index_t(rows) * cols));

  const int h = int(s[1]), w = int(s[2]), channels = s.rank() == 4 ? int(s[3]) : 1;
  const int frame = options.frames.empty() ? 0 : options.frame_width;
  int label_lines = 0;
  for (const std::string& label : options.labels)
    label_lines = std::max(label_lines, int(std::count(label.begin(), label.end(), '\n')) + 1);
  // Below the image: 2 pixels, the lines of text, 1 pixel.
  const int label_height = label_lines == 0
                               ? 0
                               : ((label_lines - 1) * detail::kLineAdvance + detail::kGlyphHeight) *
                                         options.label_scale +
                                     3;
  const int image_w = w * options.scale, image_h = h * options.scale;
  const int cell_w = image_w + 2 * frame, cell_h = image_h + label_height + 2 * frame;
  Image out(options.padding + cols * (cell_w + options.padding),
            options.padding + rows * (cell_h + options.padding), options.background);

  const double low = options.value_range[0], span = options.value_range[1] - low;
  const auto level = [&](T v) {
    const double t = std::clamp((double(v) - low) / span, 0.0, 1.0);
    return static_cast<std::uint8_t>(std::lround(t * 255.0));
  };
  for (int i = 0; i < shown; ++i) {
    const int x0 = options.padding + (i % cols) * (cell_w + options.padding);
    const int y0 = options.padding + (i / cols) * (cell_h + options.padding);
    if (frame > 0 && std::size_t(i) < options.frames.size() && options.frames[std::size_t(i)])
      out.draw_frame(x0, y0, cell_w, cell_h, *options.frames[std::size_t(i)], frame);
    const T* img = images.data() + index_t(i) * h * w * channels;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) {
        const T* p = img + (y * w + x) * channels;
        const Rgb c = channels == 1 ? Rgb{level(p[0]), level(p[0]), level(p[0])}
                                    : Rgb{level(p[0]), level(p[1]), level(p[2])};
        out.fill_rect(x0 + frame + x * options.scale, y0 + frame + y * options.scale, options.scale,
                      options.scale, c);
      }
    if (std::size_t(i) < options.labels.size()) {
      const Rgb color = std::size_t(i) < options.label_colors.size()
                            ? options.label_colors[std::size_t(i)]
                            : colors::white;
      draw_text(out, x0 + frame + 1, y0 + frame + image_h + 2, options.labels[std::size_t(i)],
                color, options.label_scale, x0 + frame + image_w);
    }
  }
  return out;
}

/// Writes `image` as a PNG file; throws IoError naming the path when it cannot be written.
inline void write_png(const std::string& path, const Image& image) {
  const int ok = stbi_write_png(path.c_str(), image.width(), image.height(), 3,
                                image.bytes().data(), image.width() * 3);
  check<IoError>(ok != 0, path, ": cannot write the PNG file (does its directory exist?)");
}

/// image_grid(images, options) written to `path` as a PNG.
template <class T>
void save_image_grid(const std::string& path, const Tensor<T>& images,
                     const ImageGridOptions& options = {}) {
  write_png(path, image_grid(images, options));
}

}  // namespace lamina
