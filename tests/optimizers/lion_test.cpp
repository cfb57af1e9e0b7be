#include "lamina/optimizers/lion.hpp"

#include <gtest/gtest.h>

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
class LionTyped : public ::testing::Test {};
TYPED_TEST_SUITE(LionTyped, Scalars);

TYPED_TEST(LionTyped, TwoStepsByHand) {
  using T = TypeParam;
  Variable<T> p(Tensor<T>({2}, {1, -2}), true);
  Lion<T> opt({.learning_rate = 0.1, .beta_1 = 0.5, .beta_2 = 0.5});
  opt.build({p});
  give_grad(p, Tensor<T>({2}, {0.5, -1}));
  opt.step();  // p -= 0.1 sign(0.5 g); m = 0.5 g = [0.25, -0.5]
  expect_tensor_near(p.value(), {2}, {0.9, -1.9}, 1e-7);
  give_grad(p, Tensor<T>({2}, {-1, 0.5}));
  opt.step();  // sign(0.5 m + 0.5 g) = sign([-0.375, 0]) = [-1, 0]: the second stays put
  expect_tensor_near(p.value(), {2}, {1.0, -1.9}, 1e-7);
  expect_tensor_near(opt.state(0).momentum, {2}, {-0.375, 0}, 1e-7);
}

TYPED_TEST(LionTyped, MatchesKerasForm) {
  using T = TypeParam;
  // PyTorch 1.13 has no Lion: the reference is Keras's rule written out in the generator.
  Lion<T> opt({.learning_rate = 0.01});
  expect_trajectory(opt, "lion", kTrajectoryTol<T>);
}

TYPED_TEST(LionTyped, FollowsALearningRateSchedule) {
  using T = TypeParam;
  Lion<T> opt({.learning_rate = ExponentialDecay(
                   {.initial_learning_rate = 0.01, .decay_steps = 3, .decay_rate = 0.5})});
  expect_trajectory(opt, "lion_exponential_decay", kTrajectoryTol<T>);
}

TEST(Lion, ConvergesOnLeastSquaresWithADecayingRate) {
  // Lion's steps have size lr per element, so it settles to O(lr) with a constant rate; a
  // decaying rate takes it to the minimiser.
  auto schedule = [] {
    return ExponentialDecay({.initial_learning_rate = 0.01, .decay_steps = 300, .decay_rate = 0.5});
  };
  Lion<double> opt({.learning_rate = schedule()});
  expect_converges(opt, 6000, 1e-6);
  Lion<float> opt_float({.learning_rate = schedule()});
  expect_converges(opt_float, 6000, 1e-5);
}

TEST(Lion, KerasDefaults) {
  const LionOptions o = Lion().options();
  EXPECT_EQ(o.learning_rate, 1e-3);
  EXPECT_EQ(o.beta_1, 0.9);
  EXPECT_EQ(o.beta_2, 0.99);
  EXPECT_EQ(Lion().name(), "lion");
  EXPECT_EQ(Lion().class_name(), "Lion");
}

TEST(Lion, ValidatesOptions) {
  expect_error<ValueError>([] { Lion({.learning_rate = -1e-3}); },
                           {"Lion", "learning_rate", "-0.001"});
  expect_error<ValueError>([] { Lion({.beta_1 = 0}); }, {"Lion", "beta_1", "(0, 1]", "0"});
  expect_error<ValueError>([] { Lion({.beta_1 = 1.5}); }, {"Lion", "beta_1", "1.5"});
  expect_error<ValueError>([] { Lion({.beta_2 = 2}); }, {"Lion", "beta_2", "[0, 1]", "2"});
  EXPECT_NO_THROW(Lion({.beta_1 = 1.0}));
}

}  // namespace
}  // namespace lamina
