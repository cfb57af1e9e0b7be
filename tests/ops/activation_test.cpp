#include "lamina/ops/activation.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/reduce.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using V = Variable<double>;

template <class T>
Variable<T> var(const std::vector<double>& v) {
  Tensor<T> t = Tensor<T>::empty(Shape{static_cast<index_t>(v.size())});
  for (std::size_t i = 0; i < v.size(); ++i) t.data()[i] = static_cast<T>(v[i]);
  return Variable<T>(t);
}

template <class F>
std::vector<double> apply(const std::vector<double>& xs, F f) {
  std::vector<double> out;
  for (double x : xs) out.push_back(f(x));
  return out;
}

Tensor<double> away_from_zero(Tensor<double> x, double margin = 0.05) {
  for (double& v : x)
    if (std::abs(v) < margin) v = v < 0 ? -margin : margin;
  return x;
}

template <class T>
class ActivationTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ActivationTyped, Scalars);

TYPED_TEST(ActivationTyped, ForwardMatchesFormulas) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-15;
  const std::vector<double> xs{-4, -1.5, -0.5, 0, 0.25, 1, 3};
  const Shape s{7};
  const Variable<T> x = var<T>(xs);
  expect_tensor_near(relu(x).value(), s, {0, 0, 0, 0, 0.25, 1, 3}, 0);
  expect_tensor_near(leaky_relu(x).value(), s, {-0.8, -0.3, -0.1, 0, 0.25, 1, 3}, tol);
  expect_tensor_near(leaky_relu(x, 0.01).value(), s, {-0.04, -0.015, -0.005, 0, 0.25, 1, 3}, tol);
  expect_tensor_near(elu(x).value(), s,
                     apply(xs, [](double a) { return a > 0 ? a : std::expm1(a); }), tol);
  expect_tensor_near(elu(x, 0.5).value(), s,
                     apply(xs, [](double a) { return a > 0 ? a : 0.5 * std::expm1(a); }), tol);
  expect_tensor_near(sigmoid(x).value(), s,
                     apply(xs, [](double a) { return 1 / (1 + std::exp(-a)); }), tol);
  expect_tensor_near(tanh(x).value(), s, apply(xs, [](double a) { return std::tanh(a); }), 2 * tol);
  expect_tensor_near(softplus(x).value(), s,
                     apply(xs, [](double a) { return std::log1p(std::exp(a)); }), 2 * tol);
  EXPECT_EQ(linear(x).node(), x.node());
}

TYPED_TEST(ActivationTyped, StableForLargeMagnitudes) {
  using T = TypeParam;
  const Variable<T> x = var<T>({-1000, -50, 50, 1000});
  const Tensor<T> s = sigmoid(x).value(), p = softplus(x).value(), t = tanh(x).value();
  for (index_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::isfinite(s.data()[i]) && std::isfinite(p.data()[i]) &&
                std::isfinite(t.data()[i]));
  }
  EXPECT_EQ(s.data()[0], T(0));
  EXPECT_EQ(s.data()[3], T(1));
  EXPECT_NEAR(s.data()[1] / std::exp(T(-50)), 1.0, 1e-5);  // relative accuracy in the tail
  EXPECT_EQ(p.data()[0], T(0));
  EXPECT_NEAR(p.data()[1] / std::exp(T(-50)), 1.0, 1e-5);  // log1p keeps the tiny value
  EXPECT_EQ(p.data()[2], T(50));
  EXPECT_EQ(p.data()[3], T(1000));
  EXPECT_EQ(t.data()[0], T(-1));
  EXPECT_EQ(t.data()[3], T(1));
  EXPECT_EQ(elu(x).value().data()[0], T(-1));
}

TYPED_TEST(ActivationTyped, ByNameMatchesTheFunctions) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2, 3}, {-2, -0.5, 0.1, 0.7, 1.5, 3}));
  const std::vector<std::pair<std::string, Variable<T> (*)(const Variable<T>&)>> direct{
      {"linear", [](const Variable<T>& v) { return linear(v); }},
      {"relu", [](const Variable<T>& v) { return relu(v); }},
      {"sigmoid", [](const Variable<T>& v) { return sigmoid(v); }},
      {"tanh", [](const Variable<T>& v) { return tanh(v); }},
      {"softmax", [](const Variable<T>& v) { return softmax(v, 1); }},
      {"leaky_relu", [](const Variable<T>& v) { return leaky_relu(v, T(0.2)); }},
      {"elu", [](const Variable<T>& v) { return elu(v, T(1)); }},
      {"softplus", [](const Variable<T>& v) { return softplus(v); }},
  };
  std::vector<std::string> names;
  for (const auto& [name, f] : direct) {
    names.push_back(name);
    const Tensor<T> got = activation_by_name<T>(name)(x).value(), want = f(x).value();
    expect_tensor_near(got, want.shape(), std::vector<double>(want.begin(), want.end()), 0);
  }
  EXPECT_EQ(activation_names(), names);
}

TEST(ActivationGrad, SmoothOps) {
  for (const Shape& s : {Shape{}, Shape{8}, Shape{2, 3, 4}}) {
    const auto x = random_tensor(s, 11, -3.0, 3.0);
    expect_gradients_match([](const std::vector<V>& v) { return sigmoid(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return tanh(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return softplus(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return elu(v[0]); }, {x});  // C1 at 0
    expect_gradients_match([](const std::vector<V>& v) { return linear(v[0]) * 2.0; }, {x});
  }
  // Far tails, where a naive formula would overflow.
  const Tensor<double> tails({4}, {-40.0, -20.0, 20.0, 40.0});
  expect_gradients_match([](const std::vector<V>& v) { return sigmoid(v[0]); }, {tails});
  expect_gradients_match([](const std::vector<V>& v) { return softplus(v[0]); }, {tails});
}

TEST(ActivationGrad, KinkedOpsAwayFromZero) {
  for (const Shape& s : {Shape{9}, Shape{3, 5}}) {
    const auto x = away_from_zero(random_tensor(s, 12, -3.0, 3.0));
    expect_gradients_match([](const std::vector<V>& v) { return relu(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return leaky_relu(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return leaky_relu(v[0], 0.01); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return elu(v[0], 0.7); }, {x});
  }
}

TEST(ActivationGrad, ValuesAtZeroFollowPyTorch) {
  auto grad_at = [](auto f) {
    V x(Tensor<double>({3}, {-1.0, 0.0, 2.0}), true);
    sum(f(x)).backward();
    return x.grad();
  };
  expect_tensor_near(grad_at([](const V& x) { return relu(x); }), {3}, {0, 0, 1}, 0);
  expect_tensor_near(grad_at([](const V& x) { return leaky_relu(x, 0.1); }), {3}, {0.1, 0.1, 1}, 0);
  expect_tensor_near(grad_at([](const V& x) { return elu(x, 0.5); }), {3},
                     {0.5 * std::exp(-1.0), 0.5, 1}, 1e-15);
}

TEST(ActivationGrad, DeepChainAndSharedSubexpression) {
  expect_gradients_match(
      [](const std::vector<V>& v) {
        V y = v[0];
        for (int i = 0; i < 50; ++i) y = i % 2 ? sigmoid(y * 3.0) : tanh(y * 2.0 + 0.1);
        return y;
      },
      {random_tensor({2, 3}, 13, -2.0, 2.0)});
  // h feeds two branches whose results are combined.
  expect_gradients_match(
      [](const std::vector<V>& v) {
        const V h = tanh(v[0] * v[1]);
        return sigmoid(h) * softplus(h * 2.0) + elu(h - 0.3);
      },
      {random_tensor({4, 3}, 14), random_tensor({3}, 15)});
}

TEST(ActivationErrors, UnknownNameListsValidOnes) {
  expect_error<ValueError>([] { activation_by_name<float>("foo"); },
                           {"unknown activation 'foo'; valid names: linear, relu, sigmoid, tanh, "
                            "softmax, leaky_relu, elu, softplus"});
  expect_error<ValueError>([] { activation_by_name<double>("ReLU"); }, {"'ReLU'"});
  expect_error<ValueError>([] { activation_by_name<double>(""); }, {"unknown activation ''"});
}

TEST(ActivationErrors, NonFiniteParameters) {
  V x(Tensor<double>::zeros({2}));
  expect_error<ValueError>([&] { leaky_relu(x, std::nan("")); },
                           {"leaky_relu", "negative_slope", "nan"});
  expect_error<ValueError>([&] { elu(x, INFINITY); }, {"elu", "alpha", "inf"});
}

}  // namespace
}  // namespace lamina
