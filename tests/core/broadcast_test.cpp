#include "lamina/core/broadcast.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_tensor_near;

TEST(BroadcastShapes, NumpyRules) {
  EXPECT_EQ(broadcast_shapes({2, 3}, {2, 3}, "add"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({2, 3}, {3}, "add"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({3}, {2, 3}, "add"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({2, 1}, {1, 4}, "add"), (Shape{2, 4}));
  EXPECT_EQ(broadcast_shapes({2, 1, 4}, {3, 1}, "add"), (Shape{2, 3, 4}));
  EXPECT_EQ(broadcast_shapes({5, 1, 1}, {1}, "add"), (Shape{5, 1, 1}));
}

TEST(BroadcastShapes, ScalarsAndZeroSizes) {
  EXPECT_EQ(broadcast_shapes({}, {}, "mul"), Shape{});
  EXPECT_EQ(broadcast_shapes({}, {2, 3}, "mul"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({4}, {}, "mul"), (Shape{4}));
  EXPECT_EQ(broadcast_shapes({1}, {}, "mul"), (Shape{1}));
  // A size-1 axis stretches to 0, as in NumPy.
  EXPECT_EQ(broadcast_shapes({0, 3}, {1, 3}, "mul"), (Shape{0, 3}));
  EXPECT_EQ(broadcast_shapes({5, 1}, {0}, "mul"), (Shape{5, 0}));
}

TEST(BroadcastShapes, MismatchNamesOpAndBothShapes) {
  expect_error<ShapeError>(
      [] {
        broadcast_shapes({2, 3}, {4}, "add");
      },
      {"add", "[2, 3]", "[4]", "3 vs 4"});
  expect_error<ShapeError>(
      [] {
        broadcast_shapes({3, 2}, {2, 3, 3}, "maximum");
      },
      {"maximum", "[3, 2]", "[2, 3, 3]"});
  // 0 does not stretch to 3.
  expect_error<ShapeError>([] { broadcast_shapes({0}, {3}, "div"); }, {"div", "[0]", "[3]"});
}

template <class T>
class SumToShape : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(SumToShape, Scalars);

TYPED_TEST(SumToShape, TwoDimensionalPatterns) {
  using T = TypeParam;
  // [[1, 2, 3], [4, 5, 6]]
  const Tensor<T> g({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_tensor_near(detail::sum_to_shape(g, {3}), {3}, {5, 7, 9}, 0);
  expect_tensor_near(detail::sum_to_shape(g, {1, 3}), {1, 3}, {5, 7, 9}, 0);
  expect_tensor_near(detail::sum_to_shape(g, {2, 1}), {2, 1}, {6, 15}, 0);
  expect_tensor_near(detail::sum_to_shape(g, {1, 1}), {1, 1}, {21}, 0);
  expect_tensor_near(detail::sum_to_shape(g, {1}), {1}, {21}, 0);
  expect_tensor_near(detail::sum_to_shape(g, {}), {}, {21}, 0);
}

TYPED_TEST(SumToShape, SameShapeIsReturnedAsIs) {
  using T = TypeParam;
  const Tensor<T> g({2, 2}, {1, 2, 3, 4});
  const Tensor<T> r = detail::sum_to_shape(g, {2, 2});
  EXPECT_TRUE(r.shares_storage_with(g));
}

// Reference: out[target index] += g[i] over the broadcast mapping, with explicit loops.
template <class T>
std::vector<double> naive_sum_to(const Tensor<T>& g, const Shape& target) {
  const Shape& s = g.shape();  // rank 3 in the tests below
  const int lead = s.rank() - target.rank();
  std::vector<double> out(static_cast<std::size_t>(target.numel()), 0.0);
  const std::vector<index_t> ts = target.strides();
  for (index_t i = 0; i < s[0]; ++i)
    for (index_t j = 0; j < s[1]; ++j)
      for (index_t k = 0; k < s[2]; ++k) {
        const index_t idx[3] = {i, j, k};
        index_t flat = 0;
        for (int a = 0; a < target.rank(); ++a)
          if (target[a] != 1) flat += idx[a + lead] * ts[static_cast<std::size_t>(a)];
        out[static_cast<std::size_t>(flat)] += static_cast<double>(g.at({i, j, k}));
      }
  return out;
}

TYPED_TEST(SumToShape, ThreeDimensionalPatternsMatchLoops) {
  using T = TypeParam;
  const Tensor<T> g = Tensor<T>::arange(24).reshape({2, 3, 4});
  for (const Shape& target :
       {Shape{4}, Shape{3, 1}, Shape{1, 4}, Shape{3, 4}, Shape{2, 1, 4}, Shape{2, 3, 1},
        Shape{1, 3, 1}, Shape{2, 1, 1}, Shape{1, 1, 1}, Shape{}}) {
    SCOPED_TRACE(target.str());
    expect_tensor_near(detail::sum_to_shape(g, target), target, naive_sum_to(g, target), 0);
  }
}

TYPED_TEST(SumToShape, ZeroSizeGradientGivesZeros) {
  using T = TypeParam;
  const Tensor<T> g({0, 3});
  expect_tensor_near(detail::sum_to_shape(g, {3}), {3}, {0, 0, 0}, 0);
  expect_tensor_near(detail::sum_to_shape(g, {1, 3}), {1, 3}, {0, 0, 0}, 0);
}

TEST(ForEachBroadcast, VisitsEveryOutputWithBroadcastIndices) {
  // out [2, 3] from a [2, 1] and b [3].
  const Shape out{2, 3};
  std::vector<std::vector<index_t>> seen;
  detail::for_each_broadcast(out, detail::broadcast_strides({2, 1}, out),
                             detail::broadcast_strides({3}, out),
                             [&](index_t o, index_t ia, index_t ib) {
                               seen.push_back({o, ia, ib});
                             });
  const std::vector<std::vector<index_t>> expected = {{0, 0, 0}, {1, 0, 1}, {2, 0, 2},
                                                      {3, 1, 0}, {4, 1, 1}, {5, 1, 2}};
  EXPECT_EQ(seen, expected);
  // A 0-D output is one call; a zero-size output none.
  int calls = 0;
  detail::for_each_broadcast(Shape{}, {}, {}, [&](index_t, index_t, index_t) { ++calls; });
  EXPECT_EQ(calls, 1);
  detail::for_each_broadcast(Shape{2, 0}, {0, 0}, {0, 0},
                             [&](index_t, index_t, index_t) { ++calls; });
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace lamina
