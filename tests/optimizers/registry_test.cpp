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
    EXPECT_STREQ(e.what(), "unknown optimizer 'foo'; valid names: adam, rmsprop, sgd");
  }
  expect_error<ValueError>([] { make_optimizer<double>(""); }, {"unknown optimizer ''"});
  expect_error<ValueError>([] { make_optimizer<double>("adamw"); },
                           {"'adamw'", "adam, rmsprop, sgd"});
}

}  // namespace
}  // namespace lamina
