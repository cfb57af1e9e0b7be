#include "lamina/ops/shape_ops.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using V = Variable<double>;

template <class T>
class ShapeOpsTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ShapeOpsTyped, Scalars);

template <class T>
Tensor<T> iota(Shape shape) {
  Tensor<T> t(std::move(shape));
  for (index_t i = 0; i < t.size(); ++i) t.data()[i] = static_cast<T>(i);
  return t;
}

std::vector<double> range(double from, double to) {
  std::vector<double> v;
  for (double x = from; x < to; x += 1) v.push_back(x);
  return v;
}

TYPED_TEST(ShapeOpsTyped, ReshapeSharesStorage) {
  using T = TypeParam;
  Variable<T> x(iota<T>({2, 3}));
  const Variable<T> y = reshape(x, {3, 2});
  expect_tensor_near(y.value(), {3, 2}, range(0, 6), 0);
  EXPECT_TRUE(y.value().shares_storage_with(x.value()));
  expect_tensor_near(reshape(x, {-1, 2}).value(), {3, 2}, range(0, 6), 0);
  expect_tensor_near(reshape(x, {6}).value(), {6}, range(0, 6), 0);
  expect_tensor_near(reshape(x, {1, -1, 1}).value(), {1, 6, 1}, range(0, 6), 0);
  expect_tensor_near(reshape(Variable<T>(Tensor<T>({1}, {5})), {}).value(), {}, {5}, 0);
}

TYPED_TEST(ShapeOpsTyped, FlattenKeepsTheBatchAxis) {
  using T = TypeParam;
  Variable<T> x(iota<T>({2, 3, 4}));
  const Variable<T> y = flatten(x);
  expect_tensor_near(y.value(), {2, 12}, range(0, 24), 0);
  EXPECT_TRUE(y.value().shares_storage_with(x.value()));
  expect_tensor_near(flatten(Variable<T>(iota<T>({2, 2, 1, 3}))).value(), {2, 6}, range(0, 12), 0);
  expect_tensor_near(flatten(Variable<T>(iota<T>({2, 5}))).value(), {2, 5}, range(0, 10), 0);
  expect_tensor_near(flatten(Variable<T>(iota<T>({5}))).value(), {5, 1}, range(0, 5), 0);
  expect_tensor_near(flatten(Variable<T>(iota<T>({0, 3, 4}))).value(), {0, 12}, {}, 0);
}

TYPED_TEST(ShapeOpsTyped, ConcatAlongEachAxis) {
  using T = TypeParam;
  Variable<T> a(iota<T>({2, 2})), b(Tensor<T>({1, 2}, {10, 11})), c(Tensor<T>({2, 1}, {20, 21}));
  expect_tensor_near(concat<T>({a, b}, 0).value(), {3, 2}, {0, 1, 2, 3, 10, 11}, 0);
  expect_tensor_near(concat<T>({b, a, b}, 0).value(), {4, 2}, {10, 11, 0, 1, 2, 3, 10, 11}, 0);
  expect_tensor_near(concat<T>({a, c}, 1).value(), {2, 3}, {0, 1, 20, 2, 3, 21}, 0);
  expect_tensor_near(concat<T>({c, a}, -1).value(), {2, 3}, {20, 0, 1, 21, 2, 3}, 0);
  expect_tensor_near(concat<T>({a}, 0).value(), {2, 2}, {0, 1, 2, 3}, 0);
  // A middle axis of a 3-D tensor, with an empty piece.
  Variable<T> x(iota<T>({2, 1, 2})), y(Tensor<T>({2, 2, 2}, {10, 11, 12, 13, 14, 15, 16, 17}));
  Variable<T> none(Tensor<T>::empty({2, 0, 2}));
  expect_tensor_near(concat<T>({x, none, y}, 1).value(), {2, 3, 2},
                     {0, 1, 10, 11, 12, 13, 2, 3, 14, 15, 16, 17}, 0);
}

TYPED_TEST(ShapeOpsTyped, SliceAlongEachAxis) {
  using T = TypeParam;
  Variable<T> x(iota<T>({3, 4}));
  const Variable<T> rows = slice(x, 0, 1, 3);
  expect_tensor_near(rows.value(), {2, 4}, range(4, 12), 0);
  EXPECT_TRUE(rows.value().shares_storage_with(x.value()));  // one contiguous run: a view
  expect_tensor_near(slice(x, 1, 1, 3).value(), {3, 2}, {1, 2, 5, 6, 9, 10}, 0);
  expect_tensor_near(slice(x, -1, 3, 4).value(), {3, 1}, {3, 7, 11}, 0);
  expect_tensor_near(slice(x, 1, 2, 2).value(), {3, 0}, {}, 0);
  Variable<T> y(iota<T>({2, 3, 2}));
  expect_tensor_near(slice(y, 1, 1, 2).value(), {2, 1, 2}, {2, 3, 8, 9}, 0);
  expect_tensor_near(slice(Variable<T>(iota<T>({1, 4, 2})), 1, 1, 3).value(), {1, 2, 2},
                     {2, 3, 4, 5}, 0);
}

TYPED_TEST(ShapeOpsTyped, FlipAlongEachAxis) {
  using T = TypeParam;
  const Variable<T> x(iota<T>({2, 3, 2}));
  expect_tensor_near(flip(x, 0).value(), {2, 3, 2}, {6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5}, 0);
  expect_tensor_near(flip(x, 1).value(), {2, 3, 2}, {4, 5, 2, 3, 0, 1, 10, 11, 8, 9, 6, 7}, 0);
  expect_tensor_near(flip(x, -1).value(), {2, 3, 2}, {1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10}, 0);
  expect_tensor_near(flip(flip(x, 1), 1).value(), {2, 3, 2}, range(0, 12), 0);
}

TEST(ShapeOpsGrad, ReshapeAndFlatten) {
  const auto x = random_tensor({2, 3, 4}, 1);
  expect_gradients_match([](const std::vector<V>& v) { return reshape(v[0], {4, -1}); }, {x});
  expect_gradients_match([](const std::vector<V>& v) { return reshape(v[0], {24}); }, {x});
  expect_gradients_match([](const std::vector<V>& v) { return flatten(v[0]); }, {x});
  expect_gradients_match([](const std::vector<V>& v) { return flatten(v[0]); },
                         {random_tensor({5}, 2)});
  // A reshaped value used next to the original accumulates both paths.
  expect_gradients_match(
      [](const std::vector<V>& v) {
        return reshape(reshape(v[0], {3, 2}) * reshape(v[0], {3, 2}), {6}) * v[0];
      },
      {random_tensor({6}, 3)});
}

TEST(ShapeOpsGrad, Concat) {
  const auto a = random_tensor({2, 3, 4}, 4);
  const auto f = [](int axis) {
    return [axis](const std::vector<V>& v) { return concat(v, axis); };
  };
  expect_gradients_match(f(0), {a, random_tensor({1, 3, 4}, 5), random_tensor({3, 3, 4}, 6)});
  expect_gradients_match(f(1), {a, random_tensor({2, 1, 4}, 7), random_tensor({2, 2, 4}, 8)});
  expect_gradients_match(f(2), {a, random_tensor({2, 3, 2}, 9)});
  expect_gradients_match(f(-1), {random_tensor({2, 3, 1}, 10), a});
  expect_gradients_match(f(0), {a});
  // The same input twice: both blocks flow back into it.
  expect_gradients_match(
      [](const std::vector<V>& v) {
        return concat<double>({v[0], v[0]}, 1);
      },
      {random_tensor({2, 3}, 11)});
}

TEST(ShapeOpsGrad, Slice) {
  const auto x = random_tensor({3, 4, 5}, 12);
  for (int axis : {0, 1, 2, -1}) {
    expect_gradients_match([axis](const std::vector<V>& v) { return slice(v[0], axis, 1, 3); },
                           {x});
  }
  expect_gradients_match([](const std::vector<V>& v) { return slice(v[0], 0, 0, 3); }, {x});
  // Slices of one input joined again: each element's gradient arrives exactly once.
  expect_gradients_match(
      [](const std::vector<V>& v) {
        return concat<double>({slice(v[0], 1, 2, 4), slice(v[0], 1, 0, 2)}, 1);
      },
      {random_tensor({2, 4}, 13)});
  V y(Tensor<double>({2, 3}, {1, 2, 3, 4, 5, 6}), true);
  slice(y, 1, 1, 2).backward(Tensor<double>({2, 1}, {7, 8}));
  expect_tensor_near(y.grad(), {2, 3}, {0, 7, 0, 0, 8, 0}, 0);
}

TEST(ShapeOpsErrors, Reshape) {
  V x(Tensor<double>::zeros({2, 3}));
  expect_error<ShapeError>([&] { reshape(x, {4}); }, {"reshape", "[2, 3]", "[4]"});
  expect_error<ShapeError>([&] { reshape(x, {-1, 4}); }, {"reshape", "[2, 3]", "[-1, 4]"});
  expect_error<ShapeError>([&] { reshape(x, {-1, -1}); }, {"reshape", "[2, 3]", "[-1, -1]"});
  expect_error<ShapeError>([&] { reshape(x, {-2, -3}); }, {"reshape", "[2, 3]", "[-2, -3]"});
  expect_error<ShapeError>([&] { reshape(x, {0, -1}); }, {"reshape", "[2, 3]", "[0, -1]"});
}

TEST(ShapeOpsErrors, Flatten) {
  expect_error<ShapeError>([] { flatten(V(Tensor<double>::scalar(1.0))); }, {"flatten", "[]"});
}

TEST(ShapeOpsErrors, Concat) {
  V a(Tensor<double>::zeros({2, 3})), b(Tensor<double>::zeros({3, 3})),
      c(Tensor<double>::zeros({2, 3, 1}));
  expect_error<ValueError>([] { concat<double>({}, 0); }, {"concat", "empty"});
  expect_error<ShapeError>(
      [&] {
        concat<double>({a, b}, 1);
      },
      {"concat", "axis 1", "[3, 3]", "[2, 3]"});
  expect_error<ShapeError>(
      [&] {
        concat<double>({a, a, c}, 0);
      },
      {"concat", "axis 0", "input 2", "[2, 3, 1]", "[2, 3]"});
  expect_error<ValueError>([&] { concat<double>({a, a}, 2); }, {"concat", "axis 2", "[2, 3]"});
  expect_error<ValueError>([&] { concat<double>({a, a}, -3); }, {"concat", "axis -3", "[2, 3]"});
  expect_error<ShapeError>([] { concat<double>({V(Tensor<double>::scalar(1.0))}, 0); },
                           {"concat", "0-D", "[]"});
}

TEST(ShapeOpsGrad, Flip) {
  for (int axis : {0, 1, 2, -1})
    expect_gradients_match([axis](const std::vector<V>& v) { return flip(v[0], axis); },
                           {random_tensor({3, 4, 2}, 14)});
}

TEST(ShapeOpsErrors, Flip) {
  expect_error<ValueError>(
      [] {
        flip(V(Tensor<double>::zeros({2, 3})), 2);
      },
      {"flip", "axis 2", "[2, 3]"});
  expect_error<ShapeError>([] { flip(V(Tensor<double>::scalar(1.0)), 0); }, {"flip", "0-D"});
}

TEST(ShapeOpsErrors, Slice) {
  V x(Tensor<double>::zeros({2, 3}));
  expect_error<ValueError>([&] { slice(x, 1, 1, 4); }, {"slice", "[1, 4)", "axis 1", "[2, 3]"});
  expect_error<ValueError>([&] { slice(x, 0, 2, 1); }, {"slice", "[2, 1)", "axis 0", "[2, 3]"});
  expect_error<ValueError>([&] { slice(x, -1, -1, 2); }, {"slice", "[-1, 2)", "[2, 3]"});
  expect_error<ValueError>([&] { slice(x, 2, 0, 1); }, {"slice", "axis 2", "[2, 3]"});
  expect_error<ShapeError>([] { slice(V(Tensor<double>::scalar(1.0)), 0, 0, 1); },
                           {"slice", "0-D", "[]"});
}

}  // namespace
}  // namespace lamina
