#include "lamina/optimizers/adadelta.hpp"

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
class AdadeltaTyped : public ::testing::Test {};
TYPED_TEST_SUITE(AdadeltaTyped, Scalars);

TYPED_TEST(AdadeltaTyped, OneStepByHand) {
  using T = TypeParam;
  Variable<T> p(Tensor<T>({1}, {1}), true);
  Adadelta<T> opt({.learning_rate = 1.0, .rho = 0.5, .epsilon = 0.01});
  opt.build({p});
  give_grad(p, Tensor<T>({1}, {2}));
  opt.step();
  // E[g^2] = 0.5 * 4 = 2; delta = -sqrt(0 + 0.01) / sqrt(2.01) * 2; E[dx^2] = 0.5 delta^2
  const double delta = -0.1 / std::sqrt(2.01) * 2;
  expect_tensor_near(opt.state(0).accumulated_grad, {1}, {2}, 1e-7);
  expect_tensor_near(opt.state(0).accumulated_delta_var, {1}, {0.5 * delta * delta}, 1e-7);
  expect_tensor_near(p.value(), {1}, {1 + delta}, std::is_same_v<T, double> ? 1e-15 : 1e-6);
}

TYPED_TEST(AdadeltaTyped, MatchesPyTorchAdadelta) {
  using T = TypeParam;
  // torch.optim.Adadelta is Keras's rule (epsilon inside both square roots) exactly.
  Adadelta<T> opt({.learning_rate = 0.5, .rho = 0.9, .epsilon = 1e-6});
  expect_trajectory(opt, "adadelta", kTrajectoryTol<T>);
}

TEST(Adadelta, ConvergesOnLeastSquares) {
  // Adadelta's first steps have size ~sqrt(epsilon) and grow from there, so it is slow to start.
  Adadelta<double> opt({.learning_rate = 0.5, .epsilon = 1e-6});
  expect_converges(opt, 5000, 1e-6);
  Adadelta<float> opt_float({.learning_rate = 0.5, .epsilon = 1e-6});
  expect_converges(opt_float, 5000, 1e-5);
}

TEST(Adadelta, KerasDefaults) {
  const AdadeltaOptions o = Adadelta().options();
  EXPECT_EQ(o.learning_rate, 1e-3);
  EXPECT_EQ(o.rho, 0.95);
  EXPECT_EQ(o.epsilon, 1e-7);
  EXPECT_EQ(Adadelta().name(), "adadelta");
  EXPECT_EQ(Adadelta().class_name(), "Adadelta");
}

TEST(Adadelta, ValidatesOptions) {
  expect_error<ValueError>([] { Adadelta({.learning_rate = 0}); },
                           {"Adadelta", "learning_rate", "0"});
  expect_error<ValueError>([] { Adadelta({.rho = 1.5}); }, {"Adadelta", "rho", "[0, 1]", "1.5"});
  expect_error<ValueError>([] { Adadelta({.rho = -0.1}); }, {"Adadelta", "rho", "-0.1"});
  expect_error<ValueError>([] { Adadelta({.epsilon = -1}); }, {"Adadelta", "epsilon", "-1"});
}

}  // namespace
}  // namespace lamina
