#include "lamina/ops/softmax.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "lamina/ops/activation.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/reduce.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using V = Variable<double>;

/// Naive softmax (or log_softmax) of `x` along `axis`, in long double, by multi-index loops.
std::vector<double> reference_softmax(const Tensor<double>& x, int axis, bool log) {
  const Shape& s = x.shape();
  const std::vector<index_t> st = s.strides();
  const index_t stride = st[static_cast<std::size_t>(axis)];
  std::vector<double> out(static_cast<std::size_t>(x.size()));
  for (index_t k = 0; k < x.size(); ++k) {
    const index_t pos = (k / stride) % s[axis];
    const index_t first = k - pos * stride;
    long double total = 0;
    for (index_t j = 0; j < s[axis]; ++j)
      total += std::exp(static_cast<long double>(x.data()[first + j * stride]));
    const long double xk = x.data()[k];
    out[static_cast<std::size_t>(k)] =
        static_cast<double>(log ? xk - std::log(total) : std::exp(xk) / total);
  }
  return out;
}

template <class T>
Tensor<T> cast(const Tensor<double>& t) {
  return t.template cast<T>();
}

template <class T>
class SoftmaxTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(SoftmaxTyped, Scalars);

TYPED_TEST(SoftmaxTyped, KnownValues) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-15;
  Variable<T> x(Tensor<T>({3}, {1, 2, 3}));
  const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  expect_tensor_near(softmax(x).value(), {3},
                     {std::exp(1.0) / z, std::exp(2.0) / z, std::exp(3.0) / z}, tol);
  expect_tensor_near(log_softmax(x).value(), {3},
                     {1 - std::log(z), 2 - std::log(z), 3 - std::log(z)}, 4 * tol);
}

TYPED_TEST(SoftmaxTyped, EveryAxisOfRankThreeMatchesReference) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, float> ? 2e-6 : 1e-14;
  for (const Shape& s : {Shape{7}, Shape{4, 5}, Shape{2, 3, 4}, Shape{3, 1, 5}}) {
    const Tensor<double> xd = random_tensor(s, 21, -5.0, 5.0);
    const Variable<T> x(cast<T>(xd));
    for (int axis = -s.rank(); axis < s.rank(); ++axis) {
      const int a = axis < 0 ? axis + s.rank() : axis;
      SCOPED_TRACE("shape " + s.str() + " axis " + std::to_string(axis));
      expect_tensor_near(softmax(x, axis).value(), s, reference_softmax(xd, a, false), tol);
      expect_tensor_near(log_softmax(x, axis).value(), s, reference_softmax(xd, a, true), 4 * tol);
    }
  }
}

TYPED_TEST(SoftmaxTyped, StableAtPlusMinusThousand) {
  using T = TypeParam;
  for (int axis : {0, 1}) {
    Variable<T> x(Tensor<T>({2, 2}, {1000, -1000, -1000, 1000}));
    const Tensor<T> p = softmax(x, axis).value(), lp = log_softmax(x, axis).value();
    for (T v : p) EXPECT_TRUE(std::isfinite(v));
    for (T v : lp) EXPECT_TRUE(std::isfinite(v));
    expect_tensor_near(p, {2, 2}, {1, 0, 0, 1}, 0);
    expect_tensor_near(lp, {2, 2}, {0, -2000, -2000, 0}, 0);
  }
  // All equal and huge: uniform. Sums to 1 along the axis.
  Variable<T> big(Tensor<T>({2, 3}, {1000, 1000, 1000, -1000, -999, -1000}));
  const Tensor<T> p = softmax(big).value();
  for (index_t r = 0; r < 2; ++r) {
    T total = 0;
    for (index_t c = 0; c < 3; ++c) total += p.at({r, c});
    EXPECT_NEAR(total, 1.0, 1e-6);
  }
  EXPECT_NEAR(p.at({0, 0}), 1.0 / 3, 1e-7);
  EXPECT_NEAR(p.at({1, 1}), std::exp(1.0) / (2 + std::exp(1.0)), 1e-7);
  // -inf entries (masking) get exactly zero probability.
  Variable<T> masked(Tensor<T>({3}, {0, -std::numeric_limits<T>::infinity(), 0}));
  expect_tensor_near(softmax(masked).value(), {3}, {0.5, 0, 0.5}, 0);
}

TYPED_TEST(SoftmaxTyped, FusedLossesEqualLogSoftmaxForm) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, float> ? 2e-5 : 1e-13;
  Variable<T> logits(cast<T>(random_tensor({4, 5}, 22, -3.0, 3.0)));
  Tensor<T> targets = cast<T>(random_tensor({4, 5}, 23, 0.0, 1.0));
  const Tensor<T> ls = log_softmax(logits).value();
  std::vector<double> want(4);
  for (index_t i = 0; i < 4; ++i)
    for (index_t c = 0; c < 5; ++c)
      want[static_cast<std::size_t>(i)] -= targets.at({i, c}) * ls.at({i, c});
  expect_tensor_near(softmax_cross_entropy(logits, targets).value(), {4}, want, tol);

  const Tensor<T> labels({4}, {0, 4, 2, 2});
  std::vector<double> want_sparse;
  for (index_t i = 0; i < 4; ++i)
    want_sparse.push_back(-ls.at({i, static_cast<index_t>(labels.data()[i])}));
  expect_tensor_near(sparse_softmax_cross_entropy(logits, labels).value(), {4}, want_sparse, tol);
  // The same labels one-hot give the same losses.
  Tensor<T> onehot({4, 5});
  for (index_t i = 0; i < 4; ++i) onehot.at({i, static_cast<index_t>(labels.data()[i])}) = 1;
  expect_tensor_near(softmax_cross_entropy(logits, Variable<T>(onehot)).value(), {4}, want_sparse,
                     tol);
  // Stable at +-1000: a confident right answer costs 0, a confident wrong one 2000.
  Variable<T> sure(Tensor<T>({2, 2}, {1000, -1000, 1000, -1000}));
  expect_tensor_near(sparse_softmax_cross_entropy(sure, Tensor<T>({2}, {0, 1})).value(), {2},
                     {0, 2000}, 0);
  expect_tensor_near(softmax_cross_entropy(sure, Tensor<T>({2, 2}, {1, 0, 0, 1})).value(), {2},
                     {0, 2000}, 0);
}

TEST(SoftmaxGrad, ShapesAndAxes) {
  for (const Shape& s : {Shape{6}, Shape{3, 4}, Shape{2, 3, 4}, Shape{2, 1, 3}}) {
    const auto x = random_tensor(s, 24, -2.0, 2.0);
    for (int axis = -1; axis < s.rank(); ++axis) {
      SCOPED_TRACE("shape " + s.str() + " axis " + std::to_string(axis));
      expect_gradients_match([axis](const std::vector<V>& v) { return softmax(v[0], axis); }, {x});
      expect_gradients_match([axis](const std::vector<V>& v) { return log_softmax(v[0], axis); },
                             {x});
    }
  }
}

TEST(SoftmaxGrad, FusedLosses) {
  const auto logits = random_tensor({5, 4}, 25, -2.0, 2.0);
  // Probability targets (rows sum to 1) and arbitrary non-negative weights both check out.
  Tensor<double> probs = random_tensor({5, 4}, 26, 0.0, 1.0);
  for (index_t i = 0; i < 5; ++i) {
    double total = 0;
    for (index_t c = 0; c < 4; ++c) total += probs.at({i, c});
    for (index_t c = 0; c < 4; ++c) probs.at({i, c}) /= total;
  }
  const Tensor<double> weights = random_tensor({5, 4}, 27, 0.0, 2.0);
  for (const Tensor<double>& t : {probs, weights}) {
    expect_gradients_match([&t](const std::vector<V>& v) { return softmax_cross_entropy(v[0], t); },
                           {logits});
  }
  const Tensor<double> labels({5}, {3, 0, 1, 3, 2});
  expect_gradients_match(
      [&](const std::vector<V>& v) { return sparse_softmax_cross_entropy(v[0], labels); },
      {logits});
  // With probability targets the gradient is softmax(x) - t, times the upstream gradient.
  V x(logits, true);
  softmax_cross_entropy(x, probs).backward(Tensor<double>::full({5}, 2.0));
  const Tensor<double> p = softmax(V(logits)).value();
  std::vector<double> want;
  for (index_t k = 0; k < p.size(); ++k) want.push_back(2.0 * (p.data()[k] - probs.data()[k]));
  expect_tensor_near(x.grad(), {5, 4}, want, 1e-15);
  V y(logits, true);
  sparse_softmax_cross_entropy(y, labels).backward(Tensor<double>::ones({5}));
  want.clear();
  for (index_t k = 0; k < p.size(); ++k)
    want.push_back(p.data()[k] - (k % 4 == labels.data()[k / 4]));
  expect_tensor_near(y.grad(), {5, 4}, want, 1e-15);
}

TEST(SoftmaxGrad, ChainsWithSharedSubexpression) {
  // h feeds softmax and log_softmax; their product summed is minus the entropy.
  expect_gradients_match(
      [](const std::vector<V>& v) {
        const V h = tanh(v[0]);
        return sum(softmax(h, 1) * log_softmax(h, 1), {1});
      },
      {random_tensor({3, 4}, 28, -2.0, 2.0)});
  // A deep chain: softmax of tanh of sigmoid of ... 50 levels, then a fused loss.
  const Tensor<double> labels({2}, {1, 2});
  expect_gradients_match(
      [&](const std::vector<V>& v) {
        V y = v[0];
        for (int i = 0; i < 50; ++i) y = i % 2 ? sigmoid(y * 2.0) : tanh(y * 1.5 + 0.2);
        return sparse_softmax_cross_entropy(y * 3.0, labels);
      },
      {random_tensor({2, 3}, 29, -2.0, 2.0)});
}

TEST(SoftmaxErrors, AxisAndRank) {
  V x(Tensor<double>::zeros({2, 3}));
  expect_error<ValueError>([&] { softmax(x, 2); }, {"softmax", "axis 2", "[2, 3]"});
  expect_error<ValueError>([&] { softmax(x, -3); }, {"softmax", "axis -3", "[2, 3]"});
  expect_error<ValueError>([&] { log_softmax(x, 5); }, {"log_softmax", "axis 5", "[2, 3]"});
  V scalar(Tensor<double>::scalar(1.0));
  expect_error<ValueError>([&] { log_softmax(scalar); }, {"log_softmax", "axis -1", "[]"});
}

TEST(SoftmaxErrors, FusedLossShapes) {
  V logits(Tensor<double>::zeros({2, 3}));
  expect_error<ShapeError>(
      [&] {
        softmax_cross_entropy(logits, Tensor<double>::zeros({2, 4}));
      },
      {"softmax_cross_entropy", "targets [2, 4]", "logits [2, 3]"});
  expect_error<ShapeError>(
      [&] { softmax_cross_entropy(V(Tensor<double>::zeros({6})), Tensor<double>::zeros({6})); },
      {"softmax_cross_entropy", "[batch, classes]", "[6]"});
  expect_error<ShapeError>(
      [&] {
        sparse_softmax_cross_entropy(logits, Tensor<double>::zeros({2, 3}));
      },
      {"sparse_softmax_cross_entropy", "[2]", "[2, 3]"});
  expect_error<ShapeError>(
      [&] { sparse_softmax_cross_entropy(logits, Tensor<double>::zeros({3})); },
      {"sparse_softmax_cross_entropy", "labels must be [2]", "got [3]"});
  expect_error<ShapeError>(
      [&] {
        sparse_softmax_cross_entropy(V(Tensor<double>::zeros({2, 0})), Tensor<double>::zeros({2}));
      },
      {"sparse_softmax_cross_entropy", "[2, 0]", "no classes"});
  V needs_grad(Tensor<double>::zeros({2, 3}), true);
  expect_error<ValueError>([&] { softmax_cross_entropy(logits, needs_grad); },
                           {"softmax_cross_entropy", "targets", "require grad"});
}

TEST(SoftmaxErrors, BadLabels) {
  V logits(Tensor<double>::zeros({3, 4}));
  expect_error<ValueError>(
      [&] {
        sparse_softmax_cross_entropy(logits, Tensor<double>({3}, {0, 4, 1}));
      },
      {"sparse_softmax_cross_entropy", "label 4", "position 1", "[0, 4)"});
  expect_error<ValueError>(
      [&] {
        sparse_softmax_cross_entropy(logits, Tensor<double>({3}, {0, 1, -1}));
      },
      {"sparse_softmax_cross_entropy", "label -1", "position 2", "[0, 4)"});
  expect_error<ValueError>(
      [&] {
        sparse_softmax_cross_entropy(logits, Tensor<double>({3}, {1.5, 1, 1}));
      },
      {"sparse_softmax_cross_entropy", "label 1.5", "position 0", "not an integer", "4"});
  expect_error<ValueError>(
      [&] {
        sparse_softmax_cross_entropy(logits, Tensor<double>({3}, {1, std::nan(""), 1}));
      },
      {"sparse_softmax_cross_entropy", "label nan", "position 1"});
}

TEST(SoftmaxEdge, EmptyBatchAndEmptyAxis) {
  V none(Tensor<double>::zeros({0, 3}), true);
  EXPECT_EQ(sparse_softmax_cross_entropy(none, Tensor<double>::zeros({0})).shape(), Shape{0});
  EXPECT_EQ(softmax_cross_entropy(none, Tensor<double>::zeros({0, 3})).shape(), Shape{0});
  EXPECT_EQ(softmax(V(Tensor<double>::zeros({2, 0}))).shape(), (Shape{2, 0}));
  EXPECT_EQ(log_softmax(none, 0).shape(), (Shape{0, 3}));
}

}  // namespace
}  // namespace lamina
