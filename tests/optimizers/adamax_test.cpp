#include "lamina/optimizers/adamax.hpp"

#include <gtest/gtest.h>

#include <type_traits>

#include "optimizers/least_squares.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_converges;
using testing::expect_error;
using testing::expect_tensor_near;
using testing::expect_trajectory;
using testing::give_grad;
using testing::kTrajectoryTol;
using testing::reference_values;

using Scalars = ::testing::Types<float, double>;

template <class T>
class AdamaxTyped : public ::testing::Test {};
TYPED_TEST_SUITE(AdamaxTyped, Scalars);

TYPED_TEST(AdamaxTyped, TwoStepsByHand) {
  using T = TypeParam;
  Variable<T> p(Tensor<T>({1}, {1}), true);
  Adamax<T> opt({.learning_rate = 0.1, .beta_2 = 0.5, .epsilon = 0});
  opt.build({p});
  give_grad(p, Tensor<T>({1}, {2}));
  opt.step();  // m = 0.2, u = 2, p -= 0.1 * 0.2 / (0.1 * 2) = 0.1
  give_grad(p, Tensor<T>({1}, {0.5}));
  opt.step();  // m = 0.18 + 0.05 = 0.23, u = max(1, 0.5) = 1, p -= 0.1 * 0.23 / (0.19 * 1)
  expect_tensor_near(opt.state(0).u, {1}, {1}, 0);
  expect_tensor_near(p.value(), {1}, {0.9 - 0.023 / 0.19},
                     std::is_same_v<T, double> ? 1e-15 : 1e-6);
}

TYPED_TEST(AdamaxTyped, MatchesPyTorchAdamaxWithZeroEpsilon) {
  using T = TypeParam;
  Adamax<T> opt({.learning_rate = 0.1, .epsilon = 0});
  expect_trajectory(opt, "adamax_eps0", kTrajectoryTol<T>);
}

TYPED_TEST(AdamaxTyped, MatchesKerasFormWithKerasEpsilon) {
  using T = TypeParam;
  // Keras adds epsilon to u in the denominator, torch to |g| inside the max.
  Adamax<T> opt({.learning_rate = 0.1});
  expect_trajectory(opt, "adamax_keras", kTrajectoryTol<T>);
}

TEST(Adamax, ConvergesOnLeastSquares) {
  Adamax<double> opt({.learning_rate = 0.01});
  expect_converges(opt, 3000, 1e-6);
  Adamax<float> opt_float({.learning_rate = 0.01});
  expect_converges(opt_float, 3000, 1e-6);
}

TEST(Adamax, KerasDefaults) {
  const AdamaxOptions o = Adamax().options();
  EXPECT_EQ(o.learning_rate, 1e-3);
  EXPECT_EQ(o.beta_1, 0.9);
  EXPECT_EQ(o.beta_2, 0.999);
  EXPECT_EQ(o.epsilon, 1e-7);
  EXPECT_EQ(Adamax().name(), "adamax");
  EXPECT_EQ(Adamax().class_name(), "Adamax");
}

TEST(Adamax, ValidatesOptions) {
  expect_error<ValueError>([] { Adamax({.learning_rate = -2}); },
                           {"Adamax", "learning_rate", "-2"});
  expect_error<ValueError>([] { Adamax({.beta_1 = -0.1}); }, {"Adamax", "beta_1", "-0.1"});
  expect_error<ValueError>([] { Adamax({.beta_2 = 1}); }, {"Adamax", "beta_2", "[0, 1)", "1"});
  expect_error<ValueError>([] { Adamax({.epsilon = -1}); }, {"Adamax", "epsilon", "-1"});
}

}  // namespace
}  // namespace lamina
