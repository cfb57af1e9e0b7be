#include "lamina/losses/regression.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

#include "support/loss_check.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::loss_gradient;
using testing::loss_tolerance;
using testing::loss_value;
using testing::random_tensor;
using V = Variable<double>;

template <class T>
class RegressionLossesTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(RegressionLossesTyped, Scalars);

TYPED_TEST(RegressionLossesTyped, MeanAbsoluteError) {
  using T = TypeParam;
  const MeanAbsoluteError<T> mae;
  // (1 + 0 + 2 + 3) / 4
  EXPECT_NEAR(loss_value<T>(mae, Tensor<T>({2, 2}, {1, 2, 3, 4}), Tensor<T>({2, 2}, {0, 2, 5, 1})),
              1.5, loss_tolerance<T>());
  // [batch, 1] against [batch].
  EXPECT_NEAR(loss_value<T>(mae, Tensor<T>({3, 1}, {1, 2, 3}), Tensor<T>({3}, {0, 2, 5})), 1.0,
              loss_tolerance<T>());
  // sign(e) / n, and 0 where the error is 0 (as PyTorch).
  EXPECT_EQ(loss_gradient<T>(mae, Tensor<T>({1, 4}, {1, 2, 3, 4}), Tensor<T>({1, 4}, {0, 2, 5, 1})),
            (std::vector<T>{0.25, 0, -0.25, 0.25}));
  EXPECT_EQ(mae.name(), "mean_absolute_error");
}

TYPED_TEST(RegressionLossesTyped, Huber) {
  using T = TypeParam;
  // e = 0.5, -2, 1, 0: 0.125, 2 - 0.5, 0.5 (|e| = delta is still quadratic), 0.
  const Tensor<T> y_true({2, 2}, {0, 2, -1, 3});
  const Tensor<T> y_pred({2, 2}, {0.5, 0, 0, 3});
  EXPECT_NEAR(loss_value<T>(Huber<T>(), y_pred, y_true), 2.125 / 4, loss_tolerance<T>());
  // delta 2: 0.125, 2 (|e| = delta), 0.5, 0.
  EXPECT_NEAR(loss_value<T>(Huber<T>({.delta = 2}), y_pred, y_true), 2.625 / 4,
              loss_tolerance<T>());
  // Gradient e / n inside delta, delta sign(e) / n outside.
  const std::vector<T> g = loss_gradient<T>(Huber<T>(), y_pred, y_true);
  EXPECT_EQ(g, (std::vector<T>{0.125, -0.25, 0.25, 0}));
  EXPECT_EQ(Huber<T>().name(), "huber");
  EXPECT_EQ(Huber<T>({.delta = 0.5}).get_config(), Json({{"delta", 0.5}}));
}

TYPED_TEST(RegressionLossesTyped, LogCosh) {
  using T = TypeParam;
  const LogCosh<T> log_cosh;
  EXPECT_NEAR(loss_value<T>(log_cosh, Tensor<T>({1, 2}, {1, -0.5}), Tensor<T>({1, 2}, {0, 0})),
              (std::log(std::cosh(1.0)) + std::log(std::cosh(0.5))) / 2, loss_tolerance<T>());
  EXPECT_NEAR(loss_value<T>(log_cosh, Tensor<T>({1, 1}, {0}), Tensor<T>({1}, {0})), 0.0,
              loss_tolerance<T>());
  // |x| = 100: cosh(100) ~ 1.3e43 overflows float, log cosh x = |x| - log 2 does not; the
  // gradient is tanh(x) = +-1.
  const Tensor<T> big({1, 2}, {100, -100});
  const double expected = 100 - std::numbers::ln2;
  EXPECT_NEAR(loss_value<T>(log_cosh, big, Tensor<T>({1, 2}, {0, 0})), expected,
              loss_tolerance<T>() * expected);
  const std::vector<T> g = loss_gradient<T>(log_cosh, big, Tensor<T>({1, 2}, {0, 0}));
  EXPECT_NEAR(g[0], 0.5, loss_tolerance<T>());
  EXPECT_NEAR(g[1], -0.5, loss_tolerance<T>());
  EXPECT_EQ(log_cosh.name(), "log_cosh");
}

TYPED_TEST(RegressionLossesTyped, CosineSimilarity) {
  using T = TypeParam;
  const CosineSimilarity<T> cosine;
  // Same direction: -1; orthogonal: 0; batch mean -0.5.
  EXPECT_NEAR(
      loss_value<T>(cosine, Tensor<T>({2, 2}, {1, 0, 0, 3}), Tensor<T>({2, 2}, {2, 0, 1, 0})), -0.5,
      loss_tolerance<T>());
  // Opposite: +1 (Keras's sign).
  EXPECT_NEAR(loss_value<T>(cosine, Tensor<T>({1, 3}, {1, 2, 3}), Tensor<T>({1, 3}, {-2, -4, -6})),
              1.0, loss_tolerance<T>());
  // A zero prediction gives 0 and a finite gradient: -y_true / (||y_true|| eps).
  const Tensor<T> zero({1, 2}, {0, 0}), ones({1, 2}, {1, 1});
  EXPECT_EQ(loss_value<T>(cosine, zero, ones), 0.0);
  const std::vector<T> g = loss_gradient<T>(cosine, zero, ones);
  const double expected = -1.0 / (std::sqrt(2.0) * kLossEpsilon);
  EXPECT_NEAR(g[0], expected, 1e-6 * std::abs(expected));
  EXPECT_NEAR(g[1], expected, 1e-6 * std::abs(expected));
  // Along axis 1 of [batch, steps, features]: per feature, the vectors over the steps are
  // [1, 0] against [1, 0] (cos 1) and [0, 1] against [1, 1] (cos 1/sqrt 2).
  const CosineSimilarity<T> steps({.axis = 1});
  EXPECT_NEAR(
      loss_value<T>(steps, Tensor<T>({1, 2, 2}, {1, 0, 0, 1}), Tensor<T>({1, 2, 2}, {1, 1, 0, 1})),
      -(1 + 1 / std::sqrt(2.0)) / 2, loss_tolerance<T>());
  EXPECT_EQ(cosine.name(), "cosine_similarity");
  EXPECT_EQ(steps.get_config(), Json({{"axis", 1}}));
}

TEST(RegressionLossesGrad, MatchesFiniteDifferences) {
  const Tensor<double> y_pred = random_tensor({4, 3}, 11, -3, 3);
  const Tensor<double> y_true = random_tensor({4, 3}, 12, -3, 3);
  const auto check = [](const Loss<double>& loss, const Tensor<double>& p,
                        const Tensor<double>& t) {
    SCOPED_TRACE(loss.name());
    expect_gradients_match([&](const std::vector<V>& v) { return loss(v[0], t); }, {p});
  };
  check(MeanAbsoluteError<double>(), y_pred, y_true);
  check(Huber<double>(), y_pred, y_true);
  check(Huber<double>({.delta = 0.4}), y_pred, y_true);
  check(LogCosh<double>(), y_pred, y_true);
  check(LogCosh<double>(), random_tensor({2, 2}, 13, -40, 40), random_tensor({2, 2}, 14));
  check(CosineSimilarity<double>(), y_pred, y_true);
  check(CosineSimilarity<double>({.axis = 1}), random_tensor({2, 3, 2}, 15),
        random_tensor({2, 3, 2}, 16));
  check(MeanAbsoluteError<double>(), random_tensor({5, 1}, 17), random_tensor({5}, 18));
}

TEST(RegressionLossesErrors, ShapeMismatchNamesTheLossAndBothShapes) {
  const V p(Tensor<double>({4, 3}));
  const Tensor<double> wrong({4, 2});
  const std::vector<std::pair<std::string, std::function<void()>>> calls = {
      {"mean_absolute_error", [&] { MeanAbsoluteError<double>()(p, wrong); }},
      {"huber", [&] { Huber<double>()(p, wrong); }},
      {"log_cosh", [&] { LogCosh<double>()(p, wrong); }},
      {"cosine_similarity", [&] { CosineSimilarity<double>()(p, wrong); }},
  };
  for (const auto& [name, call] : calls) {
    SCOPED_TRACE(name);
    expect_error<ShapeError>(call, {name, "[4, 3]", "[4, 2]"});
  }
  expect_error<ShapeError>(
      [&] {
        Huber<double>()(p, Tensor<double>({5, 3}));
      },
      {"huber", "[4, 3]", "[5, 3]", "batch size"});
}

TEST(RegressionLossesErrors, BadOptions) {
  for (const double delta : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN()}) {
    expect_error<ValueError>([&] { Huber<double>({.delta = delta}); }, {"huber", "delta"});
  }
  expect_error<ValueError>([] { Huber<double>({.delta = -1}); }, {"huber", "delta", "-1"});
  const V p(Tensor<double>({4, 3}));
  const Tensor<double> y({4, 3});
  expect_error<ValueError>([&] { CosineSimilarity<double>({.axis = 0})(p, y); },
                           {"cosine_similarity", "axis 0", "[4, 3]"});
  expect_error<ValueError>([&] { CosineSimilarity<double>({.axis = 2})(p, y); },
                           {"cosine_similarity", "axis 2", "[4, 3]"});
  expect_error<ValueError>([&] { CosineSimilarity<double>({.axis = -2})(p, y); },
                           {"cosine_similarity", "axis -2"});
}

}  // namespace
}  // namespace lamina
