#include "lamina/optimizers/registry.hpp"

#include <gtest/gtest.h>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

template <class T>
class RegistryTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(RegistryTyped, Scalars);

TYPED_TEST(RegistryTyped, MakesEachOptimizerWithKerasDefaults) {
  using T = TypeParam;
  for (const char* name : {"adam", "Adam", "ADAM"}) {
    auto opt = make_optimizer<T>(name);
    EXPECT_EQ(opt->name(), "adam");
    const auto* adam = dynamic_cast<const Adam<T>*>(opt.get());
    ASSERT_NE(adam, nullptr) << name;
    EXPECT_EQ(adam->options().learning_rate, 1e-3);
    EXPECT_EQ(adam->options().epsilon, 1e-7);
  }
  for (const char* name : {"sgd", "SGD"}) {
    auto opt = make_optimizer<T>(name);
    EXPECT_EQ(opt->name(), "sgd");
    ASSERT_NE(dynamic_cast<const SGD<T>*>(opt.get()), nullptr) << name;
    EXPECT_EQ(opt->learning_rate(), 0.01);
  }
  for (const char* name : {"rmsprop", "RMSprop"}) {
    auto opt = make_optimizer<T>(name);
    EXPECT_EQ(opt->name(), "rmsprop");
    const auto* rmsprop = dynamic_cast<const RMSprop<T>*>(opt.get());
    ASSERT_NE(rmsprop, nullptr) << name;
    EXPECT_EQ(rmsprop->options().rho, 0.9);
  }
}

TEST(Registry, UnknownNameListsTheValidOnes) {
  try {
    make_optimizer<float>("foo");
    ADD_FAILURE() << "expected ValueError";
  } catch (const ValueError& e) {
    EXPECT_STREQ(e.what(),
                 "unknown optimizer 'foo'; valid names: adadelta, adagrad, adam, adamax, adamw, "
                 "lion, nadam, rmsprop, sgd");
  }
  expect_error<ValueError>([] { make_optimizer<double>(""); }, {"unknown optimizer ''"});
  expect_error<ValueError>([] { make_optimizer<double>("adamww"); },
                           {"'adamww'", "adamw, lion, nadam"});
}

TYPED_TEST(RegistryTyped, MakesTheKeras3OptimizersByNameAndFromConfig) {
  using T = TypeParam;
  const std::pair<const char*, const char*> names[] = {
      {"adamw", "AdamW"},       {"nadam", "Nadam"},   {"adagrad", "Adagrad"},
      {"adadelta", "Adadelta"}, {"adamax", "Adamax"}, {"lion", "Lion"}};
  for (const auto& [name, class_name] : names) {
    auto opt = make_optimizer<T>(name);
    EXPECT_EQ(opt->name(), name);
    EXPECT_EQ(opt->class_name(), class_name);
    EXPECT_EQ(make_optimizer<T>(class_name)->name(), name);  // case-insensitive
    auto back = optimizer_from_config<T>(class_name, opt->get_config());
    EXPECT_EQ(back->class_name(), class_name);
    EXPECT_EQ(back->get_config(), opt->get_config()) << name;
  }
  EXPECT_EQ(make_optimizer<T>("adamw")->weight_decay(), 0.004);
  EXPECT_EQ(make_optimizer<T>("lion")->get_config().at("beta_2"), 0.99);
  EXPECT_EQ(make_optimizer<T>("adadelta")->get_config().at("rho"), 0.95);
  EXPECT_EQ(make_optimizer<T>("adagrad")->get_config().at("initial_accumulator_value"), 0.1);
}

TEST(Registry, FromConfigNamesABadOption) {
  expect_error<ValueError>(
      [] {
        optimizer_from_config<float>("Lion", Json{{"beta_1", 0.0}});
      },
      {"Lion", "beta_1"});
  expect_error<ValueError>(
      [] {
        optimizer_from_config<float>("Adagrad", Json{{"rho", 0.5}});
      },
      {"Adagrad", "rho"});
}

}  // namespace
}  // namespace lamina
