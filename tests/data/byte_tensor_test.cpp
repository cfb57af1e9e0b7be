#include "lamina/data/byte_tensor.hpp"
#include "lamina/data/dataset.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using Bytes = std::vector<std::uint8_t>;

template <class T>
class ByteTensorTest : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ByteTensorTest, Scalars);

/// [3, 2, 2]: row r holds 10r, 10r + 1, 10r + 2, 10r + 3, and the last row ends in 255.
ByteTensor three_rows(ByteTensorOptions options = {}) {
  return ByteTensor(Shape{3, 2, 2}, Bytes{0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 255}, options);
}

TEST(ByteTensor, HoldsShapeAndBytes) {
  const ByteTensor b = three_rows();
  EXPECT_EQ(b.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(b.rank(), 3);
  EXPECT_EQ(b.dim(0), 3);
  EXPECT_EQ(b.dim(-1), 2);
  EXPECT_EQ(b.size(), 12);
  EXPECT_FALSE(b.empty());
  EXPECT_EQ(Bytes(b.begin(), b.end()), (Bytes{0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 255}));
  EXPECT_EQ(b.scale(), 1.0);
  EXPECT_EQ(b.offset(), 0.0);
  const ByteTensor zeros(Shape{2, 3});
  EXPECT_EQ(Bytes(zeros.begin(), zeros.end()), Bytes(6, 0));
  const ByteTensor none;
  EXPECT_EQ(none.shape(), (Shape{0}));
  EXPECT_TRUE(none.empty());
}

TEST(ByteTensor, CopiesSliceAndReshapeShareTheBytes) {
  ByteTensor b = three_rows();
  const ByteTensor copy = b;
  const ByteTensor rows = b.slice(1, 3);
  EXPECT_EQ(rows.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(Bytes(rows.begin(), rows.end()), (Bytes{10, 11, 12, 13, 20, 21, 22, 255}));
  const ByteTensor flat = rows.reshape({-1, 4});
  EXPECT_EQ(flat.shape(), (Shape{2, 4}));
  EXPECT_EQ(flat.data(), rows.data());
  b.data()[4] = 99;  // row 1, seen through every view
  EXPECT_EQ(copy.data()[4], 99);
  EXPECT_EQ(rows.data()[0], 99);
  EXPECT_TRUE(rows.shares_storage_with(b));
  EXPECT_FALSE(rows.shares_storage_with(three_rows()));
  EXPECT_EQ(b.slice(3, 3).shape(), (Shape{0, 2, 2}));
  const ByteTensor half = b.rescaled({.scale = 0.5});
  EXPECT_TRUE(half.shares_storage_with(b));
  EXPECT_EQ(half.scale(), 0.5);
  EXPECT_EQ(b.scale(), 1.0);
}

TYPED_TEST(ByteTensorTest, ToTensorAppliesScaleAndOffset) {
  using T = TypeParam;
  const ByteTensor raw = three_rows();
  const Tensor<T> same = raw.to_tensor<T>();
  EXPECT_EQ(same.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(same.to_vector(), (std::vector<T>{0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 255}));
  // Keras's Rescaling(scale, offset): value * scale + offset, computed in T.
  const ByteTensor centred = three_rows({.scale = 1.0 / 127.5, .offset = -1.0});
  const Tensor<T> c = centred.to_tensor<T>();
  const T s = static_cast<T>(1.0 / 127.5);
  for (index_t i = 0; i < c.size(); ++i)
    EXPECT_EQ(c.data()[i], static_cast<T>(raw.data()[i]) * s + T(-1)) << i;
  EXPECT_EQ(c.data()[0], T(-1));
  EXPECT_NEAR(double(c.data()[11]), 1.0, 1e-6);
  // 1/255 gives exactly what scale() gives on the raw values as T.
  const Tensor<T> pixels = raw.rescaled({.scale = 1.0 / 255.0}).to_tensor<T>();
  EXPECT_EQ(pixels.to_vector(), scale(raw.to_tensor<T>()).to_vector());
  EXPECT_EQ(pixels.data()[11], T(1));
  // A slice converts only its rows.
  EXPECT_EQ(raw.slice(2, 3).to_tensor<T>().to_vector(), (std::vector<T>{20, 21, 22, 255}));
}

TYPED_TEST(ByteTensorTest, TakeRowsGathersInTheGivenOrder) {
  using T = TypeParam;
  const ByteTensor b = three_rows({.scale = 2.0, .offset = 1.0});
  const std::vector<index_t> rows = {2, 0, 2};
  const Tensor<T> g = b.take_rows<T>(rows);
  EXPECT_EQ(g.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(g.to_vector(),
            (std::vector<T>{41, 43, 45, 511, 1, 3, 5, 7, 41, 43, 45, 511}));  // 2v + 1
  // Row indices are relative to a slice.
  const Tensor<T> s = b.slice(1, 3).take_rows<T>(std::vector<index_t>{1});
  EXPECT_EQ(s.to_vector(), (std::vector<T>{41, 43, 45, 511}));
  EXPECT_EQ(b.take_rows<T>(std::vector<index_t>{}).shape(), (Shape{0, 2, 2}));
}

TEST(ByteTensorErrors, NameTheClassAndTheValues) {
  expect_error<ShapeError>(
      [] {
        ByteTensor(Shape{2, 3}, Bytes(5, 0));
      },
      {"ByteTensor", "5 values", "[2, 3]", "6 elements"});
  expect_error<ShapeError>([] { ByteTensor(Shape{}, Bytes{1}); },
                           {"ByteTensor", "[batch, ...]", "[]"});
  expect_error<ShapeError>(
      [] {
        ByteTensor(Shape{2, -1});
      },
      {"ByteTensor", "negative size", "[2, -1]"});
  const double inf = std::numeric_limits<double>::infinity();
  expect_error<ValueError>([&] { three_rows({.scale = inf}); },
                           {"ByteTensor", "finite", "scale inf", "offset 0"});
  expect_error<ValueError>([] { three_rows().rescaled({.offset = std::nan("")}); },
                           {"ByteTensor::rescaled", "finite", "offset nan"});
  const ByteTensor b = three_rows();
  expect_error<ValueError>([&] { b.slice(1, 4); },
                           {"ByteTensor::slice", "[1, 4)", "out of bounds", "[3, 2, 2]"});
  expect_error<ValueError>([&] { b.slice(2, 1); }, {"ByteTensor::slice", "[2, 1)"});
  expect_error<ShapeError>(
      [&] {
        b.reshape({5, -1});
      },
      {"ByteTensor::reshape", "[3, 2, 2]", "12 elements", "[5, -1]"});
  expect_error<ShapeError>([&] { b.reshape({}); }, {"ByteTensor::reshape", "[batch, ...]"});
  expect_error<ValueError>(
      [&] {
        b.take_rows<float>(std::vector<index_t>{0, 3});
      },
      {"ByteTensor::take_rows", "row 3", "[3, 2, 2]", "3 rows"});
  expect_error<ValueError>([&] { b.slice(1, 3).take_rows<float>(std::vector<index_t>{-1}); },
                           {"ByteTensor::take_rows", "row -1", "[2, 2, 2]"});
}

}  // namespace
}  // namespace lamina
