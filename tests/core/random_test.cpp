#include "lamina/core/random.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

constexpr int kDraws = 100000;

struct Moments {
  double mean = 0.0;
  double stddev = 0.0;
};

template <class F>
Moments moments(F&& draw) {
  double sum = 0.0, sum_sq = 0.0;
  for (int i = 0; i < kDraws; ++i) {
    const double x = draw();
    sum += x;
    sum_sq += x * x;
  }
  const double mean = sum / kDraws;
  return {mean, std::sqrt(sum_sq / kDraws - mean * mean)};
}

TEST(Generator, SameSeedSameSequence) {
  Generator a(42), b(42);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(a.next(), b.next());
    ASSERT_EQ(a.uniform(), b.uniform());
    ASSERT_EQ(a.normal(), b.normal());
    ASSERT_EQ(a.below(10), b.below(10));
  }
}

TEST(Generator, DifferentSeedsDiffer) {
  Generator a(1), b(2);
  int same = 0;
  for (int i = 0; i < 100; ++i) same += a.next() == b.next();
  EXPECT_EQ(same, 0);
}

TEST(Generator, ReseedingRestartsIncludingTheCachedNormal) {
  Generator fresh(7);
  const double first = fresh.normal(), second = fresh.normal();
  Generator g(123);
  g.normal();  // leaves the second draw of a Box-Muller pair cached
  g.seed(7);
  EXPECT_EQ(g.normal(), first);
  EXPECT_EQ(g.normal(), second);
}

TEST(Generator, CopiesContinueIdentically) {
  Generator a(5);
  a.normal();
  Generator b = a;
  for (int i = 0; i < 10; ++i) ASSERT_EQ(a.normal(), b.normal());
}

TEST(Generator, UniformIsInUnitIntervalWithRightMoments) {
  Generator g(11);
  double lo = 1.0, hi = 0.0;
  const Moments m = moments([&] {
    const double x = g.uniform();
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    return x;
  });
  EXPECT_GE(lo, 0.0);
  EXPECT_LT(hi, 1.0);
  const double sd = std::sqrt(1.0 / 12.0);
  EXPECT_NEAR(m.mean, 0.5, 5 * sd / std::sqrt(kDraws));
  EXPECT_NEAR(m.stddev, sd, 0.01 * sd);
}

TEST(Generator, UniformRangeIsHalfOpen) {
  Generator g(3);
  for (int i = 0; i < 1000; ++i) {
    const double x = g.uniform(-2.0, 5.0);
    ASSERT_GE(x, -2.0);
    ASSERT_LT(x, 5.0);
  }
  // With a range of one ulp, low + (high - low) * u rounds to `high` for about half the
  // draws; those must still land below high.
  const double low = 1.0, high = std::nextafter(1.0, 2.0);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(g.uniform(low, high), low);
  EXPECT_EQ(g.uniform(2.5, 2.5), 2.5);
}

TEST(Generator, NormalHasRightMoments) {
  Generator g(12);
  const Moments m = moments([&] { return g.normal(); });
  // Standard errors: 1/sqrt(n) for the mean, about 1/sqrt(2n) for the standard deviation.
  EXPECT_NEAR(m.mean, 0.0, 5.0 / std::sqrt(kDraws));
  EXPECT_NEAR(m.stddev, 1.0, 5.0 / std::sqrt(2.0 * kDraws));
  const Moments shifted = moments([&] { return g.normal(3.0, 0.5); });
  EXPECT_NEAR(shifted.mean, 3.0, 5 * 0.5 / std::sqrt(kDraws));
  EXPECT_NEAR(shifted.stddev, 0.5, 5 * 0.5 / std::sqrt(2.0 * kDraws));
}

TEST(Generator, BelowStaysInRange) {
  Generator g(13);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(g.below(1), 0u);
  const std::uint64_t big = (std::uint64_t{1} << 63) + 1;  // rejects almost half the raw draws
  for (int i = 0; i < 1000; ++i) {
    ASSERT_LT(g.below(7), 7u);
    ASSERT_LT(g.below(big), big);
  }
  // Values at both ends of the range turn up.
  bool saw_zero = false, saw_top = false;
  for (int i = 0; i < 1000; ++i) {
    const std::uint64_t x = g.below(3);
    saw_zero = saw_zero || x == 0;
    saw_top = saw_top || x == 2;
  }
  EXPECT_TRUE(saw_zero);
  EXPECT_TRUE(saw_top);
}

TEST(Generator, BelowIsRoughlyUnbiased) {
  Generator g(14);
  constexpr int n = 6;
  std::vector<int> counts(n, 0);
  for (int i = 0; i < kDraws; ++i) ++counts[g.below(n)];
  const double expected = static_cast<double>(kDraws) / n;
  const double sd = std::sqrt(kDraws * (1.0 / n) * (1.0 - 1.0 / n));
  double chi2 = 0.0;
  for (int c : counts) {
    EXPECT_NEAR(c, expected, 5 * sd);
    chi2 += (c - expected) * (c - expected) / expected;
  }
  // 5 degrees of freedom: P(chi2 > 20.5) is about 0.001.
  EXPECT_LT(chi2, 20.5);
  // n = 3 * 2^62: a plain `next() % n` would put half the draws below 2^62 instead of a third.
  const std::uint64_t quarter = std::uint64_t{1} << 62;
  int low_third = 0;
  for (int i = 0; i < 9000; ++i) low_third += g.below(3 * quarter) < quarter;
  EXPECT_NEAR(low_third, 3000, 5 * std::sqrt(9000 * (1.0 / 3) * (2.0 / 3)));
}

TEST(Generator, BelowZeroIsAnError) {
  Generator g;
  expect_error<ValueError>([&] { g.below(0); }, {"below", "0"});
}

}  // namespace
}  // namespace lamina
