#include "lamina/losses/hinge.hpp"

#include <gtest/gtest.h>

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
class HingeTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(HingeTyped, Scalars);

TYPED_TEST(HingeTyped, KerasFormulaAndLabelConversion) {
  using T = TypeParam;
  const double tol = loss_tolerance<T>();
  const Hinge<T> hinge;
  const Tensor<T> scores({1, 3}, {0.25, -2, 0.5});
  // -1/1 labels: max(1 - 0.25, 0), max(1 - 2, 0), max(1 + 0.5, 0) -> 2.25 / 3.
  EXPECT_NEAR(loss_value<T>(hinge, scores, Tensor<T>({1, 3}, {1, -1, -1})), 2.25 / 3, tol);
  // 0/1 labels are mapped to -1/1 first: the same.
  EXPECT_NEAR(loss_value<T>(hinge, scores, Tensor<T>({1, 3}, {1, 0, 0})), 2.25 / 3, tol);
  // All ones: binary, and 2 * 1 - 1 = 1 as well.
  EXPECT_NEAR(loss_value<T>(hinge, Tensor<T>({2, 1}, {0.5, 2}), Tensor<T>({2}, {1, 1})), 0.25, tol);
  // Labels that are not all 0/1 are used as they are: a 0 label gives max(1, 0) = 1.
  EXPECT_NEAR(loss_value<T>(hinge, scores, Tensor<T>({1, 3}, {1, 0, -1})), (0.75 + 1 + 1.5) / 3,
              tol);
  // Gradient -y / n where the margin is violated, 0 elsewhere.
  Variable<T> p(scores, true);
  hinge(p, Tensor<T>({1, 3}, {1, 0, 0})).backward();
  EXPECT_NEAR(p.grad().data()[0], -1.0 / 3, tol);
  EXPECT_EQ(p.grad().data()[1], T(0));
  EXPECT_NEAR(p.grad().data()[2], 1.0 / 3, tol);
  EXPECT_EQ(hinge.name(), "hinge");
}

TEST(HingeGrad, MatchesFiniteDifferences) {
  const Tensor<double> binary({4, 3}, {1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0});
  const Tensor<double> signs({4, 3}, {1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1, -1});
  const Tensor<double> scores = random_tensor({4, 3}, 31, -2, 2);
  for (const Tensor<double>* labels : {&binary, &signs}) {
    expect_gradients_match([&](const std::vector<V>& v) { return Hinge<double>()(v[0], *labels); },
                           {scores});
  }
}

TEST(HingeErrors, ShapeMismatchNamesTheLossAndBothShapes) {
  expect_error<ShapeError>(
      [] {
        Hinge<double>()(V(Tensor<double>({4, 3})), Tensor<double>({4}));
      },
      {"hinge", "[4, 3]", "[4]"});
}

}  // namespace
}  // namespace lamina
