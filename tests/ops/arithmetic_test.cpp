#include "lamina/ops/arithmetic.hpp"

#include <gtest/gtest.h>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using V = Variable<double>;

template <class T>
class ArithmeticTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ArithmeticTyped, Scalars);

TYPED_TEST(ArithmeticTyped, ForwardBroadcastsLikeNumpy) {
  using T = TypeParam;
  Variable<T> a(Tensor<T>({2, 3}, {1, 2, 3, 4, 5, 6}));
  Variable<T> b(Tensor<T>({3}, {10, 20, 30}));
  Variable<T> c(Tensor<T>({2, 1}, {2, 4}));
  expect_tensor_near(add(a, b).value(), {2, 3}, {11, 22, 33, 14, 25, 36}, 0);
  expect_tensor_near(sub(a, b).value(), {2, 3}, {-9, -18, -27, -6, -15, -24}, 0);
  expect_tensor_near(mul(a, c).value(), {2, 3}, {2, 4, 6, 16, 20, 24}, 0);
  expect_tensor_near(div(a, c).value(), {2, 3}, {0.5, 1, 1.5, 1, 1.25, 1.5}, 1e-7);
  expect_tensor_near(add(b, c).value(), {2, 3}, {12, 22, 32, 14, 24, 34}, 0);
  expect_tensor_near((-a).value(), {2, 3}, {-1, -2, -3, -4, -5, -6}, 0);
  expect_tensor_near((T(2) - a * T(3)).value(), {2, 3}, {-1, -4, -7, -10, -13, -16}, 0);
  expect_tensor_near((T(1) / c).value(), {2, 1}, {0.5, 0.25}, 0);
  expect_tensor_near(maximum(a, c).value(), {2, 3}, {2, 2, 3, 4, 5, 6}, 0);
  Tensor<T> cond({2, 1}, {1, 0});
  expect_tensor_near(where(cond, a, b).value(), {2, 3}, {1, 2, 3, 10, 20, 30}, 0);
}

TEST(ArithmeticGrad, SameShape) {
  const auto x = random_tensor({3, 4}, 1), y = random_tensor({3, 4}, 2, 0.5, 2.0);
  expect_gradients_match([](const std::vector<V>& v) { return add(v[0], v[1]); }, {x, y});
  expect_gradients_match([](const std::vector<V>& v) { return sub(v[0], v[1]); }, {x, y});
  expect_gradients_match([](const std::vector<V>& v) { return mul(v[0], v[1]); }, {x, y});
  expect_gradients_match([](const std::vector<V>& v) { return div(v[0], v[1]); }, {x, y});
  expect_gradients_match([](const std::vector<V>& v) { return neg(v[0]); }, {x});
  expect_gradients_match([](const std::vector<V>& v) { return maximum(v[0], v[1]); }, {x, y});
}

TEST(ArithmeticGrad, Broadcasting) {
  const auto a = random_tensor({2, 3, 4}, 3), row = random_tensor({4}, 4, 0.5, 2.0),
             col = random_tensor({3, 1}, 5, 0.5, 2.0), s = random_tensor({}, 6, 0.5, 2.0);
  for (const auto& b : {row, col, s}) {
    expect_gradients_match([](const std::vector<V>& v) { return add(v[0], v[1]); }, {a, b});
    expect_gradients_match([](const std::vector<V>& v) { return sub(v[1], v[0]); }, {a, b});
    expect_gradients_match([](const std::vector<V>& v) { return mul(v[0], v[1]); }, {a, b});
    expect_gradients_match([](const std::vector<V>& v) { return div(v[0], v[1]); }, {a, b});
    expect_gradients_match([](const std::vector<V>& v) { return div(v[1], v[0] + 3.0); }, {a, b});
    expect_gradients_match([](const std::vector<V>& v) { return maximum(v[0], v[1]); }, {a, b});
  }
  // Both sides broadcast: [3, 1] with [4] gives [3, 4].
  expect_gradients_match([](const std::vector<V>& v) { return mul(v[0], v[1]); }, {col, row});
}

TEST(ArithmeticGrad, ScalarsAndWhere) {
  const auto a = random_tensor({2, 3}, 7, 0.5, 2.0), b = random_tensor({3}, 8);
  expect_gradients_match([](const std::vector<V>& v) { return 2.0 * v[0] + 1.0; }, {a});
  expect_gradients_match([](const std::vector<V>& v) { return 1.0 / v[0] - 3.0; }, {a});
  expect_gradients_match([](const std::vector<V>& v) { return 4.0 - v[0] / 2.0; }, {a});
  const Tensor<double> cond({2, 1}, {0.0, 1.0});
  expect_gradients_match([&](const std::vector<V>& v) { return where(cond, v[0], v[1]); }, {a, b});
}

TEST(ArithmeticGrad, ValueUsedTwiceAccumulates) {
  V x(Tensor<double>({2}, {3.0, -1.0}), true);
  V y = x * x + x;  // dy/dx = 2x + 1
  y.backward(Tensor<double>::ones({2}));
  expect_tensor_near(x.grad(), {2}, {7.0, -1.0}, 1e-12);
  expect_gradients_match([](const std::vector<V>& v) { return v[0] * v[0] * v[0] + v[0]; },
                         {random_tensor({5}, 9)});
}

TEST(ArithmeticErrors, MismatchedShapesNameOpAndShapes) {
  V a(Tensor<double>::zeros({2, 3})), b(Tensor<double>::zeros({4}));
  expect_error<ShapeError>([&] { add(a, b); }, {"add", "[2, 3]", "[4]"});
  expect_error<ShapeError>([&] { sub(a, b); }, {"sub", "[2, 3]", "[4]"});
  expect_error<ShapeError>([&] { mul(a, b); }, {"mul", "[2, 3]", "[4]"});
  expect_error<ShapeError>([&] { div(a, b); }, {"div", "[2, 3]", "[4]"});
  expect_error<ShapeError>([&] { maximum(a, b); }, {"maximum", "[2, 3]", "[4]"});
  expect_error<ShapeError>([&] { where(Tensor<double>::zeros({5}), a, a); },
                           {"where", "[5]", "[2, 3]"});
}

}  // namespace
}  // namespace lamina
