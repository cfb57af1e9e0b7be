#include "lamina/layers/pooling.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include "support/layer_check.hpp"
#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::distinct_tensor;
using testing::expect_error;
using testing::expect_layer_gradients_match;
using testing::expect_layer_matches_reference;
using testing::expect_tensor_near;

template <class T>
class PoolingTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(PoolingTyped, Scalars);

TYPED_TEST(PoolingTyped, NonOverlappingValidWindows) {
  using T = TypeParam;
  // 4x4 image 1..16 in 2x2 windows: max = bottom-right, mean = centre of each block.
  const Variable<T> x(Tensor<T>::arange(1, 17).reshape({1, 4, 4, 1}));
  MaxPooling2D<T> max_pool;  // Keras defaults: pool 2x2, strides = pool size, valid
  expect_tensor_near(max_pool(x).value(), {1, 2, 2, 1}, {6, 8, 14, 16}, 0);
  AveragePooling2D<T> avg_pool;
  expect_tensor_near(avg_pool(x).value(), {1, 2, 2, 1}, {3.5, 5.5, 11.5, 13.5}, 0);
  EXPECT_EQ(max_pool.output_shape(), (Shape{2, 2, 1}));
  EXPECT_TRUE(max_pool.weights().empty());
  EXPECT_EQ(avg_pool.count_params(), 0);
}

TYPED_TEST(PoolingTyped, SamePaddingAveragesInBoundsElementsOnly) {
  using T = TypeParam;
  // 3x3 image 1..9, pool 2 stride 2 'same': out 2x2, pad_total 1 -> none before, one after.
  // Windows: {1, 2, 4, 5}, {3, 6}, {7, 8}, {9}.
  const Variable<T> x(Tensor<T>::arange(1, 10).reshape({1, 3, 3, 1}));
  MaxPooling2D<T> max_pool({2, 2}, {.padding = "same"});
  expect_tensor_near(max_pool(x).value(), {1, 2, 2, 1}, {5, 6, 8, 9}, 0);
  AveragePooling2D<T> avg_pool({2, 2}, {.padding = "same"});
  expect_tensor_near(avg_pool(x).value(), {1, 2, 2, 1}, {3, 4.5, 7.5, 9}, 0);
  // Padding never wins a max, even when every value is negative.
  const Variable<T> neg(Tensor<T>::arange(-9, 0).reshape({1, 3, 3, 1}));
  expect_tensor_near(max_pool(neg).value(), {1, 2, 2, 1}, {-5, -4, -2, -1}, 0);
}

TYPED_TEST(PoolingTyped, OverlappingWindowsWithStrides) {
  using T = TypeParam;
  // 5x5 image 0..24, pool 3 stride 2 valid: windows at rows/cols {0, 2}.
  const Variable<T> x(Tensor<T>::arange(0, 25).reshape({1, 5, 5, 1}));
  MaxPooling2D<T> max_pool({3, 3}, {.strides = {2, 2}});
  expect_tensor_near(max_pool(x).value(), {1, 2, 2, 1}, {12, 14, 22, 24}, 0);
  AveragePooling2D<T> avg_pool({3, 3}, {.strides = {2, 2}});
  expect_tensor_near(avg_pool(x).value(), {1, 2, 2, 1}, {6, 8, 16, 18}, 0);
  // Channels pool independently: channel 1 = -channel 0.
  Tensor<T> two({1, 2, 2, 2}, {1, -1, 4, -4, 2, -2, 3, -3});
  MaxPooling2D<T> per_channel;
  expect_tensor_near(per_channel(Variable<T>(two)).value(), {1, 1, 1, 2}, {4, -1}, 0);
}

TYPED_TEST(PoolingTyped, OutputShapes) {
  using T = TypeParam;
  struct Case {
    Shape input;
    std::array<index_t, 2> pool, strides;
    std::string padding;
    Shape output;
  };
  const std::vector<Case> cases = {
      {{26, 26, 32}, {2, 2}, {0, 0}, "valid", {13, 13, 32}},
      {{11, 11, 64}, {2, 2}, {0, 0}, "valid", {5, 5, 64}},
      {{11, 11, 4}, {2, 2}, {0, 0}, "same", {6, 6, 4}},
      {{7, 8, 2}, {3, 3}, {2, 2}, "valid", {3, 3, 2}},
      {{7, 8, 2}, {3, 3}, {2, 2}, "same", {4, 4, 2}},
      {{5, 8, 1}, {2, 3}, {1, 2}, "same", {5, 4, 1}},
  };
  for (const Case& c : cases) {
    MaxPooling2D<T> max_pool(c.pool, {.strides = c.strides, .padding = c.padding});
    AveragePooling2D<T> avg_pool(c.pool, {.strides = c.strides, .padding = c.padding});
    max_pool.build(c.input);
    avg_pool.build(c.input);
    EXPECT_EQ(max_pool.output_shape(), c.output) << c.input << " " << c.padding;
    EXPECT_EQ(avg_pool.output_shape(), c.output) << c.input << " " << c.padding;
  }
}

struct PoolCase {
  Shape x;
  std::array<index_t, 2> pool;
  Pooling2DOptions options;
};

const std::vector<PoolCase>& pool_cases() {
  static const std::vector<PoolCase> cases = {
      {{2, 6, 6, 2}, {2, 2}, {}},                                      // non-overlapping
      {{2, 7, 7, 2}, {2, 2}, {}},                                      // odd size drops a row
      {{1, 7, 7, 2}, {3, 3}, {.strides = {2, 2}}},                     // overlapping
      {{1, 7, 8, 2}, {3, 3}, {.strides = {2, 2}, .padding = "same"}},  // overlapping, padded
      {{2, 5, 5, 1}, {2, 2}, {.padding = "same"}},                     // padding after only
      {{1, 6, 6, 3}, {3, 3}, {.strides = {1, 1}, .padding = "same"}},  // padding both sides
      {{1, 5, 8, 2}, {2, 3}, {.strides = {1, 2}, .padding = "same"}},  // non-square
  };
  return cases;
}

std::string describe(const PoolCase& c) {
  return c.x.str() + " pool " + std::to_string(c.pool[0]) + "x" + std::to_string(c.pool[1]) +
         " strides " + std::to_string(c.options.strides[0]) + "," +
         std::to_string(c.options.strides[1]) + " " + c.options.padding;
}

TEST(PoolingGrad, MaxMatchesFiniteDifferences) {
  std::uint64_t seed = 20;
  for (const PoolCase& c : pool_cases()) {
    SCOPED_TRACE(describe(c));
    MaxPooling2D<double> pool(c.pool, c.options);
    expect_layer_gradients_match(pool, distinct_tensor(c.x, seed++));
  }
}

TEST(PoolingGrad, AverageMatchesFiniteDifferences) {
  std::uint64_t seed = 40;
  for (const PoolCase& c : pool_cases()) {
    SCOPED_TRACE(describe(c));
    AveragePooling2D<double> pool(c.pool, c.options);
    expect_layer_gradients_match(pool, testing::random_tensor(c.x, seed++));
  }
}

TEST(PoolingReference, MatchesPyTorch) {
  const testing::Reference ref("layers/reference/layers.txt");
  for (const std::string name :
       {"max_a", "max_b", "max_c", "max_d", "avg_a", "avg_b", "avg_c", "avg_d", "avg_e"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    const auto at = [&](int i) { return static_cast<index_t>(o.data()[i]); };
    const Pooling2DOptions options{.strides = {at(2), at(3)}, .padding = at(4) ? "same" : "valid"};
    if (name.starts_with("max")) {
      MaxPooling2D<double> pool({at(0), at(1)}, options);
      expect_layer_matches_reference(pool, ref, name);
    } else {
      AveragePooling2D<double> pool({at(0), at(1)}, options);
      expect_layer_matches_reference(pool, ref, name);
    }
  }
}

TEST(PoolingErrors, PoolLargerThanInput) {
  MaxPooling2D<double> max_pool({3, 3});
  expect_error<ShapeError>(
      [&] {
        max_pool(Variable<double>(Tensor<double>({1, 2, 2, 1})));
      },
      {"MaxPooling2D \"max_pooling2d\"", "[*, 2, 2, 1]", "pool_size [3, 3]"});
  EXPECT_FALSE(max_pool.built());
  AveragePooling2D<double> avg_pool({2, 5}, {.name = "avg"});
  expect_error<ShapeError>(
      [&] {
        avg_pool.build({4, 4, 3});
      },
      {"AveragePooling2D \"avg\"", "[*, 4, 4, 3]", "pool_size [2, 5]"});
  // 'same' padding fits any input.
  MaxPooling2D<double> same({3, 3}, {.padding = "same"});
  EXPECT_EQ(same(Variable<double>(Tensor<double>({1, 2, 2, 1}))).shape(), (Shape{1, 1, 1, 1}));
}

TEST(PoolingErrors, WrongInputShape) {
  MaxPooling2D<double> pool;
  pool.build({6, 6, 4});
  expect_error<ShapeError>(
      [&] {
        pool(Variable<double>(Tensor<double>({2, 6, 6, 3})));
      },
      {"MaxPooling2D \"max_pooling2d\": expected input [*, 6, 6, 4], got "
       "[2, 6, 6, 3]"});
  AveragePooling2D<double> flat;
  expect_error<ShapeError>(
      [&] {
        flat(Variable<double>(Tensor<double>({2, 36})));
      },
      {"AveragePooling2D \"average_pooling2d\"", "[batch, height, width, channels]", "[36]"});
}

TEST(PoolingErrors, BadOptions) {
  expect_error<ValueError>(
      [] {
        MaxPooling2D<double>({0, 2});
      },
      {"MaxPooling2D", "pool_size", "[0, 2]"});
  expect_error<ValueError>(
      [] {
        AveragePooling2D<double>({2, -1});
      },
      {"AveragePooling2D", "pool_size", "[2, -1]"});
  expect_error<ValueError>(
      [] {
        MaxPooling2D<double>({2, 2}, {.strides = {-1, 2}});
      },
      {"MaxPooling2D", "strides", "[-1, 2]"});
  expect_error<ValueError>(
      [] {
        AveragePooling2D<double>({2, 2}, {.strides = {1, -2}});
      },
      {"AveragePooling2D", "strides", "[1, -2]"});
  // Only {0, 0} means "the pool size": a zero on one axis was silently dropped.
  expect_error<ValueError>(
      [] {
        MaxPooling2D<double>({3, 3}, {.strides = {0, 1}});
      },
      {"MaxPooling2D", "strides", "[0, 1]"});
  expect_error<ValueError>(
      [] {
        AveragePooling2D<double>({3, 3}, {.strides = {2, 0}});
      },
      {"AveragePooling2D", "strides", "[2, 0]"});
  expect_error<ValueError>(
      [] {
        MaxPooling2D<double>({2, 2}, {.padding = "causal"});
      },
      {"MaxPooling2D option padding: unknown padding 'causal'", "valid", "same"});
}

}  // namespace
}  // namespace lamina
