#include "lamina/ops/linalg.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "lamina/ops/activation.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using V = Variable<double>;

template <class T>
class LinalgTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(LinalgTyped, Scalars);

template <class T>
Tensor<T> iota(Shape shape, T start = T(0), T step = T(1)) {
  Tensor<T> t(std::move(shape));
  for (index_t i = 0; i < t.size(); ++i) t.data()[i] = start + static_cast<T>(i) * step;
  return t;
}

TYPED_TEST(LinalgTyped, MatmulTwoD) {
  using T = TypeParam;
  Variable<T> a(Tensor<T>({2, 3}, {1, 2, 3, 4, 5, 6}));
  Variable<T> b(Tensor<T>({3, 2}, {7, 8, 9, 10, 11, 12}));
  expect_tensor_near(matmul(a, b).value(), {2, 2}, {58, 64, 139, 154}, 0);
  // [1, k] x [k, 1] and a GEMM large enough for Eigen's blocked kernel.
  expect_tensor_near(
      matmul(Variable<T>(Tensor<T>({1, 3}, {1, 2, 3})), Variable<T>(Tensor<T>({3, 1}, {4, 5, 6})))
          .value(),
      {1, 1}, {32}, 0);
  Variable<T> big_a(Tensor<T>::ones({40, 30})), big_b(Tensor<T>::full({30, 20}, T(0.5)));
  const Tensor<T> big = matmul(big_a, big_b).value();
  ASSERT_EQ(big.shape(), Shape({40, 20}));
  for (T v : big) EXPECT_EQ(v, T(15));
}

TYPED_TEST(LinalgTyped, MatmulBatched) {
  using T = TypeParam;
  Variable<T> a(iota<T>({2, 2, 3}, T(1)));
  Variable<T> b(iota<T>({2, 3, 2}, T(0.5), T(0.5)));
  expect_tensor_near(matmul(a, b).value(), {2, 2, 2}, {11, 14, 24.5, 32, 110, 122, 150.5, 167}, 0);
  // Four dimensions: every [.., .., m, k] entry is its own product.
  Variable<T> a4(iota<T>({2, 1, 2, 3}, T(1)));
  Variable<T> b4(iota<T>({2, 1, 3, 2}, T(0.5), T(0.5)));
  expect_tensor_near(matmul(a4, b4).value(), {2, 1, 2, 2}, {11, 14, 24.5, 32, 110, 122, 150.5, 167},
                     0);
}

TYPED_TEST(LinalgTyped, MatmulBatchedTimesSharedMatrix) {
  using T = TypeParam;
  Variable<T> a(iota<T>({2, 2, 3}, T(1)));
  Variable<T> b(Tensor<T>({3, 2}, {7, 8, 9, 10, 11, 12}));
  expect_tensor_near(matmul(a, b).value(), {2, 2, 2}, {58, 64, 139, 154, 220, 244, 301, 334}, 0);
}

TYPED_TEST(LinalgTyped, MatmulEmptyInnerDimensionGivesZeros) {
  using T = TypeParam;
  Variable<T> a(Tensor<T>::empty({2, 0})), b(Tensor<T>::empty({0, 3}));
  expect_tensor_near(matmul(a, b).value(), {2, 3}, {0, 0, 0, 0, 0, 0}, 0);
  expect_tensor_near(
      matmul(Variable<T>(Tensor<T>::empty({0, 4})), Variable<T>(iota<T>({4, 2}))).value(), {0, 2},
      {}, 0);
}

TYPED_TEST(LinalgTyped, TransposeAndPermute) {
  using T = TypeParam;
  Variable<T> m(Tensor<T>({2, 3}, {1, 2, 3, 4, 5, 6}));
  expect_tensor_near(transpose(m).value(), {3, 2}, {1, 4, 2, 5, 3, 6}, 0);
  Variable<T> x(iota<T>({2, 3, 4}));
  expect_tensor_near(
      transpose(x).value(), {2, 4, 3},
      {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23}, 0);
  const std::vector<double> p201 = {0, 4, 8,  12, 16, 20, 1, 5, 9,  13, 17, 21,
                                    2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23};
  expect_tensor_near(permute(x, {2, 0, 1}).value(), {4, 2, 3}, p201, 0);
  expect_tensor_near(permute(x, {-1, 0, -2}).value(), {4, 2, 3}, p201, 0);
  expect_tensor_near(
      permute(x, {1, 0, 2}).value(), {3, 2, 4},
      {0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23}, 0);
  // The identity copies: the result does not alias the input.
  const Variable<T> same = permute(x, {0, 1, 2});
  expect_tensor_near(same.value(), {2, 3, 4},
                     std::vector<double>(x.value().begin(), x.value().end()), 0);
  EXPECT_FALSE(same.value().shares_storage_with(x.value()));
}

TEST(LinalgGrad, Matmul) {
  const auto f = [](const std::vector<V>& v) { return matmul(v[0], v[1]); };
  expect_gradients_match(f, {random_tensor({3, 4}, 1), random_tensor({4, 5}, 2)});
  expect_gradients_match(f, {random_tensor({1, 6}, 3), random_tensor({6, 1}, 4)});
  expect_gradients_match(f, {random_tensor({2, 3, 4}, 5), random_tensor({2, 4, 5}, 6)});
  expect_gradients_match(f, {random_tensor({2, 3, 2, 4}, 7), random_tensor({2, 3, 4, 2}, 8)});
}

TEST(LinalgGrad, MatmulSharedRightOperandSumsOverTheBatch) {
  const auto f = [](const std::vector<V>& v) { return matmul(v[0], v[1]); };
  expect_gradients_match(f, {random_tensor({2, 3, 4}, 9), random_tensor({4, 5}, 10)});
  expect_gradients_match(f, {random_tensor({2, 2, 3, 4}, 11), random_tensor({4, 2}, 12)});
  // dB = sum over the batch of A_i^T dC_i: with all-ones dC, dB[k, n] = sum of column k of A.
  V a(iota<double>({2, 2, 3}, 1.0), true), b(Tensor<double>::ones({3, 2}), true);
  matmul(a, b).backward(Tensor<double>::ones({2, 2, 2}));
  expect_tensor_near(b.grad(), {3, 2}, {22, 22, 26, 26, 30, 30}, 1e-12);
  expect_tensor_near(a.grad(), {2, 2, 3}, std::vector<double>(12, 2.0), 1e-12);
}

TEST(LinalgGrad, MatmulOneSideOrSameOperandTwice) {
  V a(random_tensor({3, 4}, 13)), b(random_tensor({4, 2}, 14), true);
  matmul(a, b).backward(Tensor<double>::ones({3, 2}));
  EXPECT_FALSE(a.has_grad());
  // dB = A^T 1: row k of dB is the sum of column k of A.
  std::vector<double> expected;
  for (index_t k = 0; k < 4; ++k) {
    double s = 0;
    for (index_t i = 0; i < 3; ++i) s += a.value().at({i, k});
    expected.insert(expected.end(), {s, s});
  }
  expect_tensor_near(b.grad(), {4, 2}, expected, 1e-12);
  // x @ x: both gradients reach the same leaf and accumulate.
  expect_gradients_match([](const std::vector<V>& v) { return matmul(v[0], v[0]); },
                         {random_tensor({3, 3}, 15)});
  expect_gradients_match([](const std::vector<V>& v) { return matmul(v[0], transpose(v[0])); },
                         {random_tensor({2, 3, 4}, 16)});
}

TEST(LinalgGrad, TransposeAndPermute) {
  const auto x3 = random_tensor({2, 3, 4}, 17);
  expect_gradients_match([](const std::vector<V>& v) { return transpose(v[0]); },
                         {random_tensor({3, 5}, 18)});
  expect_gradients_match([](const std::vector<V>& v) { return transpose(v[0]); }, {x3});
  for (const std::vector<int>& axes :
       {std::vector<int>{2, 0, 1}, {1, 2, 0}, {0, 2, 1}, {-1, -2, -3}, {0, 1, 2}}) {
    expect_gradients_match([&](const std::vector<V>& v) { return permute(v[0], axes); }, {x3});
  }
  expect_gradients_match(
      [](const std::vector<V>& v) {
        return permute(v[0], {3, 1, 0, 2});
      },
      {random_tensor({2, 3, 1, 4}, 19)});
}

/// a b by the textbook triple loop.
Tensor<double> naive_matmul(const Tensor<double>& a, const Tensor<double>& b) {
  const index_t m = a.dim(0), k = a.dim(1), n = b.dim(1);
  Tensor<double> c({m, n});
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j)
      for (index_t p = 0; p < k; ++p)
        c.data()[i * n + j] += a.data()[i * k + p] * b.data()[p * n + j];
  return c;
}

Tensor<double> transposed(const Tensor<double>& a) { return transpose(V(a)).value(); }

// Products above a few million multiply-adds are split into row blocks (column blocks
// when the result is wide and short) on all threads; each must still be the whole product.
TEST(LinalgGrad, LargeProductsSplitOverThreadsAgreeWithTheTripleLoop) {
  for (const auto& [m, k, n] : {std::array<index_t, 3>{300, 200, 150}, {24, 300, 700}}) {
    SCOPED_TRACE(::testing::Message() << m << "x" << k << "x" << n);
    const Tensor<double> at = random_tensor({m, k}, 1), bt = random_tensor({k, n}, 2),
                         up = random_tensor({m, n}, 3);
    V a(at, true), b(bt, true);
    V c = matmul(a, b);
    c.backward(up);
    expect_tensor_near(c.value(), {m, n}, naive_matmul(at, bt).to_vector(), 1e-10);
    expect_tensor_near(a.grad(), {m, k}, naive_matmul(up, transposed(bt)).to_vector(), 1e-10);
    expect_tensor_near(b.grad(), {k, n}, naive_matmul(transposed(at), up).to_vector(), 1e-10);
  }
}

const std::vector<std::string> kFusable{"linear", "relu", "sigmoid", "tanh",         "leaky_relu",
                                        "elu",    "selu", "relu6",   "hard_sigmoid", "softsign"};

// dense(x, kernel, bias, activation) must equal matmul, add and the activation as separate ops,
// in values and gradients, for small and large (split over threads) inputs of rank 2 and 3.
TEST(DenseOp, MatchesSeparateOps) {
  std::uint64_t seed = 20;
  for (const Shape& xs : {Shape{4, 5}, Shape{2, 3, 5}, Shape{600, 40}}) {
    for (const std::string& act : kFusable) {
      SCOPED_TRACE(::testing::Message() << xs << " " << act);
      const index_t in = xs[xs.rank() - 1], units = xs[0] == 600 ? 300 : 3;
      const Tensor<double> xt = random_tensor(xs, seed), wt = random_tensor({in, units}, seed + 1),
                           bt = random_tensor({units}, seed + 2);
      V x(xt, true), w(wt, true), b(bt, true);
      V y = dense(x, w, b, act);
      const Tensor<double> up = random_tensor(y.shape(), seed + 3);
      y.backward(up);
      V x2(xt, true), w2(wt, true), b2(bt, true);
      V y2 = activation_by_name<double>(act)(add(matmul(x2, w2), b2));
      y2.backward(up);
      seed += 4;
      expect_tensor_near(y.value(), y2.shape(), y2.value().to_vector(), 1e-12);
      expect_tensor_near(x.grad(), xs, x2.grad().to_vector(), 1e-12);
      expect_tensor_near(w.grad(), wt.shape(), w2.grad().to_vector(), 1e-12);
      expect_tensor_near(b.grad(), bt.shape(), b2.grad().to_vector(), 1e-12);
    }
  }
}

TEST(DenseOp, GradientsMatchFiniteDifferences) {
  std::uint64_t seed = 200;
  for (const std::string& act : kFusable) {
    SCOPED_TRACE(act);
    expect_gradients_match([act](const std::vector<V>& v) { return dense(v[0], v[1], v[2], act); },
                           {random_tensor({3, 4}, seed), random_tensor({4, 2}, seed + 1),
                            random_tensor({2}, seed + 2)});
    expect_gradients_match([act](const std::vector<V>& v) { return dense(v[0], v[1], act); },
                           {random_tensor({2, 2, 3}, seed + 3), random_tensor({3, 2}, seed + 4)});
    seed += 5;
  }
}

TEST(DenseOp, BadShapesAndActivationsNameTheProblem) {
  const V x(Tensor<double>::zeros({4, 5})), w(Tensor<double>::zeros({5, 3}));
  expect_error<ShapeError>([&] { dense(x, V(Tensor<double>::zeros({5}))); },
                           {"dense", "kernel", "[5]"});
  expect_error<ShapeError>(
      [&] {
        dense(x, V(Tensor<double>::zeros({4, 3})));
      },
      {"dense: input [4, 5] does not match kernel [4, 3]"});
  expect_error<ShapeError>([&] { dense(V(Tensor<double>::zeros({5})), w); },
                           {"dense", "input [5]"});
  expect_error<ShapeError>([&] { dense(x, w, V(Tensor<double>::zeros({5}))); },
                           {"dense", "bias [5]", "[5, 3]"});
  expect_error<ValueError>([&] { dense(x, w, "softmax"); }, {"dense", "'softmax'", "relu"});
}

TEST(LinalgErrors, MatmulInnerDimensionsExactMessage) {
  V a(Tensor<double>::zeros({32, 784})), b(Tensor<double>::zeros({128, 10}));
  try {
    matmul(a, b);
    ADD_FAILURE() << "expected a ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_EQ(std::string(e.what()),
              "matmul: [32, 784] x [128, 10]: inner dimensions differ (784 vs 128)");
  }
  expect_error<ShapeError>(
      [] {
        matmul(V(Tensor<double>::zeros({2, 3, 4})), V(Tensor<double>::zeros({2, 5, 6})));
      },
      {"matmul: [2, 3, 4] x [2, 5, 6]: inner dimensions differ (4 vs 5)"});
  expect_error<ShapeError>(
      [] {
        matmul(V(Tensor<double>::zeros({2, 3, 4})), V(Tensor<double>::zeros({5, 6})));
      },
      {"matmul: [2, 3, 4] x [5, 6]: inner dimensions differ (4 vs 5)"});
}

TEST(LinalgErrors, MatmulRankAndBatchAxes) {
  const auto mm = [](Shape sa, Shape sb) {
    return [sa, sb] { matmul(V(Tensor<double>::zeros(sa)), V(Tensor<double>::zeros(sb))); };
  };
  expect_error<ShapeError>(mm({3}, {3, 4}), {"matmul", "[3] x [3, 4]", "rank >= 2"});
  expect_error<ShapeError>(mm({2, 3}, {3}), {"matmul", "[2, 3] x [3]", "rank >= 2"});
  expect_error<ShapeError>(mm({}, {}), {"matmul", "[] x []"});
  expect_error<ShapeError>(mm({2, 3, 4}, {3, 4, 5}), {"matmul", "[2, 3, 4] x [3, 4, 5]", "batch"});
  expect_error<ShapeError>(mm({3, 4}, {2, 4, 5}), {"matmul", "[3, 4] x [2, 4, 5]", "batch"});
  expect_error<ShapeError>(mm({2, 2, 3, 4}, {2, 4, 5}),
                           {"matmul", "[2, 2, 3, 4] x [2, 4, 5]", "batch"});
}

TEST(LinalgErrors, PermuteAndTranspose) {
  V x(Tensor<double>::zeros({2, 3}));
  expect_error<ValueError>([&] { permute(x, {0, 0}); }, {"permute", "[0, 0]", "[2, 3]"});
  expect_error<ValueError>([&] { permute(x, {0}); }, {"permute", "[0]", "[2, 3]"});
  expect_error<ValueError>([&] { permute(x, {0, 2}); }, {"permute", "[0, 2]", "[2, 3]"});
  expect_error<ValueError>([&] { permute(x, {1, -3}); }, {"permute", "[1, -3]", "[2, 3]"});
  expect_error<ValueError>([&] { permute(x, {0, 1, 2}); }, {"permute", "[0, 1, 2]", "[2, 3]"});
  expect_error<ShapeError>([] { transpose(V(Tensor<double>::zeros({3}))); }, {"transpose", "[3]"});
}

}  // namespace
}  // namespace lamina
