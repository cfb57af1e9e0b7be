#include "lamina/ops/math.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
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

/// x with every value moved at least `margin` away from each of `kinks` (for gradient checks of
/// functions that are not differentiable there).
Tensor<double> away_from(Tensor<double> x, std::vector<double> kinks, double margin = 0.05) {
  for (double& v : x) {
    for (double k : kinks) {
      if (std::abs(v - k) < margin) v = k + (v < k ? -margin : margin);
    }
  }
  return x;
}

/// std::f applied to each value, in double, as the expected result.
template <class F>
std::vector<double> apply(const std::vector<double>& xs, F f) {
  std::vector<double> out;
  for (double x : xs) out.push_back(f(x));
  return out;
}

template <class T>
class MathTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(MathTyped, Scalars);

TYPED_TEST(MathTyped, ForwardMatchesStdMath) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, float> ? 2e-6 : 1e-14;
  const std::vector<double> xs{-3.5, -1, -0.25, 0, 0.5, 1, 2.75, 10};
  const std::vector<double> pos{1e-3, 0.25, 1, 2, 9, 100};
  auto var = [](const std::vector<double>& v) {
    Tensor<T> t = Tensor<T>::empty(Shape{static_cast<index_t>(v.size())});
    for (std::size_t i = 0; i < v.size(); ++i) t.data()[i] = static_cast<T>(v[i]);
    return Variable<T>(t);
  };
  const Shape sx{8}, sp{6};
  // Relative tolerance via scaling: compare exp/log/sqrt of moderate values.
  auto rel = [&](const Tensor<T>& got, const std::vector<double>& want) {
    ASSERT_EQ(static_cast<std::size_t>(got.size()), want.size());
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got.data()[i], want[i], tol * std::max(1.0, std::abs(want[i]))) << "at " << i;
  };
  rel(exp(var(xs)).value(), apply(xs, [](double x) { return std::exp(x); }));
  rel(log(var(pos)).value(), apply(pos, [](double x) { return std::log(x); }));
  rel(sqrt(var(pos)).value(), apply(pos, [](double x) { return std::sqrt(x); }));
  expect_tensor_near(square(var(xs)).value(), sx, apply(xs, [](double x) { return x * x; }), tol);
  rel(pow(var(pos), T(1.5)).value(), apply(pos, [](double x) { return std::pow(x, 1.5); }));
  rel(pow(var(xs), T(3)).value(), apply(xs, [](double x) { return x * x * x; }));
  rel(pow(var(pos), T(-2)).value(), apply(pos, [](double x) { return 1 / (x * x); }));
  expect_tensor_near(abs(var(xs)).value(), sx, {3.5, 1, 0.25, 0, 0.5, 1, 2.75, 10}, 0);
  expect_tensor_near(clamp(var(xs), T(-1), T(2)).value(), sx, {-1, -1, -0.25, 0, 0.5, 1, 2, 2}, 0);
  expect_tensor_near(clamp(var(pos), 1, 1).value(), sp, {1, 1, 1, 1, 1, 1}, 0);
  // Known edge values.
  EXPECT_EQ(log(var({0})).value().data()[0], -std::numeric_limits<T>::infinity());
  EXPECT_TRUE(std::isnan(sqrt(var({-1})).value().data()[0]));
  EXPECT_TRUE(std::isnan(clamp(var({std::nan("")}), T(0), T(1)).value().data()[0]));
}

TYPED_TEST(MathTyped, KeepsShapeIncludingScalarsAndEmpty) {
  using T = TypeParam;
  Variable<T> s(Tensor<T>::scalar(T(4)));
  EXPECT_EQ(sqrt(s).shape(), Shape{});
  EXPECT_EQ(sqrt(s).item(), T(2));
  Variable<T> e(Tensor<T>::zeros({0, 3}));
  EXPECT_EQ(exp(e).shape(), (Shape{0, 3}));
  EXPECT_EQ(clamp(e, T(0), T(1)).shape(), (Shape{0, 3}));
}

TEST(MathGrad, SmoothOps) {
  for (const Shape& s : {Shape{}, Shape{7}, Shape{2, 3, 4}}) {
    const auto x = random_tensor(s, 1, -2.0, 2.0), p = random_tensor(s, 2, 0.2, 3.0);
    expect_gradients_match([](const std::vector<V>& v) { return exp(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return log(v[0]); }, {p});
    expect_gradients_match([](const std::vector<V>& v) { return sqrt(v[0]); }, {p});
    expect_gradients_match([](const std::vector<V>& v) { return square(v[0]); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return pow(v[0], 2.5); }, {p});
    expect_gradients_match([](const std::vector<V>& v) { return pow(v[0], -1.5); }, {p});
    expect_gradients_match([](const std::vector<V>& v) { return pow(v[0], 3.0); }, {x});
    expect_gradients_match([](const std::vector<V>& v) { return pow(v[0], 0.0); }, {x});
  }
}

TEST(MathGrad, KinkedOpsAwayFromKinks) {
  for (const Shape& s : {Shape{9}, Shape{3, 5}}) {
    const auto x = random_tensor(s, 3, -2.0, 2.0);
    expect_gradients_match([](const std::vector<V>& v) { return abs(v[0]); }, {away_from(x, {0})});
    expect_gradients_match([](const std::vector<V>& v) { return clamp(v[0], -0.5, 1.0); },
                           {away_from(x, {-0.5, 1.0})});
  }
}

TEST(MathGrad, ValuesAtKinksFollowPyTorch) {
  V x(Tensor<double>({5}, {-1.0, 0.0, 0.5, 1.0, 2.0}), true);
  sum(abs(x)).backward();
  expect_tensor_near(x.grad(), {5}, {-1, 0, 1, 1, 1}, 0);  // sign(0) = 0
  V y(Tensor<double>({5}, {-1.0, 0.0, 0.5, 1.0, 2.0}), true);
  sum(clamp(y, 0.0, 1.0)).backward();
  expect_tensor_near(y.grad(), {5}, {0, 1, 1, 1, 0}, 0);  // bounds included
  V z(Tensor<double>({2}, {0.0, 2.0}), true);
  sum(pow(z, 0.0)).backward();
  expect_tensor_near(z.grad(), {2}, {0, 0}, 0);  // d x^0/dx = 0, even at 0
}

TEST(MathGrad, ChainedOpsWithSharedSubexpression) {
  // y = exp(x) feeds two branches; the engine adds both contributions.
  expect_gradients_match(
      [](const std::vector<V>& v) {
        const V y = exp(v[0] * 0.5);
        return log(square(y) + 1.0) + sqrt(pow(y, 3.0) + 2.0) * abs(v[1]);
      },
      {random_tensor({3, 4}, 4), away_from(random_tensor({4}, 5), {0})});
  // A deep chain of 50 alternating ops.
  expect_gradients_match(
      [](const std::vector<V>& v) {
        V y = v[0];
        for (int i = 0; i < 50; ++i) y = i % 2 ? sqrt(square(y) + 1.0) : log(exp(y) + 0.5);
        return y;
      },
      {random_tensor({6}, 6)});
}

TEST(MathErrors, BadArgumentsNameOpAndValues) {
  V x(Tensor<double>::zeros({2, 3}));
  expect_error<ValueError>([&] { clamp(x, 2.0, 1.0); }, {"clamp", "low (2)", "high (1)"});
  expect_error<ValueError>([&] { clamp(x, std::nan(""), 1.0); }, {"clamp", "nan"});
  expect_error<ValueError>([&] { pow(x, std::nan("")); }, {"pow", "NaN"});
}

}  // namespace
}  // namespace lamina
