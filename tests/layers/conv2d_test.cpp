#include "lamina/layers/conv2d.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

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
using testing::set_weight;

template <class T>
class Conv2DTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Conv2DTyped, Scalars);

TYPED_TEST(Conv2DTyped, ForwardIsCrossCorrelationPlusBiasThenActivation) {
  using T = TypeParam;
  // x = 1..9 as a 3x3 image; y[i, j] = 1 x[i, j] + 2 x[i, j+1] + 3 x[i+1, j] + 4 x[i+1, j+1].
  const Variable<T> x(Tensor<T>({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  Conv2D<T> conv(1, {2, 2});
  conv.build({3, 3, 1});
  set_weight(conv, "kernel", Tensor<T>({2, 2, 1, 1}, {1, 2, 3, 4}));
  set_weight(conv, "bias", Tensor<T>({1}, {-50}));
  expect_tensor_near(conv(x).value(), {1, 2, 2, 1}, {-13, -3, 17, 27}, 0);

  Conv2D<T> relu(1, {2, 2}, {.activation = "relu"});
  relu.build({3, 3, 1});
  set_weight(relu, "kernel", Tensor<T>({2, 2, 1, 1}, {1, 2, 3, 4}));
  set_weight(relu, "bias", Tensor<T>({1}, {-50}));
  expect_tensor_near(relu(x).value(), {1, 2, 2, 1}, {0, 0, 17, 27}, 0);
}

TYPED_TEST(Conv2DTyped, SamePaddingStrideTwoPadsAfterOnly) {
  using T = TypeParam;
  // 4x4 image 1..16, 3x3 ones kernel, stride 2: out 2x2, pad_total 1 -> none before, one after.
  const Variable<T> x(Tensor<T>::arange(1, 17).reshape({1, 4, 4, 1}));
  Conv2D<T> conv(
      1, {3, 3},
      {.strides = {2, 2}, .padding = "same", .use_bias = false, .kernel_initializer = "ones"});
  expect_tensor_near(conv(x).value(), {1, 2, 2, 1}, {54, 45, 72, 54}, 0);
}

TYPED_TEST(Conv2DTyped, FiltersAndBiasBroadcastOverPositions) {
  using T = TypeParam;
  // One pixel, two channels; kernel [[1, 2, 0], [3, 4, 1]] (channel x filter), bias [1, 2, 3].
  const Variable<T> x(Tensor<T>({2, 1, 1, 2}, {2, 3, -1, 1}));
  Conv2D<T> conv(3, {1, 1});
  conv.build({1, 1, 2});
  set_weight(conv, "kernel", Tensor<T>({1, 1, 2, 3}, {1, 2, 0, 3, 4, 1}));
  set_weight(conv, "bias", Tensor<T>({3}, {1, 2, 3}));
  expect_tensor_near(conv(x).value(), {2, 1, 1, 3}, {12, 18, 6, 3, 4, 4}, 0);
}

TYPED_TEST(Conv2DTyped, OutputShapesFollowKerasForBothPaddings) {
  using T = TypeParam;
  struct Case {
    Shape input;
    std::array<index_t, 2> kernel, strides;
    std::string padding;
    Shape output;
  };
  const std::vector<Case> cases = {
      {{28, 28, 1}, {3, 3}, {1, 1}, "valid", {26, 26, 4}},
      {{28, 28, 1}, {3, 3}, {1, 1}, "same", {28, 28, 4}},
      {{7, 6, 2}, {3, 3}, {2, 2}, "valid", {3, 2, 4}},
      {{7, 6, 2}, {3, 3}, {2, 2}, "same", {4, 3, 4}},
      {{8, 8, 3}, {2, 2}, {2, 2}, "valid", {4, 4, 4}},
      {{5, 9, 3}, {4, 2}, {2, 3}, "same", {3, 3, 4}},
      {{3, 3, 1}, {3, 3}, {1, 1}, "valid", {1, 1, 4}},
  };
  for (const Case& c : cases) {
    Conv2D<T> conv(4, c.kernel, {.strides = c.strides, .padding = c.padding});
    std::vector<index_t> dims{2};
    dims.insert(dims.end(), c.input.begin(), c.input.end());
    const Variable<T> y = conv(Variable<T>(Tensor<T>(Shape(dims))));
    EXPECT_EQ(conv.output_shape(), c.output) << c.input << " " << c.padding;
    EXPECT_EQ(y.shape()[0], 2);
    EXPECT_EQ(Shape({y.shape()[1], y.shape()[2], y.shape()[3]}), c.output);
  }
}

TYPED_TEST(Conv2DTyped, WeightsHaveKerasLayoutAndDefaults) {
  using T = TypeParam;
  Conv2D<T> conv(32, {3, 3});
  conv.build({28, 28, 16});
  ASSERT_EQ(conv.weights().size(), 2u);
  EXPECT_EQ(conv.weights()[0].name, "kernel");
  EXPECT_EQ(conv.kernel().shape(), (Shape{3, 3, 16, 32}));
  EXPECT_EQ(conv.weights()[1].name, "bias");
  EXPECT_EQ(conv.bias().shape(), (Shape{32}));
  EXPECT_EQ(conv.count_params(), 3 * 3 * 16 * 32 + 32);
  // glorot_uniform with Keras's fans for a conv kernel: (9 * 16, 9 * 32).
  const double limit = std::sqrt(6.0 / (9 * 16 + 9 * 32));
  const Tensor<T>& k = conv.kernel().value();
  EXPECT_LE(*std::max_element(k.begin(), k.end()), limit);
  EXPECT_GE(*std::min_element(k.begin(), k.end()), -limit);
  EXPECT_GT(*std::max_element(k.begin(), k.end()), 0.9 * limit);
  for (T b : conv.bias().value()) EXPECT_EQ(b, T(0));

  Conv2D<T> no_bias(2, {3, 3}, {.use_bias = false});
  no_bias.build({5, 5, 3});
  EXPECT_EQ(no_bias.weights().size(), 1u);
  EXPECT_EQ(no_bias.count_params(), 3 * 3 * 3 * 2);
}

TEST(Conv2DGrad, MatchesFiniteDifferences) {
  struct Case {
    Shape x;
    index_t filters;
    std::array<index_t, 2> kernel;
    Conv2DLayerOptions options;
  };
  const std::vector<Case> cases = {
      {{2, 5, 5, 2}, 3, {3, 3}, {}},
      {{2, 5, 5, 2}, 3, {3, 3}, {.padding = "same"}},
      {{1, 6, 6, 2}, 2, {3, 3}, {.strides = {2, 2}}},
      {{1, 6, 6, 2}, 2, {3, 3}, {.strides = {2, 2}, .padding = "same"}},
      {{2, 7, 6, 1}, 2, {2, 2}, {.strides = {2, 2}, .padding = "same", .use_bias = false}},
      {{1, 6, 7, 3}, 2, {4, 3}, {.strides = {2, 1}, .padding = "same", .activation = "tanh"}},
      {{2, 4, 4, 2}, 3, {2, 2}, {.activation = "sigmoid", .use_bias = false}},
      {{1, 5, 4, 2}, 2, {3, 2}, {.strides = {1, 2}, .activation = "relu"}},
      {{2, 3, 3, 3}, 4, {1, 1}, {.activation = "softmax"}},
  };
  std::uint64_t seed = 10;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.x.str() + " kernel " + std::to_string(c.kernel[0]) + "x" +
                 std::to_string(c.kernel[1]) + " strides " + std::to_string(c.options.strides[0]) +
                 "," + std::to_string(c.options.strides[1]) + " " + c.options.padding + " " +
                 c.options.activation);
    Conv2D<double> conv(c.filters, c.kernel, c.options);
    conv.set_seed(seed);
    conv.build({c.x[1], c.x[2], c.x[3]});
    if (c.options.use_bias) set_weight(conv, "bias", random_tensor({c.filters}, seed + 100));
    expect_layer_gradients_match(conv, random_tensor(c.x, seed++));
  }
}

TEST(Conv2DReference, MatchesPyTorch) {
  const testing::Reference ref("layers/reference/layers.txt");
  for (const std::string name : {"conv_a", "conv_b", "conv_c", "conv_d", "conv_e"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    const auto at = [&](int i) { return static_cast<index_t>(o.data()[i]); };
    Conv2D<double> conv(at(0), {at(1), at(2)},
                        {.strides = {at(3), at(4)},
                         .padding = at(5) ? "same" : "valid",
                         .activation = testing::reference_activation(o.data()[7]),
                         .use_bias = at(6) != 0});
    expect_layer_matches_reference(conv, ref, name);
  }
}

TEST(Conv2DErrors, KernelLargerThanInput) {
  Conv2D<double> conv(2, {5, 5});
  expect_error<ShapeError>(
      [&] {
        conv(Variable<double>(Tensor<double>({1, 3, 3, 1})));
      },
      {"Conv2D \"conv2d\"", "[*, 3, 3, 1]", "kernel [5, 5, 1, 2]"});
  EXPECT_FALSE(conv.built());
  // A failed build leaves no weights behind: a later fitting input builds the layer once.
  EXPECT_TRUE(conv.weights().empty());
  conv(Variable<double>(Tensor<double>({1, 6, 6, 1})));
  EXPECT_EQ(conv.weights().size(), 2u);
  EXPECT_EQ(conv.count_params(), 5 * 5 * 2 + 2);
  // With "same" padding any input fits.
  Conv2D<double> same(2, {5, 5}, {.padding = "same"});
  EXPECT_EQ(same(Variable<double>(Tensor<double>({1, 3, 3, 1}))).shape(), (Shape{1, 3, 3, 2}));
}

TEST(Conv2DErrors, WrongInputShapeAfterBuild) {
  Conv2D<double> conv(8, {3, 3}, {.name = "conv_1"});
  conv.build({28, 28, 1});
  expect_error<ShapeError>(
      [&] {
        conv(Variable<double>(Tensor<double>({4, 28, 28, 3})));
      },
      {"Conv2D \"conv_1\": expected input [*, 28, 28, 1], got [4, 28, 28, 3]"});
  expect_error<ShapeError>(
      [&] {
        conv(Variable<double>(Tensor<double>({4, 784})));
      },
      {"Conv2D \"conv_1\"", "[*, 28, 28, 1]", "[4, 784]"});
  Conv2D<double> unbuilt(8, {3, 3});
  expect_error<ShapeError>(
      [&] {
        unbuilt(Variable<double>(Tensor<double>({4, 28, 28})));
      },
      {"Conv2D \"conv2d\"", "[batch, height, width, channels]", "[28, 28]"});
}

TEST(Conv2DSpellings, AnIntegerMeansASquareWindowAsInKeras) {
  // Keras's Conv2D(32, 3, strides=2): kernel_size and strides given as one integer.
  Conv2D<float> conv(32, 3, {.strides = 2, .padding = "same"});
  conv.build({28, 28, 16});
  EXPECT_EQ(conv.kernel().shape(), (Shape{3, 3, 16, 32}));
  EXPECT_EQ(conv.output_shape(), (Shape{14, 14, 32}));
  // {3} is the same square window, not [3, 0].
  Conv2D<float> braced(8, {3}, {.strides = {2}});
  braced.build({9, 9, 1});
  EXPECT_EQ(braced.kernel().shape(), (Shape{3, 3, 1, 8}));
  EXPECT_EQ(braced.output_shape(), (Shape{4, 4, 8}));
  // The config holds Keras's lists; an integer in a config reads as the square too.
  EXPECT_EQ(conv.get_config()["kernel_size"], Json::array({3, 3}));
  EXPECT_EQ(conv.get_config()["strides"], Json::array({2, 2}));
  Json config = conv.get_config();
  config["kernel_size"] = 5;
  config["strides"] = 1;
  auto rebuilt = Conv2D<float>::from_config(config);
  rebuilt->build({28, 28, 16});
  EXPECT_EQ(rebuilt->kernel().shape(), (Shape{5, 5, 16, 32}));
  EXPECT_EQ(rebuilt->output_shape(), (Shape{28, 28, 32}));
  config["kernel_size"] = "five";
  expect_error<ValueError>(
      [&] { Conv2D<float>::from_config(config); },
      {"Conv2D config", "kernel_size", "an integer or a list of two integers", "\"five\""});

  MaxPooling2D<float> pool(3, {.strides = 1});
  pool.build({5, 5, 2});
  EXPECT_EQ(pool.output_shape(), (Shape{3, 3, 2}));
  AveragePooling2D<float> avg(2);
  avg.build({6, 4, 1});
  EXPECT_EQ(avg.output_shape(), (Shape{3, 2, 1}));
  UpSampling2D<float> up(3);
  up.build({2, 2, 1});
  EXPECT_EQ(up.output_shape(), (Shape{6, 6, 1}));
  Conv2DTranspose<float> deconv(4, 3, {.strides = 2, .padding = "same"});
  deconv.build({7, 7, 8});
  EXPECT_EQ(deconv.output_shape(), (Shape{14, 14, 4}));
}

TEST(Conv2DErrors, BadOptions) {
  expect_error<ValueError>([] { Conv2D<double>(0, {3, 3}); }, {"Conv2D", "filters", "0"});
  expect_error<ValueError>([] { Conv2D<double>(-1, {3, 3}); }, {"Conv2D", "filters", "-1"});
  expect_error<ValueError>([] { Conv2D<double>(4, {0, 3}); }, {"Conv2D", "kernel_size", "[0, 3]"});
  expect_error<ValueError>(
      [] {
        Conv2D<double>(4, {3, -2});
      },
      {"Conv2D", "kernel_size", "[3, -2]"});
  expect_error<ValueError>(
      [] {
        Conv2D<double>(4, {3, 3}, {.strides = {0, 1}});
      },
      {"Conv2D", "strides", "[0, 1]"});
  expect_error<ValueError>(
      [] {
        Conv2D<double>(4, {3, 3}, {.strides = {2, -1}});
      },
      {"Conv2D", "strides", "[2, -1]"});
  expect_error<ValueError>(
      [] {
        Conv2D<double>(4, {3, 3}, {.padding = "full"});
      },
      {"Conv2D option padding: unknown padding 'full'", "valid", "same"});
  expect_error<ValueError>(
      [] {
        Conv2D<double>(4, {3, 3}, {.activation = "gelu2"});
      },
      {"Conv2D option activation: unknown activation 'gelu2'", "relu", "softmax"});
  expect_error<ValueError>(
      [] {
        Conv2D<double>(4, {3, 3}, {.kernel_initializer = "he"});
      },
      {"Conv2D option kernel_initializer: unknown initializer 'he'", "he_normal", "he_uniform"});
}

}  // namespace
}  // namespace lamina
