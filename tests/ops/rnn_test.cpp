#include "lamina/ops/rnn.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/linalg.hpp"
#include "lamina/ops/shape_ops.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using V = Variable<double>;

const std::vector<std::string> kActivations{"linear",       "relu",    "sigmoid", "tanh",
                                            "leaky_relu",   "elu",     "selu",    "relu6",
                                            "hard_sigmoid", "softsign"};

template <class T>
class RnnTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(RnnTyped, Scalars);

TYPED_TEST(RnnTyped, RecurrenceStartsFromZeroState) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-15;
  // One unit on one feature, W = 0.5, U = 0.25, b = 0.1; two sequences: [1, 2] and [-1, 3].
  const Variable<T> x(Tensor<T>({2, 2, 1}, {1, 2, -1, 3}));
  const Variable<T> w(Tensor<T>({1, 1}, {0.5})), u(Tensor<T>({1, 1}, {0.25})),
      b(Tensor<T>({1}, {0.1}));
  const double h1 = std::tanh(0.6), h2 = std::tanh(1.1 + 0.25 * h1);
  const double k1 = std::tanh(-0.4), k2 = std::tanh(1.6 + 0.25 * k1);
  expect_tensor_near(simple_rnn(x, w, u, b).value(), {2, 1}, {h2, k2}, tol);
  expect_tensor_near(simple_rnn(x, w, u, b, {.return_sequences = true}).value(), {2, 2, 1},
                     {h1, h2, k1, k2}, tol);
  // relu without bias: [0.5, 1 + 0.125] and [0, 1.5].
  expect_tensor_near(simple_rnn(x, w, u, {.activation = "relu", .return_sequences = true}).value(),
                     {2, 2, 1}, {0.5, 1.125, 0, 1.5}, tol);
}

/// The recurrence written with one op per step (matmul, add, the activation by name).
V unfused_rnn(const V& x, const V& w, const V& u, const V& b, const std::string& act,
              bool sequences) {
  const index_t batch = x.dim(0), steps = x.dim(1), units = w.dim(1);
  const auto activation = activation_by_name<double>(act);
  const V projected = add(matmul(x, w), b);
  V h;
  std::vector<V> states;
  for (index_t t = 0; t < steps; ++t) {
    V pre = reshape(slice(projected, 1, t, t + 1), {batch, units});
    if (t > 0) pre = add(pre, matmul(h, u));
    h = activation(pre);
    states.push_back(reshape(h, {batch, 1, units}));
  }
  return sequences ? concat(states, 1) : h;
}

// One rule over the whole sequence must give what the per-step ops give, for every input.
TEST(RnnGrad, MatchesOneOpPerStep) {
  std::uint64_t seed = 1;
  for (const std::string& act : kActivations) {
    for (const bool sequences : {false, true}) {
      SCOPED_TRACE(::testing::Message() << act << (sequences ? ", sequences" : ", last"));
      const std::vector<Tensor<double>> in{
          random_tensor({3, 5, 4}, seed), random_tensor({4, 6}, seed + 1),
          random_tensor({6, 6}, seed + 2, -0.5, 0.5), random_tensor({6}, seed + 3)};
      seed += 5;
      std::vector<V> a, b;
      for (const Tensor<double>& t : in) {
        a.emplace_back(t, true);
        b.emplace_back(t, true);
      }
      V y = simple_rnn(a[0], a[1], a[2], a[3], {.activation = act, .return_sequences = sequences});
      const Tensor<double> up = random_tensor(y.shape(), seed);
      y.backward(up);
      V y2 = unfused_rnn(b[0], b[1], b[2], b[3], act, sequences);
      y2.backward(up);
      expect_tensor_near(y.value(), y2.shape(), y2.value().to_vector(), 1e-12);
      for (std::size_t i = 0; i < in.size(); ++i)
        expect_tensor_near(a[i].grad(), in[i].shape(), b[i].grad().to_vector(), 1e-12);
    }
  }
}

TEST(RnnGrad, MatchesFiniteDifferences) {
  std::uint64_t seed = 100;
  for (const std::string& act : kActivations) {
    for (const bool sequences : {false, true}) {
      SCOPED_TRACE(::testing::Message() << act << (sequences ? ", sequences" : ", last"));
      const RNNOptions o{.activation = act, .return_sequences = sequences};
      expect_gradients_match(
          [o](const std::vector<V>& v) { return simple_rnn(v[0], v[1], v[2], v[3], o); },
          {random_tensor({2, 4, 3}, seed), random_tensor({3, 2}, seed + 1),
           random_tensor({2, 2}, seed + 2), random_tensor({2}, seed + 3)});
      // Without a bias; the input constant (data), so only the weights get gradients.
      const V x(random_tensor({2, 3, 3}, seed + 4));
      expect_gradients_match(
          [o, x](const std::vector<V>& v) { return simple_rnn(x, v[0], v[1], o); },
          {random_tensor({3, 2}, seed + 5), random_tensor({2, 2}, seed + 6)});
      seed += 7;
    }
  }
}

// A long sequence: the sweep is iterative and its memory linear in the length.
TEST(RnnGrad, LongSequenceMatchesOneOpPerStep) {
  const std::vector<Tensor<double>> in{random_tensor({2, 300, 3}, 7), random_tensor({3, 4}, 8),
                                       random_tensor({4, 4}, 9, -0.4, 0.4), random_tensor({4}, 10)};
  V x(in[0], true), w(in[1], true), u(in[2], true), b(in[3], true);
  V y = simple_rnn(x, w, u, b);
  y.backward(Tensor<double>::ones(y.shape()));
  V x2(in[0], true), w2(in[1], true), u2(in[2], true), b2(in[3], true);
  V y2 = unfused_rnn(x2, w2, u2, b2, "tanh", false);
  y2.backward(Tensor<double>::ones(y2.shape()));
  expect_tensor_near(y.value(), y2.shape(), y2.value().to_vector(), 1e-12);
  expect_tensor_near(u.grad(), {4, 4}, u2.grad().to_vector(), 1e-10);
  expect_tensor_near(x.grad(), in[0].shape(), x2.grad().to_vector(), 1e-12);
}

TEST(RnnErrors, BadShapesAndActivationsNameTheProblem) {
  const V x(Tensor<double>::zeros({2, 5, 3})), w(Tensor<double>::zeros({3, 4})),
      u(Tensor<double>::zeros({4, 4}));
  expect_error<ShapeError>(
      [&] {
        simple_rnn(V(Tensor<double>::zeros({2, 3})), w, u);
      },
      {"simple_rnn", "input", "[2, 3]"});
  expect_error<ShapeError>(
      [&] {
        simple_rnn(V(Tensor<double>::zeros({2, 0, 3})), w, u);
      },
      {"simple_rnn", "timestep", "[2, 0, 3]"});
  expect_error<ShapeError>(
      [&] {
        simple_rnn(x, V(Tensor<double>::zeros({2, 4})), u);
      },
      {"simple_rnn: kernel [2, 4] does not match input [2, 5, 3]"});
  expect_error<ShapeError>(
      [&] {
        simple_rnn(x, w, V(Tensor<double>::zeros({4, 3})));
      },
      {"simple_rnn", "recurrent kernel [4, 3]", "[4, 4]"});
  expect_error<ShapeError>([&] { simple_rnn(x, w, u, V(Tensor<double>::zeros({3}))); },
                           {"simple_rnn", "bias [3]", "[4]"});
  expect_error<ValueError>([&] { simple_rnn(x, w, u, {.activation = "softmax"}); },
                           {"simple_rnn", "'softmax'", "tanh"});
}

}  // namespace
}  // namespace lamina
