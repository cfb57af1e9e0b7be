#include "lamina/core/tensor.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_tensor_near;

template <class T>
class TensorTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(TensorTyped, Scalars);

template <class T>
std::string str(const Tensor<T>& t) {
  std::ostringstream out;
  out << t;
  return out.str();
}

template <class T>
bool aligned(const Tensor<T>& t) {
  return reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0;
}

TYPED_TEST(TensorTyped, ConstantFactories) {
  using T = TypeParam;
  expect_tensor_near(Tensor<T>::zeros({2, 3}), {2, 3}, {0, 0, 0, 0, 0, 0}, 0);
  expect_tensor_near(Tensor<T>({2, 2}), {2, 2}, {0, 0, 0, 0}, 0);
  expect_tensor_near(Tensor<T>::ones({3}), {3}, {1, 1, 1}, 0);
  expect_tensor_near(Tensor<T>::full({1, 2}, T(-2.5)), {1, 2}, {-2.5, -2.5}, 0);
  const Tensor<T> s = Tensor<T>::scalar(T(4.5));
  EXPECT_EQ(s.rank(), 0);
  EXPECT_EQ(s.size(), 1);
  EXPECT_EQ(s.item(), T(4.5));
  const Tensor<T> d;  // default: empty, shape [0]
  EXPECT_EQ(d.shape(), (Shape{0}));
  EXPECT_TRUE(d.empty());
}

TYPED_TEST(TensorTyped, Arange) {
  using T = TypeParam;
  expect_tensor_near(Tensor<T>::arange(T(5)), {5}, {0, 1, 2, 3, 4}, 0);
  expect_tensor_near(Tensor<T>::arange(T(1), T(2), T(0.25)), {4}, {1, 1.25, 1.5, 1.75}, 0);
  expect_tensor_near(Tensor<T>::arange(T(-1), T(2)), {3}, {-1, 0, 1}, 0);
  // Negative step counts down, stopping above `stop`.
  expect_tensor_near(Tensor<T>::arange(T(5), T(0), T(-2)), {3}, {5, 3, 1}, 0);
  expect_tensor_near(Tensor<T>::arange(T(1), T(-1), T(-0.5)), {4}, {1, 0.5, 0, -0.5}, 0);
  // Empty ranges.
  EXPECT_EQ(Tensor<T>::arange(T(0)).shape(), (Shape{0}));
  EXPECT_EQ(Tensor<T>::arange(T(3), T(1)).shape(), (Shape{0}));
  EXPECT_EQ(Tensor<T>::arange(T(1), T(3), T(-1)).shape(), (Shape{0}));
  expect_error<ValueError>([] { Tensor<T>::arange(T(0), T(1), T(0)); }, {"arange", "step"});
  expect_error<ValueError>([] { Tensor<T>::arange(T(0), T(INFINITY)); }, {"arange", "finite"});
}

TYPED_TEST(TensorTyped, SeededRandomFactoriesAreReproducible) {
  using T = TypeParam;
  Generator g1(9), g2(9), g3(10);
  EXPECT_EQ(Tensor<T>::uniform({50}, T(-1), T(1), g1).to_vector(),
            Tensor<T>::uniform({50}, T(-1), T(1), g2).to_vector());
  EXPECT_EQ(Tensor<T>::normal({7, 3}, T(1), T(2), g1).to_vector(),
            Tensor<T>::normal({7, 3}, T(1), T(2), g2).to_vector());
  EXPECT_EQ(Tensor<T>::randn({31}, g1).to_vector(), Tensor<T>::randn({31}, g2).to_vector());
  EXPECT_NE(Tensor<T>::randn({31}, g1).to_vector(), Tensor<T>::randn({31}, g3).to_vector());
}

template <class T>
void expect_moments(const Tensor<T>& t, double mean, double stddev) {
  double sum = 0.0, sum_sq = 0.0;
  for (T v : t) {
    sum += v;
    sum_sq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(t.size());
  const double m = sum / n, sd = std::sqrt(sum_sq / n - m * m);
  // Within five standard errors (of the mean: sd/sqrt(n); of the stddev: about sd/sqrt(2n);
  // uniform draws have a smaller one, so this bound holds for them too).
  EXPECT_NEAR(m, mean, 5 * stddev / std::sqrt(n));
  EXPECT_NEAR(sd, stddev, 5 * stddev / std::sqrt(2 * n));
}

TYPED_TEST(TensorTyped, RandomFactoriesHaveRightStatistics) {
  using T = TypeParam;
  Generator gen(2024);
  const Tensor<T> u = Tensor<T>::uniform({100000}, T(-1), T(3), gen);
  EXPECT_GE(*std::min_element(u.begin(), u.end()), T(-1));
  EXPECT_LT(*std::max_element(u.begin(), u.end()), T(3));
  expect_moments(u, 1.0, 4.0 / std::sqrt(12.0));
  expect_moments(Tensor<T>::normal({1000, 100}, T(2), T(0.5), gen), 2.0, 0.5);
  expect_moments(Tensor<T>::randn({100000}, gen), 0.0, 1.0);
}

TYPED_TEST(TensorTyped, UniformNeverReturnsHigh) {
  using T = TypeParam;
  // One ulp of T wide: a double draw rounds to `high` in T about half the time.
  const T low = T(1), high = std::nextafter(T(1), T(2));
  Generator gen(1);
  for (T v : Tensor<T>::uniform({1000}, low, high, gen)) ASSERT_EQ(v, low);
  expect_tensor_near(Tensor<T>::uniform({2}, T(3), T(3), gen), {2}, {3, 3}, 0);
}

TYPED_TEST(TensorTyped, RandomFactoriesRejectBadParameters) {
  using T = TypeParam;
  Generator gen;
  expect_error<ValueError>([&] { Tensor<T>::uniform({2}, T(1), T(0), gen); },
                           {"uniform", "1", "0"});
  expect_error<ValueError>([&] { Tensor<T>::normal({2}, T(0), T(-1), gen); }, {"normal", "-1"});
}

TYPED_TEST(TensorTyped, StorageIs64ByteAligned) {
  using T = TypeParam;
  Generator gen;
  for (const Shape& s : {Shape{}, Shape{1}, Shape{3}, Shape{17, 5}, Shape{2, 3, 7}}) {
    SCOPED_TRACE(s.str());
    EXPECT_TRUE(aligned(Tensor<T>(s)));
    EXPECT_TRUE(aligned(Tensor<T>::ones(s)));
    EXPECT_TRUE(aligned(Tensor<T>::empty(s)));
    EXPECT_TRUE(aligned(Tensor<T>::randn(s, gen)));
    EXPECT_TRUE(aligned(Tensor<T>::ones(s).clone()));
    EXPECT_TRUE(aligned(Tensor<T>::ones(s).template cast<double>()));
  }
  EXPECT_TRUE(aligned(Tensor<T>::arange(T(13))));
}

TYPED_TEST(TensorTyped, CopiesShareStorageClonesDoNot) {
  using T = TypeParam;
  Tensor<T> a({2, 2}, {1, 2, 3, 4});
  EXPECT_TRUE(a.owns_storage());
  Tensor<T> b = a;
  EXPECT_TRUE(b.shares_storage_with(a));
  EXPECT_FALSE(a.owns_storage());
  b.at({1, 0}) = T(30);
  EXPECT_EQ(a.at({1, 0}), T(30));
  Tensor<T> c = a.clone();
  EXPECT_FALSE(c.shares_storage_with(a));
  EXPECT_TRUE(c.owns_storage());
  c.at({0, 0}) = T(-1);
  EXPECT_EQ(a.at({0, 0}), T(1));
  EXPECT_EQ(c.to_vector(), (std::vector<T>{-1, 2, 30, 4}));
}

TYPED_TEST(TensorTyped, ReshapeInfersAndShares) {
  using T = TypeParam;
  Tensor<T> a = Tensor<T>::arange(T(12));
  const Tensor<T> b = a.reshape({3, -1});
  EXPECT_EQ(b.shape(), (Shape{3, 4}));
  EXPECT_EQ(a.reshape({-1, 2, 3}).shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(b.reshape({-1}).shape(), (Shape{12}));
  EXPECT_TRUE(b.shares_storage_with(a));
  EXPECT_EQ(b.at({1, 2}), T(6));  // row-major order is kept
  a.data()[6] = T(60);
  EXPECT_EQ(b.at({1, 2}), T(60));
  // To and from 0-D, and zero-size shapes.
  EXPECT_EQ(Tensor<T>::scalar(T(2)).reshape({1, 1}).shape(), (Shape{1, 1}));
  EXPECT_EQ(Tensor<T>({1}, {2}).reshape({}).shape(), Shape{});
  EXPECT_EQ(Tensor<T>({0, 3}).reshape({3, -1, 2}).shape(), (Shape{3, 0, 2}));
}

TYPED_TEST(TensorTyped, ReshapeErrorsNameBothShapes) {
  using T = TypeParam;
  const Tensor<T> a = Tensor<T>::arange(T(12)).reshape({3, 4});
  expect_error<ShapeError>([&] { a.reshape({5}); }, {"reshape", "[3, 4]", "[5]", "12 elements"});
  expect_error<ShapeError>([&] { a.reshape({-1, 5}); }, {"reshape", "[3, 4]", "[-1, 5]"});
  expect_error<ShapeError>([&] { a.reshape({-1, -1}); }, {"reshape", "-1", "[-1, -1]"});
  expect_error<ShapeError>([&] { a.reshape({-2, -6}); }, {"reshape", "negative", "[-2, -6]"});
  // -1 next to a 0 is ambiguous.
  expect_error<ShapeError>([] { Tensor<T>({0, 3}).reshape({-1, 0}); }, {"reshape", "[0, 3]"});
}

TYPED_TEST(TensorTyped, SliceAlongFirstAxis) {
  using T = TypeParam;
  Tensor<T> a = Tensor<T>::arange(T(12)).reshape({4, 3});
  const Tensor<T> s = a.slice(1, 3);
  expect_tensor_near(s, {2, 3}, {3, 4, 5, 6, 7, 8}, 0);
  EXPECT_TRUE(s.shares_storage_with(a));
  a.at({2, 0}) = T(-6);
  EXPECT_EQ(s.at({1, 0}), T(-6));
  // A slice of a slice, and a reshape of a slice, keep the offset.
  expect_tensor_near(s.slice(1, 2), {1, 3}, {-6, 7, 8}, 0);
  expect_tensor_near(a.slice(2, 4).reshape({-1}), {6}, {-6, 7, 8, 9, 10, 11}, 0);
  expect_tensor_near(s.clone(), {2, 3}, {3, 4, 5, -6, 7, 8}, 0);
  EXPECT_EQ(a.slice(2, 2).shape(), (Shape{0, 3}));
  expect_tensor_near(Tensor<T>::arange(T(5)).slice(3, 5), {2}, {3, 4}, 0);
}

TYPED_TEST(TensorTyped, SliceErrors) {
  using T = TypeParam;
  const Tensor<T> a({4, 3});
  expect_error<ValueError>([&] { a.slice(1, 5); }, {"slice", "[1, 5)", "[4, 3]"});
  expect_error<ValueError>([&] { a.slice(-1, 2); }, {"slice", "[-1, 2)", "[4, 3]"});
  expect_error<ValueError>([&] { a.slice(3, 2); }, {"slice", "[3, 2)", "[4, 3]"});
  expect_error<ShapeError>([] { Tensor<T>::scalar(T(1)).slice(0, 1); }, {"slice", "0-D"});
}

TYPED_TEST(TensorTyped, AtIsBoundsChecked) {
  using T = TypeParam;
  Tensor<T> a = Tensor<T>::arange(T(6)).reshape({2, 3});
  EXPECT_EQ(a.at({1, 2}), T(5));
  a.at({0, 1}) = T(10);
  EXPECT_EQ(a.data()[1], T(10));
  const Tensor<T>& c = a;
  EXPECT_EQ(c.at({0, 1}), T(10));
  expect_error<ValueError>([&] { a.at({1, 3}); }, {"at", "index 3", "axis 1", "[2, 3]"});
  expect_error<ValueError>([&] { c.at({2, 0}); }, {"at", "index 2", "axis 0", "[2, 3]"});
  expect_error<ValueError>([&] { a.at({-1, 0}); }, {"at", "index -1", "axis 0", "[2, 3]"});
  expect_error<ValueError>([&] { a.at({1}); }, {"at", "rank 1", "[2, 3]"});
  expect_error<ValueError>([&] { a.at({0, 0, 0}); }, {"at", "rank 3", "[2, 3]"});
  EXPECT_EQ(Tensor<T>::scalar(T(7)).at({}), T(7));
}

TYPED_TEST(TensorTyped, ItemNeedsExactlyOneElement) {
  using T = TypeParam;
  EXPECT_EQ(Tensor<T>({1, 1}, {3}).item(), T(3));
  expect_error<ShapeError>([] { Tensor<T>({2, 3}).item(); }, {"item", "[2, 3]", "6 elements"});
  expect_error<ShapeError>([] { Tensor<T>({0}).item(); }, {"item", "[0]", "0 elements"});
}

TYPED_TEST(TensorTyped, ConstructionChecksValuesAndShape) {
  using T = TypeParam;
  expect_tensor_near(Tensor<T>({2, 2}, std::vector<T>{1, 2, 3, 4}), {2, 2}, {1, 2, 3, 4}, 0);
  expect_error<ShapeError>(
      [] {
        Tensor<T>({2, 3}, {1, 2, 3, 4, 5});
      },
      {"Tensor", "5 values", "[2, 3]", "6 elements"});
  expect_error<ShapeError>([] { Tensor<T>({2}, std::vector<T>{1, 2, 3}); }, {"3 values", "[2]"});
  expect_error<ShapeError>([] { Tensor<T>({2, -3}); }, {"Tensor", "negative", "[2, -3]"});
  expect_error<ShapeError>([] { Tensor<T>::ones({-1}); }, {"negative", "[-1]"});
}

TYPED_TEST(TensorTyped, CastConvertsIntoNewStorage) {
  using T = TypeParam;
  const Tensor<T> a({3}, {1.5, -2.25, 8});
  const Tensor<float> f = a.template cast<float>();
  const Tensor<double> d = a.template cast<double>();
  expect_tensor_near(f, {3}, {1.5, -2.25, 8}, 0);
  expect_tensor_near(d, {3}, {1.5, -2.25, 8}, 0);
  EXPECT_EQ(Tensor<double>({1}, {0.1}).cast<float>().item(), 0.1f);
  Tensor<T> same = a.template cast<T>();
  EXPECT_FALSE(same.shares_storage_with(a));
  EXPECT_EQ(Tensor<T>({2, 0}).template cast<float>().shape(), (Shape{2, 0}));
}

TYPED_TEST(TensorTyped, AssignAndFillWriteInPlace) {
  using T = TypeParam;
  Tensor<T> a = Tensor<T>::zeros({3, 2});
  const Tensor<T> view = a;
  a.assign(Tensor<T>({3, 2}, {1, 2, 3, 4, 5, 6}));
  expect_tensor_near(view, {3, 2}, {1, 2, 3, 4, 5, 6}, 0);
  // Assigning into a slice writes the rows of the parent.
  a.slice(1, 2).assign(Tensor<T>({1, 2}, {-3, -4}));
  expect_tensor_near(a, {3, 2}, {1, 2, -3, -4, 5, 6}, 0);
  a.slice(2, 3).fill(T(9)).at({0, 0}) = T(8);
  expect_tensor_near(a, {3, 2}, {1, 2, -3, -4, 8, 9}, 0);
  expect_error<ShapeError>([&] { a.assign(Tensor<T>({2, 3})); }, {"assign", "[2, 3]", "[3, 2]"});
}

TYPED_TEST(TensorTyped, ZeroDimensionalAndZeroSizeTensors) {
  using T = TypeParam;
  Tensor<T> s = Tensor<T>::scalar(T(2));
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_FALSE(s.empty());
  EXPECT_EQ(s.clone().item(), T(2));
  EXPECT_EQ(s.to_vector(), std::vector<T>{2});
  expect_error<ValueError>([&] { s.dim(0); }, {"axis 0", "[]"});

  Tensor<T> z({0, 3});
  EXPECT_EQ(z.size(), 0);
  EXPECT_TRUE(z.empty());
  EXPECT_EQ(z.rank(), 2);
  EXPECT_EQ(z.dim(-1), 3);
  EXPECT_EQ(z.begin(), z.end());
  EXPECT_TRUE(z.to_vector().empty());
  EXPECT_EQ(z.clone().shape(), (Shape{0, 3}));
  z.fill(T(1));
  z.assign(Tensor<T>({0, 3}));
  Generator gen;
  EXPECT_EQ(Tensor<T>::randn({4, 0}, gen).size(), 0);
}

TYPED_TEST(TensorTyped, PrintsSmallTensorsExactly) {
  using T = TypeParam;
  EXPECT_EQ(str(Tensor<T>::scalar(T(-2.5))), "Tensor(-2.5, shape=[])");
  EXPECT_EQ(str(Tensor<T>({3}, {0.5, -1, 2})), "Tensor([0.5,  -1,   2], shape=[3])");
  EXPECT_EQ(str(Tensor<T>({2, 3}, {1.5, -2, 0.25, 100, 3, -0.125})),
            "Tensor([[   1.5,     -2,   0.25],\n"
            "        [   100,      3, -0.125]], shape=[2, 3])");
  EXPECT_EQ(str(Tensor<T>::arange(T(-4), T(20)).reshape({2, 3, 4})),
            "Tensor([[[-4, -3, -2, -1],\n"
            "         [ 0,  1,  2,  3],\n"
            "         [ 4,  5,  6,  7]],\n"
            "\n"
            "        [[ 8,  9, 10, 11],\n"
            "         [12, 13, 14, 15],\n"
            "         [16, 17, 18, 19]]], shape=[2, 3, 4])");
  EXPECT_EQ(str(Tensor<T>({1, 1, 1, 1}, {7})), "Tensor([[[[7]]]], shape=[1, 1, 1, 1])");
  EXPECT_EQ(str(Tensor<T>({0})), "Tensor([], shape=[0])");
  EXPECT_EQ(str(Tensor<T>({2, 0})), "Tensor([], shape=[2, 0])");
  // Eight significant digits tell neighbouring values apart.
  EXPECT_EQ(str(Tensor<T>::arange(T(12342), T(12345))), "Tensor([12342, 12343, 12344], shape=[3])");
  EXPECT_EQ(str(Tensor<T>({2}, {0.1, 12345678})), "Tensor([     0.1, 12345678], shape=[2])");
}

TEST(TensorPrint, EightSignificantDigits) {
  EXPECT_EQ(str(Tensor<double>({2}, {1.0 / 3, -2.0 / 3})),
            "Tensor([ 0.33333333, -0.66666667], shape=[2])");
  EXPECT_EQ(str(Tensor<float>({2}, {1.0f / 3, -2.0f / 3})),
            "Tensor([ 0.33333334, -0.66666669], shape=[2])");
  EXPECT_EQ(str(Tensor<double>({2}, {123456789.0, 1e-9})),
            "Tensor([1.2345679e+08,         1e-09], shape=[2])");
}

TEST(TensorPrint, LargeTensorsAreSummarised) {
  EXPECT_EQ(str(Tensor<double>::arange(2000)),
            "Tensor([   0,    1,    2, ..., 1997, 1998, 1999], shape=[2000])");
  EXPECT_EQ(str(Tensor<float>::arange(1200).reshape({200, 6})),
            "Tensor([[   0,    1,    2,    3,    4,    5],\n"
            "        [   6,    7,    8,    9,   10,   11],\n"
            "        [  12,   13,   14,   15,   16,   17],\n"
            "        ...,\n"
            "        [1182, 1183, 1184, 1185, 1186, 1187],\n"
            "        [1188, 1189, 1190, 1191, 1192, 1193],\n"
            "        [1194, 1195, 1196, 1197, 1198, 1199]], shape=[200, 6])");
  // Every summarised axis, with a blank line after the "..." between 2-D blocks, as NumPy.
  const std::string big = str(Tensor<double>::arange(2000).reshape({10, 10, 20}));
  EXPECT_NE(big.find("Tensor([[[   0,    1,    2, ...,   17,   18,   19],\n"
                     "         [  20,   21,   22, ...,   37,   38,   39],\n"),
            std::string::npos)
      << big;
  EXPECT_NE(
      big.find("  [ 580,  581,  582, ...,  597,  598,  599]],\n\n        ...,\n\n        [[1400,"),
      std::string::npos)
      << big;
  EXPECT_NE(big.find("[1980, 1981, 1982, ..., 1997, 1998, 1999]]], shape=[10, 10, 20])"),
            std::string::npos)
      << big;
  // Column widths come from the printed elements only.
  Tensor<double> hidden({1001});
  hidden.at({500}) = 123456;
  EXPECT_EQ(str(hidden), "Tensor([0, 0, 0, ..., 0, 0, 0], shape=[1001])");
  // Up to 1000 elements print in full.
  EXPECT_EQ(str(Tensor<double>::arange(1000)).find("..."), std::string::npos);
}

}  // namespace
}  // namespace lamina
