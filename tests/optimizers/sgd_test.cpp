#include "lamina/optimizers/sgd.hpp"

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

template <class T>
class SGDTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(SGDTyped, Scalars);

TYPED_TEST(SGDTyped, PlainStepByHand) {
  using T = TypeParam;
  Variable<T> p(Tensor<T>({2}, {1, -2}), true);
  SGD<T> opt({.learning_rate = 0.1});
  opt.build({p});
  give_grad(p, Tensor<T>({2}, {0.5, -1}));
  opt.step();
  // p - lr g = [1 - 0.05, -2 + 0.1]
  expect_tensor_near(p.value(), {2}, {0.95, -1.9}, 1e-6);
  EXPECT_TRUE(opt.state(0).velocity.empty());  // no momentum, no velocity buffer
}

TYPED_TEST(SGDTyped, MomentumTwoStepsByHand) {
  using T = TypeParam;
  Variable<T> p(Tensor<T>({2}, {1, -2}), true);
  SGD<T> opt({.learning_rate = 0.1, .momentum = 0.9});
  opt.build({p});
  give_grad(p, Tensor<T>({2}, {0.5, -1}));
  opt.step();
  // v1 = -lr g = [-0.05, 0.1]; p1 = p0 + v1
  expect_tensor_near(opt.state(0).velocity, {2}, {-0.05, 0.1}, 1e-7);
  expect_tensor_near(p.value(), {2}, {0.95, -1.9}, 1e-6);
  opt.step();
  // v2 = 0.9 v1 - lr g = [-0.095, 0.19]; p2 = p1 + v2
  expect_tensor_near(opt.state(0).velocity, {2}, {-0.095, 0.19}, 1e-7);
  expect_tensor_near(p.value(), {2}, {0.855, -1.71}, 1e-6);
}

TYPED_TEST(SGDTyped, NesterovStepByHand) {
  using T = TypeParam;
  Variable<T> p(Tensor<T>({2}, {1, -2}), true);
  SGD<T> opt({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
  opt.build({p});
  give_grad(p, Tensor<T>({2}, {0.5, -1}));
  opt.step();
  // v1 = [-0.05, 0.1]; p1 = p0 + 0.9 v1 - lr g = [1 - 0.045 - 0.05, -2 + 0.09 + 0.1]
  expect_tensor_near(p.value(), {2}, {0.905, -1.81}, 1e-6);
}

TYPED_TEST(SGDTyped, NesterovWithoutMomentumIsPlainSGD) {
  using T = TypeParam;
  Variable<T> p(Tensor<T>({2}, {1, -2}), true);
  SGD<T> opt({.learning_rate = 0.1, .nesterov = true});
  opt.build({p});
  give_grad(p, Tensor<T>({2}, {0.5, -1}));
  opt.step();
  expect_tensor_near(p.value(), {2}, {0.95, -1.9}, 1e-6);
}

TYPED_TEST(SGDTyped, MatchesPyTorchTrajectories) {
  using T = TypeParam;
  // torch.optim.SGD (dampening 0) keeps buf = m buf + g and steps p -= lr buf; with a constant lr
  // that is Keras's v = m v - lr g, p += v (the generator checks both agree to ~1e-16).
  const double tol = std::is_same_v<T, double> ? 1e-12 : 1e-6;
  SGD<T> plain({.learning_rate = 0.1});
  expect_trajectory(plain, "sgd", tol);
  SGD<T> momentum({.learning_rate = 0.05, .momentum = 0.9});
  expect_trajectory(momentum, "sgd_momentum", tol);
  SGD<T> nesterov({.learning_rate = 0.05, .momentum = 0.9, .nesterov = true});
  expect_trajectory(nesterov, "sgd_nesterov", tol);
}

TEST(SGD, ConvergesOnLeastSquares) {
  SGD<double> plain({.learning_rate = 0.1});
  expect_converges(plain, 2000, 1e-6);
  SGD<double> nesterov({.learning_rate = 0.05, .momentum = 0.9, .nesterov = true});
  expect_converges(nesterov, 500, 1e-6);
  SGD<float> momentum({.learning_rate = 0.05, .momentum = 0.9});
  expect_converges(momentum, 500, 1e-6);
}

TEST(SGD, KerasDefaults) {
  const SGDOptions o = SGD().options();
  EXPECT_EQ(o.learning_rate, 0.01);
  EXPECT_EQ(o.momentum, 0.0);
  EXPECT_FALSE(o.nesterov);
  EXPECT_FALSE(o.clipnorm.has_value());
  EXPECT_FALSE(o.clipvalue.has_value());
  EXPECT_EQ(SGD().name(), "sgd");
}

TEST(SGD, ValidatesOptions) {
  expect_error<ValueError>([] { SGD({.momentum = -0.1}); }, {"SGD", "momentum", "[0, 1]", "-0.1"});
  expect_error<ValueError>([] { SGD({.momentum = 1.5}); }, {"SGD", "momentum", "1.5"});
  expect_error<ValueError>([] { SGD({.learning_rate = 0}); }, {"SGD", "learning_rate", "0"});
  EXPECT_NO_THROW(SGD({.momentum = 1.0}));  // Keras allows [0, 1]
}

}  // namespace
}  // namespace lamina
