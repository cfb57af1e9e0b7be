#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <lamina/lamina.hpp>

/// Test helpers shared by the op and layer tests.
namespace lamina::testing {

using Fn = std::function<Variable<double>(const std::vector<Variable<double>>&)>;

/// Expects `actual` to have `shape` and to match `expected` elementwise within `tol`.
template <class T>
void expect_tensor_near(const Tensor<T>& actual, const Shape& shape,
                        const std::vector<double>& expected, double tol) {
  ASSERT_EQ(actual.shape(), shape);
  ASSERT_EQ(static_cast<std::size_t>(actual.size()), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(actual.data()[i]), expected[i], tol) << "at flat index " << i;
  }
}

/// Expects central finite differences to agree with backward() for `f` at `inputs`
/// (relative error at most 1e-6 unless given).
inline void expect_gradients_match(const Fn& f, const std::vector<Tensor<double>>& inputs,
                                   double tolerance = 1e-6) {
  GradcheckResult r = gradcheck(f, inputs, {.tolerance = tolerance});
  EXPECT_TRUE(r.ok) << r.message;
}

/// Expects a and b to hold the same values bit for bit.
inline void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

/// Deterministic test data: uniform values in [low, high) from a seeded generator.
inline Tensor<double> random_tensor(Shape shape, std::uint64_t seed, double low = -1.0,
                                    double high = 1.0) {
  Generator gen(seed);
  return Tensor<double>::uniform(std::move(shape), low, high, gen);
}

/// Expects `f` to throw E whose message contains every one of `parts`.
template <class E = Error, class F>
void expect_error(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "expected an exception, none was thrown";
  } catch (const E& e) {
    const std::string what = e.what();
    for (const std::string& p : parts) {
      EXPECT_NE(what.find(p), std::string::npos)
          << "message \"" << what << "\" lacks \"" << p << "\"";
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

}  // namespace lamina::testing
