#include "lamina/layers/reshape.hpp"

#include <gtest/gtest.h>

#include "support/layer_check.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_layer_gradients_match;
using testing::random_tensor;

template <class T>
class ReshapeTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ReshapeTyped, Scalars);

TYPED_TEST(ReshapeTyped, FlattenKeepsRowMajorOrderAndTheBatch) {
  using T = TypeParam;
  const Variable<T> x(Tensor<T>::arange(0, 24).reshape({2, 3, 2, 2}));
  Flatten<T> flatten;
  const Variable<T> y = flatten(x);
  EXPECT_EQ(y.shape(), (Shape{2, 12}));
  EXPECT_EQ(y.value().to_vector(), x.value().to_vector());
  EXPECT_EQ(flatten.output_shape(), (Shape{12}));
  EXPECT_EQ(flatten.type(), "Flatten");
  EXPECT_TRUE(flatten.weights().empty());
  // Another batch size is fine: only the per-sample shape is fixed by the build.
  EXPECT_EQ(flatten(Variable<T>(Tensor<T>({5, 3, 2, 2}))).shape(), (Shape{5, 12}));
  // Samples that are already flat, and scalar samples ([n] -> [n, 1], as Keras).
  Flatten<T> flat;
  EXPECT_EQ(flat(Variable<T>(Tensor<T>({4, 7}))).shape(), (Shape{4, 7}));
  Flatten<T> scalars;
  EXPECT_EQ(scalars(Variable<T>(Tensor<T>({4}))).shape(), (Shape{4, 1}));
}

TYPED_TEST(ReshapeTyped, ReshapeToTargetAndInferredSizes) {
  using T = TypeParam;
  const Variable<T> x(Tensor<T>::arange(0, 24).reshape({2, 12}));
  Reshape<T> to_grid(Shape{3, 4});
  const Variable<T> y = to_grid(x);
  EXPECT_EQ(y.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(y.value().to_vector(), x.value().to_vector());
  EXPECT_EQ(y.value().at({1, 2, 3}), T(23));
  Reshape<T> inferred(Shape{-1, 2});
  EXPECT_EQ(inferred(x).shape(), (Shape{2, 6, 2}));
  EXPECT_EQ(inferred.output_shape(), (Shape{6, 2}));
  // The batch is taken from each call, not from the build.
  EXPECT_EQ(inferred(Variable<T>(Tensor<T>({7, 12}))).shape(), (Shape{7, 6, 2}));
  Reshape<T> image(Shape{28, 28, 1});
  EXPECT_EQ(image(Variable<T>(Tensor<T>({3, 784}))).shape(), (Shape{3, 28, 28, 1}));
  EXPECT_EQ(image.type(), "Reshape");
}

TEST(ReshapeGrad, MatchesFiniteDifferences) {
  Flatten<double> flatten;
  expect_layer_gradients_match(flatten, random_tensor({2, 3, 2, 2}, 1));
  Reshape<double> reshape(Shape{2, -1});
  expect_layer_gradients_match(reshape, random_tensor({3, 6}, 2));
  Reshape<double> back(Shape{4});
  expect_layer_gradients_match(back, random_tensor({2, 2, 2}, 3));
}

TEST(ReshapeErrors, TargetThatDoesNotFit) {
  Reshape<double> r(Shape{5, 5});
  expect_error<ShapeError>(
      [&] {
        r(Variable<double>(Tensor<double>({2, 12})));
      },
      {"Reshape \"reshape\"", "[*, 12]", "[*, 5, 5]"});
  EXPECT_FALSE(r.built());
  Reshape<double> two_unknown(Shape{-1, -1});
  expect_error<ShapeError>([&] { two_unknown.build({12}); },
                           {"Reshape \"reshape\"", "[*, -1, -1]", "only one size may be -1"});
  Reshape<double> indivisible(Shape{5, -1});
  expect_error<ShapeError>([&] { indivisible.build({12}); },
                           {"Reshape \"reshape\"", "[*, 12]", "[*, 5, -1]"});
  Reshape<double> negative(Shape{-3, 4});
  expect_error<ShapeError>([&] { negative.build({12}); }, {"Reshape \"reshape\"", "negative"});
}

TEST(ReshapeErrors, WrongInputShapeAfterBuild) {
  Flatten<double> flatten({.name = "flat"});
  flatten.build({5, 5, 64});
  expect_error<ShapeError>(
      [&] {
        flatten(Variable<double>(Tensor<double>({2, 4, 4, 64})));
      },
      {"Flatten \"flat\": expected input [*, 5, 5, 64], got [2, 4, 4, 64]"});
  Reshape<double> r(Shape{3, 4});
  r.build({12});
  expect_error<ShapeError>(
      [&] {
        r(Variable<double>(Tensor<double>({2, 3, 4})));
      },
      {"Reshape \"reshape\"", "[*, 12]", "[2, 3, 4]"});
  Flatten<double> declared({.input_shape = {3, 3}});
  expect_error<ShapeError>(
      [&] {
        declared(Variable<double>(Tensor<double>({2, 9})));
      },
      {"Flatten \"flatten\"", "[*, 3, 3]", "[2, 9]"});
}

}  // namespace
}  // namespace lamina
