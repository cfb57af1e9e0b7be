// The gated recurrent ops (lstm.hpp, gru.hpp, recurrent.hpp): the one-rule backward against
// central finite differences for every option, the sequence walk against one op per step, and
// errors. PyTorch parity is in tests/layers/recurrent_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "lamina/ops/gru.hpp"
#include "lamina/ops/lstm.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using detail::Pointwise;
using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using V = Variable<double>;

struct Walk {
  bool sequences, backwards;
};
const std::vector<Walk> kWalks{{false, false}, {true, false}, {false, true}, {true, true}};

std::string describe(const GatedRNNOpOptions& o) {
  return std::string(o.return_sequences ? "sequences" : "last") +
         (o.go_backwards ? ", backwards" : "") + (o.reset_after ? ", reset_after" : "");
}

TEST(LstmGrad, MatchesFiniteDifferences) {
  std::uint64_t seed = 1;
  for (const Walk w : kWalks) {
    for (const bool with_bias : {true, false}) {
      const GatedRNNOpOptions o{.return_sequences = w.sequences, .go_backwards = w.backwards};
      SCOPED_TRACE(describe(o) + (with_bias ? "" : ", no bias"));
      std::vector<Tensor<double>> in{random_tensor({2, 4, 3}, seed),
                                     random_tensor({3, 12}, seed + 1),
                                     random_tensor({3, 12}, seed + 2)};
      if (with_bias) in.push_back(random_tensor({12}, seed + 3));
      seed += 4;
      expect_gradients_match(
          [o](const std::vector<V>& v) {
            return lstm(v[0], v[1], v[2], v.size() > 3 ? &v[3] : nullptr, o);
          },
          in);
    }
  }
}

TEST(LstmGrad, OtherActivationsMatchFiniteDifferences) {
  std::uint64_t seed = 50;
  for (const auto& [act, gate] :
       std::vector<std::pair<Pointwise, Pointwise>>{{Pointwise::relu, Pointwise::sigmoid},
                                                    {Pointwise::elu, Pointwise::tanh},
                                                    {Pointwise::linear, Pointwise::sigmoid}}) {
    const GatedRNNOpOptions o{
        .activation = act, .recurrent_activation = gate, .return_sequences = true};
    expect_gradients_match(
        [o](const std::vector<V>& v) { return lstm(v[0], v[1], v[2], &v[3], o); },
        {random_tensor({2, 3, 2}, seed), random_tensor({2, 8}, seed + 1),
         random_tensor({2, 8}, seed + 2), random_tensor({8}, seed + 3)});
    seed += 4;
  }
}

TEST(LstmGrad, StatesMatchFiniteDifferences) {
  std::uint64_t seed = 80;
  for (const Walk w : kWalks) {
    const GatedRNNOpOptions o{.return_sequences = w.sequences, .go_backwards = w.backwards};
    SCOPED_TRACE(describe(o));
    // The output, h and c weighted differently, so that each one's gradient counts.
    expect_gradients_match(
        [o](const std::vector<V>& v) {
          const LSTMResult<double> r = lstm_with_state(v[0], v[1], v[2], &v[3], o);
          return add(add(sum(r.output), mul(sum(mul(r.h, r.h)), 0.5)), mul(sum(r.c), 2.0));
        },
        {random_tensor({2, 3, 2}, seed), random_tensor({2, 12}, seed + 1),
         random_tensor({3, 12}, seed + 2), random_tensor({12}, seed + 3)});
    seed += 4;
  }
}

TEST(LstmState, OutputAndStatesAgreeWithTheSequence) {
  const V x(random_tensor({2, 5, 3}, 7)), w(random_tensor({3, 8}, 8)), u(random_tensor({2, 8}, 9)),
      b(random_tensor({8}, 10));
  for (const bool backwards : {false, true}) {
    const GatedRNNOpOptions seq{.return_sequences = true, .go_backwards = backwards};
    const V all = lstm(x, w, u, &b, seq);
    const LSTMResult<double> r = lstm_with_state(x, w, u, &b, seq);
    EXPECT_EQ(r.output.value().to_vector(), all.value().to_vector());
    const V last = lstm(x, w, u, &b, {.go_backwards = backwards});
    EXPECT_EQ(r.h.value().to_vector(), last.value().to_vector());
    EXPECT_EQ(slice(all, 1, 4, 5).value().to_vector(), last.value().to_vector());
    EXPECT_EQ(r.c.shape(), (Shape{2, 2}));
  }
}

TEST(GruGrad, MatchesFiniteDifferences) {
  std::uint64_t seed = 200;
  for (const Walk w : kWalks) {
    for (const bool after : {true, false}) {
      for (const bool with_bias : {true, false}) {
        const GatedRNNOpOptions o{
            .return_sequences = w.sequences, .go_backwards = w.backwards, .reset_after = after};
        SCOPED_TRACE(describe(o) + (with_bias ? "" : ", no bias"));
        std::vector<Tensor<double>> in{random_tensor({2, 4, 3}, seed),
                                       random_tensor({3, 9}, seed + 1),
                                       random_tensor({3, 9}, seed + 2)};
        if (with_bias) in.push_back(random_tensor(after ? Shape{2, 9} : Shape{9}, seed + 3));
        seed += 4;
        expect_gradients_match(
            [o](const std::vector<V>& v) {
              return gru(v[0], v[1], v[2], v.size() > 3 ? &v[3] : nullptr, o);
            },
            in);
      }
    }
  }
}

TEST(GruGrad, OtherActivationsMatchFiniteDifferences) {
  std::uint64_t seed = 300;
  for (const bool after : {true, false}) {
    const GatedRNNOpOptions o{.activation = Pointwise::relu,
                              .recurrent_activation = Pointwise::tanh,
                              .return_sequences = true,
                              .reset_after = after};
    expect_gradients_match(
        [o](const std::vector<V>& v) { return gru(v[0], v[1], v[2], &v[3], o); },
        {random_tensor({2, 3, 2}, seed), random_tensor({2, 6}, seed + 1),
         random_tensor({2, 6}, seed + 2), random_tensor(after ? Shape{2, 6} : Shape{6}, seed + 3)});
    seed += 4;
  }
}

// One unit, one feature, one step from h_0 = 0, written out by hand.
TEST(GruValues, OneStepByHand) {
  const V x(Tensor<double>({1, 1, 1}, {0.5}));
  const V w(Tensor<double>({1, 3}, {0.3, -0.2, 0.7})), u(Tensor<double>({1, 3}, {0.1, 0.4, -0.6}));
  const V b2(Tensor<double>({2, 3}, {0.05, 0.1, -0.1, 0.2, -0.3, 0.25}));
  const auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  // reset_after: q = b_rec (h_0 = 0); z = sig(0.15 + 0.05 + 0.2), r = sig(-0.1 + 0.1 - 0.3),
  // hh = tanh(0.35 - 0.1 + r 0.25), h = (1 - z) hh.
  {
    const double z = sig(0.15 + 0.05 + 0.2), r = sig(-0.1 + 0.1 - 0.3);
    const double hh = std::tanh(0.35 - 0.1 + r * 0.25);
    expect_tensor_near(gru(x, w, u, &b2).value(), {1, 1}, {(1 - z) * hh}, 1e-15);
  }
  const V b1(Tensor<double>({3}, {0.05, 0.1, -0.1}));
  {
    const double z = sig(0.15 + 0.05), hh = std::tanh(0.35 - 0.1);
    expect_tensor_near(gru(x, w, u, &b1, {.reset_after = false}).value(), {1, 1}, {(1 - z) * hh},
                       1e-15);
  }
}

TEST(RecurrentOpErrors, BadShapesNameTheProblem) {
  const V x(Tensor<double>::zeros({2, 5, 3})), w(Tensor<double>::zeros({3, 16})),
      u(Tensor<double>::zeros({4, 16})), b(Tensor<double>::zeros({16}));
  expect_error<ShapeError>(
      [&] {
        lstm(V(Tensor<double>::zeros({2, 3})), w, u, &b);
      },
      {"lstm", "input", "[2, 3]"});
  expect_error<ShapeError>(
      [&] {
        lstm(V(Tensor<double>::zeros({2, 0, 3})), w, u, &b);
      },
      {"lstm", "timestep", "[2, 0, 3]"});
  expect_error<ShapeError>(
      [&] {
        lstm(x, V(Tensor<double>::zeros({3, 15})), u, &b);
      },
      {"lstm: kernel [3, 15] does not match input [2, 5, 3]", "4 * units"});
  expect_error<ShapeError>(
      [&] {
        lstm(x, w, V(Tensor<double>::zeros({4, 4})), &b);
      },
      {"lstm: recurrent kernel [4, 4]", "[4, 16]"});
  expect_error<ShapeError>([&] { lstm(x, w, u, static_cast<const V*>(&w)); },
                           {"lstm: bias [3, 16]", "[16]"});
  const V gw(Tensor<double>::zeros({3, 12})), gu(Tensor<double>::zeros({4, 12}));
  expect_error<ShapeError>([&] { gru(x, gw, gu, &b); }, {"gru: bias [16]", "[2, 12]"});
  const V gb(Tensor<double>::zeros({2, 12}));
  expect_error<ShapeError>([&] { gru(x, gw, gu, &gb, {.reset_after = false}); },
                           {"gru: bias [2, 12]", "[12]"});
  expect_error<ShapeError>(
      [&] {
        gru(x, V(Tensor<double>::zeros({2, 12})), gu, &gb);
      },
      {"gru: kernel [2, 12] does not match input [2, 5, 3]"});
}

}  // namespace
}  // namespace lamina
