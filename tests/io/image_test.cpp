// This translation unit holds stb_image_write's implementation (through lamina's macro) and
// stb_image's, which reads the PNGs back.
#define LAMINA_IMAGE_IMPLEMENTATION
#include "lamina/io/image.hpp"

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#if __has_include(<stb_image.h>)
#include <stb_image.h>
#else
#include <stb/stb_image.h>
#endif
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

/// A decoded PNG: width, height and RGB bytes.
struct Decoded {
  int width = 0, height = 0;
  std::vector<unsigned char> rgb;
  Rgb at(int x, int y) const {
    const std::size_t i = (std::size_t(y) * std::size_t(width) + std::size_t(x)) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

Decoded read_png(const std::string& path) {
  Decoded d;
  int channels = 0;
  std::unique_ptr<unsigned char, void (*)(void*)> data(
      stbi_load(path.c_str(), &d.width, &d.height, &channels, 3), stbi_image_free);
  EXPECT_NE(data, nullptr) << path << ": " << stbi_failure_reason();
  if (data) d.rgb.assign(data.get(), data.get() + std::size_t(d.width) * std::size_t(d.height) * 3);
  return d;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / ("lamina_image_" + name)).string();
}

/// Two 2x3 grayscale images: the first a ramp 0, 0.2, ..., 1, the second all 0.5.
Tensor<float> two_images() {
  return Tensor<float>(Shape{2, 2, 3, 1}, {0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f,  //
                                           0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f});
}

TEST(ImageGrid, WritesAPngThatReadsBackWithTheTilesInPlace) {
  const std::string path = temp_path("grid.png");
  save_image_grid(path, two_images(), {.cols = 2, .padding = 1, .background = colors::blue});
  const Decoded png = read_png(path);
  // 2 tiles of 3x2 with 1 pixel around and between: width 1 + 2 * (3 + 1), height 1 + 2 + 1.
  ASSERT_EQ(png.width, 9);
  ASSERT_EQ(png.height, 4);
  EXPECT_EQ(png.at(0, 0), colors::blue);  // padding
  EXPECT_EQ(png.at(1, 1), (Rgb{0, 0, 0}));
  EXPECT_EQ(png.at(2, 1), (Rgb{51, 51, 51}));  // 0.2 * 255
  EXPECT_EQ(png.at(3, 2), (Rgb{255, 255, 255}));
  EXPECT_EQ(png.at(4, 1), colors::blue);          // between the tiles
  EXPECT_EQ(png.at(5, 1), (Rgb{128, 128, 128}));  // the second tile, 0.5 -> 127.5 -> 128
  EXPECT_EQ(png.at(8, 3), colors::blue);
}

TEST(ImageGrid, ScalesClampsAndMapsTheValueRange) {
  // Values in [-1, 1] (a tanh output); 2 and -3 are clamped.
  const Tensor<double> x(Shape{1, 1, 3}, {-1.0, 2.0, -3.0});
  const Image img = image_grid(x, {.padding = 0, .scale = 2, .value_range = {-1.0, 1.0}});
  ASSERT_EQ(img.width(), 6);
  ASSERT_EQ(img.height(), 2);
  EXPECT_EQ(img.pixel(0, 0), colors::black);
  EXPECT_EQ(img.pixel(1, 1), colors::black);
  EXPECT_EQ(img.pixel(2, 0), colors::white);
  EXPECT_EQ(img.pixel(3, 1), colors::white);
  EXPECT_EQ(img.pixel(5, 1), colors::black);
}

TEST(ImageGrid, ChoosesASquareishLayoutAndLeavesOutWhatDoesNotFit) {
  const Tensor<float> x(Shape{5, 1, 1});
  const Image square = image_grid(x, {.padding = 0});  // ceil(sqrt(5)) = 3 columns, 2 rows
  EXPECT_EQ(square.width(), 3);
  EXPECT_EQ(square.height(), 2);
  const Image by_rows = image_grid(x, {.rows = 1, .padding = 0});
  EXPECT_EQ(by_rows.width(), 5);
  const Image cut = image_grid(x, {.cols = 2, .rows = 1, .padding = 0});
  EXPECT_EQ(cut.width(), 2);
  EXPECT_EQ(cut.height(), 1);
}

TEST(ImageGrid, FramesMarkChosenTilesAndLabelsGoBelow) {
  const std::string path = temp_path("labels.png");
  save_image_grid(path, two_images(),
                  {.cols = 2,
                   .padding = 1,
                   .scale = 4,
                   .background = colors::black,
                   .frames = {std::nullopt, colors::red},
                   .labels = {"7", "OK\n1"},
                   .label_colors = {colors::green}});
  const Decoded png = read_png(path);
  // Tile: a 1-pixel frame around a 12x8 image and 2 label lines (9 + 7 + 3 pixels).
  const int cell_w = 1 + 12 + 1, cell_h = 1 + 8 + 19 + 1;
  ASSERT_EQ(png.width, 1 + 2 * (cell_w + 1));
  ASSERT_EQ(png.height, 1 + cell_h + 1);
  const int x1 = 1 + cell_w + 1;  // left edge of the second tile
  EXPECT_EQ(png.at(x1, 1), colors::red);
  EXPECT_EQ(png.at(x1 + cell_w - 1, 1 + cell_h - 1), colors::red);
  EXPECT_EQ(png.at(x1 + 5, 1 + cell_h - 1), colors::red);
  EXPECT_EQ(png.at(1, 1), colors::black);              // no frame on the first tile
  EXPECT_EQ(png.at(x1 + 1, 2), (Rgb{128, 128, 128}));  // the image inside the frame
  // Label "7" in green below the first image: the glyph's top row is 5 pixels wide.
  const int label_y = 1 + 1 + 8 + 2;
  std::set<int> green_columns;
  for (int x = 0; x < cell_w; ++x)
    if (png.at(1 + x, label_y) == colors::green) green_columns.insert(x);
  EXPECT_EQ(green_columns, (std::set<int>{2, 3, 4, 5, 6}));
  // The second label is white (no colour given) and has a second line.
  bool white_on_line_2 = false;
  for (int x = x1; x < x1 + cell_w; ++x)
    for (int y = label_y + 9; y < label_y + 16; ++y)
      white_on_line_2 |= png.at(x, y) == colors::white;
  EXPECT_TRUE(white_on_line_2);
}

TEST(ImageGrid, RejectsBadShapesAndOptions) {
  expect_error<ShapeError>(
      [] {
        image_grid(Tensor<float>(Shape{2, 3}));
      },
      {"image_grid", "[n, height, width", "[2, 3]"});
  expect_error<ShapeError>(
      [] {
        image_grid(Tensor<float>(Shape{1, 2, 2, 2}));
      },
      {"image_grid", "[1, 2, 2, 2]"});
  const Tensor<float> x(Shape{2, 2, 2});
  expect_error<ValueError>([&] { image_grid(x, {.scale = 0}); }, {"image_grid", "scale 0"});
  expect_error<ValueError>(
      [&] {
        image_grid(x, {.value_range = {1.0, 1.0}});
      },
      {"image_grid", "value_range [1, 1]"});
  expect_error<ValueError>(
      [&] {
        image_grid(x, {.labels = {"a", "b", "c"}});
      },
      {"image_grid", "3 labels", "2 images"});
  expect_error<IoError>([&] { save_image_grid("/nonexistent-dir/x.png", x); },
                        {"/nonexistent-dir/x.png", "cannot write"});
}

TEST(BitmapFont, DrawsKnownGlyphsAndMeasuresText) {
  Image img(20, 10);
  draw_text(img, 1, 1, "1", colors::white);
  // '1' = rows 0x04 0x0C 0x04 ...: the top row lights column 2 only.
  for (int x = 0; x < 7; ++x)
    EXPECT_EQ(img.pixel(1 + x, 1) == colors::white, x == 2) << "column " << x;
  EXPECT_EQ(img.pixel(1 + 1, 1 + 1), colors::white);  // 0x0C: columns 1 and 2
  EXPECT_EQ((text_size("AB")), (std::array<int, 2>{11, 7}));
  EXPECT_EQ((text_size("AB\nC", 2)), (std::array<int, 2>{22, 32}));
  EXPECT_EQ((text_size("")), (std::array<int, 2>{0, 0}));
  // Lower case is drawn as capitals, unknown characters as '?'.
  Image lower(6, 7), upper(6, 7), unknown(6, 7), question(6, 7);
  draw_text(lower, 0, 0, "q", colors::white);
  draw_text(upper, 0, 0, "Q", colors::white);
  draw_text(unknown, 0, 0, "~", colors::white);
  draw_text(question, 0, 0, "?", colors::white);
  EXPECT_EQ(lower.bytes(), upper.bytes());
  EXPECT_EQ(unknown.bytes(), question.bytes());
  EXPECT_NE(upper.bytes(), question.bytes());
  // Every glyph is distinct, and none is the blank but the space.
  std::set<std::array<std::uint8_t, 7>> shapes;
  for (const detail::Glyph& g : detail::kFont5x7) {
    EXPECT_NE(g.c, '\0');
    shapes.insert(g.rows);
  }
  EXPECT_EQ(shapes.size(), detail::kFont5x7.size());
}

}  // namespace
}  // namespace lamina
