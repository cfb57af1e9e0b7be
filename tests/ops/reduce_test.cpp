#include "lamina/ops/reduce.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/math.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using V = Variable<double>;

enum class Kind { sum, mean, max };

/// Naive reduction by multi-index loops: the expected result (as if keepdims) for `axes`.
std::vector<double> reference(const Tensor<double>& x, const Axes& axes, Kind kind) {
  const Shape& s = x.shape();
  std::vector<bool> reduced(static_cast<std::size_t>(s.rank()), false);
  for (int a : axes) reduced[static_cast<std::size_t>(a < 0 ? a + s.rank() : a)] = true;
  std::vector<index_t> keep;
  for (int i = 0; i < s.rank(); ++i)
    keep.push_back(reduced[static_cast<std::size_t>(i)] ? 1 : s[i]);
  const Shape ks(keep);
  std::vector<double> acc(static_cast<std::size_t>(ks.numel()),
                          kind == Kind::max ? -std::numeric_limits<double>::infinity() : 0.0);
  std::vector<double> count(acc.size(), 0.0);
  for (index_t k = 0; k < x.size(); ++k) {
    index_t rest = k, out = 0, mult = 1;
    for (int i = s.rank() - 1; i >= 0; --i) {
      const index_t idx = rest % s[i];
      rest /= s[i];
      if (!reduced[static_cast<std::size_t>(i)]) out += idx * mult;
      mult *= ks[i];
    }
    const double v = x.data()[k];
    auto& a = acc[static_cast<std::size_t>(out)];
    a = kind == Kind::max ? std::max(a, v) : a + v;
    count[static_cast<std::size_t>(out)] += 1;
  }
  if (kind == Kind::mean)
    for (std::size_t i = 0; i < acc.size(); ++i) acc[i] /= count[i];
  return acc;
}

/// Shape of the result: x's shape without the reduced axes, or with them as 1 under keepdims.
Shape reduced_shape(const Shape& s, const Axes& axes, bool keepdims) {
  std::vector<index_t> out;
  for (int i = 0; i < s.rank(); ++i) {
    const bool r =
        std::any_of(axes.begin(), axes.end(), [&](int a) { return a == i || a + s.rank() == i; });
    if (!r)
      out.push_back(s[i]);
    else if (keepdims)
      out.push_back(1);
  }
  return Shape(out);
}

/// Axis sets that cover every code path: empty, first, last, middle, several contiguous, split
/// (the general path), all, and negative spellings.
const std::vector<Axes> kAxisSets{{},     {0},    {2},    {1},       {-1},    {0, 1},
                                  {1, 2}, {0, 2}, {2, 0}, {0, 1, 2}, {-3, -1}};

template <class T>
class ReduceTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ReduceTyped, Scalars);

TYPED_TEST(ReduceTyped, KnownValues) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>({2, 3}, {1, 5, 3, 4, 2, 6}));
  expect_tensor_near(sum(x).value(), {}, {21}, 0);
  expect_tensor_near(sum(x, {0}).value(), {3}, {5, 7, 9}, 0);
  expect_tensor_near(sum(x, {1}).value(), {2}, {9, 12}, 0);
  expect_tensor_near(sum(x, {-1}, {.keepdims = true}).value(), {2, 1}, {9, 12}, 0);
  expect_tensor_near(mean(x).value(), {}, {3.5}, 0);
  expect_tensor_near(mean(x, {0}, {.keepdims = true}).value(), {1, 3}, {2.5, 3.5, 4.5}, 0);
  expect_tensor_near(mean(x, {1}).value(), {2}, {3, 4}, 1e-6);
  expect_tensor_near(max(x).value(), {}, {6}, 0);
  expect_tensor_near(max(x, {0}).value(), {3}, {4, 5, 6}, 0);
  expect_tensor_near(max(x, {1}, {.keepdims = true}).value(), {2, 1}, {5, 6}, 0);
  expect_tensor_near(sum(x, {}).value(), {2, 3}, {1, 5, 3, 4, 2, 6}, 0);  // nothing reduced
  Variable<T> s(Tensor<T>::scalar(T(-2)));
  expect_tensor_near(max(s).value(), {}, {-2}, 0);
  expect_tensor_near(mean(s).value(), {}, {-2}, 0);
}

TYPED_TEST(ReduceTyped, AllAxisSetsMatchReference) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-13;
  for (const Shape& s : {Shape{2, 3, 4}, Shape{3, 1, 5}, Shape{1, 4, 1}}) {
    const Tensor<double> xd = random_tensor(s, 31, -3.0, 3.0);
    const Variable<T> x(xd.cast<T>());
    for (const Axes& axes : kAxisSets) {
      for (bool keepdims : {false, true}) {
        SCOPED_TRACE("shape " + s.str() + " axes " +
                     Shape(std::vector<index_t>(axes.begin(), axes.end())).str() +
                     (keepdims ? " keepdims" : ""));
        const Shape out = reduced_shape(s, axes, keepdims);
        expect_tensor_near(sum(x, axes, {.keepdims = keepdims}).value(), out,
                           reference(xd, axes, Kind::sum), tol);
        expect_tensor_near(mean(x, axes, {.keepdims = keepdims}).value(), out,
                           reference(xd, axes, Kind::mean), tol);
        expect_tensor_near(max(x, axes, {.keepdims = keepdims}).value(), out,
                           reference(xd, axes, Kind::max), tol);
      }
    }
  }
  // Rank 4 with two separated blocks of axes (the general path) and long contiguous rows.
  const Tensor<double> xd = random_tensor({2, 3, 4, 5}, 32);
  const Variable<T> x(xd.cast<T>());
  for (const Axes& axes : {Axes{0, 2}, Axes{1, 3}, Axes{0, 3}, Axes{0, 1, 3}}) {
    expect_tensor_near(sum(x, axes).value(), reduced_shape(xd.shape(), axes, false),
                       reference(xd, axes, Kind::sum), tol);
    expect_tensor_near(max(x, axes).value(), reduced_shape(xd.shape(), axes, false),
                       reference(xd, axes, Kind::max), tol);
  }
  const Tensor<double> row = random_tensor({3, 1000}, 33);
  expect_tensor_near(mean(Variable<T>(row.cast<T>()), {1}).value(), {3},
                     reference(row, {1}, Kind::mean), tol);
}

TYPED_TEST(ReduceTyped, EmptyTensorsAndNaN) {
  using T = TypeParam;
  Variable<T> e(Tensor<T>::zeros({0, 3}));
  expect_tensor_near(sum(e).value(), {}, {0}, 0);
  expect_tensor_near(sum(e, {0}).value(), {3}, {0, 0, 0}, 0);
  EXPECT_EQ(mean(e, {1}).shape(), Shape{0});  // zero outputs, each over 3 elements
  EXPECT_EQ(max(e, {1}).shape(), Shape{0});
  const T nan = std::numeric_limits<T>::quiet_NaN();
  Variable<T> x(Tensor<T>({2, 3}, {1, nan, 3, 4, 5, 6}));
  EXPECT_TRUE(std::isnan(max(x).item()));
  EXPECT_TRUE(std::isnan(max(x, {0}).value().data()[1]));
  EXPECT_EQ(max(x, {0}).value().data()[2], T(6));
  EXPECT_TRUE(std::isnan(max(x, {1}).value().data()[0]));
  EXPECT_EQ(max(x, {1}).value().data()[1], T(6));
  Variable<T> ninf(Tensor<T>::full({3}, -std::numeric_limits<T>::infinity()));
  EXPECT_EQ(max(ninf).item(), -std::numeric_limits<T>::infinity());
}

TEST(ReduceGrad, EveryAxisSetAndKeepdims) {
  for (const Shape& s : {Shape{2, 3, 4}, Shape{3, 1, 5}}) {
    const auto x = random_tensor(s, 34);
    for (const Axes& axes : kAxisSets) {
      for (bool keepdims : {false, true}) {
        SCOPED_TRACE("shape " + s.str() + " axes size " + std::to_string(axes.size()) +
                     (keepdims ? " keepdims" : ""));
        const ReduceOptions o{.keepdims = keepdims};
        expect_gradients_match([&](const std::vector<V>& v) { return sum(v[0], axes, o); }, {x});
        expect_gradients_match([&](const std::vector<V>& v) { return mean(v[0], axes, o); }, {x});
        expect_gradients_match([&](const std::vector<V>& v) { return max(v[0], axes, o); }, {x});
      }
    }
  }
  const auto x4 = random_tensor({2, 3, 2, 3}, 35);
  for (const Axes& axes : {Axes{0, 2}, Axes{1, 3}, Axes{-1, 0}}) {
    expect_gradients_match([&](const std::vector<V>& v) { return sum(v[0], axes); }, {x4});
    expect_gradients_match(
        [&](const std::vector<V>& v) { return mean(v[0], axes, {.keepdims = true}); }, {x4});
    expect_gradients_match([&](const std::vector<V>& v) { return max(v[0], axes); }, {x4});
  }
  const auto scalar = random_tensor({}, 36);
  expect_gradients_match([](const std::vector<V>& v) { return sum(v[0]); }, {scalar});
  expect_gradients_match([](const std::vector<V>& v) { return mean(v[0]) * max(v[0]); }, {scalar});
}

TEST(ReduceGrad, MaxSplitsTiesEvenly) {
  V x(Tensor<double>({2, 4}, {1, 3, 3, 2, 5, 5, 5, 0}), true);
  max(x, {1}).backward(Tensor<double>({2}, {1.0, 3.0}));
  expect_tensor_near(x.grad(), {2, 4}, {0, 0.5, 0.5, 0, 1, 1, 1, 0}, 1e-15);
  V y(Tensor<double>({2, 2}, {4, 1, 4, 4}), true);
  max(y).backward();  // three-way tie across both axes
  expect_tensor_near(y.grad(), {2, 2}, {1.0 / 3, 0, 1.0 / 3, 1.0 / 3}, 1e-15);
  V z(Tensor<double>({2, 2, 2}, {1, 7, 7, 2, 7, 0, 3, 7}), true);
  max(z, {0, 2}).backward(
      Tensor<double>({2}, {1.0, 1.0}));  // general path: 7 at (0,0,1), (1,0,0) / (0,1,0), (1,1,1)
  expect_tensor_near(z.grad(), {2, 2, 2}, {0, 0.5, 0.5, 0, 0.5, 0, 0, 0.5}, 1e-15);
}

TEST(ReduceGrad, ChainsWithSharedSubexpression) {
  // Standardisation: x - mean(x) is used twice (numerator and variance).
  expect_gradients_match(
      [](const std::vector<V>& v) {
        const V centred = v[0] - mean(v[0], {1}, {.keepdims = true});
        const V var = mean(square(centred), {1}, {.keepdims = true});
        return centred / sqrt(var + 1e-3) + max(v[0], {0});
      },
      {random_tensor({3, 5}, 37)});
  // A deep chain alternating reductions with keepdims and broadcasting back.
  expect_gradients_match(
      [](const std::vector<V>& v) {
        V y = v[0];
        for (int i = 0; i < 50; ++i) {
          const Axes axes{i % 3};
          y = y -
              (i % 2 ? mean(y, axes, {.keepdims = true}) : max(y, axes, {.keepdims = true}) * 0.5);
        }
        return sum(y, {0, 2});
      },
      {random_tensor({2, 3, 4}, 38)});
}

TEST(ReduceErrors, AxesNameOpAxisAndShape) {
  V x(Tensor<double>::zeros({2, 3}));
  expect_error<ValueError>([&] { sum(x, {2}); }, {"sum", "axis 2", "[2, 3]"});
  expect_error<ValueError>([&] { mean(x, {-3}); }, {"mean", "axis -3", "[2, 3]"});
  expect_error<ValueError>([&] { max(x, {0, 5}); }, {"max", "axis 5", "[2, 3]"});
  expect_error<ValueError>(
      [&] {
        sum(x, {1, -1});
      },
      {"sum", "duplicate axis -1", "[1, -1]", "[2, 3]"});
  expect_error<ValueError>([&] { max(x, {0, 0}); }, {"max", "duplicate axis 0", "[2, 3]"});
  expect_error<ValueError>([&] { sum(V(Tensor<double>::scalar(1.0)), {0}); },
                           {"sum", "axis 0", "[]"});
}

TEST(ReduceErrors, EmptyMeanAndMax) {
  V e(Tensor<double>::zeros({0, 3}));
  expect_error<ValueError>([&] { mean(e); }, {"mean", "[0, 3]", "zero elements"});
  expect_error<ValueError>([&] { mean(e, {0}); }, {"mean", "axes [0]", "[0, 3]"});
  expect_error<ValueError>([&] { max(e); }, {"max", "[0, 3]", "zero elements"});
  expect_error<ValueError>([&] { max(e, {0}, {.keepdims = true}); }, {"max", "axes [0]", "[0, 3]"});
}

}  // namespace
}  // namespace lamina
