#include "lamina/ops/pool.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using V = Variable<double>;

template <class T>
class PoolTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(PoolTyped, Scalars);

TYPED_TEST(PoolTyped, TwoByTwoHalvesTheImage) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>::arange(1, 17).reshape({1, 4, 4, 1}));
  expect_tensor_near(max_pool2d(x).value(), {1, 2, 2, 1}, {6, 8, 14, 16}, 0);
  expect_tensor_near(avg_pool2d(x).value(), {1, 2, 2, 1}, {3.5, 5.5, 11.5, 13.5}, 1e-6);
}

TYPED_TEST(PoolTyped, ChannelsPoolSeparately) {
  using T = TypeParam;
  // One 2x2 window, two channels: [1, 2, 3, 4] and [8, 7, 6, 5].
  Variable<T> x(Tensor<T>({1, 2, 2, 2}, {1, 8, 2, 7, 3, 6, 4, 5}));
  expect_tensor_near(max_pool2d(x).value(), {1, 1, 1, 2}, {4, 8}, 0);
  expect_tensor_near(avg_pool2d(x).value(), {1, 1, 1, 2}, {2.5, 6.5}, 1e-6);
}

TYPED_TEST(PoolTyped, SamePaddingIgnoresThePadding) {
  using T = TypeParam;
  // 3x3 image, 2x2 windows, stride 2: the last row and column are padding (pad after only).
  // Averages count only the in-bounds elements; negative maxima show the padding never wins.
  Variable<T> x(Tensor<T>::arange(1, 10).reshape({1, 3, 3, 1}));
  const Pool2DOptions same{.padding = Padding::same};
  expect_tensor_near(avg_pool2d(x, same).value(), {1, 2, 2, 1}, {3, 4.5, 7.5, 9}, 1e-6);
  expect_tensor_near(max_pool2d(x, same).value(), {1, 2, 2, 1}, {5, 6, 8, 9}, 0);
  Variable<T> neg(Tensor<T>::arange(-1, -10, -1).reshape({1, 3, 3, 1}));
  expect_tensor_near(max_pool2d(neg, same).value(), {1, 2, 2, 1}, {-1, -3, -7, -9}, 0);
}

TYPED_TEST(PoolTyped, OverlappingWindowsAndExplicitStrides) {
  using T = TypeParam;
  Variable<T> x(Tensor<T>::arange(1, 26).reshape({1, 5, 5, 1}));
  const Pool2DOptions overlap{.pool_size = {3, 3}, .strides = {2, 2}};
  expect_tensor_near(max_pool2d(x, overlap).value(), {1, 2, 2, 1}, {13, 15, 23, 25}, 0);
  expect_tensor_near(avg_pool2d(x, overlap).value(), {1, 2, 2, 1}, {7, 9, 17, 19}, 1e-5);
  // pool 2, stride 1 along the width only: windows [1, 5 / 4, 3] and [5, 2 / 3, 6].
  Variable<T> y(Tensor<T>({1, 2, 3, 1}, {1, 5, 2, 4, 3, 6}));
  expect_tensor_near(max_pool2d(y, {.strides = {1, 1}}).value(), {1, 1, 2, 1}, {5, 6}, 0);
  expect_tensor_near(avg_pool2d(y, {.strides = {1, 1}}).value(), {1, 1, 2, 1}, {3.25, 4}, 1e-6);
}

TYPED_TEST(PoolTyped, MaxPoolNanPropagates) {
  using T = TypeParam;
  const T nan = std::numeric_limits<T>::quiet_NaN();
  Variable<T> x(Tensor<T>({1, 2, 4, 1}, {1, nan, 5, 6, 3, 2, 8, nan}));
  const Tensor<T> y = max_pool2d(x).value();
  EXPECT_TRUE(std::isnan(y.data()[0]));
  EXPECT_TRUE(std::isnan(y.data()[1]));
}

TEST(PoolGrad, MaxRoutesToTheFirstMaximum) {
  // All equal: the first (top-left) element of each window takes the gradient.
  V x(Tensor<double>::ones({1, 2, 4, 1}), true);
  max_pool2d(x).backward(Tensor<double>({1, 1, 2, 1}, {2.0, 3.0}));
  expect_tensor_near(x.grad(), {1, 2, 4, 1}, {2, 0, 3, 0, 0, 0, 0, 0}, 0);
  // A maximum shared by four overlapping windows gets all four gradients.
  Tensor<double> img = Tensor<double>::zeros({1, 5, 5, 1});
  img.at({0, 2, 2, 0}) = 1.0;
  V z(img, true);
  max_pool2d(z, {.pool_size = {3, 3}, .strides = {2, 2}})
      .backward(Tensor<double>({1, 2, 2, 1}, {1, 2, 3, 4}));
  EXPECT_EQ(z.grad().at({0, 2, 2, 0}), 10.0);
  EXPECT_EQ(z.grad().at({0, 0, 0, 0}), 0.0);
}

/// Distinct values in (-0.5, 0.5): a random permutation of 0..n-1, scaled. No ties, so the max
/// stays put under the finite-difference steps.
Tensor<double> permutation_tensor(Shape shape, std::uint64_t seed) {
  const index_t n = shape.numel();
  std::vector<double> v(static_cast<std::size_t>(n));
  std::iota(v.begin(), v.end(), 0.0);
  Generator gen(seed);
  for (index_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<std::size_t>(gen.below(static_cast<std::uint64_t>(i + 1)));
    std::swap(v[static_cast<std::size_t>(i)], v[j]);
  }
  for (double& e : v) e = e / static_cast<double>(n) - 0.5;
  return Tensor<double>(std::move(shape), v);
}

TEST(PoolGrad, MatchesFiniteDifferences) {
  const std::vector<std::pair<Shape, Pool2DOptions>> cases = {
      {{2, 6, 6, 3}, {}},
      {{1, 7, 7, 2}, {}},
      {{2, 7, 7, 2}, {.pool_size = {3, 3}, .strides = {2, 2}}},
      {{1, 6, 6, 2}, {.pool_size = {3, 3}, .strides = {2, 2}, .padding = Padding::same}},
      {{2, 7, 5, 2}, {.pool_size = {3, 3}, .strides = {2, 2}, .padding = Padding::same}},
      {{1, 5, 8, 3}, {.pool_size = {2, 3}, .strides = {1, 2}, .padding = Padding::same}},
      {{1, 5, 5, 1}, {.padding = Padding::same}},
  };
  std::uint64_t seed = 100;
  for (const auto& [shape, o] : cases) {
    SCOPED_TRACE(::testing::Message() << "x " << shape << ", pool [" << o.pool_size[0] << ", "
                                      << o.pool_size[1] << "], strides [" << o.strides[0] << ", "
                                      << o.strides[1] << "], " << padding_name(o.padding));
    const Pool2DOptions opt = o;
    expect_gradients_match([opt](const std::vector<V>& v) { return max_pool2d(v[0], opt); },
                           {permutation_tensor(shape, seed)});
    expect_gradients_match([opt](const std::vector<V>& v) { return avg_pool2d(v[0], opt); },
                           {random_tensor(shape, seed + 1)});
    seed += 2;
  }
}

TEST(PoolGrad, NoGradRecordsNothing) {
  V x(random_tensor({1, 4, 4, 2}, 7), true);
  NoGradGuard guard;
  EXPECT_FALSE(max_pool2d(x).requires_grad());
  EXPECT_FALSE(avg_pool2d(x).requires_grad());
}

// PyTorch reference values (tests/ops/reference/gen_conv_pool_reference.py), float64.
TEST(PoolReference, MatchesPyTorch) {
  const testing::Reference ref("ops/reference/conv_pool.txt");
  for (const std::string name : {"pool_a", "pool_b", "pool_c"}) {
    const Tensor<double> opt = ref.tensor(name + ".options");
    const auto at = [&](int i) { return static_cast<index_t>(opt.data()[i]); };
    const Pool2DOptions o{.pool_size = {at(0), at(1)},
                          .strides = {at(2), at(3)},
                          .padding = at(4) != 0 ? Padding::same : Padding::valid};
    for (const std::string kind : {"max", "avg"}) {
      SCOPED_TRACE(name + " " + kind);
      V x(ref.tensor(name + ".x"), true);
      V y = kind == "max" ? max_pool2d(x, o) : avg_pool2d(x, o);
      const Tensor<double> want_y = ref.tensor(name + "." + kind + "_y"),
                           want_dx = ref.tensor(name + "." + kind + "_dx");
      expect_tensor_near(y.value(), want_y.shape(), want_y.to_vector(), 1e-10);
      y.backward(ref.tensor(name + ".upstream"));
      expect_tensor_near(x.grad(), want_dx.shape(), want_dx.to_vector(), 1e-10);
    }
  }
}

TEST(PoolErrors, BadInputsNameOpAndValues) {
  const V x(Tensor<double>::zeros({1, 2, 2, 1}));
  for (const std::string op : {"max_pool2d", "avg_pool2d"}) {
    const auto pool = [&](const V& in, Pool2DOptions o) {
      return op == "max_pool2d" ? max_pool2d(in, o) : avg_pool2d(in, o);
    };
    expect_error<ShapeError>(
        [&] {
          pool(V(Tensor<double>::zeros({4, 4, 3})), {});
        },
        {op, "input", "[4, 4, 3]"});
    expect_error<ValueError>([&] { pool(x, {.pool_size = {0, 2}}); }, {op, "pool_size", "[0, 2]"});
    expect_error<ValueError>([&] { pool(x, {.strides = {-1, 2}}); }, {op, "strides", "[-1, 2]"});
    expect_error<ShapeError>(
        [&] {
          pool(x, {.pool_size = {3, 3}});
        },
        {op, "pool_size [3, 3]", "[1, 2, 2, 1]", "valid"});
    expect_error<ShapeError>(
        [&] {
          pool(x, {.pool_size = {1, 3}, .strides = {1, 1}});
        },
        {op, "pool_size [1, 3]", "[1, 2, 2, 1]", "2x0"});
  }
}

}  // namespace
}  // namespace lamina
