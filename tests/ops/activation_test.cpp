#include "lamina/ops/activation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numbers>
#include <string>
#include <utility>
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

// Keras's formulas, written out in double.
double gelu_ref(double a) { return 0.5 * a * (1 + std::erf(a / std::sqrt(2.0))); }
double gelu_tanh_ref(double a) {
  return 0.5 * a * (1 + std::tanh(std::sqrt(2 / std::numbers::pi) * (a + 0.044715 * a * a * a)));
}
constexpr double kAlpha = 1.6732632423543772848170429916717,
                 kScale = 1.0507009873554804934193349852946;
double selu_ref(double a) { return kScale * (a > 0 ? a : kAlpha * std::expm1(a)); }
double silu_ref(double a) { return a / (1 + std::exp(-a)); }
double mish_ref(double a) { return a * std::tanh(std::log1p(std::exp(a))); }
double hard_sigmoid_ref(double a) { return std::min(std::max(a + 3, 0.0), 6.0) / 6; }
double softsign_ref(double a) { return a / (1 + std::abs(a)); }
double relu6_ref(double a) { return std::min(std::max(a, 0.0), 6.0); }

TYPED_TEST(ActivationTyped, KerasThreeActivationsMatchFormulas) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, float> ? 2e-6 : 1e-14;
  const std::vector<double> xs{-7, -4, -3, -1.5, -0.5, 0, 0.25, 1, 3, 4.5, 6, 8};
  const Shape s{12};
  const Variable<T> x = var<T>(xs);
  expect_tensor_near(gelu(x).value(), s, apply(xs, gelu_ref), tol);
  expect_tensor_near(gelu(x, {.approximate = true}).value(), s, apply(xs, gelu_tanh_ref), tol);
  expect_tensor_near(selu(x).value(), s, apply(xs, selu_ref), 4 * tol);
  expect_tensor_near(silu(x).value(), s, apply(xs, silu_ref), tol);
  expect_tensor_near(swish(x).value(), s, apply(xs, silu_ref), tol);
  expect_tensor_near(mish(x).value(), s, apply(xs, mish_ref), tol);
  expect_tensor_near(hard_sigmoid(x).value(), s, apply(xs, hard_sigmoid_ref), tol);
  expect_tensor_near(softsign(x).value(), s, apply(xs, softsign_ref), tol);
  expect_tensor_near(relu6(x).value(), s, apply(xs, relu6_ref), 0);
  // Keras 3's hard_sigmoid is relu6(x + 3) / 6, not Keras 2's 0.2 x + 0.5: 1/6 + 1/2 at x = 1.
  EXPECT_NEAR(static_cast<double>(hard_sigmoid(x).value().data()[7]), 2.0 / 3.0, tol);
  // Keras's relu with options: x above the threshold (at most max_value), slope * (x - t) below.
  const ReluOpOptions o{.negative_slope = 0.1, .max_value = 4.0, .threshold = 0.5};
  expect_tensor_near(
      relu(x, o).value(), s,
      apply(xs, [](double a) { return a > 0.5 ? std::min(a, 4.0) : 0.1 * (a - 0.5); }), tol);
  expect_tensor_near(relu(x, ReluOpOptions{}).value(), s,
                     apply(xs, [](double a) { return a > 0 ? a : 0.0; }), 0);
}

// No overflow and no NaN for any finite input, down to the largest magnitudes; the tails reach
// their limits. Covers every activation by name, and relu with options.
TYPED_TEST(ActivationTyped, FiniteForLargeMagnitudes) {
  using T = TypeParam;
  // x^2 and x^3 overflow at +-big (where a careless gelu or mish gives inf * 0 = NaN); the
  // largest finite values are left out, as selu(max) = 1.05 max rightly overflows.
  const double big = std::is_same_v<T, float> ? 1e30 : 1e200;
  const std::vector<double> xs{-big, -1e4, -88, -20, 0, 20, 88, 1e4, big};
  auto check_finite = [&](const std::string& name, auto&& f) {
    SCOPED_TRACE(name);
    Variable<T> x(var<T>(xs).value(), true);
    const Variable<T> y = f(x);
    sum(y).backward();
    for (index_t i = 0; i < y.size(); ++i) {
      EXPECT_TRUE(std::isfinite(y.value().data()[i])) << "value at x = " << xs[i];
      EXPECT_TRUE(std::isfinite(x.grad().data()[i])) << "gradient at x = " << xs[i];
    }
  };
  for (const std::string& name : activation_names())
    check_finite(name, activation_by_name<T>(name));
  check_finite("gelu tanh", [](const Variable<T>& v) { return gelu(v, {.approximate = true}); });
  check_finite("relu options", [](const Variable<T>& v) {
    return relu(v, {.negative_slope = 0.5, .max_value = 6.0, .threshold = 1.0});
  });

  // Limits at x = -1e4 and 1e4: the value and the derivative.
  const Variable<T> x = var<T>({-1e4, 1e4});
  const auto value_and_grad = [](const Variable<T>& v, auto&& f) {
    Variable<T> leaf(v.value(), true);
    sum(f(leaf)).backward();
    return std::pair<Tensor<T>, Tensor<T>>{f(leaf).value(), leaf.grad()};
  };
  for (const auto& [name, f] :
       std::vector<std::pair<std::string, Variable<T> (*)(const Variable<T>&)>>{
           {"gelu", [](const Variable<T>& v) { return gelu(v); }},
           {"gelu tanh", [](const Variable<T>& v) { return gelu(v, {.approximate = true}); }},
           {"silu", [](const Variable<T>& v) { return silu(v); }},
           {"mish", [](const Variable<T>& v) { return mish(v); }}}) {
    SCOPED_TRACE(name);
    const auto [y, g] = value_and_grad(x, f);
    expect_tensor_near(y, {2}, {0, 1e4}, 0);  // x Phi(x) -> 0 and x
    expect_tensor_near(g, {2}, {0, 1}, 0);
  }
  const auto [ys, gs] = value_and_grad(x, [](const Variable<T>& v) { return selu(v); });
  expect_tensor_near(ys, {2}, {-kScale * kAlpha, kScale * 1e4}, 1e-6 * kScale * 1e4);
  expect_tensor_near(gs, {2}, {0, kScale}, 1e-6);
  const auto [yh, gh] = value_and_grad(x, [](const Variable<T>& v) { return hard_sigmoid(v); });
  expect_tensor_near(yh, {2}, {0, 1}, 0);
  expect_tensor_near(gh, {2}, {0, 0}, 0);
  const auto [yq, gq] = value_and_grad(x, [](const Variable<T>& v) { return softsign(v); });
  expect_tensor_near(yq, {2}, {-1e4 / (1 + 1e4), 1e4 / (1 + 1e4)}, 1e-7);
  expect_tensor_near(gq, {2}, {1 / (1 + 1e4) / (1 + 1e4), 1 / (1 + 1e4) / (1 + 1e4)}, 1e-13);
  const auto [y6, g6] = value_and_grad(x, [](const Variable<T>& v) { return relu6(v); });
  expect_tensor_near(y6, {2}, {0, 6}, 0);
  expect_tensor_near(g6, {2}, {0, 0}, 0);
}

// Central differences in T itself (the float instantiation has its own backward code):
// the derivative of each elementwise activation at points away from its kinks.
TYPED_TEST(ActivationTyped, GradientsMatchFiniteDifferencesInT) {
  using T = TypeParam;
  const bool is_float = std::is_same_v<T, float>;
  const T eps = is_float ? T(1e-2) : T(1e-6);
  const double tol = is_float ? 2e-3 : 1e-7;
  // Kinks at 0, +-3 (hard_sigmoid), 6 (relu6), 0.5 and 4 (relu with options below).
  const std::vector<double> xs{-9, -5.5, -3.7, -2.2, -0.9, -0.35, 0.2, 1.3, 2.6, 3.4, 5.2, 6.8};
  const ReluOpOptions o{.negative_slope = 0.1, .max_value = 4.0, .threshold = 0.5};
  const std::vector<std::pair<std::string, std::function<Variable<T>(const Variable<T>&)>>> ops{
      {"gelu", [](const Variable<T>& v) { return gelu(v); }},
      {"gelu tanh", [](const Variable<T>& v) { return gelu(v, {.approximate = true}); }},
      {"selu", [](const Variable<T>& v) { return selu(v); }},
      {"silu", [](const Variable<T>& v) { return silu(v); }},
      {"mish", [](const Variable<T>& v) { return mish(v); }},
      {"hard_sigmoid", [](const Variable<T>& v) { return hard_sigmoid(v); }},
      {"softsign", [](const Variable<T>& v) { return softsign(v); }},
      {"relu6", [](const Variable<T>& v) { return relu6(v); }},
      {"relu options", [o](const Variable<T>& v) { return relu(v, o); }},
  };
  for (const auto& [name, f] : ops) {
    SCOPED_TRACE(name);
    Variable<T> x(var<T>(xs).value(), true);
    sum(f(x)).backward();
    for (std::size_t i = 0; i < xs.size(); ++i) {
      const T a = static_cast<T>(xs[i]);
      const T plus = f(var<T>({static_cast<double>(a + eps)})).value().data()[0];
      const T minus = f(var<T>({static_cast<double>(a - eps)})).value().data()[0];
      const double numeric = (static_cast<double>(plus) - minus) / (2 * static_cast<double>(eps));
      const double analytic = x.grad().data()[i];
      EXPECT_NEAR(analytic, numeric, tol * std::max(1.0, std::abs(numeric))) << "at x = " << a;
    }
  }
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
      {"selu", [](const Variable<T>& v) { return selu(v); }},
      {"gelu", [](const Variable<T>& v) { return gelu(v, {.approximate = false}); }},
      {"silu", [](const Variable<T>& v) { return silu(v); }},
      {"swish", [](const Variable<T>& v) { return silu(v); }},
      {"mish", [](const Variable<T>& v) { return mish(v); }},
      {"hard_sigmoid", [](const Variable<T>& v) { return hard_sigmoid(v); }},
      {"softsign", [](const Variable<T>& v) { return softsign(v); }},
      {"relu6", [](const Variable<T>& v) { return relu6(v); }},
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
    expect_gradients_match([](const std::vector<V>& v) { return gelu(v[0]); }, {x});
    expect_gradients_match(
        [](const std::vector<V>& v) { return gelu(v[0], {.approximate = true}); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return silu(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return swish(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return mish(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return softsign(v[0]); }, {x});  // C1
  }
  // Far tails, where a naive formula would overflow.
  const Tensor<double> tails({4}, {-40.0, -20.0, 20.0, 40.0});
  expect_gradients_match([](const std::vector<V>& v) { return sigmoid(v[0]); }, {tails});
  expect_gradients_match([](const std::vector<V>& v) { return softplus(v[0]); }, {tails});
  expect_gradients_match([](const std::vector<V>& v) { return gelu(v[0]); }, {tails});
  expect_gradients_match([](const std::vector<V>& v) { return gelu(v[0], {.approximate = true}); },
                         {tails});
  expect_gradients_match([](const std::vector<V>& v) { return silu(v[0]); }, {tails});
  expect_gradients_match([](const std::vector<V>& v) { return mish(v[0]); }, {tails});
  expect_gradients_match([](const std::vector<V>& v) { return softsign(v[0]); }, {tails});
}

/// `x` with every value within `margin` of one of `kinks` moved `margin` away from it.
Tensor<double> away_from(Tensor<double> x, const std::vector<double>& kinks, double margin = 0.05) {
  for (double& v : x)
    for (double k : kinks)
      if (std::abs(v - k) < margin) v = v < k ? k - margin : k + margin;
  return x;
}

TEST(ActivationGrad, KerasThreeKinkedOpsAwayFromKinks) {
  for (const Shape& s : {Shape{9}, Shape{3, 5}, Shape{2, 3, 4}}) {
    const auto x = away_from(random_tensor(s, 16, -8.0, 8.0), {-3, 0, 0.5, 3, 4, 6});
    expect_gradients_match([](const std::vector<V>& v) { return selu(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return relu6(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return hard_sigmoid(v[0]); }, {x});
    expect_gradients_match(
        [](const std::vector<V>& v) {
          return relu(v[0], {.negative_slope = 0.1, .max_value = 4.0, .threshold = 0.5});
        },
        {x});
    expect_gradients_match(
        [](const std::vector<V>& v) { return relu(v[0], {.negative_slope = 0.3}); }, {x});
  }
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
  expect_tensor_near(grad_at([](const V& x) { return selu(x); }), {3},
                     {kScale * kAlpha * std::exp(-1.0), kScale * kAlpha, kScale}, 1e-15);
  expect_tensor_near(
      grad_at([](const V& x) { return gelu(x); }), {3},
      {0.5 * std::erfc(1 / std::sqrt(2.0)) - std::exp(-0.5) / std::sqrt(2 * std::numbers::pi), 0.5,
       0.5 * std::erfc(-std::sqrt(2.0)) + 2 * std::exp(-2.0) / std::sqrt(2 * std::numbers::pi)},
      1e-15);
  expect_tensor_near(grad_at([](const V& x) { return silu(x); }), {3},
                     {silu_ref(-1) / -1 * (1 + -1 * (1 - silu_ref(-1) / -1)), 0.5,
                      silu_ref(2) / 2 * (1 + 2 * (1 - silu_ref(2) / 2))},
                     1e-15);
  // relu6 and hard_sigmoid: 0 at their kinks (0 and 6; -3 and 3), as PyTorch's.
  auto grad_at_points = [](auto f, std::vector<double> xs) {
    V x(Tensor<double>({static_cast<index_t>(xs.size())}, xs), true);
    sum(f(x)).backward();
    return x.grad();
  };
  expect_tensor_near(grad_at_points([](const V& x) { return relu6(x); }, {0, 3, 6}), {3}, {0, 1, 0},
                     0);
  expect_tensor_near(grad_at_points([](const V& x) { return hard_sigmoid(x); }, {-3, 0, 3}), {3},
                     {0, 1.0 / 6, 0}, 1e-16);
  // Keras's relu with options: slope at the threshold, 0 at max_value.
  expect_tensor_near(grad_at_points(
                         [](const V& x) {
                           return relu(x,
                                       {.negative_slope = 0.2, .max_value = 2.0, .threshold = 1.0});
                         },
                         {1, 1.5, 2}),
                     {3}, {0.2, 1, 0}, 0);
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
                            "softmax, leaky_relu, elu, softplus, selu, gelu, silu, swish, mish, "
                            "hard_sigmoid, softsign, relu6"});
  expect_error<ValueError>([] { activation_by_name<float>("hard_swish"); }, {"'hard_swish'"});
  expect_error<ValueError>([] { activation_by_name<double>("ReLU"); }, {"'ReLU'"});
  expect_error<ValueError>([] { activation_by_name<double>(""); }, {"unknown activation ''"});
}

TEST(ActivationErrors, NonFiniteParameters) {
  V x(Tensor<double>::zeros({2}));
  expect_error<ValueError>([&] { leaky_relu(x, std::nan("")); },
                           {"leaky_relu", "negative_slope", "nan"});
  expect_error<ValueError>([&] { elu(x, INFINITY); }, {"elu", "alpha", "inf"});
  expect_error<ValueError>([&] { relu(x, {.negative_slope = NAN}); },
                           {"relu", "negative_slope", "nan"});
  expect_error<ValueError>([&] { relu(x, {.max_value = -1.0}); }, {"relu", "max_value", "-1"});
  expect_error<ValueError>([&] { relu(x, {.max_value = INFINITY}); }, {"relu", "max_value", "inf"});
  expect_error<ValueError>([&] { relu(x, {.threshold = -0.5}); }, {"relu", "threshold", "-0.5"});
}

// Which activations conv2d and dense may apply inside the op: those whose derivative the
// output alone gives (gelu, silu/swish and mish do not qualify, nor softmax and softplus).
TEST(ActivationNames, FusableOnesAreThoseWithAnOutputOnlyDerivative) {
  for (const std::string name : {"relu", "sigmoid", "tanh", "leaky_relu", "elu", "selu", "relu6",
                                 "hard_sigmoid", "softsign"})
    EXPECT_TRUE(detail::is_pointwise(name)) << name;
  for (const std::string name : {"softmax", "softplus", "gelu", "silu", "swish", "mish"})
    EXPECT_FALSE(detail::is_pointwise(name)) << name;
  expect_error<ValueError>([] { detail::pointwise("dense", "gelu"); },
                           {"dense", "'gelu'", "cannot be applied inside the op", "selu"});
}

}  // namespace
}  // namespace lamina
