#include "lamina/layers/simple_rnn.hpp"

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
class SimpleRNNTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(SimpleRNNTyped, Scalars);

/// One unit on one feature: W = 0.5, U = 0.25, b = 0.1.
template <class T>
SimpleRNN<T> scalar_rnn(SimpleRNNOptions options) {
  SimpleRNN<T> rnn(1, std::move(options));
  rnn.build({2, 1});
  set_weight(rnn, "kernel", Tensor<T>({1, 1}, {0.5}));
  set_weight(rnn, "recurrent_kernel", Tensor<T>({1, 1}, {0.25}));
  set_weight(rnn, "bias", Tensor<T>({1}, {0.1}));
  return rnn;
}

TYPED_TEST(SimpleRNNTyped, RecurrenceStartsFromZeroState) {
  using T = TypeParam;
  // x = [1, 2]: h1 = act(0.5 + 0.1), h2 = act(1.0 + 0.25 h1 + 0.1).
  const Variable<T> x(Tensor<T>({1, 2, 1}, {1, 2}));
  const double h1 = std::tanh(0.6), h2 = std::tanh(1.1 + 0.25 * h1);
  SimpleRNN<T> last = scalar_rnn<T>({});
  expect_tensor_near(last(x).value(), {1, 1}, {h2}, 1e-6);
  SimpleRNN<T> seq = scalar_rnn<T>({.return_sequences = true});
  expect_tensor_near(seq(x).value(), {1, 2, 1}, {h1, h2}, 1e-6);
  SimpleRNN<T> relu = scalar_rnn<T>({.activation = "relu", .return_sequences = true});
  expect_tensor_near(relu(x).value(), {1, 2, 1}, {0.6, 1.25}, 1e-6);
}

TYPED_TEST(SimpleRNNTyped, WeightsShapesAndKerasDefaults) {
  using T = TypeParam;
  SimpleRNN<T> rnn(8);
  const Variable<T> y = rnn(Variable<T>(Tensor<T>::ones({4, 10, 3})));
  EXPECT_EQ(y.shape(), (Shape{4, 8}));
  EXPECT_EQ(rnn.input_shape(), (Shape{10, 3}));
  EXPECT_EQ(rnn.output_shape(), (Shape{8}));
  ASSERT_EQ(rnn.weights().size(), 3u);
  EXPECT_EQ(rnn.weights()[0].name, "kernel");
  EXPECT_EQ(rnn.weights()[1].name, "recurrent_kernel");
  EXPECT_EQ(rnn.weights()[2].name, "bias");
  EXPECT_EQ(rnn.kernel().shape(), (Shape{3, 8}));
  EXPECT_EQ(rnn.recurrent_kernel().shape(), (Shape{8, 8}));
  EXPECT_EQ(rnn.bias().shape(), (Shape{8}));
  EXPECT_EQ(rnn.count_params(), 3 * 8 + 8 * 8 + 8);
  // The recurrent kernel is orthogonal (Keras's default): U^T U = I.
  const Tensor<T>& u = rnn.recurrent_kernel().value();
  for (index_t i = 0; i < 8; ++i)
    for (index_t j = 0; j < 8; ++j) {
      double dot = 0;
      for (index_t k = 0; k < 8; ++k) dot += double(u.at({k, i})) * double(u.at({k, j}));
      EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-5);
    }
  for (T b : rnn.bias().value()) EXPECT_EQ(b, T(0));

  SimpleRNN<T> seq(5, {.use_bias = false, .return_sequences = true});
  EXPECT_EQ(seq(Variable<T>(Tensor<T>({2, 7, 3}))).shape(), (Shape{2, 7, 5}));
  EXPECT_EQ(seq.output_shape(), (Shape{7, 5}));
  EXPECT_EQ(seq.weights().size(), 2u);
}

TYPED_TEST(SimpleRNNTyped, LongSequencesRunAndBackpropagate) {
  using T = TypeParam;
  SimpleRNN<T> rnn(4, {.return_sequences = true});
  Variable<T> x(Tensor<T>::full({2, 500, 3}, T(0.1)), true);
  const Variable<T> y = rnn(x);
  sum(y).backward();
  EXPECT_EQ(x.grad().shape(), (Shape{2, 500, 3}));
  for (T g : rnn.kernel().grad()) EXPECT_TRUE(std::isfinite(g));
}

TEST(SimpleRNNGrad, MatchesFiniteDifferences) {
  struct Case {
    Shape x;
    index_t units;
    SimpleRNNOptions options;
  };
  const std::vector<Case> cases = {
      {{3, 4, 2}, 5, {}},
      {{2, 5, 3}, 4, {.return_sequences = true}},
      {{2, 3, 3}, 3, {.activation = "relu", .return_sequences = true}},
      {{2, 4, 2}, 3, {.activation = "relu"}},
      {{2, 1, 3}, 2, {}},
      {{2, 3, 2}, 3, {.use_bias = false, .return_sequences = true}},
      {{1, 3, 2}, 2, {.activation = "sigmoid"}},
  };
  std::uint64_t seed = 30;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.x.str() + " units " + std::to_string(c.units) + " " + c.options.activation +
                 (c.options.return_sequences ? " sequences" : " last"));
    SimpleRNN<double> rnn(c.units, c.options);
    rnn.set_seed(seed);
    rnn.build({c.x[1], c.x[2]});
    if (c.options.use_bias)
      set_weight(rnn, "bias", random_tensor({c.units}, seed + 100, -0.5, 0.5));
    expect_layer_gradients_match(rnn, random_tensor(c.x, seed++));
  }
}

TEST(SimpleRNNReference, MatchesPyTorch) {
  const testing::Reference ref("layers/reference/layers.txt");
  for (const std::string name : {"rnn_a", "rnn_b", "rnn_c"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    SimpleRNN<double> rnn(static_cast<index_t>(o.data()[0]),
                          {.activation = testing::reference_activation(o.data()[2]),
                           .return_sequences = o.data()[1] != 0});
    expect_layer_matches_reference(rnn, ref, name);
  }
}

TEST(SimpleRNNErrors, WrongInputShape) {
  SimpleRNN<double> rnn(4);
  rnn.build({10, 8});
  expect_error<ShapeError>(
      [&] {
        rnn(Variable<double>(Tensor<double>({4, 12, 8})));
      },
      {"SimpleRNN \"simple_rnn\": expected input [*, 10, 8], got [4, 12, 8]"});
  SimpleRNN<double> flat(4);
  expect_error<ShapeError>(
      [&] {
        flat(Variable<double>(Tensor<double>({4, 8})));
      },
      {"SimpleRNN \"simple_rnn\"", "[batch, timesteps, features]", "[8]"});
  SimpleRNN<double> empty(4, {.name = "rnn"});
  expect_error<ShapeError>(
      [&] {
        empty(Variable<double>(Tensor<double>({4, 0, 8})));
      },
      {"SimpleRNN \"rnn\"", "timesteps > 0", "[0, 8]"});
  EXPECT_TRUE(empty.weights().empty());
}

TEST(SimpleRNNErrors, BadOptions) {
  expect_error<ValueError>([] { SimpleRNN<double>(0); }, {"SimpleRNN", "units", "0"});
  expect_error<ValueError>([] { SimpleRNN<double>(-2); }, {"SimpleRNN", "units", "-2"});
  expect_error<ValueError>(
      [] { SimpleRNN<double>(4, {.activation = "tanhh"}); },
      {"SimpleRNN option activation: unknown activation 'tanhh'", "tanh", "relu"});
  expect_error<ValueError>(
      [] { SimpleRNN<double>(4, {.recurrent_initializer = "identity"}); },
      {"SimpleRNN option recurrent_initializer: unknown initializer 'identity'", "orthogonal",
       "glorot_uniform"});
}

}  // namespace
}  // namespace lamina
