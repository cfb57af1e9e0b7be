#include "lamina/layers/dense.hpp"

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
class DenseTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(DenseTyped, Scalars);

/// A Dense(2) on 3 features with kernel [[1, -1], [2, 0], [0, 3]] and bias [0.5, -1].
/// Built for per-sample inputs `input` (whose last axis is 3).
template <class T>
Dense<T> fixed_dense(DenseOptions options = {}, const Shape& input = {3}) {
  Dense<T> d(2, std::move(options));
  d.build(input);
  set_weight(d, "kernel", Tensor<T>({3, 2}, {1, -1, 2, 0, 0, 3}));
  if (d.weights().size() > 1) set_weight(d, "bias", Tensor<T>({2}, {0.5, -1}));
  return d;
}

TYPED_TEST(DenseTyped, ForwardIsMatmulPlusBiasThenActivation) {
  using T = TypeParam;
  // x1 K = [1, -4], x2 K = [4, -2]; + b = [1.5, -5], [4.5, -3].
  const Variable<T> x(Tensor<T>({2, 3}, {1, 0, -1, 2, 1, 0}));
  Dense<T> linear = fixed_dense<T>();
  expect_tensor_near(linear(x).value(), {2, 2}, {1.5, -5, 4.5, -3}, 0);
  Dense<T> relu = fixed_dense<T>({.activation = "relu"});
  expect_tensor_near(relu(x).value(), {2, 2}, {1.5, 0, 4.5, 0}, 0);
  Dense<T> no_bias = fixed_dense<T>({.use_bias = false});
  expect_tensor_near(no_bias(x).value(), {2, 2}, {1, -4, 4, -2}, 0);
  // softmax over the units: [1.5, -5] -> [1, e^-6.5] / (1 + e^-6.5).
  Dense<T> softmax = fixed_dense<T>({.activation = "softmax"});
  const double e1 = std::exp(-6.5), e2 = std::exp(-7.5);
  expect_tensor_near(softmax(x).value(), {2, 2},
                     {1 / (1 + e1), e1 / (1 + e1), 1 / (1 + e2), e2 / (1 + e2)}, 1e-7);
}

TYPED_TEST(DenseTyped, ActivationsThatCannotBeFusedFollowTheOp) {
  using T = TypeParam;
  // gelu, silu and mish need the pre-activation for their derivative, so they run as their own
  // op after the dense op; selu runs inside it. Pre-activations: [1.5, -5], [4.5, -3].
  const Variable<T> x(Tensor<T>({2, 3}, {1, 0, -1, 2, 1, 0}));
  const std::vector<double> z = {1.5, -5, 4.5, -3};
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  const auto each = [&](double (*f)(double)) {
    std::vector<double> out;
    for (double v : z) out.push_back(f(v));
    return out;
  };
  Dense<T> gelu = fixed_dense<T>({.activation = "gelu"});
  EXPECT_EQ(gelu.output_activation(), "gelu");
  expect_tensor_near(gelu(x).value(), {2, 2},
                     each([](double v) { return 0.5 * v * std::erfc(-v / std::sqrt(2.0)); }), tol);
  Dense<T> silu = fixed_dense<T>({.activation = "silu"});
  expect_tensor_near(silu(x).value(), {2, 2}, each([](double v) { return v / (1 + std::exp(-v)); }),
                     tol);
  Dense<T> selu = fixed_dense<T>({.activation = "selu"});
  expect_tensor_near(selu(x).value(), {2, 2}, each([](double v) {
                       return 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * std::expm1(v));
                     }),
                     tol);
  // The graph: gelu's node follows the dense op's (the fused selu is a single dense node).
  EXPECT_EQ(std::string(gelu(x).node()->op), "gelu");
  EXPECT_EQ(std::string(selu(x).node()->op), "dense");
}

TYPED_TEST(DenseTyped, RankThreeInputActsOnTheLastAxis) {
  using T = TypeParam;
  // [batch 2, time 2, features 3]: every time step goes through the same kernel.
  const Variable<T> x(Tensor<T>({2, 2, 3}, {1, 0, -1, 2, 1, 0, 0, 0, 0, 1, 1, 1}));
  Dense<T> d = fixed_dense<T>({}, {2, 3});
  EXPECT_EQ(d.output_shape(), (Shape{2, 2}));
  expect_tensor_near(d(x).value(), {2, 2, 2}, {1.5, -5, 4.5, -3, 0.5, -1, 3.5, 1}, 0);

  Dense<T> lazy(4);
  EXPECT_EQ(lazy(x).shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(lazy.input_shape(), (Shape{2, 3}));
  EXPECT_EQ(lazy.output_shape(), (Shape{2, 4}));
  EXPECT_EQ(lazy.kernel().shape(), (Shape{3, 4}));
}

TYPED_TEST(DenseTyped, BuildsLazilyWithKerasDefaults) {
  using T = TypeParam;
  Dense<T> d(16);
  EXPECT_FALSE(d.built());
  EXPECT_EQ(d.type(), "Dense");
  EXPECT_EQ(d.units(), 16);
  const Variable<T> y = d(Variable<T>(Tensor<T>::ones({5, 10})));
  EXPECT_TRUE(d.built());
  EXPECT_EQ(y.shape(), (Shape{5, 16}));
  ASSERT_EQ(d.weights().size(), 2u);
  EXPECT_EQ(d.weights()[0].name, "kernel");
  EXPECT_EQ(d.weights()[1].name, "bias");
  EXPECT_EQ(d.count_params(), 10 * 16 + 16);
  EXPECT_EQ(d.count_trainable_params(), 10 * 16 + 16);
  EXPECT_TRUE(d.kernel().requires_grad());
  // glorot_uniform kernel within +-sqrt(6 / (10 + 16)), not all equal; zero bias.
  const double limit = std::sqrt(6.0 / 26.0);
  const Tensor<T>& k = d.kernel().value();
  EXPECT_LE(*std::max_element(k.begin(), k.end()), limit);
  EXPECT_GE(*std::min_element(k.begin(), k.end()), -limit);
  EXPECT_NE(*std::max_element(k.begin(), k.end()), *std::min_element(k.begin(), k.end()));
  for (T b : d.bias().value()) EXPECT_EQ(b, T(0));

  Dense<T> no_bias(3, {.use_bias = false});
  no_bias.build({7});
  ASSERT_EQ(no_bias.weights().size(), 1u);
  EXPECT_EQ(no_bias.count_params(), 21);
}

TYPED_TEST(DenseTyped, SameSeedSameWeights) {
  using T = TypeParam;
  Dense<T> a(5), b(5), c(5);
  a.set_seed(42);
  b.set_seed(42);
  c.set_seed(43);
  a.build({4});
  b.build({4});
  c.build({4});
  EXPECT_EQ(a.kernel().value().to_vector(), b.kernel().value().to_vector());
  EXPECT_NE(a.kernel().value().to_vector(), c.kernel().value().to_vector());
}

TYPED_TEST(DenseTyped, NotTrainableHasNoTrainableVariables) {
  using T = TypeParam;
  Dense<T> d(3);
  d.build({2});
  d.set_trainable(false);
  EXPECT_TRUE(d.trainable_variables().empty());
  EXPECT_EQ(d.count_trainable_params(), 0);
  EXPECT_EQ(d.count_params(), 9);
  EXPECT_FALSE(d.kernel().requires_grad());
  d.set_trainable(true);
  EXPECT_EQ(d.trainable_variables().size(), 2u);
}

TEST(DenseGrad, MatchesFiniteDifferences) {
  struct Case {
    Shape x;
    index_t units;
    DenseOptions options;
  };
  const std::vector<Case> cases = {
      {{4, 5}, 3, {}},
      {{3, 4}, 2, {.use_bias = false}},
      {{2, 3, 4}, 5, {.activation = "tanh"}},
      {{2, 2, 2, 3}, 2, {.activation = "sigmoid"}},
      {{3, 6}, 4, {.activation = "softmax"}},
      {{4, 5}, 3, {.activation = "relu"}},
      {{5, 3}, 2, {.activation = "elu"}},
      {{4, 3}, 3, {.activation = "gelu"}},
      {{2, 3, 4}, 2, {.activation = "silu"}},
      {{3, 4}, 3, {.activation = "mish"}},
      {{4, 5}, 3, {.activation = "selu"}},
      {{4, 5}, 2, {.activation = "softsign"}},
  };
  std::uint64_t seed = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.x.str() + " units " + std::to_string(c.units) + " " + c.options.activation);
    Dense<double> d(c.units, c.options);
    d.set_seed(seed);
    d.build(Shape(std::vector<index_t>(c.x.begin() + 1, c.x.end())));
    // A random bias, so that the check covers a nonzero one.
    if (c.options.use_bias) set_weight(d, "bias", random_tensor({c.units}, seed + 100));
    expect_layer_gradients_match(d, random_tensor(c.x, seed++));
  }
}

TEST(DenseReference, MatchesPyTorch) {
  const testing::Reference ref("layers/reference/layers.txt");
  for (const std::string name : {"dense_a", "dense_b", "dense_c"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    Dense<double> d(static_cast<index_t>(o.data()[0]),
                    {.activation = testing::reference_activation(o.data()[1])});
    expect_layer_matches_reference(d, ref, name);
  }
}

TEST(DenseErrors, WrongInputShapeAfterBuildNamesLayerAndShapes) {
  Dense<double> d(4, {.name = "dense_2"});
  d.build({1600});
  expect_error<ShapeError>(
      [&] {
        d(Variable<double>(Tensor<double>({32, 1024})));
      },
      {"Dense \"dense_2\": expected input [*, 1600], got [32, 1024]"});
  // Without a name the message uses Keras's default prefix.
  Dense<double> unnamed(2);
  unnamed(Variable<double>(Tensor<double>({3, 5})));
  expect_error<ShapeError>(
      [&] {
        unnamed(Variable<double>(Tensor<double>({3, 2, 5})));
      },
      {"Dense \"dense\"", "[*, 5]", "[3, 2, 5]"});
}

TEST(DenseErrors, DeclaredInputShapeIsEnforced) {
  Dense<double> d(2, {.input_shape = {8}});
  expect_error<ShapeError>(
      [&] {
        d(Variable<double>(Tensor<double>({4, 7})));
      },
      {"Dense \"dense\"", "[*, 8]", "[4, 7]"});
  EXPECT_FALSE(d.built());
  EXPECT_EQ(d(Variable<double>(Tensor<double>({4, 8}))).shape(), (Shape{4, 2}));
}

TEST(DenseErrors, RebuildWithAnotherShape) {
  Dense<double> d(2);
  d.build({3});
  d.build({3});  // the same shape again does nothing
  EXPECT_EQ(d.weights().size(), 2u);
  expect_error<ShapeError>([&] { d.build({4}); }, {"Dense \"dense\"", "[*, 3]", "[*, 4]"});
}

TEST(DenseErrors, ScalarSamplesAreRejected) {
  Dense<double> d(2);
  expect_error<ShapeError>([&] { d(Variable<double>(Tensor<double>({5}))); },
                           {"Dense \"dense\"", "rank >= 2"});
  expect_error<ShapeError>([&] { d(Variable<double>(Tensor<double>::scalar(1))); },
                           {"Dense \"dense\"", "0-D"});
}

TEST(DenseErrors, BadOptions) {
  expect_error<ValueError>([] { Dense<double>(0); }, {"Dense", "units", "0"});
  expect_error<ValueError>([] { Dense<double>(-3); }, {"Dense", "units", "-3"});
  expect_error<ValueError>([] { Dense<double>(2, {.activation = "relux"}); },
                           {"Dense option activation: unknown activation 'relux'", "linear", "relu",
                            "sigmoid", "tanh", "softmax"});
  expect_error<ValueError>([] { Dense<double>(2, {.kernel_initializer = "glorot"}); },
                           {"Dense option kernel_initializer: unknown initializer 'glorot'",
                            "glorot_uniform", "he_normal", "orthogonal", "zeros"});
  expect_error<ValueError>(
      [] { Dense<double>(2, {.bias_initializer = "zero"}); },
      {"Dense option bias_initializer: unknown initializer 'zero'", "zeros", "ones"});
}

}  // namespace
}  // namespace lamina
