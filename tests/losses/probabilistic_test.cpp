#include "lamina/losses/probabilistic.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "support/loss_check.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::loss_tolerance;
using testing::loss_value;
using testing::random_tensor;
using V = Variable<double>;

template <class T>
class ProbabilisticLossesTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ProbabilisticLossesTyped, Scalars);

TYPED_TEST(ProbabilisticLossesTyped, KLDivergence) {
  using T = TypeParam;
  const KLDivergence<T> kld;
  // Summed over the classes, averaged over the batch: 0.5 log(4/3), and 0 for equal rows.
  EXPECT_NEAR(loss_value<T>(kld, Tensor<T>({2, 2}, {0.25, 0.75, 0.5, 0.5}),
                            Tensor<T>({2, 2}, {0.5, 0.5, 0.5, 0.5})),
              0.5 * std::log(4.0 / 3.0) / 2, loss_tolerance<T>());
  // Both sides clipped to [1e-7, 1]: a zero target still counts as 1e-7, a zero prediction is
  // 1e-7 instead of a division by zero.
  const double eps = kLossEpsilon;
  EXPECT_NEAR(loss_value<T>(kld, Tensor<T>({1, 2}, {0, 1}), Tensor<T>({1, 2}, {1, 0})),
              std::log(1 / eps) + eps * std::log(eps), 1e-5);
  Variable<T> p(Tensor<T>({1, 2}, {0, 0.5}), true);
  kld(p, Tensor<T>({1, 2}, {0.5, 0.5})).backward();
  EXPECT_EQ(p.grad().data()[0], T(0));                         // clipped: no gradient
  EXPECT_NEAR(p.grad().data()[1], -1.0, loss_tolerance<T>());  // -y_true / y_pred
  EXPECT_EQ(kld.name(), "kl_divergence");
}

TYPED_TEST(ProbabilisticLossesTyped, Poisson) {
  using T = TypeParam;
  const Poisson<T> poisson;
  // (1 - 0 log(1 + eps)) and (2 - 3 log(2 + eps)), averaged.
  EXPECT_NEAR(loss_value<T>(poisson, Tensor<T>({1, 2}, {1, 2}), Tensor<T>({1, 2}, {0, 3})),
              (1 + 2 - 3 * std::log(2 + kLossEpsilon)) / 2, 1e-6);
  // A zero rate against a zero count: 0 - 0 log(eps) = 0.
  EXPECT_EQ(loss_value<T>(poisson, Tensor<T>({1, 1}, {0}), Tensor<T>({1}, {0})), 0.0);
  EXPECT_EQ(poisson.name(), "poisson");
}

TEST(ProbabilisticLossesGrad, MatchesFiniteDifferences) {
  const Tensor<double> p = random_tensor({4, 3}, 21, 0.05, 0.9);
  const Tensor<double> q = random_tensor({4, 3}, 22, 0.05, 0.9);
  const Tensor<double> counts({4, 3}, {0, 1, 3, 2, 0, 0, 5, 1, 1, 2, 4, 0});
  const auto check = [](const Loss<double>& loss, const Tensor<double>& y_pred,
                        const Tensor<double>& y_true) {
    SCOPED_TRACE(loss.name());
    expect_gradients_match([&](const std::vector<V>& v) { return loss(v[0], y_true); }, {y_pred});
  };
  check(KLDivergence<double>(), p, q);
  check(KLDivergence<double>(), random_tensor({2, 3, 2}, 23, 0.1, 1),
        random_tensor({2, 3, 2}, 24, 0, 1));
  check(Poisson<double>(), random_tensor({4, 3}, 25, 0.2, 4), counts);
}

TEST(ProbabilisticLossesErrors, ShapeMismatchNamesTheLossAndBothShapes) {
  const V p(Tensor<double>({4, 3}));
  expect_error<ShapeError>(
      [&] {
        KLDivergence<double>()(p, Tensor<double>({4, 2}));
      },
      {"kl_divergence", "[4, 3]", "[4, 2]"});
  expect_error<ShapeError>(
      [&] {
        Poisson<double>()(p, Tensor<double>({4, 3, 2}));
      },
      {"poisson", "[4, 3]", "[4, 3, 2]"});
  expect_error<ShapeError>(
      [&] {
        Poisson<double>()(p, Tensor<double>({2, 3}));
      },
      {"poisson", "[4, 3]", "[2, 3]", "batch size"});
}

}  // namespace
}  // namespace lamina
