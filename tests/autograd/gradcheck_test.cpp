#include "lamina/autograd/gradcheck.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::random_tensor;
using V = Variable<double>;

/// x^2 elementwise whose backward rule is d(x^2)/dx = 2x, plus `bias` at flat position `at`
/// and times `scale` everywhere: correct only for bias 0 and scale 1.
V square(const V& x, double scale = 1.0, double bias = 0.0, index_t at = 0) {
  Tensor<double> y = x.value().clone();
  for (double& v : y) v *= v;
  return V::from_op("square", std::move(y), {x},
                    [xv = x.value(), scale, bias, at](const Tensor<double>& g,
                                                      autograd::Gradients<double>& grads) {
                      // d(x^2)/dx = 2x
                      Tensor<double> dx = Tensor<double>::empty(xv.shape());
                      for (index_t k = 0; k < dx.size(); ++k)
                        dx.data()[k] = scale * 2.0 * xv.data()[k] * g.data()[k];
                      dx.data()[at] += bias;
                      grads.add(0, std::move(dx));
                    });
}

/// The random weights gradcheck applies to an output of `shape` with its default seed.
Tensor<double> weights(const Shape& shape) {
  Generator gen(0);
  return Tensor<double>::uniform(shape, -1.0, 1.0, gen);
}

TEST(Gradcheck, PassesOnCorrectRules) {
  const auto x = random_tensor({2, 3}, 1), y = random_tensor({3}, 2, 0.5, 2.0);
  const GradcheckResult r = gradcheck([](const std::vector<V>& v) { return square(v[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_LT(r.max_error, 1e-8);
  EXPECT_NE(r.message.find("within"), std::string::npos) << r.message;
  // Several inputs, broadcasting, a non-scalar output.
  const GradcheckResult r2 =
      gradcheck([](const std::vector<V>& v) { return square(v[0]) * v[1] / (v[1] + 1.0); }, {x, y});
  EXPECT_TRUE(r2.ok) << r2.message;
}

TEST(Gradcheck, ReportsTheOneWrongElement) {
  // Input 1 is [2, 3]; its rule adds 1 at flat position 4, i.e. index [1, 1].
  const auto a = random_tensor({2, 3}, 3), x = random_tensor({2, 3}, 4, -0.25, 0.25);
  const GradcheckResult r = gradcheck(
      [](const std::vector<V>& v) { return v[0] * 3.0 + square(v[1], 1.0, 1.0, 4); }, {a, x});
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.input, 1u);
  EXPECT_EQ(r.index, (std::vector<index_t>{1, 1}));
  const double numeric = 2.0 * x.data()[4] * weights({2, 3}).data()[4];
  EXPECT_NEAR(r.numeric, numeric, 1e-8);
  EXPECT_NEAR(r.analytic, numeric + 1.0, 1e-12);
  EXPECT_NEAR(r.max_error, 1.0 / std::max({1.0, std::abs(r.analytic), std::abs(r.numeric)}), 1e-8);
  for (const char* part : {"input 1", "[1, 1]", "exceeds"}) {
    EXPECT_NE(r.message.find(part), std::string::npos) << r.message << " lacks " << part;
  }
}

TEST(Gradcheck, FindsTheWorstOfManyWrongElements) {
  // Scaled by 1.5 everywhere: analytic 3 x w against numeric 2 x w. With |x| < 0.3 and
  // |w| < 1 both stay below 1, so the error at k is |x_k w_k| and the worst element is where
  // that is largest.
  const auto x = random_tensor({3, 4}, 5, -0.3, 0.3);
  const Tensor<double> w = weights({3, 4});
  index_t worst = 0;
  for (index_t k = 0; k < x.size(); ++k)
    if (std::abs(x.data()[k] * w.data()[k]) > std::abs(x.data()[worst] * w.data()[worst]))
      worst = k;
  const GradcheckResult r =
      gradcheck([](const std::vector<V>& v) { return square(v[0], 1.5); }, {x});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.input, 0u);
  EXPECT_EQ(r.index, (std::vector<index_t>{worst / 4, worst % 4}));
  EXPECT_NEAR(r.max_error, std::abs(x.data()[worst] * w.data()[worst]), 1e-8);
  EXPECT_NEAR(r.analytic, 3.0 * x.data()[worst] * w.data()[worst], 1e-12);
}

TEST(Gradcheck, OptionsSetToleranceAndWeights) {
  const auto x = random_tensor({4}, 6, -0.25, 0.25);
  const auto f = [](const std::vector<V>& v) { return square(v[0], 1.0, 0.5, 2); };
  EXPECT_FALSE(gradcheck(f, {x}).ok);
  const GradcheckResult loose = gradcheck(f, {x}, {.tolerance = 0.75});
  EXPECT_TRUE(loose.ok) << loose.message;
  EXPECT_NEAR(loose.max_error, 0.5, 1e-8);
  // Another seed weights the outputs differently: the same wrong element, other values.
  const GradcheckResult other = gradcheck(f, {x}, {.seed = 99});
  EXPECT_EQ(other.index, (std::vector<index_t>{2}));
  EXPECT_NE(other.numeric, gradcheck(f, {x}).numeric);
}

TEST(Gradcheck, ScalarOutputsAndUnusedInputs) {
  const auto x = random_tensor({}, 7), unused = random_tensor({2}, 8);
  const GradcheckResult r =
      gradcheck([](const std::vector<V>& v) { return square(v[0]) * 2.0; }, {x, unused});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradcheck, NanGradientFails) {
  const auto x = random_tensor({3}, 9);
  const GradcheckResult r = gradcheck(
      [](const std::vector<V>& v) {
        return square(v[0], 1.0, std::numeric_limits<double>::quiet_NaN(), 1);
      },
      {x});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.index, (std::vector<index_t>{1}));
  EXPECT_TRUE(std::isinf(r.max_error));
}

TEST(Gradcheck, OutputMustDependOnAnInput) {
  expect_error<Error>(
      [] {
        gradcheck([](const std::vector<V>&) { return V(Tensor<double>::ones({2})); },
                  {random_tensor({2}, 1)});
      },
      {"gradcheck", "does not depend"});
}

TEST(Gradcheck, ThroughTheTestHelper) {
  testing::expect_gradients_match([](const std::vector<V>& v) { return square(v[0] * v[1]); },
                                  {random_tensor({2, 2}, 10), random_tensor({2, 1}, 11)});
}

}  // namespace
}  // namespace lamina
