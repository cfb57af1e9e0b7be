#include "lamina/optimizers/schedules.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <vector>

#include <lamina/lamina.hpp>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

const std::vector<std::int64_t> kSteps = {0, 1, 5, 10, 15, 25, 40};

/// The schedule's values at kSteps against values computed from Keras 3's formulas (in plain
/// Python, keras/src/optimizers/schedules/learning_rate_schedule.py), to 1e-12.
void expect_values(const LearningRateSchedule& s, const std::vector<double>& expected) {
  ASSERT_EQ(expected.size(), kSteps.size());
  for (std::size_t i = 0; i < kSteps.size(); ++i)
    EXPECT_NEAR(s(kSteps[i]), expected[i], 1e-12) << s.class_name() << " at step " << kSteps[i];
}

TEST(Schedules, ExponentialDecay) {
  expect_values(
      ExponentialDecay({.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5}),
      {0.1, 0.09330329915368074, 0.07071067811865477, 0.05, 0.03535533905932738,
       0.01767766952966369, 0.00625});
  expect_values(
      ExponentialDecay(
          {.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5, .staircase = true}),
      {0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.00625});
}

TEST(Schedules, InverseTimeDecay) {
  expect_values(
      InverseTimeDecay({.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5}),
      {0.1, 0.09523809523809523, 0.08, 0.06666666666666667, 0.05714285714285715,
       0.044444444444444446, 0.03333333333333333});
  expect_values(
      InverseTimeDecay(
          {.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5, .staircase = true}),
      {0.1, 0.1, 0.1, 0.06666666666666667, 0.06666666666666667, 0.05, 0.03333333333333333});
}

TEST(Schedules, PiecewiseConstantDecay) {
  // Boundaries belong to the interval below them, as in Keras.
  expect_values(PiecewiseConstantDecay({10, 20}, {1.0, 0.5, 0.1}),
                {1.0, 1.0, 1.0, 1.0, 0.5, 0.1, 0.1});
}

TEST(Schedules, PolynomialDecay) {
  expect_values(PolynomialDecay({.initial_learning_rate = 0.1,
                                 .decay_steps = 10,
                                 .end_learning_rate = 0.01,
                                 .power = 2.0}),
                {0.1, 0.0829, 0.0325, 0.01, 0.01, 0.01, 0.01});
  expect_values(PolynomialDecay({.initial_learning_rate = 0.1,
                                 .decay_steps = 10,
                                 .end_learning_rate = 0.01,
                                 .power = 2.0,
                                 .cycle = true}),
                {0.1, 0.0829, 0.0325, 0.01, 0.015625, 0.012499999999999999, 0.01});
}

TEST(Schedules, CosineDecayWithAndWithoutWarmup) {
  expect_values(CosineDecay({.initial_learning_rate = 0.1, .decay_steps = 10, .alpha = 0.1}),
                {0.1, 0.09779754323328192, 0.05500000000000001, 0.010000000000000002,
                 0.010000000000000002, 0.010000000000000002, 0.010000000000000002});
  expect_values(CosineDecay({.initial_learning_rate = 0.0,
                             .decay_steps = 10,
                             .alpha = 0.1,
                             .warmup_target = 0.2,
                             .warmup_steps = 5}),
                {0.0, 0.04000000000000001, 0.2, 0.11000000000000001, 0.020000000000000004,
                 0.020000000000000004, 0.020000000000000004});
}

TEST(Schedules, CosineDecayRestarts) {
  expect_values(CosineDecayRestarts({.initial_learning_rate = 0.1,
                                     .first_decay_steps = 10,
                                     .t_mul = 2.0,
                                     .m_mul = 0.5,
                                     .alpha = 0.1}),
                {0.1, 0.09779754323328192, 0.05500000000000001, 0.05500000000000001,
                 0.04840990257669732, 0.016590097423302683, 0.029204951288348657});
  expect_values(CosineDecayRestarts({.initial_learning_rate = 0.1,
                                     .first_decay_steps = 10,
                                     .t_mul = 1.0,
                                     .m_mul = 1.0,
                                     .alpha = 0.0}),
                {0.1, 0.09755282581475769, 0.05, 0.1, 0.05, 0.05, 0.1});
}

TEST(Schedules, BadOptionsAreNamed) {
  expect_error<ValueError>([] { ExponentialDecay({.decay_steps = 0}); },
                           {"ExponentialDecay", "decay_steps", "positive", "0"});
  expect_error<ValueError>([] { PiecewiseConstantDecay({10}, {1.0}); },
                           {"PiecewiseConstantDecay", "one more entry"});
  expect_error<ValueError>(
      [] {
        PiecewiseConstantDecay({20, 10}, {1.0, 0.5, 0.1});
      },
      {"boundaries must increase"});
  expect_error<ValueError>([] { CosineDecay({.alpha = 2}); }, {"CosineDecay", "alpha", "[0, 1]"});
  expect_error<ValueError>([] { PolynomialDecay({.power = 0}); }, {"PolynomialDecay", "power"});
  expect_error<ValueError>([] { CosineDecayRestarts({.t_mul = -1}); },
                           {"CosineDecayRestarts", "t_mul"});
}

// An optimizer asks its schedule for the rate at every step: SGD's update is -lr(step) * g.
TEST(Schedules, OptimizerUsesTheRateOfEachStep) {
  const ExponentialDecay schedule(
      {.initial_learning_rate = 0.5, .decay_steps = 2, .decay_rate = 0.5});
  SGD<double> sgd({.learning_rate = schedule});
  Variable<double> w(Tensor<double>({1}, {0.0}), true);
  sgd.build({w});
  double expected = 0;
  for (std::int64_t step = 0; step < 5; ++step) {
    EXPECT_DOUBLE_EQ(sgd.learning_rate(), schedule(step));
    sgd.zero_grad();
    sum(mul(w, Variable<double>(Tensor<double>({1}, {1.0})))).backward();  // gradient 1
    sgd.step();
    expected -= schedule(step);
    EXPECT_DOUBLE_EQ(w.value().data()[0], expected) << "step " << step;
  }
  expect_error<ValueError>([&] { sgd.set_learning_rate(0.1); },
                           {"SGD", "follows a schedule (ExponentialDecay)"});
}

TEST(Schedules, OptimizerConfigRoundTripsTheSchedule) {
  const Adam<float> adam({.learning_rate = CosineDecay({.initial_learning_rate = 0.01,
                                                        .decay_steps = 100,
                                                        .warmup_target = 0.1,
                                                        .warmup_steps = 10})});
  const Json config = adam.get_config();
  EXPECT_EQ(config["learning_rate"]["class_name"], "CosineDecay");
  EXPECT_EQ(config["learning_rate"]["config"]["warmup_steps"], 10);
  const auto copy = Adam<float>::from_config(config);
  EXPECT_EQ(copy->get_config(), config);
  for (std::int64_t step : {0, 5, 10, 50, 200})
    EXPECT_EQ(copy->learning_rate_setting().at(step), adam.learning_rate_setting().at(step));
  // Unknown schedules and options are named.
  Json bad = config;
  bad["learning_rate"]["class_name"] = "StepDecay";
  expect_error<ValueError>([&] { Adam<float>::from_config(bad); },
                           {"unknown learning-rate schedule 'StepDecay'", "CosineDecay"});
  bad = config;
  bad["learning_rate"]["config"]["gamma"] = 1;
  expect_error<ValueError>([&] { Adam<float>::from_config(bad); },
                           {"CosineDecay config: unknown option 'gamma'"});
}

TEST(Schedules, ModelFileKeepsTheSchedule) {
  Sequential<float> model({.seed = 1});
  model.add(Dense<float>(2, {.input_shape = {3}}));
  model.compile(SGD<float>({.learning_rate = PiecewiseConstantDecay({1, 3}, {0.1, 0.05, 0.01})}),
                "mse");
  Generator gen(1);
  const Tensor<float> x = Tensor<float>::uniform({4, 3}, 0, 1, gen);
  model.fit(x, Tensor<float>::zeros({4, 2}), {.epochs = 2, .batch_size = 2, .verbose = 0});
  const std::string path = ::testing::TempDir() + "/schedule_model.safetensors";
  model.save(path);
  const auto loaded = load_model<float>(path);
  EXPECT_EQ(loaded->optimizer().iterations(), 4);
  EXPECT_EQ(loaded->optimizer().learning_rate(), 0.01);
  EXPECT_EQ(loaded->optimizer().get_config(), model.optimizer().get_config());
}

}  // namespace
}  // namespace lamina
