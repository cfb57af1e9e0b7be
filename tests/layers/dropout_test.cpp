#include "lamina/layers/dropout.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "support/layer_check.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_layer_gradients_match;
using testing::random_tensor;

template <class T>
class DropoutTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(DropoutTyped, Scalars);

TYPED_TEST(DropoutTyped, InferenceIsTheIdentity) {
  using T = TypeParam;
  Dropout<T> dropout(0.5);
  EXPECT_FALSE(dropout.training());  // layers start in inference mode; models switch it
  const Variable<T> x(Tensor<T>::arange(1, 13).reshape({3, 4}));
  const Variable<T> y = dropout(x);
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_EQ(y.value().to_vector(), x.value().to_vector());
  EXPECT_EQ(dropout.type(), "Dropout");
  EXPECT_EQ(dropout.rate(), 0.5);
  EXPECT_TRUE(dropout.weights().empty());
}

TYPED_TEST(DropoutTyped, TrainingDropsAtTheRateAndScalesTheRest) {
  using T = TypeParam;
  const double rate = 0.3;
  Dropout<T> dropout(rate, {.seed = 7});
  dropout.set_training(true);
  const index_t n = 200000;
  const Variable<T> x(Tensor<T>::ones({n / 100, 100}));
  const Tensor<T> y = dropout(x).value();
  // Inverted dropout: kept values are scaled by exactly 1 / (1 - rate), so E[y] = x.
  const T kept = T(1.0 / (1.0 - rate));
  index_t zeros = 0;
  double total = 0;
  for (T v : y) {
    if (v == T(0)) {
      ++zeros;
    } else {
      EXPECT_EQ(v, kept);
    }
    total += v;
  }
  // Binomial(n, 0.3): standard deviation of the fraction ~0.001; allow five of them.
  EXPECT_NEAR(double(zeros) / double(n), rate, 0.005);
  EXPECT_NEAR(total / double(n), 1.0, 0.01);
}

TYPED_TEST(DropoutTyped, TrainingGradientIsTheMask) {
  using T = TypeParam;
  Dropout<T> dropout(0.5, {.seed = 3});
  dropout.set_training(true);
  const Tensor<T> xv = Tensor<T>::arange(1, 41).reshape({4, 10});
  Variable<T> x(xv.clone(), true);
  const Variable<T> y = dropout(x);
  sum(y).backward();
  // d(x * mask)/dx = mask, and mask = y / x.
  index_t dropped = 0;
  for (index_t k = 0; k < xv.size(); ++k) {
    const T mask = y.value().data()[k] / xv.data()[k];
    EXPECT_TRUE(mask == T(0) || mask == T(2)) << mask;
    EXPECT_EQ(x.grad().data()[k], mask);
    dropped += mask == T(0);
  }
  EXPECT_GT(dropped, 0);
  EXPECT_LT(dropped, xv.size());
}

TYPED_TEST(DropoutTyped, MasksDifferPerCallAndRepeatForASeed) {
  using T = TypeParam;
  const Variable<T> x(Tensor<T>::ones({8, 16}));
  Dropout<T> a(0.5, {.seed = 11}), b(0.5, {.seed = 11}), c(0.5, {.seed = 12});
  for (Dropout<T>* d : {&a, &b, &c}) d->set_training(true);
  const std::vector<T> a1 = a(x).value().to_vector(), a2 = a(x).value().to_vector();
  EXPECT_NE(a1, a2);  // a new mask at every call
  EXPECT_EQ(b(x).value().to_vector(), a1);
  EXPECT_EQ(b(x).value().to_vector(), a2);
  EXPECT_NE(c(x).value().to_vector(), a1);
  // Back in inference mode: the identity again.
  a.set_training(false);
  EXPECT_EQ(a(x).value().to_vector(), x.value().to_vector());
}

TYPED_TEST(DropoutTyped, RateZeroKeepsEverythingInTraining) {
  using T = TypeParam;
  Dropout<T> dropout(0.0);
  dropout.set_training(true);
  const Variable<T> x(Tensor<T>::arange(1, 7).reshape({2, 3}));
  EXPECT_EQ(dropout(x).value().to_vector(), x.value().to_vector());
}

TEST(DropoutGrad, InferenceMatchesFiniteDifferences) {
  Dropout<double> dropout(0.4);
  expect_layer_gradients_match(dropout, random_tensor({3, 5}, 1));
}

TEST(DropoutErrors, RateOutsideZeroToOne) {
  for (double rate : {-0.1, 1.0, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
    SCOPED_TRACE(rate);
    expect_error<ValueError>([rate] { Dropout<double>{rate}; }, {"Dropout", "rate", "[0, 1)"});
  }
  expect_error<ValueError>([] { Dropout<double>(1.0); }, {"got 1"});
  expect_error<ValueError>([] { Dropout<double>(-0.1); }, {"got -0.1"});
}

TEST(DropoutErrors, WrongInputShapeAfterBuild) {
  Dropout<double> dropout(0.2);
  dropout.build({64});
  expect_error<ShapeError>(
      [&] {
        dropout(Variable<double>(Tensor<double>({8, 32})));
      },
      {"Dropout \"dropout\": expected input [*, 64], got [8, 32]"});
}

}  // namespace
}  // namespace lamina
