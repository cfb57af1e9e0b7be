// Conv1D, MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D and GlobalMaxPooling1D:
// sequences [batch, steps, channels].
#include "lamina/layers/conv1d.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support/layer_check.hpp"
#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::distinct_tensor;
using testing::expect_config_round_trip;
using testing::expect_error;
using testing::expect_layer_gradients_match;
using testing::expect_layer_matches_reference;
using testing::expect_summary_rows;
using testing::expect_tensor_near;
using testing::random_tensor;
using testing::set_weight;
using V = Variable<double>;

template <class T>
class Conv1DTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(Conv1DTyped, Scalars);

// --- Conv1D -------------------------------------------------------------------------------------

TYPED_TEST(Conv1DTyped, ForwardIsCrossCorrelationPlusBiasThenActivation) {
  using T = TypeParam;
  // x = 1..5, one channel; kernel [1, 2, 3]: y[t] = x[t] + 2 x[t+1] + 3 x[t+2] + bias.
  const Variable<T> x(Tensor<T>({1, 5, 1}, {1, 2, 3, 4, 5}));
  Conv1D<T> conv(1, 3);
  conv.build({5, 1});
  set_weight(conv, "kernel", Tensor<T>({3, 1, 1}, {1, 2, 3}));
  set_weight(conv, "bias", Tensor<T>({1}, {-20}));
  expect_tensor_near(conv(x).value(), {1, 3, 1}, {-6, 0, 6}, 0);
  Conv1D<T> relu(1, 3, {.activation = "relu"});
  relu.build({5, 1});
  set_weight(relu, "kernel", Tensor<T>({3, 1, 1}, {1, 2, 3}));
  set_weight(relu, "bias", Tensor<T>({1}, {-20}));
  expect_tensor_near(relu(x).value(), {1, 3, 1}, {0, 0, 6}, 0);
}

TYPED_TEST(Conv1DTyped, SameAndCausalPadding) {
  using T = TypeParam;
  const Variable<T> x(Tensor<T>({1, 5, 1}, {1, 2, 3, 4, 5}));
  const auto make = [](Conv1DLayerOptions o) {
    Conv1D<T> conv(1, 3, o);
    conv.build({5, 1});
    set_weight(conv, "kernel", Tensor<T>({3, 1, 1}, {1, 2, 3}));
    return conv;
  };
  // same: one zero on each side: [0 1 2 3 4 5 0].
  Conv1D<T> same = make({.padding = "same", .use_bias = false});
  expect_tensor_near(same(x).value(), {1, 5, 1}, {8, 14, 20, 26, 14}, 0);
  // causal: two zeros in front, so y[t] sees x[t - 2..t] only: [0 0 1 2 3 4 5].
  Conv1D<T> causal = make({.padding = "causal", .use_bias = false});
  expect_tensor_near(causal(x).value(), {1, 5, 1}, {3, 8, 14, 20, 26}, 0);
  // causal with stride 2: positions 0, 2, 4 of the above.
  Conv1D<T> strided = make({.strides = 2, .padding = "causal", .use_bias = false});
  expect_tensor_near(strided(x).value(), {1, 3, 1}, {3, 14, 26}, 0);
  // Changing a later input never changes an earlier causal output.
  const Variable<T> later(Tensor<T>({1, 5, 1}, {1, 2, 3, 4, 50}));
  expect_tensor_near(causal(later).value(), {1, 5, 1}, {3, 8, 14, 20, 161}, 0);
}

TYPED_TEST(Conv1DTyped, OutputStepsFollowKerasForEveryPadding) {
  using T = TypeParam;
  struct Case {
    index_t steps, kernel, strides;
    std::string padding;
    index_t out;
  };
  const std::vector<Case> cases = {
      {100, 3, 1, "valid", 98}, {100, 3, 1, "same", 100}, {100, 3, 1, "causal", 100},
      {10, 3, 2, "valid", 4},   {10, 3, 2, "same", 5},    {10, 3, 2, "causal", 5},
      {9, 4, 3, "valid", 2},    {9, 4, 3, "same", 3},     {9, 4, 3, "causal", 3},
      {3, 3, 1, "valid", 1},    {2, 5, 1, "same", 2},     {2, 5, 2, "causal", 1},
  };
  for (const Case& c : cases) {
    Conv1D<T> conv(4, c.kernel, {.strides = c.strides, .padding = c.padding});
    const Variable<T> y = conv(Variable<T>(Tensor<T>({2, c.steps, 3})));
    EXPECT_EQ(conv.output_shape(), (Shape{c.out, 4}))
        << c.steps << " steps, kernel " << c.kernel << ", strides " << c.strides << " "
        << c.padding;
    EXPECT_EQ(y.shape(), (Shape{2, c.out, 4}));
  }
}

TYPED_TEST(Conv1DTyped, WeightsHaveKerasLayoutAndDefaults) {
  using T = TypeParam;
  Conv1D<T> conv(32, 3);
  conv.build({100, 8});
  ASSERT_EQ(conv.weights().size(), 2u);
  EXPECT_EQ(conv.weights()[0].name, "kernel");
  EXPECT_EQ(conv.kernel().shape(), (Shape{3, 8, 32}));
  EXPECT_EQ(conv.weights()[1].name, "bias");
  EXPECT_EQ(conv.bias().shape(), (Shape{32}));
  EXPECT_EQ(conv.count_params(), 800);  // Keras: Conv1D(32, 3) on (100, 8)
  EXPECT_EQ(conv.output_shape(), (Shape{98, 32}));
  // glorot_uniform with Keras's fans for a 1-D kernel: (3 * 8, 3 * 32).
  const double limit = std::sqrt(6.0 / (3 * 8 + 3 * 32));
  const Tensor<T>& k = conv.kernel().value();
  EXPECT_LE(*std::max_element(k.begin(), k.end()), limit);
  EXPECT_GE(*std::min_element(k.begin(), k.end()), -limit);
  EXPECT_GT(*std::max_element(k.begin(), k.end()), 0.9 * limit);
  for (T b : conv.bias().value()) EXPECT_EQ(b, T(0));
  Conv1D<T> no_bias(2, 5, {.use_bias = false});
  no_bias.build({7, 3});
  EXPECT_EQ(no_bias.weights().size(), 1u);
  EXPECT_EQ(no_bias.count_params(), 5 * 3 * 2);
}

TEST(Conv1DGrad, MatchesFiniteDifferences) {
  struct Case {
    Shape x;
    index_t filters, kernel;
    Conv1DLayerOptions options;
  };
  const std::vector<Case> cases = {
      {{2, 7, 2}, 3, 3, {}},
      {{2, 7, 2}, 3, 3, {.padding = "same"}},
      {{2, 7, 2}, 3, 3, {.padding = "causal"}},
      {{1, 9, 3}, 2, 4, {.strides = 2, .padding = "same", .activation = "tanh"}},
      {{2, 8, 1}, 2, 2, {.strides = 3, .padding = "causal", .use_bias = false}},
      {{2, 6, 2}, 3, 2, {.activation = "sigmoid"}},
      {{2, 5, 3}, 4, 1, {.activation = "softmax"}},
  };
  std::uint64_t seed = 30;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.x.str() + " kernel " + std::to_string(c.kernel) + " strides " +
                 std::to_string(c.options.strides) + " " + c.options.padding + " " +
                 c.options.activation);
    Conv1D<double> conv(c.filters, c.kernel, c.options);
    conv.set_seed(seed);
    conv.build({c.x[1], c.x[2]});
    if (c.options.use_bias) set_weight(conv, "bias", random_tensor({c.filters}, seed + 100));
    expect_layer_gradients_match(conv, random_tensor(c.x, seed++));
  }
}

TEST(Conv1DReference, MatchesPyTorch) {
  const testing::Reference ref("layers/reference/conv1d.txt");
  const std::vector<std::string> paddings = {"valid", "same", "causal"};
  for (const std::string name :
       {"conv1d_a", "conv1d_b", "conv1d_c", "conv1d_d", "conv1d_e", "conv1d_f"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    const auto at = [&](int i) { return static_cast<index_t>(o.data()[i]); };
    Conv1D<double> conv(at(0), at(1),
                        {.strides = at(2),
                         .padding = paddings.at(static_cast<std::size_t>(at(3))),
                         .activation = testing::reference_activation(o.data()[5]),
                         .use_bias = at(4) != 0});
    expect_layer_matches_reference(conv, ref, name);
  }
}

TEST(Conv1DErrors, BadOptions) {
  expect_error<ValueError>([] { Conv1D<double>(0, 3); }, {"Conv1D", "filters", "0"});
  expect_error<ValueError>([] { Conv1D<double>(4, -1); }, {"Conv1D", "kernel_size", "-1"});
  expect_error<ValueError>([] { Conv1D<double>(4, 3, {.strides = 0}); },
                           {"Conv1D", "strides", "0"});
  expect_error<ValueError>([] { Conv1D<double>(4, 3, {.padding = "full"}); },
                           {"Conv1D option padding", "'full'", "valid, same, causal"});
  expect_error<ValueError>([] { Conv1D<double>(4, 3, {.dilation_rate = 2}); },
                           {"Conv1D", "dilation_rate 2", "not supported"});
  expect_error<ValueError>([] { Conv1D<double>(4, 3, {.dilation_rate = 0}); },
                           {"Conv1D", "dilation_rate", "positive", "0"});
  expect_error<ValueError>([] { Conv1D<double>(4, 3, {.activation = "relux"}); },
                           {"Conv1D option activation", "relux"});
  expect_error<ValueError>([] { Conv1D<double>(4, 3, {.kernel_initializer = "glorot"}); },
                           {"Conv1D option kernel_initializer", "glorot"});
  expect_error<ValueError>([] { Conv1D<double>(4, 3, {.bias_initializer = "one"}); },
                           {"Conv1D option bias_initializer", "one"});
  expect_error<ValueError>(
      [] {
        Conv1D<double>::from_config({{"filters", 4}, {"kernel_size", {3, 3}}});
      },
      {"Conv1D config", "'kernel_size'", "an integer or a list of one integer", "[3,3]"});
  expect_error<ValueError>(
      [] {
        Conv1D<double>::from_config({{"kernel_size", 3}});
      },
      {"Conv1D config", "'filters'", "missing"});
}

TEST(Conv1DErrors, BadInputShapes) {
  // A rank-1 per-sample input (a batch [batch, features]) and an image are not sequences.
  expect_error<ShapeError>(
      [] {
        Conv1D<double>(2, 3)(V(Tensor<double>({4, 10})));
      },
      {"Conv1D \"conv1d\"", "[batch, steps, channels]", "[10]"});
  expect_error<ShapeError>(
      [] {
        Conv1D<double>(2, 3)(V(Tensor<double>({4, 8, 8, 1})));
      },
      {"Conv1D \"conv1d\"", "[batch, steps, channels]", "[8, 8, 1]"});
  // A kernel longer than the input with 'valid' padding; the failed build leaves no weights.
  Conv1D<double> conv(2, 5, {.name = "c"});
  expect_error<ShapeError>(
      [&] {
        conv(V(Tensor<double>({1, 3, 2})));
      },
      {"Conv1D \"c\"", "[*, 3, 2]", "3 steps", "kernel_size 5", "'valid'"});
  EXPECT_FALSE(conv.built());
  EXPECT_TRUE(conv.weights().empty());
  conv(V(Tensor<double>({1, 6, 2})));
  EXPECT_EQ(conv.count_params(), 5 * 2 * 2 + 2);
  // With 'same' or 'causal' any non-empty input fits.
  EXPECT_EQ(Conv1D<double>(2, 5, {.padding = "same"})(V(Tensor<double>({1, 3, 2}))).shape(),
            (Shape{1, 3, 2}));
  EXPECT_EQ(Conv1D<double>(2, 5, {.padding = "causal"})(V(Tensor<double>({1, 3, 2}))).shape(),
            (Shape{1, 3, 2}));
  // Channels changing after the build.
  expect_error<ShapeError>(
      [&] {
        conv(V(Tensor<double>({1, 6, 3})));
      },
      {"Conv1D \"c\": expected input [*, 6, 2], got [1, 6, 3]"});
}

// --- MaxPooling1D, AveragePooling1D -------------------------------------------------------------

TYPED_TEST(Conv1DTyped, PoolingOverSteps) {
  using T = TypeParam;
  // Channel 0 = 1..5, channel 1 = its negation.
  const Variable<T> x(Tensor<T>({1, 5, 2}, {1, -1, 2, -2, 3, -3, 4, -4, 5, -5}));
  MaxPooling1D<T> max_pool;  // Keras defaults: pool 2, strides = pool size, valid
  expect_tensor_near(max_pool(x).value(), {1, 2, 2}, {2, -1, 4, -3}, 0);
  EXPECT_EQ(max_pool.output_shape(), (Shape{2, 2}));
  EXPECT_EQ(max_pool.count_params(), 0);
  AveragePooling1D<T> avg_pool;
  expect_tensor_near(avg_pool(x).value(), {1, 2, 2}, {1.5, -1.5, 3.5, -3.5}, 0);
  // 'same': windows {1, 2}, {3, 4}, {5}; the average counts the in-bounds steps only.
  MaxPooling1D<T> max_same(2, {.padding = "same"});
  expect_tensor_near(max_same(x).value(), {1, 3, 2}, {2, -1, 4, -3, 5, -5}, 0);
  AveragePooling1D<T> avg_same(2, {.padding = "same"});
  expect_tensor_near(avg_same(x).value(), {1, 3, 2}, {1.5, -1.5, 3.5, -3.5, 5, -5}, 0);
  // Overlapping windows: pool 3, stride 1.
  MaxPooling1D<T> overlap(3, {.strides = 1});
  expect_tensor_near(overlap(x).value(), {1, 3, 2}, {3, -1, 4, -2, 5, -3}, 0);
  AveragePooling1D<T> avg_overlap(3, {.strides = 1});
  expect_tensor_near(avg_overlap(x).value(), {1, 3, 2}, {2, -2, 3, -3, 4, -4}, 1e-6);
}

TEST(Pooling1DGrad, MatchesFiniteDifferences) {
  MaxPooling1D<double> max_pool(3, {.strides = 2, .padding = "same"});
  expect_layer_gradients_match(max_pool, distinct_tensor({2, 7, 3}, 1));
  MaxPooling1D<double> max_valid;
  expect_layer_gradients_match(max_valid, distinct_tensor({2, 6, 2}, 2));
  AveragePooling1D<double> avg_pool(4, {.strides = 3, .padding = "same"});
  expect_layer_gradients_match(avg_pool, random_tensor({2, 6, 2}, 3));
  AveragePooling1D<double> avg_valid(3, {.strides = 1});
  expect_layer_gradients_match(avg_valid, random_tensor({1, 5, 3}, 4));
}

TEST(Pooling1DReference, MatchesPyTorch) {
  const testing::Reference ref("layers/reference/conv1d.txt");
  const auto options = [&](const std::string& name) {
    const Tensor<double> o = ref.tensor(name + ".options");
    const auto at = [&](int i) { return static_cast<index_t>(o.data()[i]); };
    return std::make_pair(at(0),
                          Pooling1DOptions{.strides = at(1), .padding = at(2) ? "same" : "valid"});
  };
  for (const std::string name : {"max1d_a", "max1d_b", "max1d_c", "max1d_d"}) {
    SCOPED_TRACE(name);
    const auto [pool_size, o] = options(name);
    MaxPooling1D<double> layer(pool_size, o);
    expect_layer_matches_reference(layer, ref, name);
  }
  for (const std::string name : {"avg1d_a", "avg1d_b", "avg1d_c", "avg1d_d"}) {
    SCOPED_TRACE(name);
    const auto [pool_size, o] = options(name);
    AveragePooling1D<double> layer(pool_size, o);
    expect_layer_matches_reference(layer, ref, name);
  }
}

TEST(Pooling1DErrors, BadOptionsAndShapes) {
  expect_error<ValueError>([] { MaxPooling1D<double>(0); }, {"MaxPooling1D", "pool_size", "0"});
  expect_error<ValueError>([] { AveragePooling1D<double>(2, {.strides = -1}); },
                           {"AveragePooling1D", "strides", "-1"});
  expect_error<ValueError>([] { MaxPooling1D<double>(2, {.padding = "causal"}); },
                           {"MaxPooling1D option padding", "'causal'", "valid, same"});
  expect_error<ValueError>(
      [] {
        MaxPooling1D<double>::from_config({{"pool_size", "2"}});
      },
      {"MaxPooling1D config", "'pool_size'", "\"2\""});
  expect_error<ShapeError>(
      [] {
        MaxPooling1D<double>()(V(Tensor<double>({4, 10})));
      },
      {"MaxPooling1D \"max_pooling1d\"", "[batch, steps, channels]", "[10]"});
  expect_error<ShapeError>(
      [] {
        AveragePooling1D<double>()(V(Tensor<double>({4, 8, 8, 1})));
      },
      {"AveragePooling1D \"average_pooling1d\"", "[batch, steps, channels]", "[8, 8, 1]"});
  MaxPooling1D<double> wide(4);
  expect_error<ShapeError>(
      [&] {
        wide(V(Tensor<double>({2, 3, 2})));
      },
      {"MaxPooling1D", "[*, 3, 2]", "3 steps", "pool_size 4", "'valid'"});
  EXPECT_EQ(MaxPooling1D<double>(4, {.padding = "same"})(V(Tensor<double>({2, 3, 2}))).shape(),
            (Shape{2, 1, 2}));
}

// --- GlobalAveragePooling1D, GlobalMaxPooling1D -------------------------------------------------

TYPED_TEST(Conv1DTyped, GlobalPoolingOverSteps) {
  using T = TypeParam;
  // Channel 0 = 1, 2, 3, 6; channel 1 = -1, -5, 0, 2.
  const Variable<T> x(Tensor<T>({1, 4, 2}, {1, -1, 2, -5, 3, 0, 6, 2}));
  GlobalAveragePooling1D<T> avg;
  expect_tensor_near(avg(x).value(), {1, 2}, {3, -1}, 1e-6);
  EXPECT_EQ(avg.output_shape(), (Shape{2}));
  GlobalMaxPooling1D<T> max_pool;
  expect_tensor_near(max_pool(x).value(), {1, 2}, {6, 2}, 0);
  GlobalMaxPooling1D<T> kept({.keepdims = true});
  expect_tensor_near(kept(x).value(), {1, 1, 2}, {6, 2}, 0);
  EXPECT_EQ(kept.output_shape(), (Shape{1, 2}));
  GlobalAveragePooling1D<T> avg_kept({.keepdims = true});
  EXPECT_EQ(avg_kept(x).shape(), (Shape{1, 1, 2}));
  // Tied maxima share the gradient evenly (TensorFlow's reduce_max and PyTorch's amax).
  Variable<T> flat(Tensor<T>::ones({1, 4, 1}), true);
  GlobalMaxPooling1D<T> one_channel;
  one_channel(flat).backward(Tensor<T>({1, 1}, {1}));
  expect_tensor_near(flat.grad(), {1, 4, 1}, {0.25, 0.25, 0.25, 0.25}, 0);
}

TEST(GlobalPooling1DGrad, MatchesFiniteDifferences) {
  GlobalAveragePooling1D<double> avg;
  expect_layer_gradients_match(avg, random_tensor({2, 5, 3}, 11));
  GlobalMaxPooling1D<double> max_pool({.keepdims = true});
  expect_layer_gradients_match(max_pool, distinct_tensor({2, 5, 3}, 12));
}

TEST(GlobalPooling1DReference, MatchesPyTorch) {
  const testing::Reference ref("layers/reference/conv1d.txt");
  const auto keepdims = [&](const std::string& name) {
    return ref.tensor(name + ".options").data()[0] != 0;
  };
  for (const std::string name : {"gap1d_a", "gap1d_b"}) {
    SCOPED_TRACE(name);
    GlobalAveragePooling1D<double> layer({.keepdims = keepdims(name)});
    expect_layer_matches_reference(layer, ref, name);
  }
  for (const std::string name : {"gmp1d_a", "gmp1d_b"}) {
    SCOPED_TRACE(name);
    GlobalMaxPooling1D<double> layer({.keepdims = keepdims(name)});
    expect_layer_matches_reference(layer, ref, name);
  }
}

TEST(GlobalPooling1DErrors, BadShapesAndConfigs) {
  expect_error<ShapeError>(
      [] {
        GlobalAveragePooling1D<double>()(V(Tensor<double>({4, 10})));
      },
      {"GlobalAveragePooling1D \"global_average_pooling1d\"", "[batch, steps, channels]", "[10]"});
  expect_error<ShapeError>(
      [] {
        GlobalMaxPooling1D<double>()(V(Tensor<double>({4, 8, 8, 1})));
      },
      {"GlobalMaxPooling1D \"global_max_pooling1d\"", "[batch, steps, channels]", "[8, 8, 1]"});
  expect_error<ShapeError>(
      [] {
        GlobalMaxPooling1D<double>().build({0, 3});
      },
      {"GlobalMaxPooling1D", "[*, 0, 3]", "no steps"});
  expect_error<ValueError>(
      [] {
        GlobalAveragePooling1D<double>::from_config({{"keepdims", 1}});
      },
      {"GlobalAveragePooling1D config", "'keepdims'", "boolean"});
}

// --- summary, configs, save/load ----------------------------------------------------------------

Sequential<double> sequence_model() {
  Sequential<double> model({.seed = 21});
  model.add(Conv1D<double>(32, 3, {.activation = "relu", .input_shape = {100, 8}}));
  model.add(MaxPooling1D<double>());
  model.add(Conv1D<double>(16, 5, {.strides = 2, .padding = "causal", .use_bias = false}));
  model.add(AveragePooling1D<double>(3, {.strides = 2, .padding = "same"}));
  model.add(GlobalMaxPooling1D<double>({.keepdims = true}));
  model.add(GlobalAveragePooling1D<double>());
  return model;
}

TEST(Conv1DModel, SummaryShowsKerasNamesShapesAndParameterCounts) {
  EXPECT_EQ(snake_case("Conv1D"), "conv1d");
  EXPECT_EQ(snake_case("MaxPooling1D"), "max_pooling1d");
  EXPECT_EQ(snake_case("AveragePooling1D"), "average_pooling1d");
  EXPECT_EQ(snake_case("GlobalAveragePooling1D"), "global_average_pooling1d");
  EXPECT_EQ(snake_case("GlobalMaxPooling1D"), "global_max_pooling1d");
  Sequential<double> model = sequence_model();
  model.build({100, 8});
  std::ostringstream out;
  model.summary(out);
  const std::string s = out.str();
  const std::vector<testing::SummaryRow> rows = {
      {"conv1d (Conv1D)", "(None, 98, 32)", "800"},
      {"max_pooling1d (MaxPooling1D)", "(None, 49, 32)", " 0"},
      {"conv1d_1 (Conv1D)", "(None, 25, 16)", "2,560"},
      {"average_pooling1d (AveragePooling1D)", "(None, 13, 16)", " 0"},
      {"global_max_pooling1d (GlobalMaxPooling1D)", "(None, 1, 16)", " 0"},
  };
  expect_summary_rows(s, rows);
  EXPECT_NE(s.find("Total params: 3,360\n"), std::string::npos) << s;
}

TYPED_TEST(Conv1DTyped, ConfigsRoundTrip) {
  using T = TypeParam;
  const Conv1D<T> conv(5, 4,
                       {.strides = 2,
                        .padding = "causal",
                        .activation = "tanh",
                        .use_bias = false,
                        .kernel_initializer = "he_normal",
                        .bias_initializer = "ones",
                        .input_shape = {6, 2},
                        .name = "c1"});
  expect_config_round_trip<T>(conv);
  // Keras's lists of one.
  EXPECT_EQ(conv.get_config()["kernel_size"], (Json{4}));
  EXPECT_EQ(conv.get_config()["strides"], (Json{2}));
  EXPECT_EQ(conv.get_config()["dilation_rate"], (Json{1}));
  EXPECT_EQ(conv.get_config()["padding"], "causal");
  const MaxPooling1D<T> max_pool(3, {.strides = 1, .padding = "same"});
  expect_config_round_trip<T>(max_pool);
  EXPECT_EQ(max_pool.get_config()["pool_size"], (Json{3}));
  EXPECT_EQ(max_pool.get_config()["strides"], (Json{1}));
  const AveragePooling1D<T> avg_pool(4);
  expect_config_round_trip<T>(avg_pool);
  EXPECT_EQ(avg_pool.get_config()["strides"], (Json{4}));  // Keras's strides=None: pool_size
  expect_config_round_trip<T>(GlobalAveragePooling1D<T>({.keepdims = true}));
  expect_config_round_trip<T>(GlobalMaxPooling1D<T>());
  // Integers (and null strides for pooling) read as Keras reads them.
  auto from_ints = Conv1D<T>::from_config({{"filters", 3}, {"kernel_size", 2}, {"strides", 2}});
  from_ints->build({9, 4});
  EXPECT_EQ(from_ints->kernel().shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(from_ints->output_shape(), (Shape{4, 3}));
  auto pool = MaxPooling1D<T>::from_config({{"pool_size", 3}, {"strides", nullptr}});
  pool->build({9, 1});
  EXPECT_EQ(pool->output_shape(), (Shape{3, 1}));
}

TEST(Conv1DModel, SaveLoadRoundTrips) {
  Sequential<double> model = sequence_model();
  model.build({100, 8});
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "conv1d.safetensors").string();
  model.save(path);
  const std::shared_ptr<Model<double>> loaded = load_model<double>(path);
  EXPECT_EQ(loaded->spec(), model.spec());
  const Tensor<double> x = random_tensor({2, 100, 8}, 9);
  EXPECT_EQ(loaded->predict(x).to_vector(), model.predict(x).to_vector());
}

TEST(Conv1DModel, LearnsToDetectAPatternInFloat) {
  // A sequence holds the motif [1, -1, 1] somewhere or not; Conv1D + GlobalMaxPooling1D can
  // learn that in a few epochs.
  Generator gen(5);
  const index_t n = 256, steps = 16;
  Tensor<float> x = Tensor<float>::uniform({n, steps, 1}, -0.3f, 0.3f, gen);
  Tensor<float> y({n, 1});
  for (index_t i = 0; i < n; ++i) {
    const bool has = i % 2 == 0;
    y.data()[i] = has ? 1.0f : 0.0f;
    if (!has) continue;
    const index_t at = static_cast<index_t>(gen.below(steps - 2));
    for (index_t j = 0; j < 3; ++j) x.data()[i * steps + at + j] = j == 1 ? -1.0f : 1.0f;
  }
  Sequential<float> model({.seed = 3});
  model.add(Conv1D<float>(8, 3, {.activation = "relu", .input_shape = {steps, 1}}));
  model.add(GlobalMaxPooling1D<float>());
  model.add(Dense<float>(1, {.activation = "sigmoid"}));
  model.compile("adam", "binary_crossentropy", {"accuracy"});
  const History h = model.fit(x, y, {.epochs = 30, .verbose = 0});
  EXPECT_GE(h.history.at("accuracy").back(), 0.95);
}

}  // namespace
}  // namespace lamina
