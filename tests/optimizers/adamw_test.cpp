#include "lamina/optimizers/adamw.hpp"

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
class AdamWTyped : public ::testing::Test {};
TYPED_TEST_SUITE(AdamWTyped, Scalars);

TYPED_TEST(AdamWTyped, OneStepByHand) {
  using T = TypeParam;
  Variable<T> p(Tensor<T>({2}, {1, -2}), true);
  AdamW<T> opt({.learning_rate = 0.1, .weight_decay = 0.5});
  opt.build({p});
  give_grad(p, Tensor<T>({2}, {0.5, -1}));
  opt.step();
  // Decay first, p *= 1 - 0.5 * 0.1 = 0.95, then Adam's step of ~lr sign(g) as in adam_test.
  expect_tensor_near(p.value(), {2}, {0.95 - 0.0999993675484679, -1.9 + 0.099999683773234},
                     std::is_same_v<T, double> ? 1e-15 : 1e-6);
}

TYPED_TEST(AdamWTyped, MatchesPyTorchAdamWWithZeroEpsilon) {
  using T = TypeParam;
  // torch.optim.AdamW decays p *= 1 - lr wd before its Adam step, as Keras 3 does; with eps = 0
  // its Adam step is Keras's too.
  AdamW<T> opt({.learning_rate = 0.1, .weight_decay = 0.1, .epsilon = 0});
  expect_trajectory(opt, "adamw_eps0", kTrajectoryTol<T>);
}

TYPED_TEST(AdamWTyped, MatchesKerasFormWithKerasEpsilon) {
  using T = TypeParam;
  AdamW<T> opt({.learning_rate = 0.1, .weight_decay = 0.1});
  expect_trajectory(opt, "adamw_keras", kTrajectoryTol<T>);
}

TEST(AdamW, IsAdamWithWeightDecayAsInKeras) {
  Adam<double> adam({.learning_rate = 0.1, .weight_decay = 0.1});
  expect_trajectory(adam, "adamw_keras", 1e-12);
  // ... and the decay matters on this problem: plain Adam is far from it.
  const auto with = reference_values("adamw_keras/w");
  const auto without = reference_values("adam_keras/w");
  EXPECT_GT(std::abs(with.back() - without.back()), 1e-3);
}

TEST(AdamW, ConvergesOnLeastSquaresWithoutDecay) {
  // With decay the minimiser moves (towards 0), so convergence is checked with weight_decay 0.
  AdamW<double> opt({.learning_rate = 0.01, .weight_decay = 0.0});
  expect_converges(opt, 3000, 1e-6);
  AdamW<float> opt_float({.learning_rate = 0.01, .weight_decay = 0.0});
  expect_converges(opt_float, 3000, 1e-6);
}

TEST(AdamW, KerasDefaults) {
  const AdamWOptions o = AdamW().options();
  EXPECT_EQ(o.learning_rate, 1e-3);
  EXPECT_EQ(o.weight_decay, 0.004);
  EXPECT_EQ(o.beta_1, 0.9);
  EXPECT_EQ(o.beta_2, 0.999);
  EXPECT_EQ(o.epsilon, 1e-7);
  EXPECT_FALSE(o.amsgrad);
  EXPECT_EQ(AdamW().name(), "adamw");
  EXPECT_EQ(AdamW().class_name(), "AdamW");
  static_assert(std::is_same_v<decltype(AdamW({.weight_decay = 0.01})), AdamW<float>>);
}

TEST(AdamW, ValidatesOptions) {
  expect_error<ValueError>([] { AdamW({.weight_decay = std::nullopt}); },
                           {"AdamW", "weight_decay", "none"});
  expect_error<ValueError>([] { AdamW({.weight_decay = -0.1}); },
                           {"AdamW", "weight_decay", "-0.1"});
  expect_error<ValueError>([] { AdamW({.learning_rate = -1}); }, {"AdamW", "learning_rate", "-1"});
  expect_error<ValueError>([] { AdamW({.beta_1 = 1.5}); }, {"AdamW", "beta_1", "1.5"});
  expect_error<ValueError>([] { AdamW({.epsilon = -1}); }, {"AdamW", "epsilon", "-1"});
}

}  // namespace
}  // namespace lamina
