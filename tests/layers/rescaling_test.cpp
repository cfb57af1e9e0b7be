#include "lamina/layers/rescaling.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>

#include "support/layer_check.hpp"
#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_layer_gradients_match;
using testing::expect_layer_matches_reference;
using testing::expect_tensor_near;
using testing::random_tensor;

template <class T>
class RescalingTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(RescalingTyped, Scalars);

TYPED_TEST(RescalingTyped, ScalesThenOffsetsAnyShape) {
  using T = TypeParam;
  // Keras's two usual ones: pixels to [0, 1] and to [-1, 1].
  const Variable<T> pixels(Tensor<T>({1, 2, 2, 1}, {0, 51, 127.5, 255}));
  Rescaling<T> unit(1.0 / 255);
  expect_tensor_near(unit(pixels).value(), {1, 2, 2, 1}, {0, 0.2, 0.5, 1}, 1e-6);
  EXPECT_EQ(unit.output_shape(), (Shape{2, 2, 1}));
  EXPECT_EQ(unit.count_params(), 0);
  Rescaling<T> centred(1.0 / 127.5, {.offset = -1});
  expect_tensor_near(centred(pixels).value(), {1, 2, 2, 1}, {-1, -0.6, 0, 1}, 1e-6);
  // Any rank, the same in training and inference.
  Rescaling<T> twice(2, {.offset = 0.5});
  const Variable<T> flat(Tensor<T>({3, 2}, {0, 1, -1, 2, 3, -4}));
  expect_tensor_near(twice(flat).value(), {3, 2}, {0.5, 2.5, -1.5, 4.5, 6.5, -7.5}, 0);
  twice.set_training(true);
  expect_tensor_near(twice(flat).value(), {3, 2}, {0.5, 2.5, -1.5, 4.5, 6.5, -7.5}, 0);
  // The gradient is the scale.
  Variable<T> x(Tensor<T>({2, 2}, {1, 2, 3, 4}), true);
  twice(Variable<T>(Tensor<T>({3, 2})));  // builds for [*, 2]
  Rescaling<T> grad_layer(-3, {.offset = 1});
  grad_layer(x).backward(Tensor<T>::ones({2, 2}));
  expect_tensor_near(x.grad(), {2, 2}, {-3, -3, -3, -3}, 0);
}

TEST(RescalingGrad, MatchesFiniteDifferences) {
  Rescaling<double> layer(0.25, {.offset = -2});
  expect_layer_gradients_match(layer, random_tensor({2, 3, 4}, 1));
}

TEST(RescalingReference, MatchesKerasFormula) {
  // The reference is x * scale + offset in torch arithmetic (PyTorch has no such layer).
  const testing::Reference ref("layers/reference/conv1d.txt");
  for (const std::string name : {"rescaling_a", "rescaling_b"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    Rescaling<double> layer(o.data()[0], {.offset = o.data()[1]});
    expect_layer_matches_reference(layer, ref, name);
  }
}

TYPED_TEST(RescalingTyped, ConfigRoundTripsAndSaves) {
  using T = TypeParam;
  const Rescaling<T> layer(1.0 / 127.5, {.offset = -1, .input_shape = {4, 4, 1}, .name = "r"});
  testing::expect_config_round_trip<T>(layer);
  EXPECT_EQ(layer.get_config()["scale"], 1.0 / 127.5);
  EXPECT_EQ(layer.get_config()["offset"], -1.0);
  // Keras's default offset when the config has none.
  EXPECT_EQ(Rescaling<T>::from_config({{"scale", 0.5}})->offset(), 0.0);

  Sequential<T> model({.seed = 4});
  model.add(Rescaling<T>(1.0 / 255, {.input_shape = {3, 3, 1}}));
  model.add(Flatten<T>());
  model.add(Dense<T>(2));
  model.build({3, 3, 1});
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "rescaling.safetensors").string();
  model.save(path);
  const std::shared_ptr<Model<T>> loaded = load_model<T>(path);
  EXPECT_EQ(loaded->spec(), model.spec());
  const Tensor<T> x = random_tensor({2, 3, 3, 1}, 2, 0, 255).template cast<T>();
  EXPECT_EQ(loaded->predict(x).to_vector(), model.predict(x).to_vector());
}

TEST(RescalingErrors, BadOptions) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  expect_error<ValueError>([&] { Rescaling<double>{nan}; }, {"Rescaling", "scale", "nan"});
  expect_error<ValueError>(
      [] { Rescaling<double>(1, {.offset = std::numeric_limits<double>::infinity()}); },
      {"Rescaling", "offset", "inf"});
  expect_error<ValueError>(
      [] {
        Rescaling<double>::from_config({{"offset", 1}});
      },
      {"Rescaling config", "'scale'", "missing"});
  expect_error<ValueError>(
      [] {
        Rescaling<double>::from_config({{"scale", "1/255"}});
      },
      {"Rescaling config", "'scale'", "a number", "\"1/255\""});
}

}  // namespace
}  // namespace lamina
