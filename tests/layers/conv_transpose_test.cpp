// Conv2DTranspose, UpSampling2D, ZeroPadding2D, GlobalAveragePooling2D and GlobalMaxPooling2D,
// with their ops conv2d_transpose, upsample_nearest2d and zero_pad2d: known values, Keras's
// output shapes and parameter counts, finite-difference gradients, PyTorch references
// (reference/gen_conv_transpose_reference.py), configs, save/load and errors. One file for
// the lot: each test executable costs CI time.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "lamina/layers/conv2d_transpose.hpp"
#include "lamina/layers/global_pooling.hpp"
#include "lamina/layers/upsampling2d.hpp"
#include "lamina/layers/zero_padding2d.hpp"
#include "support/layer_check.hpp"
#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_close;
using testing::expect_config_round_trip;
using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_layer_gradients_match;
using testing::expect_layer_matches_reference;
using testing::expect_tensor_near;
using testing::random_tensor;
using testing::set_weight;
using V = Variable<double>;

template <class T>
class ConvTransposeTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ConvTransposeTyped, Scalars);

/// [batch, ...per_sample].
Shape batch_of(index_t batch, const Shape& per_sample) {
  std::vector<index_t> dims{batch};
  dims.insert(dims.end(), per_sample.begin(), per_sample.end());
  return Shape(std::move(dims));
}

// --- conv2d_transpose / Conv2DTranspose ---------------------------------------------------------

TYPED_TEST(ConvTransposeTyped, EachPixelSpreadsTheKernelOverItsWindow) {
  using T = TypeParam;
  // x = [[1, 2], [3, 4]], kernel [[1, 2], [3, 4]], stride 1 valid: the full 3x3 "convolution",
  // y[i, j] = sum over (a, b) of x[a, b] k[i - a, j - b].
  const Variable<T> x(Tensor<T>({1, 2, 2, 1}, {1, 2, 3, 4}));
  const Variable<T> k(Tensor<T>({2, 2, 1, 1}, {1, 2, 3, 4}));
  expect_tensor_near(conv2d_transpose(x, k).value(), {1, 3, 3, 1}, {1, 4, 4, 6, 20, 16, 9, 24, 16},
                     0);
  // Stride 2: the windows no longer overlap; each is x[a, b] * kernel.
  expect_tensor_near(conv2d_transpose(x, k, {.strides = {2, 2}}).value(), {1, 4, 4, 1},
                     {1, 2, 2, 4, 3, 4, 6, 8, 3, 6, 4, 8, 9, 12, 12, 16}, 0);
  // The layer: the same op plus bias, then the activation.
  Conv2DTranspose<T> layer(1, {2, 2}, {.activation = "relu"});
  layer.build({2, 2, 1});
  set_weight(layer, "kernel", k.value());
  set_weight(layer, "bias", Tensor<T>({1}, {-5}));
  expect_tensor_near(layer(x).value(), {1, 3, 3, 1}, {0, 0, 0, 1, 15, 11, 4, 19, 11}, 0);
}

TYPED_TEST(ConvTransposeTyped, SamePaddingCropsAsTensorFlow) {
  using T = TypeParam;
  // 3x3 ones kernel, stride 2 on [[1, 2], [3, 4]]: the full result is 5x5; 'same' keeps 4x4,
  // cropping pad_total = 3 - 2 = 1 row and column, none at the start and one at the end.
  const Variable<T> x(Tensor<T>({1, 2, 2, 1}, {1, 2, 3, 4}));
  Conv2DTranspose<T> layer(
      1, {3, 3},
      {.strides = {2, 2}, .padding = "same", .use_bias = false, .kernel_initializer = "ones"});
  expect_tensor_near(layer(x).value(), {1, 4, 4, 1},
                     {1, 1, 3, 2, 1, 1, 3, 2, 4, 4, 10, 6, 3, 3, 7, 4}, 0);
  // A kernel narrower than the stride leaves gaps (and 'valid' keeps in * stride).
  const Variable<T> k(Tensor<T>({1, 1, 1, 1}, {2}));
  expect_tensor_near(conv2d_transpose(x, k, {.strides = {1, 3}}).value(), {1, 2, 6, 1},
                     {2, 0, 0, 4, 0, 0, 6, 0, 0, 8, 0, 0}, 0);
}

TYPED_TEST(ConvTransposeTyped, ChannelsAndFiltersContractLikeAMatrix) {
  using T = TypeParam;
  // One pixel, two channels [2, 3]; kernel [1, 1, filters 3, channels 2] = [[1, 2], [0, 1],
  // [4, -1]]: y = kernel x = [8, 3, 5], plus bias [1, 2, 3].
  const Variable<T> x(Tensor<T>({1, 1, 1, 2}, {2, 3}));
  const Variable<T> k(Tensor<T>({1, 1, 3, 2}, {1, 2, 0, 1, 4, -1}));
  const Variable<T> b(Tensor<T>({3}, {1, 2, 3}));
  expect_tensor_near(conv2d_transpose(x, k, b).value(), {1, 1, 1, 3}, {9, 5, 8}, 0);
}

TEST(ConvTranspose, IsTheAdjointOfConv2d) {
  // <conv2d(z, K), x> = <z, conv2d_transpose(x, K)> for the same kernel, strides and padding,
  // with z of the transposed output's shape.
  struct Case {
    Shape x, kernel;
    Conv2DOptions options;
  };
  const std::vector<Case> cases = {
      {{2, 3, 4, 3}, {3, 3, 2, 3}, {}},
      {{2, 3, 4, 3}, {3, 3, 2, 3}, {.strides = {2, 2}, .padding = Padding::same}},
      {{1, 4, 3, 2}, {4, 3, 3, 2}, {.padding = Padding::same}},
      {{1, 3, 2, 2}, {2, 1, 2, 2}, {.strides = {3, 2}}},
      {{2, 2, 3, 3}, {1, 1, 4, 3}, {}},
  };
  std::uint64_t seed = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.x.str() + " kernel " + c.kernel.str());
    const V x(random_tensor(c.x, seed++)), k(random_tensor(c.kernel, seed++));
    const V y = conv2d_transpose(x, k, c.options);
    const V z(random_tensor(y.shape(), seed++));
    const V back = conv2d(z, k, c.options);
    ASSERT_EQ(back.shape(), c.x);
    double lhs = 0, rhs = 0;
    for (index_t i = 0; i < x.size(); ++i) lhs += back.value().data()[i] * x.value().data()[i];
    for (index_t i = 0; i < z.size(); ++i) rhs += z.value().data()[i] * y.value().data()[i];
    EXPECT_NEAR(lhs, rhs, 1e-12 * std::max(1.0, std::abs(lhs)));
  }
}

TYPED_TEST(ConvTransposeTyped, OutputShapesFollowKeras) {
  using T = TypeParam;
  // Keras: in * s + max(k - s, 0) for valid ((in - 1) * s + k when k >= s), in * s for same.
  struct Case {
    Shape input;
    std::array<index_t, 2> kernel, strides;
    std::string padding;
    Shape output;
  };
  const std::vector<Case> cases = {
      {{5, 5, 2}, {3, 3}, {1, 1}, "valid", {7, 7, 4}},
      {{5, 5, 2}, {3, 3}, {1, 1}, "same", {5, 5, 4}},
      {{5, 4, 2}, {3, 3}, {2, 2}, "valid", {11, 9, 4}},
      {{5, 4, 2}, {3, 3}, {2, 2}, "same", {10, 8, 4}},
      {{3, 3, 1}, {2, 2}, {2, 2}, "valid", {6, 6, 4}},
      {{3, 3, 1}, {1, 1}, {2, 2}, "valid", {6, 6, 4}},
      {{4, 3, 3}, {4, 2}, {2, 3}, "same", {8, 9, 4}},
      {{7, 6, 1}, {5, 3}, {1, 2}, "valid", {11, 13, 4}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input.str() + " " + c.padding);
    Conv2DTranspose<T> layer(4, c.kernel, {.strides = c.strides, .padding = c.padding});
    const Variable<T> y = layer(Variable<T>(Tensor<T>(batch_of(2, c.input))));
    EXPECT_EQ(layer.output_shape(), c.output);
    EXPECT_EQ(y.shape(), batch_of(2, c.output));
    EXPECT_EQ(layer.kernel().shape(), (Shape{c.kernel[0], c.kernel[1], 4, c.input[2]}));
    EXPECT_EQ(layer.count_params(), c.kernel[0] * c.kernel[1] * 4 * c.input[2] + 4);
  }
}

TYPED_TEST(ConvTransposeTyped, WeightsHaveKerasLayoutAndDefaults) {
  using T = TypeParam;
  Conv2DTranspose<T> layer(16, {3, 3});
  layer.build({8, 8, 32});
  ASSERT_EQ(layer.weights().size(), 2u);
  EXPECT_EQ(layer.weights()[0].name, "kernel");
  EXPECT_EQ(layer.kernel().shape(), (Shape{3, 3, 16, 32}));  // [kh, kw, filters, in_channels]
  EXPECT_EQ(layer.weights()[1].name, "bias");
  EXPECT_EQ(layer.bias().shape(), (Shape{16}));
  EXPECT_EQ(layer.count_params(), 3 * 3 * 16 * 32 + 16);
  // glorot_uniform with Keras's fans of the kernel's shape: (9 * 16, 9 * 32).
  const double limit = std::sqrt(6.0 / (9 * 16 + 9 * 32));
  const Tensor<T>& k = layer.kernel().value();
  EXPECT_LE(*std::max_element(k.begin(), k.end()), limit);
  EXPECT_GE(*std::min_element(k.begin(), k.end()), -limit);
  EXPECT_GT(*std::max_element(k.begin(), k.end()), 0.9 * limit);
  for (T b : layer.bias().value()) EXPECT_EQ(b, T(0));
  Conv2DTranspose<T> no_bias(2, {3, 3}, {.use_bias = false});
  no_bias.build({5, 5, 3});
  EXPECT_EQ(no_bias.weights().size(), 1u);
  EXPECT_EQ(no_bias.count_params(), 3 * 3 * 2 * 3);
}

struct TransposeCase {
  Shape x;
  index_t filters;
  std::array<index_t, 2> kernel;
  Conv2DLayerOptions options;
};

std::string describe(const TransposeCase& c) {
  return c.x.str() + " kernel " + std::to_string(c.kernel[0]) + "x" + std::to_string(c.kernel[1]) +
         " strides " + std::to_string(c.options.strides[0]) + "," +
         std::to_string(c.options.strides[1]) + " " + c.options.padding + " " +
         c.options.activation;
}

const std::vector<TransposeCase>& transpose_cases() {
  static const std::vector<TransposeCase> cases = {
      {{2, 3, 3, 2}, 3, {3, 3}, {}},
      {{1, 3, 3, 2}, 2, {3, 3}, {.padding = "same"}},
      {{1, 3, 2, 2}, 2, {3, 3}, {.strides = {2, 2}, .activation = "tanh"}},
      {{2, 2, 3, 1}, 2, {3, 3}, {.strides = {2, 2}, .padding = "same", .activation = "sigmoid"}},
      {{1, 3, 3, 2}, 2, {4, 3}, {.padding = "same", .use_bias = false}},  // pads 1 + 2, 1 + 1
      {{1, 2, 3, 2}, 2, {2, 1}, {.strides = {3, 2}}},                     // kernel < stride
      {{2, 2, 2, 3}, 2, {1, 1}, {.activation = "softmax"}},               // pointwise
  };
  return cases;
}

TEST(ConvTransposeGrad, OpMatchesFiniteDifferences) {
  // x, kernel and bias through the op itself, with the fused activation.
  std::uint64_t seed = 30;
  for (const TransposeCase& c : transpose_cases()) {
    SCOPED_TRACE(describe(c));
    if (c.options.activation == "softmax") continue;  // not fused into the op
    const Conv2DOptions o{.strides = c.options.strides,
                          .padding = parse_padding(c.options.padding),
                          .activation = c.options.activation};
    expect_gradients_match(
        [&](const std::vector<V>& v) { return conv2d_transpose(v[0], v[1], v[2], o); },
        {random_tensor(c.x, seed),
         random_tensor({c.kernel[0], c.kernel[1], c.filters, c.x[3]}, seed + 1),
         random_tensor({c.filters}, seed + 2)});
    expect_gradients_match(
        [&](const std::vector<V>& v) { return conv2d_transpose(v[0], v[1], o); },
        {random_tensor(c.x, seed + 3),
         random_tensor({c.kernel[0], c.kernel[1], c.filters, c.x[3]}, seed + 4)});
    seed += 5;
  }
}

TEST(ConvTransposeGrad, BatchInPiecesSumsLikeImageByImage) {
  // 16x16 pixels by a 3x3x16 kernel: each image is its own piece of the batch (patch matrices
  // stay small), so dK and db accumulate over pieces; they must equal the per-image sums.
  const Conv2DOptions o{.activation = "tanh"};
  const Tensor<double> x = random_tensor({3, 16, 16, 2}, 90), k = random_tensor({3, 3, 16, 2}, 91);
  const Tensor<double> b = random_tensor({16}, 92), up = random_tensor({3, 18, 18, 16}, 93);
  V xv(x.clone(), true), kv(k.clone(), true), bv(b.clone(), true);
  conv2d_transpose(xv, kv, bv, o).backward(up);
  Tensor<double> dk = Tensor<double>::zeros(k.shape()), db = Tensor<double>::zeros(b.shape());
  for (index_t n = 0; n < 3; ++n) {
    V xn(x.slice(n, n + 1).clone(), true), kn(k.clone(), true), bn(b.clone(), true);
    conv2d_transpose(xn, kn, bn, o).backward(up.slice(n, n + 1).clone());
    for (index_t i = 0; i < dk.size(); ++i) dk.data()[i] += kn.grad().data()[i];
    for (index_t i = 0; i < db.size(); ++i) db.data()[i] += bn.grad().data()[i];
    expect_close(xv.grad().slice(n, n + 1).clone(), xn.grad(), 1e-12, "dx");
  }
  expect_close(kv.grad(), dk, 1e-11, "dkernel");
  expect_close(bv.grad(), db, 1e-11, "dbias");
}

TEST(ConvTransposeGrad, LayerMatchesFiniteDifferences) {
  std::uint64_t seed = 60;
  for (const TransposeCase& c : transpose_cases()) {
    SCOPED_TRACE(describe(c));
    Conv2DTranspose<double> layer(c.filters, c.kernel, c.options);
    layer.set_seed(seed);
    layer.build({c.x[1], c.x[2], c.x[3]});
    if (c.options.use_bias) set_weight(layer, "bias", random_tensor({c.filters}, seed + 100));
    expect_layer_gradients_match(layer, random_tensor(c.x, seed++));
  }
}

TEST(ConvTransposeReference, MatchesPyTorch) {
  const testing::Reference ref("layers/reference/conv_transpose.txt");
  for (const std::string name : {"ct_a", "ct_b", "ct_c", "ct_d", "ct_e", "ct_f", "ct_g", "ct_h"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    const auto at = [&](int i) { return static_cast<index_t>(o.data()[i]); };
    const Conv2DLayerOptions options{.strides = {at(3), at(4)},
                                     .padding = at(5) ? "same" : "valid",
                                     .activation = testing::reference_activation(o.data()[7]),
                                     .use_bias = at(6) != 0};
    Conv2DTranspose<double> layer(at(0), {at(1), at(2)}, options);
    expect_layer_matches_reference(layer, ref, name);
    // float: the same forward within float's rounding.
    Conv2DTranspose<float> single(at(0), {at(1), at(2)}, options);
    const Tensor<float> x = ref.tensor<float>(name + ".x");
    single.build({x.dim(1), x.dim(2), x.dim(3)});
    for (const Weight<float>& w : single.weights())
      set_weight(single, w.name, ref.tensor<float>(name + "." + w.name));
    expect_close(single(Variable<float>(x)).value(), ref.tensor(name + ".y"), 1e-5, name + ".y");
  }
}

// --- UpSampling2D, ZeroPadding2D, global pooling -----------------------------------------------

TYPED_TEST(ConvTransposeTyped, UpSamplingRepeatsPixels) {
  using T = TypeParam;
  const Variable<T> x(Tensor<T>({1, 2, 2, 1}, {1, 2, 3, 4}));
  UpSampling2D<T> up({2, 3});
  expect_tensor_near(up(x).value(), {1, 4, 6, 1},
                     {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}, 0);
  EXPECT_EQ(up.output_shape(), (Shape{4, 6, 1}));
  UpSampling2D<T> keras_default;  // size (2, 2); channels move together
  const Variable<T> two(Tensor<T>({1, 1, 1, 2}, {5, -5}));
  expect_tensor_near(keras_default(two).value(), {1, 2, 2, 2}, {5, -5, 5, -5, 5, -5, 5, -5}, 0);
  EXPECT_EQ(keras_default.count_params(), 0);
}

TYPED_TEST(ConvTransposeTyped, ZeroPaddingForms) {
  using T = TypeParam;
  const Variable<T> x(Tensor<T>({1, 2, 2, 1}, {1, 2, 3, 4}));
  ZeroPadding2D<T> sides({{1, 0}, {0, 2}});  // ((top, bottom), (left, right))
  expect_tensor_near(sides(x).value(), {1, 3, 4, 1}, {0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0}, 0);
  ZeroPadding2D<T> all;  // Keras's default: 1 on every side
  expect_tensor_near(all(x).value(), {1, 4, 4, 1}, {0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 0, 0, 0, 0, 0},
                     0);
  ZeroPadding2D<T> hw({1, 2});  // 1 row above and below, 2 columns left and right
  EXPECT_EQ(hw(x).shape(), (Shape{1, 4, 6, 1}));
  EXPECT_EQ(hw.output_shape(), (Shape{4, 6, 1}));
  ZeroPadding2D<T> two(2);
  two.build({5, 3, 7});
  EXPECT_EQ(two.output_shape(), (Shape{9, 7, 7}));
  EXPECT_EQ(two.count_params(), 0);
}

TYPED_TEST(ConvTransposeTyped, GlobalPoolingOverHeightAndWidth) {
  using T = TypeParam;
  // Channel 0 = 1..4, channel 1 = -1, -5, 0, 2.
  const Variable<T> x(Tensor<T>({1, 2, 2, 2}, {1, -1, 2, -5, 3, 0, 4, 2}));
  GlobalAveragePooling2D<T> avg;
  expect_tensor_near(avg(x).value(), {1, 2}, {2.5, -1}, 1e-6);
  EXPECT_EQ(avg.output_shape(), (Shape{2}));
  GlobalMaxPooling2D<T> max_pool;
  expect_tensor_near(max_pool(x).value(), {1, 2}, {4, 2}, 0);
  GlobalMaxPooling2D<T> kept({.keepdims = true});
  expect_tensor_near(kept(x).value(), {1, 1, 1, 2}, {4, 2}, 0);
  EXPECT_EQ(kept.output_shape(), (Shape{1, 1, 2}));
  GlobalAveragePooling2D<T> avg_kept({.keepdims = true});
  EXPECT_EQ(avg_kept(x).shape(), (Shape{1, 1, 1, 2}));
  // Tied maxima share the gradient evenly (TensorFlow's reduce_max and PyTorch's amax).
  Variable<T> flat(Tensor<T>::ones({1, 2, 2, 1}), true);
  GlobalMaxPooling2D<T> one_channel;
  one_channel(flat).backward(Tensor<T>({1, 1}, {1}));
  expect_tensor_near(flat.grad(), {1, 2, 2, 1}, {0.25, 0.25, 0.25, 0.25}, 0);
}

TEST(SpatialGrad, OpsMatchFiniteDifferences) {
  expect_gradients_match(
      [](const std::vector<V>& v) {
        return upsample_nearest2d(v[0], {2, 3});
      },
      {random_tensor({2, 2, 3, 2}, 1)});
  expect_gradients_match(
      [](const std::vector<V>& v) {
        return upsample_nearest2d(v[0], {1, 2});
      },
      {random_tensor({1, 3, 2, 1}, 2)});
  expect_gradients_match(
      [](const std::vector<V>& v) {
        return zero_pad2d(v[0], {1, 2, 0, 3});
      },
      {random_tensor({2, 2, 3, 2}, 3)});
  expect_gradients_match(
      [](const std::vector<V>& v) {
        return zero_pad2d(v[0], {0, 0, 2, 0});
      },
      {random_tensor({1, 2, 2, 3}, 4)});
}

TEST(SpatialGrad, LayersMatchFiniteDifferences) {
  UpSampling2D<double> up({2, 2});
  expect_layer_gradients_match(up, random_tensor({2, 2, 3, 2}, 5));
  ZeroPadding2D<double> pad({{2, 1}, {1, 0}});
  expect_layer_gradients_match(pad, random_tensor({2, 2, 3, 2}, 6));
  GlobalAveragePooling2D<double> avg;
  expect_layer_gradients_match(avg, random_tensor({2, 3, 4, 2}, 7));
  GlobalMaxPooling2D<double> max_pool({.keepdims = true});
  expect_layer_gradients_match(max_pool, random_tensor({2, 3, 4, 2}, 8));
}

TEST(SpatialReference, MatchesPyTorch) {
  const testing::Reference ref("layers/reference/conv_transpose.txt");
  const auto at = [&](const std::string& name, int i) {
    return static_cast<index_t>(ref.tensor(name + ".options").data()[i]);
  };
  for (const std::string name : {"up_a", "up_b"}) {
    SCOPED_TRACE(name);
    UpSampling2D<double> layer({at(name, 0), at(name, 1)});
    expect_layer_matches_reference(layer, ref, name);
  }
  for (const std::string name : {"zp_a", "zp_b"}) {
    SCOPED_TRACE(name);
    ZeroPadding2D<double> layer({{at(name, 0), at(name, 1)}, {at(name, 2), at(name, 3)}});
    expect_layer_matches_reference(layer, ref, name);
  }
  for (const std::string name : {"gap_a", "gap_b"}) {
    SCOPED_TRACE(name);
    GlobalAveragePooling2D<double> layer({.keepdims = at(name, 0) != 0});
    expect_layer_matches_reference(layer, ref, name);
  }
  for (const std::string name : {"gmp_a", "gmp_b"}) {
    SCOPED_TRACE(name);
    GlobalMaxPooling2D<double> layer({.keepdims = at(name, 0) != 0});
    expect_layer_matches_reference(layer, ref, name);
  }
}

// --- summary, names, configs, save/load ---------------------------------------------------------

Sequential<double> decoder_model() {
  Sequential<double> model({.seed = 11});
  model.add(Conv2DTranspose<double>(
      16, {3, 3},
      {.strides = {2, 2}, .padding = "same", .activation = "relu", .input_shape = {7, 7, 8}}));
  model.add(UpSampling2D<double>());
  model.add(ZeroPadding2D<double>(2));
  model.add(Conv2DTranspose<double>(4, {2, 2}, {.use_bias = false}));
  model.add(GlobalMaxPooling2D<double>());
  return model;
}

TEST(ConvTransposeModel, SummaryShowsKerasNamesShapesAndParameterCounts) {
  EXPECT_EQ(snake_case("Conv2DTranspose"), "conv2d_transpose");
  EXPECT_EQ(snake_case("UpSampling2D"), "up_sampling2d");
  EXPECT_EQ(snake_case("ZeroPadding2D"), "zero_padding2d");
  EXPECT_EQ(snake_case("GlobalAveragePooling2D"), "global_average_pooling2d");
  EXPECT_EQ(snake_case("GlobalMaxPooling2D"), "global_max_pooling2d");
  Sequential<double> model = decoder_model();
  model.build({7, 7, 8});
  std::ostringstream out;
  model.summary(out);
  // One row per layer: "name (Class)", its output shape and its parameter count.
  const std::string s = out.str();
  const std::vector<std::array<std::string, 3>> rows = {
      {"conv2d_transpose (Conv2DTranspose)", "(None, 14, 14, 16)", "1,168"},
      {"up_sampling2d (UpSampling2D)", "(None, 28, 28, 16)", " 0"},
      {"zero_padding2d (ZeroPadding2D)", "(None, 32, 32, 16)", " 0"},
      {"conv2d_transpose_1 (Conv2DTranspose)", "(None, 33, 33, 4)", "256"},
      {"global_max_pooling2d (GlobalMaxPooling2D)", "(None, 4)", " 0"},
  };
  for (const auto& [name, shape, params] : rows) {
    const std::size_t at = s.find(" " + name + " ");
    ASSERT_NE(at, std::string::npos) << "lacks " << name << " in\n" << s;
    const std::string line = s.substr(at, s.find('\n', at) - at);
    EXPECT_NE(line.find(shape), std::string::npos) << line;
    EXPECT_EQ(line.substr(line.size() - params.size()), params) << line;
  }
  EXPECT_NE(s.find("Total params: 1,424\n"), std::string::npos) << s;
  EXPECT_NE(s.find("Trainable params: 1,424\n"), std::string::npos) << s;
}

TYPED_TEST(ConvTransposeTyped, ConfigsRoundTrip) {
  using T = TypeParam;
  const Conv2DTranspose<T> ct(5, {4, 3},
                              {.strides = {2, 1},
                               .padding = "same",
                               .activation = "tanh",
                               .use_bias = false,
                               .kernel_initializer = "he_normal",
                               .bias_initializer = "ones",
                               .input_shape = {6, 6, 2},
                               .name = "deconv"});
  expect_config_round_trip<T>(ct);
  EXPECT_EQ(ct.get_config()["kernel_size"], (Json{4, 3}));
  EXPECT_EQ(ct.get_config()["padding"], "same");
  const UpSampling2D<T> up({3, 2}, {.name = "up"});
  expect_config_round_trip<T>(up);
  EXPECT_EQ(up.get_config()["size"], (Json{3, 2}));
  EXPECT_EQ(up.get_config()["interpolation"], "nearest");
  const ZeroPadding2D<T> pad({{1, 2}, {3, 0}});
  expect_config_round_trip<T>(pad);
  EXPECT_EQ(pad.get_config()["padding"], (Json{{1, 2}, {3, 0}}));  // as Keras's get_config
  expect_config_round_trip<T>(GlobalAveragePooling2D<T>({.keepdims = true}));
  expect_config_round_trip<T>(GlobalMaxPooling2D<T>());
  EXPECT_EQ(GlobalMaxPooling2D<T>().get_config()["keepdims"], false);
  // ZeroPadding2D's config also takes Keras's other two spellings.
  EXPECT_EQ(ZeroPadding2D<T>::from_config({{"padding", 2}})->padding().right, 2);
  const auto hw = ZeroPadding2D<T>::from_config({{"padding", {1, 3}}})->padding();
  EXPECT_EQ((std::array<index_t, 4>{hw.top, hw.bottom, hw.left, hw.right}),
            (std::array<index_t, 4>{1, 1, 3, 3}));
}

TEST(ConvTransposeModel, SaveLoadRoundTrips) {
  Sequential<double> model = decoder_model();
  model.build({7, 7, 8});
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "conv_transpose.safetensors").string();
  model.save(path);
  const std::shared_ptr<Model<double>> loaded = load_model<double>(path);
  EXPECT_EQ(loaded->spec(), model.spec());
  const Tensor<double> x = random_tensor({2, 7, 7, 8}, 9);
  EXPECT_EQ(loaded->predict(x).to_vector(), model.predict(x).to_vector());
}

// --- errors -------------------------------------------------------------------------------------

TEST(ConvTransposeErrors, BadOptions) {
  expect_error<ValueError>(
      [] {
        Conv2DTranspose<double>(0, {3, 3});
      },
      {"Conv2DTranspose", "filters", "0"});
  expect_error<ValueError>(
      [] {
        Conv2DTranspose<double>(-2, {3, 3});
      },
      {"Conv2DTranspose", "filters", "-2"});
  expect_error<ValueError>(
      [] {
        Conv2DTranspose<double>(4, {3, 0});
      },
      {"Conv2DTranspose", "kernel_size", "[3, 0]"});
  expect_error<ValueError>(
      [] {
        Conv2DTranspose<double>(4, {3, 3}, {.strides = {0, 1}});
      },
      {"Conv2DTranspose", "strides", "[0, 1]"});
  expect_error<ValueError>(
      [] {
        Conv2DTranspose<double>(4, {3, 3}, {.strides = {2, 0}});
      },
      {"Conv2DTranspose", "strides", "[2, 0]"});
  expect_error<ValueError>(
      [] {
        Conv2DTranspose<double>(4, {3, 3}, {.padding = "full"});
      },
      {"Conv2DTranspose option padding: unknown padding 'full'", "valid", "same"});
  expect_error<ValueError>(
      [] {
        Conv2DTranspose<double>(4, {3, 3}, {.activation = "relu6x"});
      },
      {"Conv2DTranspose option activation", "relu6x"});
  expect_error<ValueError>(
      [] {
        Conv2DTranspose<double>(4, {3, 3}, {.kernel_initializer = "he"});
      },
      {"Conv2DTranspose option kernel_initializer", "'he'"});
  expect_error<ValueError>(
      [] {
        UpSampling2D<double>({0, 2});
      },
      {"UpSampling2D", "size", "[0, 2]"});
  expect_error<ValueError>(
      [] {
        UpSampling2D<double>({2, -1});
      },
      {"UpSampling2D", "size", "[2, -1]"});
  expect_error<ValueError>(
      [] {
        UpSampling2D<double>({2, 2}, {.interpolation = "bilinear"});
      },
      {"UpSampling2D option interpolation", "'bilinear'", "not supported yet", "nearest"});
  expect_error<ValueError>(
      [] {
        UpSampling2D<double>({2, 2}, {.interpolation = "linear"});
      },
      {"UpSampling2D option interpolation", "unknown", "'linear'", "nearest"});
  expect_error<ValueError>([] { ZeroPadding2D<double>(-1); },
                           {"ZeroPadding2D", "padding", "((-1, -1), (-1, -1))"});
  expect_error<ValueError>(
      [] {
        ZeroPadding2D<double>({{0, 1}, {2, -3}});
      },
      {"ZeroPadding2D", "padding", "((0, 1), (2, -3))"});
  expect_error<ValueError>(
      [] {
        ZeroPadding2D<double>({{0, 1}, {2, 3}, {4, 5}});
      },
      {"ZeroPadding2D", "{{top, bottom}, {left, right}}", "3 pairs"});
  expect_error<ValueError>(
      [] {
        ZeroPadding2D<double>::from_config({{"padding", "1"}});
      },
      {"ZeroPadding2D config", "'padding'", "\"1\""});
  expect_error<ValueError>(
      [] {
        UpSampling2D<double>::from_config({{"size", {2, 2}}, {"interpolation", "bicubic"}});
      },
      {"UpSampling2D option interpolation", "'bicubic'", "not supported yet"});
  expect_error<ValueError>(
      [] {
        GlobalMaxPooling2D<double>::from_config({{"keepdims", 1}});
      },
      {"GlobalMaxPooling2D config", "'keepdims'", "boolean"});
}

TEST(ConvTransposeErrors, BadInputShapes) {
  // Rank: each layer wants [batch, height, width, channels].
  const V flat(Tensor<double>({4, 28, 28}));
  expect_error<ShapeError>(
      [&] {
        Conv2DTranspose<double>(2, {3, 3})(flat);
      },
      {"Conv2DTranspose \"conv2d_transpose\"", "[batch, height, width, channels]", "[28, 28]"});
  expect_error<ShapeError>([&] { UpSampling2D<double>()(flat); },
                           {"UpSampling2D \"up_sampling2d\"", "[batch, height, width, channels]"});
  expect_error<ShapeError>(
      [&] { ZeroPadding2D<double>()(flat); },
      {"ZeroPadding2D \"zero_padding2d\"", "[batch, height, width, channels]"});
  expect_error<ShapeError>(
      [&] { GlobalAveragePooling2D<double>()(flat); },
      {"GlobalAveragePooling2D \"global_average_pooling2d\"", "[batch, height, width, channels]"});
  expect_error<ShapeError>(
      [&] {
        GlobalMaxPooling2D<double>()(V(Tensor<double>({2, 3, 3, 3, 1})));
      },
      {"GlobalMaxPooling2D \"global_max_pooling2d\"", "[3, 3, 3, 1]"});
  // Channels (or any size) changing after the build.
  const V three(Tensor<double>({2, 5, 5, 3})), four(Tensor<double>({2, 5, 5, 4}));
  Conv2DTranspose<double> ct(2, {3, 3}, {.name = "deconv"});
  ct(three);
  expect_error<ShapeError>(
      [&] { ct(four); },
      {"Conv2DTranspose \"deconv\": expected input [*, 5, 5, 3], got [2, 5, 5, 4]"});
  UpSampling2D<double> up;
  up(three);
  expect_error<ShapeError>([&] { up(four); },
                           {"UpSampling2D \"up_sampling2d\"", "[*, 5, 5, 3]", "[2, 5, 5, 4]"});
  ZeroPadding2D<double> pad;
  pad(three);
  expect_error<ShapeError>([&] { pad(four); }, {"ZeroPadding2D", "[*, 5, 5, 3]", "[2, 5, 5, 4]"});
  GlobalAveragePooling2D<double> avg;
  avg(three);
  expect_error<ShapeError>([&] { avg(four); },
                           {"GlobalAveragePooling2D", "[*, 5, 5, 3]", "[2, 5, 5, 4]"});
  GlobalMaxPooling2D<double> max_pool;
  max_pool(three);
  expect_error<ShapeError>([&] { max_pool(four); },
                           {"GlobalMaxPooling2D", "[*, 5, 5, 3]", "[2, 5, 5, 4]"});
  // Nothing to pool.
  expect_error<ShapeError>(
      [&] {
        GlobalMaxPooling2D<double>().build({0, 3, 2});
      },
      {"GlobalMaxPooling2D", "[*, 0, 3, 2]", "no pixels"});
}

TEST(ConvTransposeErrors, OpsNameTheProblem) {
  const V x(Tensor<double>({1, 3, 3, 2}));
  expect_error<ShapeError>(
      [&] {
        conv2d_transpose(x, V(Tensor<double>({3, 3, 4, 5})));
      },
      {"conv2d_transpose", "[1, 3, 3, 2]", "2 channels", "[3, 3, 4, 5]", "5"});
  expect_error<ShapeError>(
      [&] {
        conv2d_transpose(x, V(Tensor<double>({3, 3, 4, 2})), V(Tensor<double>({2})));
      },
      {"conv2d_transpose", "bias [2]", "4 filters", "expected [4]"});
  expect_error<ShapeError>(
      [&] {
        conv2d_transpose(x, V(Tensor<double>({3, 3, 2})));
      },
      {"conv2d_transpose", "kernel must be [kernel_h, kernel_w, filters, in_channels]"});
  expect_error<ValueError>(
      [&] {
        conv2d_transpose(x, V(Tensor<double>({3, 3, 4, 2})), {.strides = {1, 0}});
      },
      {"conv2d_transpose", "strides", "[1, 0]"});
  expect_error<ShapeError>(
      [&] {
        upsample_nearest2d(V(Tensor<double>({3, 3})), {2, 2});
      },
      {"upsample_nearest2d", "[3, 3]"});
  expect_error<ValueError>(
      [&] {
        upsample_nearest2d(x, {2, 0});
      },
      {"upsample_nearest2d", "size", "[2, 0]"});
  expect_error<ValueError>([&] { zero_pad2d(x, {.top = 1, .left = -1}); },
                           {"zero_pad2d", "top 1", "left -1"});
}

}  // namespace
}  // namespace lamina
