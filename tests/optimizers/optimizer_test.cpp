#include "lamina/optimizers/optimizer.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <type_traits>

#include "lamina/optimizers/adam.hpp"
#include "lamina/optimizers/registry.hpp"
#include "lamina/optimizers/sgd.hpp"
#include "optimizers/least_squares.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_tensor_near;
using testing::expect_trajectory;
using testing::give_grad;
using V = Variable<double>;

template <class T>
class OptimizerTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(OptimizerTyped, Scalars);

TEST(Optimizer, IterationsCountStepsAndBuildResetsEverything) {
  V p(Tensor<double>({2}, {1, -2}), true);
  Adam<double> opt;
  EXPECT_FALSE(opt.built());
  opt.build({p});
  EXPECT_TRUE(opt.built());
  EXPECT_EQ(opt.iterations(), 0);
  for (int k = 1; k <= 3; ++k) {
    give_grad(p, Tensor<double>({2}, {0.5, -1}));
    opt.step();
    EXPECT_EQ(opt.iterations(), k);
  }
  EXPECT_NE(opt.state(0).m.data()[0], 0.0);
  opt.build({p});
  EXPECT_EQ(opt.iterations(), 0);
  expect_tensor_near(opt.state(0).m, {2}, {0, 0}, 0);
  expect_tensor_near(opt.state(0).v, {2}, {0, 0}, 0);
}

TEST(Optimizer, StepBeforeBuildThrows) {
  Adam<double> opt;
  expect_error<Error>([&] { opt.step(); }, {"adam", "build"});
}

TEST(Optimizer, ParametersWithoutGradientAreSkipped) {
  V used(Tensor<double>({2}, {1, -2}), true);
  V unused(Tensor<double>({3}, {4, 5, 6}), true);
  Adam<double> opt({.learning_rate = 0.1});
  opt.build({unused, used});
  give_grad(used, Tensor<double>({2}, {0.5, -1}));
  opt.step();
  EXPECT_EQ(opt.iterations(), 1);
  EXPECT_FALSE(unused.has_grad());
  expect_tensor_near(unused.value(), {3}, {4, 5, 6}, 0);
  expect_tensor_near(opt.state(0).m, {3}, {0, 0, 0}, 0);
  expect_tensor_near(used.value(), {2}, {0.9000006324515321, -1.900000316226766}, 1e-15);
}

TEST(Optimizer, StepWithoutAnyGradientDoesNothing) {
  // As Keras's apply() with only empty gradients: no update and no iteration.
  V p(Tensor<double>({2}, {1, -2}), true);
  SGD<double> opt({.momentum = 0.9});
  opt.build({p});
  opt.step();
  EXPECT_EQ(opt.iterations(), 0);
  expect_tensor_near(p.value(), {2}, {1, -2}, 0);
}

TEST(Optimizer, BiasCorrectionUsesTheSharedIterationCount) {
  // Keras keeps one iteration count, so a parameter first updated at step 2 is corrected with
  // t = 2: alpha = lr sqrt(1 - 0.999^2) / (1 - 0.9^2), m = 0.1 g, v = 0.001 g^2.
  V early(Tensor<double>({1}, {0}), true);
  V late(Tensor<double>({2}, {1, -2}), true);
  Adam<double> opt({.learning_rate = 0.1});
  opt.build({early, late});
  give_grad(early, Tensor<double>({1}, {1}));
  opt.step();
  give_grad(late, Tensor<double>({2}, {0.5, -1}));
  opt.step();
  EXPECT_EQ(opt.iterations(), 2);
  expect_tensor_near(late.value(), {2}, {0.9255867882737759, -1.925586552959283}, 1e-15);
}

TEST(Optimizer, LearningRateChangeTakesEffectOnTheNextStep) {
  V p(Tensor<double>({2}, {1, -2}), true);
  SGD<double> opt({.learning_rate = 0.1, .momentum = 0.9});
  opt.build({p});
  give_grad(p, Tensor<double>({2}, {0.5, -1}));
  opt.step();  // v1 = -0.1 g = [-0.05, 0.1]
  opt.set_learning_rate(0.01);
  EXPECT_EQ(opt.learning_rate(), 0.01);
  opt.step();  // Keras form: v2 = 0.9 v1 - 0.01 g = -0.1 g; p2 = p0 - 0.2 g
  expect_tensor_near(opt.state(0).velocity, {2}, {-0.05, 0.1}, 1e-15);
  expect_tensor_near(p.value(), {2}, {0.9, -1.8}, 1e-15);
}

TEST(Optimizer, SetLearningRateValidates) {
  SGD<double> opt;
  expect_error<ValueError>([&] { opt.set_learning_rate(0); }, {"SGD", "learning_rate", "0"});
  expect_error<ValueError>([&] { opt.set_learning_rate(-0.5); }, {"SGD", "learning_rate", "-0.5"});
  expect_error<ValueError>([&] { opt.set_learning_rate(std::nan("")); }, {"learning_rate", "nan"});
  EXPECT_EQ(opt.learning_rate(), 0.01);
}

TEST(Optimizer, ZeroGradZeroesEveryGradient) {
  V a(Tensor<double>({2}, {1, -2}), true), b(Tensor<double>({1}, {3}), true);
  SGD<double> opt;
  opt.build({a, b});
  give_grad(a, Tensor<double>({2}, {0.5, -1}));
  give_grad(b, Tensor<double>({1}, {2}));
  opt.zero_grad();
  expect_tensor_near(a.grad(), {2}, {0, 0}, 0);
  expect_tensor_near(b.grad(), {1}, {0}, 0);
}

TEST(Optimizer, CloneHasTheSameHyperparametersAndFreshState) {
  V p(Tensor<double>({2}, {1, -2}), true);
  Adam<double> opt({.learning_rate = 0.05, .beta_1 = 0.8, .amsgrad = true, .clipnorm = 2.0});
  opt.build({p});
  give_grad(p, Tensor<double>({2}, {0.5, -1}));
  opt.step();
  opt.set_learning_rate(0.02);

  std::unique_ptr<Optimizer<double>> copy = opt.clone();
  EXPECT_EQ(copy->name(), "adam");
  EXPECT_FALSE(copy->built());
  EXPECT_EQ(copy->iterations(), 0);
  EXPECT_TRUE(copy->parameters().empty());
  const auto* adam = dynamic_cast<const Adam<double>*>(copy.get());
  ASSERT_NE(adam, nullptr);
  EXPECT_EQ(adam->options().learning_rate, 0.02);
  EXPECT_EQ(adam->options().beta_1, 0.8);
  EXPECT_TRUE(adam->options().amsgrad);
  EXPECT_EQ(adam->options().clipnorm, 2.0);

  // A step of the clone equals a step of a brand-new optimizer, and leaves the original alone.
  V q(Tensor<double>({2}, {1, -2}), true), r(Tensor<double>({2}, {1, -2}), true);
  Adam<double> fresh({.learning_rate = 0.02, .beta_1 = 0.8, .amsgrad = true, .clipnorm = 2.0});
  copy->build({q});
  fresh.build({r});
  give_grad(q, Tensor<double>({2}, {3, 4}));
  give_grad(r, Tensor<double>({2}, {3, 4}));
  copy->step();
  fresh.step();
  expect_tensor_near(q.value(), {2}, r.value().to_vector(), 0);
  expect_tensor_near(opt.state(0).m, {2}, {0.1, -0.2}, 1e-15);
  EXPECT_EQ(opt.iterations(), 1);
}

TEST(Optimizer, MovedOptimizerKeepsItsState) {
  static_assert(!std::is_copy_constructible_v<Adam<float>>);
  static_assert(std::is_move_constructible_v<Adam<float>>);
  V p(Tensor<double>({2}, {1, -2}), true);
  SGD<double> opt({.learning_rate = 0.1, .momentum = 0.9});
  opt.build({p});
  give_grad(p, Tensor<double>({2}, {0.5, -1}));
  opt.step();
  SGD<double> moved = std::move(opt);
  moved.step();
  EXPECT_EQ(moved.iterations(), 2);
  expect_tensor_near(p.value(), {2}, {0.855, -1.71}, 1e-15);
}

TYPED_TEST(OptimizerTyped, ClipnormScalesEachGradientByItsOwnNorm) {
  using T = TypeParam;
  Variable<T> a(Tensor<T>({2}, {0, 0}), true), b(Tensor<T>({2}, {0, 0}), true);
  SGD<T> opt({.learning_rate = 1, .clipnorm = 1.0});
  opt.build({a, b});
  give_grad(a, Tensor<T>({2}, {3, 4}));      // norm 5: scaled by 1 / 5
  give_grad(b, Tensor<T>({2}, {0.3, 0.4}));  // norm 0.5: left alone (not a global norm)
  opt.step();
  expect_tensor_near(a.value(), {2}, {-0.6, -0.8}, 1e-7);
  expect_tensor_near(b.value(), {2}, {-0.3, -0.4}, 1e-7);
  expect_tensor_near(a.grad(), {2}, {3, 4}, 0);  // the stored gradient is not modified
}

TYPED_TEST(OptimizerTyped, ClipvalueClipsElementwise) {
  using T = TypeParam;
  Variable<T> a(Tensor<T>({3}, {0, 0, 0}), true);
  SGD<T> opt({.learning_rate = 1, .clipvalue = 0.5});
  opt.build({a});
  give_grad(a, Tensor<T>({3}, {3, -4, 0.25}));
  opt.step();
  expect_tensor_near(a.value(), {3}, {-0.5, 0.5, -0.25}, 0);
  expect_tensor_near(a.grad(), {3}, {3, -4, 0.25}, 0);
}

TEST(Optimizer, ValidatesClippingOptions) {
  expect_error<ValueError>(
      [] { SGD({.clipnorm = 1.0, .clipvalue = 2.0}); },
      {"SGD", "only one of clipnorm, clipvalue and global_clipnorm", "clipnorm=1", "clipvalue=2"});
  expect_error<ValueError>([] { Adam({.clipvalue = 1.0, .global_clipnorm = 3.0}); },
                           {"Adam", "only one of", "clipvalue=1", "global_clipnorm=3"});
  expect_error<ValueError>([] { SGD({.global_clipnorm = -1.0}); },
                           {"SGD", "global_clipnorm", "-1"});
  expect_error<ValueError>([] { SGD({.weight_decay = -0.1}); }, {"SGD", "weight_decay", "-0.1"});
  expect_error<ValueError>([] { Adam({.clipnorm = -1.0}); }, {"Adam", "clipnorm", "-1"});
  expect_error<ValueError>([] { SGD({.clipvalue = 0.0}); }, {"SGD", "clipvalue", "0"});
  expect_error<ValueError>([] { SGD({.learning_rate = std::numeric_limits<double>::infinity()}); },
                           {"SGD", "learning_rate", "inf"});
}

TEST(Optimizer, ParameterReshapedAfterBuildThrows) {
  V p(Tensor<double>({2}, {1, -2}), true);
  Adam<double> opt;
  opt.build({p});
  p.value() = Tensor<double>({3}, {1, 2, 3});
  give_grad(p, Tensor<double>({3}, {1, 1, 1}));
  expect_error<ShapeError>([&] { opt.step(); }, {"adam", "parameter 0", "[3]", "[2]"});
}

TYPED_TEST(OptimizerTyped, GlobalClipnormScalesAllGradientsByTheirJointNorm) {
  using T = TypeParam;
  Variable<T> a(Tensor<T>({2}, {0, 0}), true), b(Tensor<T>({1}, {0}), true);
  SGD<T> opt({.learning_rate = 1, .global_clipnorm = 6.5});
  opt.build({a, b});
  give_grad(a, Tensor<T>({2}, {3, 4}));
  give_grad(b, Tensor<T>({1}, {12}));  // joint norm 13: every gradient times 6.5 / 13
  opt.step();
  expect_tensor_near(a.value(), {2}, {-1.5, -2}, 1e-6);
  expect_tensor_near(b.value(), {1}, {-6}, 1e-6);
  give_grad(a, Tensor<T>({2}, {0.3, 0.4}));  // joint norm below 6.5: unchanged
  give_grad(b, Tensor<T>({1}, {1.2}));
  opt.step();
  expect_tensor_near(a.value(), {2}, {-1.8, -2.4}, 1e-6);
  expect_tensor_near(b.value(), {1}, {-7.2}, 1e-6);
}

TYPED_TEST(OptimizerTyped, GlobalClipnormMatchesKerasForm) {
  using T = TypeParam;
  SGD<T> opt({.learning_rate = 0.1, .global_clipnorm = 0.1});
  expect_trajectory(opt, "sgd_global_clipnorm", std::is_same_v<T, double> ? 1e-12 : 1e-6);
}

TYPED_TEST(OptimizerTyped, WeightDecayIsDecoupledAndScaledByTheLearningRate) {
  using T = TypeParam;
  // Keras 3: p -= p * wd * lr, then the optimizer's own update from the (undecayed) gradient.
  Variable<T> p(Tensor<T>({2}, {1, -2}), true);
  SGD<T> opt({.learning_rate = 0.1, .weight_decay = 0.5});
  opt.build({p});
  give_grad(p, Tensor<T>({2}, {0.5, -1}));
  opt.step();  // p * 0.95 - 0.1 g
  expect_tensor_near(p.value(), {2}, {0.9, -1.8}, 1e-7);
  // For plain SGD this is torch.optim.SGD's (coupled) weight_decay exactly.
  SGD<T> sgd({.learning_rate = 0.1, .weight_decay = 0.5});
  expect_trajectory(sgd, "sgd_weight_decay", std::is_same_v<T, double> ? 1e-12 : 1e-6);
}

TEST(Optimizer, WeightDecaySkipsParametersWithoutGradient) {
  V used(Tensor<double>({1}, {1}), true), unused(Tensor<double>({1}, {1}), true);
  SGD<double> opt({.learning_rate = 0.1, .weight_decay = 0.5});
  opt.build({used, unused});
  give_grad(used, Tensor<double>({1}, {0}));
  opt.step();
  expect_tensor_near(used.value(), {1}, {0.95}, 1e-15);
  expect_tensor_near(unused.value(), {1}, {1}, 0);
}

TEST(Optimizer, CommonOptionsRoundTripThroughTheConfig) {
  Nadam<double> opt({.learning_rate = 0.01, .weight_decay = 0.02, .global_clipnorm = 1.5});
  const Json c = opt.get_config();
  EXPECT_EQ(c.at("weight_decay"), 0.02);
  EXPECT_EQ(c.at("global_clipnorm"), 1.5);
  EXPECT_TRUE(c.at("clipnorm").is_null());
  auto back = optimizer_from_config<double>("Nadam", c);
  EXPECT_EQ(back->weight_decay(), 0.02);
  EXPECT_EQ(back->global_clipnorm(), 1.5);
  EXPECT_EQ(back->get_config(), c);
  // A config written before these options existed still loads, with them unset.
  Json old = c;
  old.erase("weight_decay");
  old.erase("global_clipnorm");
  EXPECT_FALSE(optimizer_from_config<double>("Nadam", old)->weight_decay().has_value());
}

TEST(Optimizer, SetParametersKeepsKnownStateAndStartsNewOnesAtZero) {
  // What a model does at each fit: the optimizer learns about a variable added since its last
  // step (as tf.keras created slots for new variables) and forgets one no longer trainable.
  V a(Tensor<double>({2}, {1, -2}), true), b(Tensor<double>({1}, {3}), true);
  V c(Tensor<double>({3}, {1, 1, 1}), true);
  Adam<double> opt({.learning_rate = 0.1});
  opt.set_parameters({a, b});  // builds
  EXPECT_TRUE(opt.built());
  give_grad(a, Tensor<double>({2}, {0.5, -1}));
  give_grad(b, Tensor<double>({1}, {2}));
  opt.step();
  const Tensor<double> m_a = opt.state(0).m.clone();

  opt.set_parameters({c, a});  // c is new, b is dropped, a keeps its moments
  EXPECT_EQ(opt.iterations(), 1);
  ASSERT_EQ(opt.parameters().size(), 2u);
  EXPECT_TRUE(opt.parameters()[0].node() == c.node());
  expect_tensor_near(opt.state(0).m, {3}, {0, 0, 0}, 0);
  expect_tensor_near(opt.state(1).m, {2}, m_a.to_vector(), 0);

  const Tensor<double> b_before = b.value().clone();
  give_grad(a, Tensor<double>({2}, {0.5, -1}));
  give_grad(b, Tensor<double>({1}, {2}));  // b still has a gradient but is no longer updated
  give_grad(c, Tensor<double>({3}, {1, 1, 1}));
  opt.step();
  EXPECT_EQ(opt.iterations(), 2);
  expect_tensor_near(b.value(), {1}, b_before.to_vector(), 0);
  // c's first update uses the shared count t = 2 (as in BiasCorrectionUses... above):
  // m = 0.1, v = 0.001, alpha = 0.1 sqrt(1 - 0.999^2) / (1 - 0.9^2).
  const double alpha = 0.1 * std::sqrt(1 - 0.999 * 0.999) / (1 - 0.81);
  expect_tensor_near(c.value(), {3},
                     std::vector<double>(3, 1 - alpha * 0.1 / (std::sqrt(0.001) + 1e-7)), 1e-15);
}

TYPED_TEST(OptimizerTyped, EmaAveragesTheWeightsAndFinalizeOverwritesThem) {
  using T = TypeParam;
  Variable<T> p(Tensor<T>({1}, {1}), true);
  SGD<T> opt({.learning_rate = 1, .use_ema = true, .ema_momentum = 0.5});
  opt.build({p});
  give_grad(p, Tensor<T>({1}, {1}));
  opt.step();  // p = 0; first step: average = p = 0
  give_grad(p, Tensor<T>({1}, {1}));
  opt.step();  // p = -1; average = 0.5 * 0 + 0.5 * -1
  give_grad(p, Tensor<T>({1}, {1}));
  opt.step();  // p = -2; average = 0.5 * -0.5 + 0.5 * -2
  expect_tensor_near(p.value(), {1}, {-2}, 0);
  const auto state = opt.state_tensors(0);
  ASSERT_EQ(state.size(), 1u);
  EXPECT_EQ(state[0].first, "average");
  expect_tensor_near(state[0].second, {1}, {-1.25}, 0);
  opt.finalize_variable_values();
  expect_tensor_near(p.value(), {1}, {-1.25}, 0);
}

TEST(Optimizer, EmaOverwriteFrequencyOverwritesEveryNSteps) {
  V p(Tensor<double>({1}, {1}), true);
  SGD<double> opt(
      {.learning_rate = 1, .use_ema = true, .ema_momentum = 0.5, .ema_overwrite_frequency = 2});
  opt.build({p});
  give_grad(p, Tensor<double>({1}, {1}));
  opt.step();  // p = 0, average 0
  expect_tensor_near(p.value(), {1}, {0}, 0);
  give_grad(p, Tensor<double>({1}, {1}));
  opt.step();  // p = -1, average -0.5, and step 2 overwrites p with it
  expect_tensor_near(p.value(), {1}, {-0.5}, 0);
  V q(Tensor<double>({1}, {1}), true);
  SGD<double> plain({.learning_rate = 1});
  plain.build({q});
  give_grad(q, Tensor<double>({1}, {1}));
  plain.step();
  plain.finalize_variable_values();  // without use_ema: nothing to do
  expect_tensor_near(q.value(), {1}, {0}, 0);
  EXPECT_TRUE(plain.state_tensors(0).empty());
}

TEST(Optimizer, ValidatesEmaOptions) {
  expect_error<ValueError>([] { Adam({.use_ema = true, .ema_momentum = 1.5}); },
                           {"Adam", "ema_momentum", "1.5"});
  expect_error<ValueError>([] { SGD({.use_ema = true, .ema_overwrite_frequency = 0}); },
                           {"SGD", "ema_overwrite_frequency", "0"});
  const Json c = Lion<float>({.use_ema = true, .ema_overwrite_frequency = 10}).get_config();
  EXPECT_EQ(c.at("use_ema"), true);
  EXPECT_EQ(c.at("ema_momentum"), 0.99);
  EXPECT_EQ(c.at("ema_overwrite_frequency"), 10);
  EXPECT_EQ(optimizer_from_config<float>("Lion", c)->get_config(), c);
}

TEST(Optimizer, WorksThroughTheBaseClass) {
  V p(Tensor<double>({2}, {1, -2}), true);
  std::unique_ptr<Optimizer<double>> opt =
      std::make_unique<SGD<double>>(SGDOptions{.learning_rate = 0.1});
  opt->build({p});
  ASSERT_EQ(opt->parameters().size(), 1u);
  EXPECT_TRUE(opt->parameters()[0].node() == p.node());
  give_grad(p, Tensor<double>({2}, {0.5, -1}));
  opt->step();
  expect_tensor_near(p.value(), {2}, {0.95, -1.9}, 1e-15);
}

}  // namespace
}  // namespace lamina
