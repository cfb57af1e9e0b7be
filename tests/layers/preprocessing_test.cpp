#include "lamina/layers/preprocessing.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "lamina/layers/dense.hpp"
#include "lamina/layers/registry.hpp"
#include "lamina/layers/reshape.hpp"
#include "lamina/models/sequential.hpp"
#include "support/layer_check.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_config_round_trip;
using testing::expect_error;
using testing::expect_layer_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;

template <class T>
class PreprocessingTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(PreprocessingTyped, Scalars);

/// One of each augmentation layer, with the given seed.
template <class T>
std::vector<std::shared_ptr<Layer<T>>> all_layers(std::uint64_t seed) {
  return {
      std::make_shared<RandomFlip<T>>("horizontal_and_vertical", RandomFlipOptions{.seed = seed}),
      std::make_shared<RandomTranslation<T>>(0.3, 0.2, RandomTransformOptions{.seed = seed}),
      std::make_shared<RandomRotation<T>>(0.2, RandomTransformOptions{.seed = seed}),
      std::make_shared<RandomZoom<T>>(0.3, RandomZoomOptions{.seed = seed})};
}

template <class T>
std::vector<T> image_values(const Tensor<T>& batch, index_t n) {
  const index_t per = batch.size() / batch.dim(0);
  return std::vector<T>(batch.data() + n * per, batch.data() + (n + 1) * per);
}

TYPED_TEST(PreprocessingTyped, InferenceIsTheIdentity) {
  using T = TypeParam;
  const Variable<T> x(random_tensor({3, 5, 6, 2}, 1).template cast<T>());
  for (const auto& layer : all_layers<T>(7)) {
    SCOPED_TRACE(layer->type());
    EXPECT_FALSE(layer->training());  // layers start in inference mode; models switch it
    const Variable<T> y = (*layer)(x);
    EXPECT_EQ(y.value().data(), x.value().data());  // the input itself, not a copy
    EXPECT_EQ(layer->output_shape(), Shape({5, 6, 2}));
    EXPECT_EQ(layer->count_params(), 0);
    EXPECT_TRUE(layer->weights().empty());
  }
}

TYPED_TEST(PreprocessingTyped, ZeroFactorIsTheIdentityInTraining) {
  using T = TypeParam;
  const Tensor<T> img = random_tensor({4, 5, 6, 3}, 2).template cast<T>();
  for (const std::string fill : {"reflect", "wrap", "constant", "nearest"}) {
    for (const std::string interp : {"bilinear", "nearest"}) {
      SCOPED_TRACE(fill + " " + interp);
      const RandomTransformOptions o{.fill_mode = fill, .interpolation = interp, .seed = 3};
      std::vector<std::shared_ptr<Layer<T>>> layers = {
          std::make_shared<RandomTranslation<T>>(0.0, 0.0, o),
          std::make_shared<RandomRotation<T>>(0.0, o),
          std::make_shared<RandomZoom<T>>(
              0.0,
              RandomZoomOptions{
                  .width_factor = 0.0, .fill_mode = fill, .interpolation = interp, .seed = 3})};
      for (const auto& layer : layers) {
        layer->set_training(true);
        EXPECT_EQ((*layer)(Variable<T>(img)).value().to_vector(), img.to_vector()) << layer->type();
      }
    }
  }
}

TYPED_TEST(PreprocessingTyped, FlipsReverseTheAxesExactly) {
  using T = TypeParam;
  const index_t batch = 64, h = 3, w = 4, c = 2;
  const Tensor<T> img = random_tensor({batch, h, w, c}, 4).template cast<T>();
  for (const std::string mode : {"horizontal", "vertical", "horizontal_and_vertical"}) {
    SCOPED_TRACE(mode);
    RandomFlip<T> flip(mode, {.seed = 5});
    flip.set_training(true);
    const Tensor<T> y = flip(Variable<T>(img)).value();
    const bool lr = mode != "vertical", ud = mode != "horizontal";
    index_t flipped = 0;
    for (index_t n = 0; n < batch; ++n) {
      // Each image is either itself or reversed along the mode's axes (both or neither for
      // horizontal_and_vertical, as in Keras 3).
      const bool same = image_values(y, n) == image_values(img, n);
      bool reversed = true;
      for (index_t i = 0; i < h; ++i)
        for (index_t j = 0; j < w; ++j)
          for (index_t ch = 0; ch < c; ++ch)
            reversed = reversed && y.at({n, i, j, ch}) ==
                                       img.at({n, ud ? h - 1 - i : i, lr ? w - 1 - j : j, ch});
      EXPECT_TRUE(same != reversed) << "image " << n;
      flipped += reversed ? 1 : 0;
    }
    // Binomial(64, 1/2): between 16 and 48 but for a chance of 1e-4.
    EXPECT_GT(flipped, 16);
    EXPECT_LT(flipped, 48);
  }
}

TYPED_TEST(PreprocessingTyped, FixedFactorsGiveKerasTransforms) {
  using T = TypeParam;
  // A pair (a, a) always draws a: the transforms below are Keras's formulas at known values.
  const Variable<T> x(Tensor<T>::arange(0, 16).reshape({1, 4, 4, 1}));
  // Down by 0.25 * 4 = 1 row, left by 0.25 * 4 = 1 column, constant fill -1.
  RandomTranslation<T> shift({0.25, 0.25}, {-0.25, -0.25},
                             {.fill_mode = "constant", .fill_value = -1});
  shift.set_training(true);
  expect_tensor_near(shift(x).value(), {1, 4, 4, 1},
                     {-1, -1, -1, -1, 1, 2, 3, -1, 5, 6, 7, -1, 9, 10, 11, -1}, 1e-6);
  // A quarter turn (factor 0.25 of 2 pi) counter-clockwise: the right column becomes the top row.
  RandomRotation<T> turn({0.25, 0.25}, {.interpolation = "nearest"});
  turn.set_training(true);
  expect_tensor_near(turn(x).value(), {1, 4, 4, 1},
                     {3, 7, 11, 15, 2, 6, 10, 14, 1, 5, 9, 13, 0, 4, 8, 12}, 1e-6);
  // Zoom in twice (height factor -0.5: the output shows half the height and, without
  // width_factor, half the width) about the centre: output (r, c) reads (r / 2 + 0.75,
  // c / 2 + 0.75). Bilinear reproduces the ramp 4 r + c exactly.
  RandomZoom<T> zoom_in({-0.5, -0.5});
  zoom_in.set_training(true);
  std::vector<double> want;
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) want.push_back(4 * (r / 2.0 + 0.75) + (c / 2.0 + 0.75));
  expect_tensor_near(zoom_in(x).value(), {1, 4, 4, 1}, want, 1e-5);
  // Zoom out twice across only (width_factor 1, height_factor 0), constant fill: output column
  // c reads column 2 c - 1.5, the centre columns are averages, the edges partly fill.
  RandomZoom<T> zoom_out({0.0, 0.0},
                         {.width_factor = FactorRange{1.0, 1.0}, .fill_mode = "constant"});
  zoom_out.set_training(true);
  const Tensor<T> y = zoom_out(x).value();
  for (int r = 0; r < 4; ++r) {
    EXPECT_NEAR(y.at({0, r, 0, 0}), 0.0, 1e-6);                                    // -1.5: all fill
    EXPECT_NEAR(y.at({0, r, 1, 0}), 0.5 * (4 * r) + 0.5 * (4 * r + 1), 1e-5);      // 0.5
    EXPECT_NEAR(y.at({0, r, 2, 0}), 0.5 * (4 * r + 2) + 0.5 * (4 * r + 3), 1e-5);  // 2.5
    EXPECT_NEAR(y.at({0, r, 3, 0}), 0.0, 1e-6);                                    // 4.5: all fill
  }
}

TYPED_TEST(PreprocessingTyped, SameSeedSameBatchAndEachImageItsOwnTransform) {
  using T = TypeParam;
  // Eight copies of one image: the outputs differ only by their transforms.
  const Tensor<T> one = random_tensor({1, 6, 5, 2}, 6).template cast<T>();
  Tensor<T> img = Tensor<T>::empty({8, 6, 5, 2});
  for (index_t n = 0; n < 8; ++n) std::copy_n(one.data(), one.size(), img.data() + n * one.size());
  for (std::size_t k = 1; k < 4; ++k) {  // the continuous ones; flips are tested above
    const auto a = all_layers<T>(11)[k], b = all_layers<T>(11)[k], c = all_layers<T>(12)[k];
    SCOPED_TRACE(a->type());
    for (const auto& l : {a, b, c}) l->set_training(true);
    const Tensor<T> ya = (*a)(Variable<T>(img)).value();
    EXPECT_EQ(ya.to_vector(), (*b)(Variable<T>(img)).value().to_vector());
    EXPECT_NE(ya.to_vector(), (*c)(Variable<T>(img)).value().to_vector());
    // The next call draws anew.
    EXPECT_NE(ya.to_vector(), (*a)(Variable<T>(img)).value().to_vector());
    for (index_t n = 0; n < 8; ++n)
      for (index_t m = n + 1; m < 8; ++m)
        EXPECT_NE(image_values(ya, n), image_values(ya, m)) << "images " << n << " and " << m;
  }
}

TEST(PreprocessingGrad, MatchesFiniteDifferences) {
  // Fixed factors, so that every call applies the same non-integer transform.
  const Tensor<double> x = random_tensor({2, 5, 4, 2}, 7);
  RandomTranslation<double> shift({0.13, 0.13}, {-0.31, -0.31});
  RandomRotation<double> turn({0.07, 0.07}, {.fill_mode = "wrap"});
  RandomZoom<double> zoom({0.37, 0.37},
                          {.width_factor = FactorRange{-0.21, -0.21}, .fill_mode = "constant"});
  RandomFlip<double> flip("horizontal", {.seed = 1});
  for (Layer<double>* layer : std::vector<Layer<double>*>{&shift, &turn, &zoom}) {
    SCOPED_TRACE(layer->type());
    layer->set_training(true);
    expect_layer_gradients_match(*layer, x);
  }
  // A flip's gradient flips back: check it on an inference call (identity) and on a training
  // call, whose random draw the finite differences would change: compare with the flip itself.
  flip.set_training(true);
  Variable<double> v(x, true);
  Variable<double> y = flip(v);
  y.backward(y.value());  // d/dx sum(y * y) / 2 = flip^T(y) = x
  EXPECT_EQ(v.grad().to_vector(), x.to_vector());
}

TYPED_TEST(PreprocessingTyped, ConfigsRoundTripWithKerasDefaults) {
  using T = TypeParam;
  expect_config_round_trip<T>(RandomFlip<T>());
  expect_config_round_trip<T>(RandomFlip<T>("vertical", {.seed = 4, .name = "flip"}));
  expect_config_round_trip<T>(RandomTranslation<T>(0.1, {-0.2, 0.3}, {.fill_mode = "wrap"}));
  expect_config_round_trip<T>(RandomRotation<T>(
      0.2, {.fill_mode = "constant", .interpolation = "nearest", .seed = 9, .fill_value = 0.5}));
  expect_config_round_trip<T>(RandomZoom<T>(0.3));
  expect_config_round_trip<T>(
      RandomZoom<T>({-0.3, 0.1}, {.width_factor = 0.2, .input_shape = {8, 8, 3}}));

  const Json flip = RandomFlip<T>().get_config();
  EXPECT_EQ(flip["mode"], "horizontal_and_vertical");
  const Json rot = RandomRotation<T>(-0.2).get_config();
  EXPECT_EQ(rot["factor"], Json::array({-0.2, 0.2}));
  EXPECT_EQ(rot["fill_mode"], "reflect");
  EXPECT_EQ(rot["interpolation"], "bilinear");
  EXPECT_EQ(rot["fill_value"], 0.0);
  EXPECT_TRUE(RandomZoom<T>(0.1).get_config()["width_factor"].is_null());
  // A Keras config may give a factor as one number; a pair is sorted.
  const auto zoom = RandomZoom<T>::from_config(
      {{"height_factor", 0.25}, {"width_factor", Json::array({0.1, -0.4})}});
  EXPECT_EQ(zoom->height_factor().lower, -0.25);
  EXPECT_EQ(zoom->height_factor().upper, 0.25);
  ASSERT_TRUE(zoom->width_factor().has_value());
  EXPECT_EQ(zoom->width_factor()->lower, -0.4);
  EXPECT_EQ(zoom->width_factor()->upper, 0.1);
  EXPECT_FALSE(RandomZoom<T>::from_config({{"height_factor", 0.25}, {"width_factor", nullptr}})
                   ->width_factor()
                   .has_value());
}

TEST(PreprocessingLayers, SummaryShowsTheInputShapeAndNoParameters) {
  Sequential<double> model({.seed = 3});
  model.add(RandomFlip<double>("horizontal", {.input_shape = {8, 8, 1}}));
  model.add(RandomRotation<double>(0.1));
  model.add(RandomZoom<double>(0.1));
  model.add(RandomTranslation<double>(0.1, 0.1));
  model.add(Flatten<double>());
  model.build({8, 8, 1});
  std::ostringstream out;
  model.summary(out);
  const std::string s = out.str();
  for (const std::string name :
       {"random_flip (RandomFlip)", "random_rotation (RandomRotation)", "random_zoom (RandomZoom)",
        "random_translation (RandomTranslation)"}) {
    const std::size_t at = s.find(" " + name + " ");
    ASSERT_NE(at, std::string::npos) << "lacks " << name << " in\n" << s;
    const std::string line = s.substr(at, s.find('\n', at) - at);
    EXPECT_NE(line.find("(None, 8, 8, 1)"), std::string::npos) << line;
    EXPECT_EQ(line.substr(line.size() - 2), " 0") << line;
  }
  EXPECT_NE(s.find("Total params: 0\n"), std::string::npos) << s;
}

TEST(PreprocessingLayers, FitAugmentsAndPredictDoesNot) {
  // An augmentation layer in front of a Dense layer: fit runs it in training mode, predict in
  // inference mode, where the model is the Dense layer alone.
  Sequential<double> model({.seed = 5});
  model.add(RandomRotation<double>(0.1, {.input_shape = {4, 4, 1}}));
  model.add(RandomFlip<double>());
  model.add(Flatten<double>());
  model.add(Dense<double>(1));
  model.compile("sgd", "mse");
  const Tensor<double> x = random_tensor({6, 4, 4, 1}, 8);
  const Tensor<double> y = random_tensor({6, 1}, 9);
  model.fit(x, y, {.epochs = 1, .batch_size = 3, .verbose = 0});
  const Tensor<double> p = model.predict(x);
  Sequential<double> plain({.seed = 5});
  plain.add(Flatten<double>({.input_shape = {4, 4, 1}}));
  plain.add(Dense<double>(1));
  plain.build({4, 4, 1});
  plain.layers()[1]->set_weights(model.layers()[3]->get_weights());
  EXPECT_EQ(plain.predict(x).to_vector(), p.to_vector());
}

TEST(PreprocessingErrors, BadOptionsNameTheLayerAndTheValue) {
  expect_error<ValueError>([] { RandomFlip<double>("diagonal"); },
                           {"RandomFlip \"random_flip\"", "mode", "'diagonal'",
                            "horizontal, vertical, horizontal_and_vertical"});
  expect_error<ValueError>([] { RandomRotation<double>(1.5); },
                           {"RandomRotation \"random_rotation\"", "factor", "[-1, 1]", "1.5"});
  expect_error<ValueError>([] { RandomRotation<double>(NAN); },
                           {"RandomRotation", "factor", "nan"});
  expect_error<ValueError>(
      [] {
        RandomTranslation<double>({-1.2, 0.1}, 0.1, {.name = "t"});
      },
      {"RandomTranslation \"t\"", "height_factor", "-1.2"});
  expect_error<ValueError>([] { RandomTranslation<double>(0.1, 2.0); },
                           {"RandomTranslation", "width_factor", "2"});
  expect_error<ValueError>([] { RandomZoom<double>(-1.0); },
                           {"RandomZoom \"random_zoom\"", "height_factor", "(-1, 1]", "-1"});
  expect_error<ValueError>(
      [] {
        RandomZoom<double>({-1.5, 0.2});
      },
      {"RandomZoom", "height_factor", "-1.5"});
  expect_error<ValueError>(
      [] {
        RandomZoom<double>(0.2, {.width_factor = FactorRange{0.1, 1.5}});
      },
      {"RandomZoom", "width_factor", "1.5"});
  expect_error<ValueError>(
      [] { RandomRotation<double>(0.1, {.fill_mode = "mirror"}); },
      {"RandomRotation option fill_mode", "'mirror'", "reflect, wrap, constant, nearest"});
  expect_error<ValueError>([] { RandomZoom<double>(0.1, {.interpolation = "cubic"}); },
                           {"RandomZoom option interpolation", "'cubic'", "bilinear, nearest"});
  expect_error<ValueError>([] { RandomTranslation<double>(0.1, 0.1, {.fill_value = INFINITY}); },
                           {"RandomTranslation", "fill_value", "inf"});
  // Configs: a factor must be a number or a pair; bad values are checked as in the constructor.
  expect_error<ValueError>(
      [] {
        RandomRotation<double>::from_config({{"factor", Json::array({0.1, 0.2, 0.3})}});
      },
      {"RandomRotation config", "factor", "[0.1,0.2,0.3]"});
  expect_error<ValueError>(
      [] {
        RandomFlip<double>::from_config({{"mode", "both"}});
      },
      {"RandomFlip", "'both'"});
  expect_error<ValueError>(
      [] {
        RandomZoom<double>::from_config({{"height_factor", 0.1}, {"zoom", 2}});
      },
      {"RandomZoom config", "unknown option 'zoom'"});
  // Not an image: a layer of images needs [batch, height, width, channels].
  for (const auto& layer : all_layers<double>(1)) {
    expect_error<ShapeError>(
        [&] {
          (*layer)(Variable<double>(Tensor<double>::zeros({2, 10})));
        },
        {layer->label(), "[batch, height, width, channels]", "[10]"});
  }
}

}  // namespace
}  // namespace lamina
