#include "lamina/layers/initializers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

template <class T>
class InitializersTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(InitializersTyped, Scalars);

struct Stats {
  double mean = 0, variance = 0, min = 0, max = 0;
};

template <class T>
Stats stats(const Tensor<T>& t) {
  Stats s;
  s.min = *std::min_element(t.begin(), t.end());
  s.max = *std::max_element(t.begin(), t.end());
  for (T v : t) s.mean += double(v);
  s.mean /= double(t.size());
  for (T v : t) s.variance += (double(v) - s.mean) * (double(v) - s.mean);
  s.variance /= double(t.size());
  return s;
}

template <class T>
Tensor<T> draw(const std::string& name, const Shape& shape, std::uint64_t seed = 1) {
  Generator gen(seed);
  return initialize<T>(name, shape, gen);
}

// 60000 draws: the sample variance of these distributions is within 3% of the true one by a
// margin of many standard errors (about 0.3-0.4% here), and the mean within 0.02 stddev
// (five standard errors).
const Shape kBig{300, 200};  // fan_in 300, fan_out 200

TEST(Initializers, FansFollowKeras) {
  EXPECT_EQ(compute_fans({300, 200}), (std::pair<double, double>{300, 200}));
  EXPECT_EQ(compute_fans({3, 3, 16, 32}), (std::pair<double, double>{144, 288}));
  EXPECT_EQ(compute_fans({7}), (std::pair<double, double>{7, 7}));
  EXPECT_EQ(compute_fans({}), (std::pair<double, double>{1, 1}));
}

TYPED_TEST(InitializersTyped, UniformFamiliesHaveTheirBoundsAndVariance) {
  using T = TypeParam;
  struct Case {
    std::string name;
    double limit;
  };
  const std::vector<Case> cases = {
      {"glorot_uniform", std::sqrt(6.0 / 500)},
      {"he_uniform", std::sqrt(6.0 / 300)},
      {"lecun_uniform", std::sqrt(3.0 / 300)},
      {"random_uniform", 0.05},
      {"uniform", 0.05},  // Keras's alias of random_uniform
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Stats s = stats(draw<T>(c.name, kBig));
    EXPECT_GE(s.min, double(T(-c.limit)));  // [-limit, limit), as T rounds the limit
    EXPECT_LT(s.max, double(T(c.limit)));
    EXPECT_LT(s.min, -0.99 * c.limit);  // the whole range is used
    EXPECT_GT(s.max, 0.99 * c.limit);
    const double variance = c.limit * c.limit / 3;  // of U(-limit, limit)
    EXPECT_NEAR(s.variance, variance, 0.03 * variance);
    EXPECT_NEAR(s.mean, 0.0, 0.02 * std::sqrt(variance));
  }
}

TYPED_TEST(InitializersTyped, NormalFamiliesHaveTheirStddevAndTruncation) {
  using T = TypeParam;
  struct Case {
    std::string name;
    double stddev;
    bool truncated;
  };
  const std::vector<Case> cases = {
      {"glorot_normal", std::sqrt(2.0 / 500), true},
      {"he_normal", std::sqrt(2.0 / 300), true},
      {"lecun_normal", std::sqrt(1.0 / 300), true},
      {"random_normal", 0.05, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Stats s = stats(draw<T>(c.name, kBig));
    // Keras draws a normal truncated at two of its standard deviations, whose stddev is scaled
    // by 1 / 0.8796 so that the truncated draws keep the intended variance.
    EXPECT_NEAR(std::sqrt(s.variance), c.stddev, 0.015 * c.stddev);
    EXPECT_NEAR(s.mean, 0.0, 0.02 * c.stddev);
    if (c.truncated) {
      const double bound = 2 * c.stddev / 0.87962566103423978;
      EXPECT_LE(std::max(-s.min, s.max), bound * (1 + 1e-6));
      EXPECT_GT(std::max(-s.min, s.max), 0.99 * bound);
    } else {
      EXPECT_GT(std::max(-s.min, s.max), 3.5 * c.stddev);  // not truncated
    }
  }
}

TYPED_TEST(InitializersTyped, HeNormalOnAConvKernelUsesItsFanIn) {
  using T = TypeParam;
  // [5, 5, 32, 64]: fan_in = 5 * 5 * 32 = 800.
  const Stats s = stats(draw<T>("he_normal", {5, 5, 32, 64}));
  EXPECT_NEAR(std::sqrt(s.variance), std::sqrt(2.0 / 800), 0.015 * std::sqrt(2.0 / 800));
}

/// max |G - I| for the Gram matrix G of the columns (rows when `rows_orthonormal`) of a
/// matrix [rows, cols] stored row-major.
template <class T>
double gram_error(const Tensor<T>& t, index_t rows, index_t cols, bool rows_orthonormal) {
  const index_t n = rows_orthonormal ? rows : cols, len = rows_orthonormal ? cols : rows;
  const auto at = [&](index_t vec, index_t k) {
    return double(rows_orthonormal ? t.data()[vec * cols + k] : t.data()[k * cols + vec]);
  };
  double worst = 0;
  for (index_t i = 0; i < n; ++i)
    for (index_t j = 0; j < n; ++j) {
      double dot = 0;
      for (index_t k = 0; k < len; ++k) dot += at(i, k) * at(j, k);
      worst = std::max(worst, std::abs(dot - (i == j ? 1.0 : 0.0)));
    }
  return worst;
}

TEST(Initializers, OrthogonalGivesOrthonormalColumnsOrRows) {
  struct Case {
    Shape shape;
    index_t rows, cols;
  };
  const std::vector<Case> cases = {
      {{6, 6}, 6, 6}, {{10, 4}, 10, 4}, {{4, 10}, 4, 10}, {{3, 3, 4, 8}, 36, 8}, {{1, 5}, 1, 5}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.shape.str());
    const Tensor<double> q = draw<double>("orthogonal", c.shape, 5);
    EXPECT_EQ(q.shape(), c.shape);
    // Q^T Q = I for tall and square matrices; Q Q^T = I for wide ones.
    EXPECT_LE(gram_error(q, c.rows, c.cols, c.rows < c.cols), 1e-12);
    if (c.rows == c.cols) {
      EXPECT_LE(gram_error(q, c.rows, c.cols, true), 1e-12);
    }
  }
  EXPECT_LE(gram_error(draw<float>("orthogonal", {8, 8}, 5), 8, 8, false), 1e-5);
  // Different seeds, different matrices (and not just a sign flip of the same one).
  const Tensor<double> a = draw<double>("orthogonal", {5, 5}, 1);
  const Tensor<double> b = draw<double>("orthogonal", {5, 5}, 2);
  EXPECT_NE(std::abs(a.data()[0]), std::abs(b.data()[0]));
}

TEST(Initializers, OrthogonalSignsAreUniform) {
  // Keras folds the signs of R's diagonal into Q, so each entry of Q is symmetric around 0:
  // over many seeds the first entry is positive about half the time (without the fold, the
  // Householder QR makes R's diagonal negative or positive systematically).
  int positive = 0;
  const int trials = 400;
  for (int seed = 0; seed < trials; ++seed)
    positive += draw<double>("orthogonal", {4, 4}, static_cast<std::uint64_t>(seed)).data()[0] > 0;
  EXPECT_NEAR(double(positive) / trials, 0.5, 0.1);
}

TYPED_TEST(InitializersTyped, ZerosAndOnes) {
  using T = TypeParam;
  for (T v : draw<T>("zeros", {3, 4})) EXPECT_EQ(v, T(0));
  for (T v : draw<T>("ones", {3, 4})) EXPECT_EQ(v, T(1));
  EXPECT_EQ(draw<T>("ones", {2, 3, 4}).shape(), (Shape{2, 3, 4}));
}

TYPED_TEST(InitializersTyped, DeterministicForASeed) {
  using T = TypeParam;
  for (const std::string& name : initializer_names()) {
    SCOPED_TRACE(name);
    const Tensor<T> a = draw<T>(name, {6, 5}, 9), b = draw<T>(name, {6, 5}, 9);
    EXPECT_EQ(a.to_vector(), b.to_vector());
    if (name != "zeros" && name != "ones") {
      EXPECT_NE(a.to_vector(), draw<T>(name, {6, 5}, 10).to_vector());
    }
  }
}

TEST(InitializersErrors, UnknownNameListsEveryValidName) {
  std::vector<std::string> parts = {"unknown initializer 'xavier'"};
  for (const std::string& name : initializer_names()) parts.push_back(name);
  expect_error<ValueError>([] { draw<double>("xavier", {2, 2}); }, parts);
}

TEST(InitializersErrors, OrthogonalNeedsAMatrix) {
  expect_error<ShapeError>([] { draw<double>("orthogonal", {5}); },
                           {"orthogonal initializer", "rank >= 2", "[5]"});
}

}  // namespace
}  // namespace lamina
