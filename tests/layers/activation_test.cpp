#include "lamina/layers/activation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "support/layer_check.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_layer_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;

template <class T>
class ActivationTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ActivationTyped, Scalars);

const std::vector<double> kInputs = {-3, -0.5, 0, 0.25, 2, 40};

/// Expected values of an elementwise activation on kInputs.
std::vector<double> apply(const std::function<double(double)>& f) {
  std::vector<double> out;
  for (double v : kInputs) out.push_back(f(v));
  return out;
}

TYPED_TEST(ActivationTyped, ElementwiseActivationsByName) {
  using T = TypeParam;
  const Variable<T> x(Tensor<T>({2, 3}, {-3, -0.5, 0, 0.25, 2, 40}));
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  struct Case {
    std::string name;
    std::function<double(double)> f;
  };
  const std::vector<Case> cases = {
      {"linear", [](double v) { return v; }},
      {"relu", [](double v) { return v > 0 ? v : 0.0; }},
      {"sigmoid", [](double v) { return 1 / (1 + std::exp(-v)); }},
      {"tanh", [](double v) { return std::tanh(v); }},
      {"leaky_relu", [](double v) { return v > 0 ? v : 0.2 * v; }},
      {"elu", [](double v) { return v > 0 ? v : std::expm1(v); }},
      {"softplus", [](double v) { return std::log1p(std::exp(v)); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Activation<T> layer(c.name);
    EXPECT_EQ(layer.output_activation(), c.name);
    expect_tensor_near(layer(x).value(), {2, 3}, apply(c.f), tol);
    // Without its activation the layer is the identity (what losses fuse with).
    expect_tensor_near(layer.call_pre_activation(x).value(), {2, 3}, kInputs, 0);
  }
}

TYPED_TEST(ActivationTyped, SoftmaxActsOnTheLastAxis) {
  using T = TypeParam;
  // [batch 1, 2, 3]: each row of three sums to one; a shift of a row does not change it.
  const Variable<T> x(Tensor<T>({1, 2, 3}, {0, 1, 2, 100, 101, 102}));
  Activation<T> softmax("softmax");
  const double s = 1 + std::exp(1.0) + std::exp(2.0);
  const std::vector<double> row = {1 / s, std::exp(1.0) / s, std::exp(2.0) / s};
  std::vector<double> expected = row;
  expected.insert(expected.end(), row.begin(), row.end());
  expect_tensor_near(softmax(x).value(), {1, 2, 3}, expected, 1e-7);
  EXPECT_EQ(softmax.type(), "Activation");
  EXPECT_TRUE(softmax.weights().empty());
  EXPECT_EQ(softmax.output_shape(), (Shape{2, 3}));
}

TEST(ActivationGrad, MatchesFiniteDifferences) {
  std::uint64_t seed = 1;
  for (const std::string& name : activation_names()) {
    SCOPED_TRACE(name);
    Activation<double> layer(name);
    expect_layer_gradients_match(layer, random_tensor({3, 2, 4}, seed++, -2.0, 2.0));
  }
}

TEST(ActivationErrors, UnknownNameListsEveryValidName) {
  std::vector<std::string> parts = {"Activation option activation: unknown activation 'swish2'"};
  for (const std::string& name : activation_names()) parts.push_back(name);
  expect_error<ValueError>([] { Activation<double>("swish2"); }, parts);
  expect_error<ValueError>([] { Activation<double>(""); }, {"unknown activation ''", "relu"});
}

TEST(ActivationErrors, WrongInputShapeAfterBuild) {
  Activation<double> relu("relu", {.name = "act"});
  relu.build({10});
  expect_error<ShapeError>(
      [&] {
        relu(Variable<double>(Tensor<double>({4, 11})));
      },
      {"Activation \"act\": expected input [*, 10], got [4, 11]"});
}

}  // namespace
}  // namespace lamina
