#include "lamina/ops/conv.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lamina/ops/activation.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using V = Variable<double>;

template <class T>
class ConvTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ConvTyped, Scalars);

TYPED_TEST(ConvTyped, ValidStrideOneSlidesTheKernel) {
  using T = TypeParam;
  // x = 1..9 as a 3x3 image; y[i, j] = 1 x[i, j] + 2 x[i, j+1] + 3 x[i+1, j] + 4 x[i+1, j+1].
  Variable<T> x(Tensor<T>({1, 3, 3, 1}, {1, 2, 3, 4, 5, 6, 7, 8, 9}));
  Variable<T> k(Tensor<T>({2, 2, 1, 1}, {1, 2, 3, 4}));
  expect_tensor_near(conv2d(x, k).value(), {1, 2, 2, 1}, {37, 47, 67, 77}, 0);
}

TYPED_TEST(ConvTyped, SameStrideTwoPadsAfterOnly) {
  using T = TypeParam;
  // 4x4 image, 3x3 ones kernel, stride 2: out 2x2, pad_total 1 -> no padding before, one after.
  Variable<T> x(Tensor<T>::arange(1, 17).reshape({1, 4, 4, 1}));
  Variable<T> k(Tensor<T>::ones({3, 3, 1, 1}));
  expect_tensor_near(conv2d(x, k, {.strides = {2, 2}, .padding = Padding::same}).value(),
                     {1, 2, 2, 1}, {54, 45, 72, 54}, 0);
}

TYPED_TEST(ConvTyped, SameStrideOneKeepsSizeWithSymmetricPadding) {
  using T = TypeParam;
  // 3x3 ones kernel on a 3x3 image of ones with one pixel of zeros around: neighbour counts.
  Variable<T> x(Tensor<T>::ones({1, 3, 3, 1}));
  Variable<T> k(Tensor<T>::ones({3, 3, 1, 1}));
  expect_tensor_near(conv2d(x, k, {.padding = Padding::same}).value(), {1, 3, 3, 1},
                     {4, 6, 4, 6, 9, 6, 4, 6, 4}, 0);
}

TYPED_TEST(ConvTyped, ChannelsAndFiltersContractLikeAMatrix) {
  using T = TypeParam;
  // One pixel, two channels [2, 3], kernel [[1, 2], [3, 4]] (channel x filter): y = [11, 16].
  Variable<T> x(Tensor<T>({2, 1, 1, 2}, {2, 3, -1, 1}));
  Variable<T> k(Tensor<T>({1, 1, 2, 2}, {1, 2, 3, 4}));
  expect_tensor_near(conv2d(x, k).value(), {2, 1, 1, 2}, {11, 16, 2, 2}, 0);
  // The same 1x1 kernel with stride 2 takes the im2col path and must agree.
  Variable<T> big(Tensor<T>({1, 1, 3, 2}, {2, 3, 5, 5, -1, 1}));
  expect_tensor_near(conv2d(big, k, {.strides = {1, 2}}).value(), {1, 1, 2, 2}, {11, 16, 2, 2}, 0);
}

TYPED_TEST(ConvTyped, NonSquareKernelAndStrides) {
  using T = TypeParam;
  // x: 3x4 image of 1..12; kernel 1x2 [1, -1] with strides [2, 2]: x[i, j] - x[i, j+1] = -1.
  Variable<T> x(Tensor<T>::arange(1, 13).reshape({1, 3, 4, 1}));
  Variable<T> k(Tensor<T>({1, 2, 1, 1}, {1, -1}));
  expect_tensor_near(conv2d(x, k, {.strides = {2, 2}}).value(), {1, 2, 2, 1}, {-1, -1, -1, -1}, 0);
  // Kernel 2x1 [1, 10] down the columns, valid, stride 1: x[i, j] + 10 x[i+1, j].
  Variable<T> kt(Tensor<T>({2, 1, 1, 1}, {1, 10}));
  expect_tensor_near(conv2d(x, kt).value(), {1, 2, 4, 1}, {51, 62, 73, 84, 95, 106, 117, 128}, 0);
}

struct ConvCase {
  Shape x, kernel;
  Conv2DOptions options;
};

TEST(ConvGrad, MatchesFiniteDifferences) {
  const std::vector<ConvCase> cases = {
      {{2, 5, 5, 1}, {3, 3, 1, 2}, {}},
      {{1, 6, 6, 2}, {3, 3, 2, 3}, {.strides = {2, 2}, .padding = Padding::same}},
      {{2, 7, 6, 3}, {2, 3, 3, 2}, {.strides = {2, 1}, .padding = Padding::same}},
      {{1, 4, 5, 2}, {3, 2, 2, 2}, {.padding = Padding::same}},
      {{2, 8, 7, 1}, {4, 2, 1, 3}, {.strides = {2, 2}}},
      {{1, 5, 6, 1}, {3, 4, 1, 2}, {.strides = {1, 2}, .padding = Padding::same}},
      {{2, 6, 5, 1}, {3, 3, 1, 2}, {.strides = {2, 3}, .padding = Padding::same}},
      {{1, 5, 7, 2}, {2, 4, 2, 2}, {.strides = {2, 3}, .padding = Padding::same}},
      {{1, 5, 4, 3}, {1, 1, 3, 2}, {}},                   // pointwise: no im2col
      {{1, 5, 5, 2}, {1, 1, 2, 2}, {.strides = {2, 2}}},  // 1x1 strided: im2col
  };
  std::uint64_t seed = 10;
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(::testing::Message()
                 << "x " << c.x << ", kernel " << c.kernel << ", strides [" << c.options.strides[0]
                 << ", " << c.options.strides[1] << "], " << padding_name(c.options.padding));
    const Conv2DOptions o = c.options;
    expect_gradients_match([o](const std::vector<V>& v) { return conv2d(v[0], v[1], o); },
                           {random_tensor(c.x, seed), random_tensor(c.kernel, seed + 1)});
    seed += 2;
  }
}

TEST(ConvGrad, OnlyOneInputRequiringGrad) {
  const Tensor<double> xt = random_tensor({2, 5, 6, 2}, 40), kt = random_tensor({3, 2, 2, 3}, 41);
  const Conv2DOptions o{.strides = {2, 1}, .padding = Padding::same};
  // Reference gradients with both inputs requiring grad.
  V x(xt.clone(), true), k(kt.clone(), true);
  const Tensor<double> up = random_tensor({2, 3, 6, 3}, 42);
  conv2d(x, k, o).backward(up);

  // Kernel constant: no dK is computed, dX must not change.
  V x1(xt.clone(), true), k1(kt.clone());
  conv2d(x1, k1, o).backward(up);
  expect_tensor_near(x1.grad(), xt.shape(), x.grad().to_vector(), 1e-12);
  EXPECT_FALSE(k1.has_grad());

  // Input constant: only dK.
  V x2(xt.clone()), k2(kt.clone(), true);
  conv2d(x2, k2, o).backward(up);
  expect_tensor_near(k2.grad(), kt.shape(), k.grad().to_vector(), 1e-12);
  EXPECT_FALSE(x2.has_grad());

  // The kernel starts requiring grad after the forward: its gradient is still computed.
  V x3(xt.clone(), true), k3(kt.clone());
  V y3 = conv2d(x3, k3, o);
  k3.set_requires_grad(true);
  y3.backward(up);
  expect_tensor_near(k3.grad(), kt.shape(), k.grad().to_vector(), 1e-12);
}

// The batch is split into pieces of a few images (one patch matrix and GEMM each, on all
// threads when the work is large enough, the kernel gradient summed over per-thread partials):
// the result must not depend on the split. Every image alone is the reference.
TEST(ConvGrad, BatchPiecesAgreeWithImageByImage) {
  const std::vector<ConvCase> cases = {
      {{11, 9, 8, 3}, {3, 3, 3, 4}, {.padding = Padding::same}},
      {{13, 10, 10, 1}, {3, 3, 1, 5}, {}},
      {{9, 4, 5, 6}, {1, 1, 6, 3}, {}},
      // Patches too big for one piece per batch: several pieces on one thread.
      {{3, 30, 30, 16}, {3, 3, 16, 4}, {}},
      // Enough work (6M multiply-adds) to run on all threads.
      {{16, 20, 20, 8}, {3, 3, 8, 16}, {}},
  };
  std::uint64_t seed = 60;
  for (const ConvCase& c : cases) {
    SCOPED_TRACE(::testing::Message() << "x " << c.x << ", kernel " << c.kernel);
    const Tensor<double> xt = random_tensor(c.x, seed), kt = random_tensor(c.kernel, seed + 1);
    V x(xt, true), k(kt, true);
    V y = conv2d(x, k, c.options);
    const Tensor<double> up = random_tensor(y.shape(), seed + 2);
    y.backward(up);
    seed += 3;
    Tensor<double> dk_sum(c.kernel);
    const index_t n = c.x[0];
    for (index_t i = 0; i < n; ++i) {
      V xi(xt.slice(i, i + 1).clone(), true), ki(kt, true);
      V yi = conv2d(xi, ki, c.options);
      yi.backward(up.slice(i, i + 1).clone());
      expect_tensor_near(y.value().slice(i, i + 1), yi.shape(), yi.value().to_vector(), 1e-12);
      expect_tensor_near(x.grad().slice(i, i + 1), xi.shape(), xi.grad().to_vector(), 1e-12);
      for (index_t j = 0; j < dk_sum.size(); ++j) dk_sum.data()[j] += ki.grad().data()[j];
    }
    expect_tensor_near(k.grad(), c.kernel, dk_sum.to_vector(), 1e-12);
  }
}

// Every activation that conv2d can apply inside the op (the fusable ones of kActivationNames).
const std::vector<std::string> kFusable{"linear", "relu", "sigmoid", "tanh",         "leaky_relu",
                                        "elu",    "selu", "relu6",   "hard_sigmoid", "softsign"};

// conv2d(x, kernel, bias, {.activation}) applies bias and activation inside the op: it must
// equal the composition of the separate ops, values and gradients of all three inputs.
TEST(ConvFused, BiasAndActivationMatchSeparateOps) {
  const Conv2DOptions geometry{.strides = {2, 1}, .padding = Padding::same};
  std::uint64_t seed = 80;
  for (const std::string& act : kFusable) {
    SCOPED_TRACE(act);
    const Tensor<double> xt = random_tensor({5, 6, 5, 3}, seed),
                         kt = random_tensor({3, 3, 3, 4}, seed + 1),
                         bt = random_tensor({4}, seed + 2);
    V x(xt, true), k(kt, true), b(bt, true);
    Conv2DOptions o = geometry;
    o.activation = act;
    V y = conv2d(x, k, b, o);
    const Tensor<double> up = random_tensor(y.shape(), seed + 3);
    y.backward(up);
    V x2(xt, true), k2(kt, true), b2(bt, true);
    V y2 = activation_by_name<double>(act)(add(conv2d(x2, k2, geometry), b2));
    y2.backward(up);
    seed += 4;
    expect_tensor_near(y.value(), y2.shape(), y2.value().to_vector(), 1e-12);
    expect_tensor_near(x.grad(), xt.shape(), x2.grad().to_vector(), 1e-12);
    expect_tensor_near(k.grad(), kt.shape(), k2.grad().to_vector(), 1e-12);
    expect_tensor_near(b.grad(), bt.shape(), b2.grad().to_vector(), 1e-12);
  }
}

TEST(ConvFused, GradientsMatchFiniteDifferences) {
  std::uint64_t seed = 100;
  for (const std::string& act : kFusable) {
    SCOPED_TRACE(act);
    const Conv2DOptions o{.padding = Padding::same, .activation = act};
    expect_gradients_match([o](const std::vector<V>& v) { return conv2d(v[0], v[1], v[2], o); },
                           {random_tensor({2, 5, 4, 2}, seed),
                            random_tensor({3, 2, 2, 3}, seed + 1), random_tensor({3}, seed + 2)});
    // Without a bias, and with only the kernel requiring grad through the activation.
    expect_gradients_match(
        [o](const std::vector<V>& v) {
          return conv2d(V(Tensor<double>::ones({1, 4, 4, 2})), v[0], o);
        },
        {random_tensor({2, 2, 2, 3}, seed + 3)});
    seed += 4;
  }
}

TEST(ConvFused, BadBiasOrActivationNamesTheProblem) {
  const V x(Tensor<double>::zeros({2, 6, 6, 3})), k(Tensor<double>::zeros({3, 3, 3, 4}));
  expect_error<ShapeError>([&] { conv2d(x, k, V(Tensor<double>::zeros({3}))); },
                           {"conv2d", "bias [3]", "4 filters", "[3, 3, 3, 4]"});
  expect_error<ValueError>([&] { conv2d(x, k, {.activation = "softmax"}); },
                           {"conv2d", "'softmax'", "relu", "sigmoid"});
}

TEST(ConvGrad, NoGradRecordsNothing) {
  V x(random_tensor({1, 4, 4, 1}, 50), true), k(random_tensor({2, 2, 1, 1}, 51), true);
  NoGradGuard guard;
  EXPECT_FALSE(conv2d(x, k).requires_grad());
}

// PyTorch reference values (tests/ops/reference/gen_conv_pool_reference.py), float64.
TEST(ConvReference, MatchesPyTorch) {
  const testing::Reference ref("ops/reference/conv_pool.txt");
  for (const std::string name : {"conv_a", "conv_b", "conv_c", "conv_d", "conv_e"}) {
    SCOPED_TRACE(name);
    const Tensor<double> opt = ref.tensor(name + ".options");
    const Conv2DOptions o{
        .strides = {static_cast<index_t>(opt.data()[0]), static_cast<index_t>(opt.data()[1])},
        .padding = opt.data()[2] != 0 ? Padding::same : Padding::valid};
    V x(ref.tensor(name + ".x"), true), k(ref.tensor(name + ".kernel"), true);
    V y = conv2d(x, k, o);
    const Tensor<double> want_y = ref.tensor(name + ".y"), want_dx = ref.tensor(name + ".dx"),
                         want_dk = ref.tensor(name + ".dkernel");
    expect_tensor_near(y.value(), want_y.shape(), want_y.to_vector(), 1e-10);
    y.backward(ref.tensor(name + ".upstream"));
    expect_tensor_near(x.grad(), want_dx.shape(), want_dx.to_vector(), 1e-10);
    expect_tensor_near(k.grad(), want_dk.shape(), want_dk.to_vector(), 1e-10);
  }
}

TEST(ConvErrors, BadShapesNameOpAndShapes) {
  const V x(Tensor<double>::zeros({2, 6, 6, 3})), k(Tensor<double>::zeros({3, 3, 3, 4}));
  expect_error<ShapeError>(
      [&] {
        conv2d(V(Tensor<double>::zeros({6, 6, 3})), k);
      },
      {"conv2d", "input", "[6, 6, 3]"});
  expect_error<ShapeError>(
      [&] {
        conv2d(x, V(Tensor<double>::zeros({3, 3, 3})));
      },
      {"conv2d", "kernel", "[3, 3, 3]"});
  expect_error<ShapeError>(
      [&] {
        conv2d(x, V(Tensor<double>::zeros({0, 3, 3, 4})));
      },
      {"conv2d", "kernel", "[0, 3, 3, 4]"});
  expect_error<ShapeError>(
      [] {
        conv2d(V(Tensor<double>::zeros({32, 28, 28, 3})), V(Tensor<double>::zeros({3, 3, 1, 32})));
      },
      {"conv2d: input [32, 28, 28, 3] has 3 channels but kernel [3, 3, 1, 32] expects 1"});
  expect_error<ValueError>(
      [&] {
        conv2d(x, k, {.strides = {0, 1}});
      },
      {"conv2d", "strides", "[0, 1]"});
  expect_error<ValueError>(
      [&] {
        conv2d(x, k, {.strides = {2, -1}});
      },
      {"conv2d", "strides", "[2, -1]"});
  expect_error<ShapeError>(
      [&] {
        conv2d(x, V(Tensor<double>::zeros({7, 3, 3, 4})));
      },
      {"conv2d", "[7, 3, 3, 4]", "[2, 6, 6, 3]", "valid", "0x4"});
  // With `same` padding every non-empty input fits; an empty one does not.
  expect_error<ShapeError>(
      [&] {
        conv2d(V(Tensor<double>::zeros({1, 0, 6, 3})), k, {.padding = Padding::same});
      },
      {"conv2d", "[1, 0, 6, 3]", "same"});
}

TEST(Padding, ParsesKerasNames) {
  EXPECT_EQ(parse_padding("valid"), Padding::valid);
  EXPECT_EQ(parse_padding("same"), Padding::same);
  EXPECT_STREQ(padding_name(Padding::same), "same");
  EXPECT_STREQ(padding_name(Padding::valid), "valid");
  expect_error<ValueError>([] { parse_padding("foo"); },
                           {"unknown padding 'foo'; valid names: valid, same"});
  expect_error<ValueError>([] { parse_padding("full"); }, {"'full'"});
}

}  // namespace
}  // namespace lamina
