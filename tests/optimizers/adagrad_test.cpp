#include "lamina/optimizers/adagrad.hpp"

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
class AdagradTyped : public ::testing::Test {};
TYPED_TEST_SUITE(AdagradTyped, Scalars);

TYPED_TEST(AdagradTyped, OneStepByHand) {
  using T = TypeParam;
  Variable<T> p(Tensor<T>({2}, {1, -2}), true);
  Adagrad<T> opt({.learning_rate = 0.1, .epsilon = 0});
  opt.build({p});
  expect_tensor_near(opt.state(0).accumulator, {2}, {0.1, 0.1}, 1e-8);  // Keras's 0.1 start
  give_grad(p, Tensor<T>({2}, {0.3, -1}));
  opt.step();
  // a = 0.1 + g^2 = [0.19, 1.1]; p -= 0.1 g / sqrt(a)
  expect_tensor_near(opt.state(0).accumulator, {2}, {0.19, 1.1}, 1e-7);
  expect_tensor_near(p.value(), {2}, {1 - 0.03 / std::sqrt(0.19), -2 + 0.1 / std::sqrt(1.1)},
                     std::is_same_v<T, double> ? 1e-15 : 1e-6);
}

TYPED_TEST(AdagradTyped, MatchesPyTorchAdagradWithZeroEpsilon) {
  using T = TypeParam;
  Adagrad<T> opt({.learning_rate = 0.1, .epsilon = 0});
  expect_trajectory(opt, "adagrad_eps0", kTrajectoryTol<T>);
}

TYPED_TEST(AdagradTyped, MatchesKerasFormWithKerasEpsilon) {
  using T = TypeParam;
  // Keras adds epsilon inside the square root (torch outside): the Keras form from the generator.
  Adagrad<T> opt({.learning_rate = 0.1});
  expect_trajectory(opt, "adagrad_keras", kTrajectoryTol<T>);
}

TYPED_TEST(AdagradTyped, DecoupledWeightDecay) {
  using T = TypeParam;
  Adagrad<T> opt({.learning_rate = 0.1, .weight_decay = 0.5});
  expect_trajectory(opt, "adagrad_weight_decay_keras", kTrajectoryTol<T>);
}

TEST(Adagrad, ConvergesOnLeastSquares) {
  Adagrad<double> opt({.learning_rate = 0.5});
  expect_converges(opt, 3000, 1e-6);
  Adagrad<float> opt_float({.learning_rate = 0.5});
  expect_converges(opt_float, 3000, 1e-5);
}

TEST(Adagrad, KerasDefaults) {
  const AdagradOptions o = Adagrad().options();
  EXPECT_EQ(o.learning_rate, 1e-3);
  EXPECT_EQ(o.initial_accumulator_value, 0.1);
  EXPECT_EQ(o.epsilon, 1e-7);
  EXPECT_EQ(Adagrad().name(), "adagrad");
  EXPECT_EQ(Adagrad().class_name(), "Adagrad");
}

TEST(Adagrad, ValidatesOptions) {
  expect_error<ValueError>([] { Adagrad({.learning_rate = -0.1}); },
                           {"Adagrad", "learning_rate", "-0.1"});
  expect_error<ValueError>([] { Adagrad({.initial_accumulator_value = -1}); },
                           {"Adagrad", "initial_accumulator_value", "-1"});
  expect_error<ValueError>([] { Adagrad({.epsilon = -1}); }, {"Adagrad", "epsilon", "-1"});
  expect_error<ValueError>([] { Adagrad({.weight_decay = -0.5}); },
                           {"Adagrad", "weight_decay", "-0.5"});
}

}  // namespace
}  // namespace lamina
