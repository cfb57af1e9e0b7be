#include "lamina/core/shape.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

TEST(Shape, RankAndNumel) {
  EXPECT_EQ(Shape{}.rank(), 0);
  EXPECT_EQ(Shape{}.numel(), 1);  // a scalar holds one element
  EXPECT_EQ((Shape{7}).numel(), 7);
  EXPECT_EQ((Shape{2, 3, 4}).rank(), 3);
  EXPECT_EQ((Shape{2, 3, 4}).numel(), 24);
  EXPECT_EQ((Shape{2, 0, 3}).numel(), 0);
  EXPECT_EQ(Shape(std::vector<index_t>{5, 6}).numel(), 30);
}

TEST(Shape, SizesWhoseProductOverflowsAreAShapeError) {
  // Issue 15, finding 3: [2^32 - 1, 2^32 - 1, 0] has no elements, but its sizes' product (and a
  // stride of [7, 0, 2^32 - 1, 2^32 - 1]) overflows index_t.
  constexpr index_t k = (index_t{1} << 32) - 1;
  expect_error<ShapeError>([] { Shape{k, k, 0}; }, {"Shape: sizes [4294967295, 4294967295, 0]"});
  expect_error<ShapeError>(
      [] {
        Shape(std::vector<index_t>{7, 0, k, k});
      },
      {"[7, 0, 4294967295, 4294967295]", "9223372036854775807"});
  expect_error<ShapeError>([] { Shape{index_t{1} << 62, 2}; }, {"Shape"});
  EXPECT_EQ((Shape{index_t{1} << 62, 1}).numel(), index_t{1} << 62);
  EXPECT_EQ((Shape{7, 0, 3}).numel(), 0);
  EXPECT_EQ((Shape{-1, 4}).numel(), -4);  // reshape's placeholder size stays allowed
  // A size changed in place is checked when the count is taken.
  Shape s{2, 2};
  s[0] = index_t{1} << 62;
  expect_error<ShapeError>([&] { (void)s.numel(); }, {"Shape"});
}

TEST(Shape, RowMajorStrides) {
  EXPECT_EQ(Shape{}.strides(), std::vector<index_t>{});
  EXPECT_EQ((Shape{5}).strides(), (std::vector<index_t>{1}));
  EXPECT_EQ((Shape{2, 3, 4}).strides(), (std::vector<index_t>{12, 4, 1}));
  EXPECT_EQ((Shape{4, 1, 3}).strides(), (std::vector<index_t>{3, 3, 1}));
  EXPECT_EQ((Shape{2, 0, 3}).strides(), (std::vector<index_t>{0, 3, 1}));
}

TEST(Shape, IndexingAndDim) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s[0], 2);
  EXPECT_EQ(s[2], 4);
  EXPECT_EQ(s.dim(1), 3);
  EXPECT_EQ(s.dim(-1), 4);
  EXPECT_EQ(s.dim(-3), 2);
  s[1] = 9;
  EXPECT_EQ(s, (Shape{2, 9, 4}));
  EXPECT_EQ(s.dims(), (std::vector<index_t>{2, 9, 4}));
  std::vector<index_t> walked(s.begin(), s.end());
  EXPECT_EQ(walked, s.dims());
}

TEST(Shape, NormalizeAxis) {
  const Shape s{2, 3, 4};
  EXPECT_EQ(s.normalize_axis(0), 0);
  EXPECT_EQ(s.normalize_axis(2), 2);
  EXPECT_EQ(s.normalize_axis(-1), 2);
  EXPECT_EQ(s.normalize_axis(-3), 0);
}

TEST(Shape, NormalizeAxisOutOfRangeNamesOpAxisAndShape) {
  const Shape s{2, 3, 4};
  expect_error<ValueError>([&] { s.normalize_axis(3, "sum"); }, {"sum", "axis 3", "[2, 3, 4]"});
  expect_error<ValueError>([&] { s.normalize_axis(-4, "softmax"); },
                           {"softmax", "axis -4", "[2, 3, 4]", "rank 3"});
  expect_error<ValueError>([&] { s.dim(5); }, {"shape", "axis 5", "[2, 3, 4]"});
  // A scalar has no axes at all.
  expect_error<ValueError>([] { Shape{}.normalize_axis(0); }, {"axis 0", "[]"});
}

TEST(Shape, StrAndStreaming) {
  EXPECT_EQ(Shape{}.str(), "[]");
  EXPECT_EQ((Shape{0}).str(), "[0]");
  EXPECT_EQ((Shape{32, 784}).str(), "[32, 784]");
  std::ostringstream out;
  out << Shape{2, 3, 1};
  EXPECT_EQ(out.str(), "[2, 3, 1]");
}

TEST(Shape, Equality) {
  EXPECT_EQ((Shape{2, 3}), (Shape{2, 3}));
  EXPECT_FALSE((Shape{2, 3}) == (Shape{3, 2}));
  EXPECT_FALSE((Shape{6}) == (Shape{6, 1}));
  EXPECT_FALSE(Shape{} == (Shape{1}));
}

}  // namespace
}  // namespace lamina
