// The gated recurrent ops (lstm.hpp, gru.hpp, recurrent.hpp): the one-rule backward against
// central finite differences for every option (with and without a recurrent dropout mask), the
// sequence walk against one op per step, and errors. PyTorch parity is in
// tests/layers/recurrent_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "lamina/ops/gru.hpp"
#include "lamina/ops/lstm.hpp"
#include "support/op_check.hpp"
#include "support/reference.hpp"

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

/// A recurrent dropout mask [batch, units] as the layers draw it: about `rate` of the entries 0,
/// the others 1 / (1 - rate); row 0 keeps at least one zero and one kept unit.
Tensor<double> dropout_mask(index_t batch, index_t units, double rate, std::uint64_t seed) {
  Generator gen(seed);
  Tensor<double> m = Tensor<double>::empty({batch, units});
  for (double& v : m) v = gen.uniform() < rate ? 0.0 : 1.0 / (1.0 - rate);
  m.data()[0] = 0.0;
  m.data()[1] = 1.0 / (1.0 - rate);
  return m;
}

TEST(LstmGrad, WithARecurrentMaskMatchesFiniteDifferences) {
  std::uint64_t seed = 400;
  for (const Walk w : kWalks) {
    const GatedRNNOpOptions o{.return_sequences = w.sequences, .go_backwards = w.backwards};
    SCOPED_TRACE(describe(o));
    const Tensor<double> mask = dropout_mask(2, 3, 0.4, seed);
    expect_gradients_match(
        [o, mask](const std::vector<V>& v) { return lstm(v[0], v[1], v[2], &v[3], o, &mask); },
        {random_tensor({2, 4, 3}, seed), random_tensor({3, 12}, seed + 1),
         random_tensor({3, 12}, seed + 2), random_tensor({12}, seed + 3)});
    // The states too (lstm_with_state passes the mask on).
    expect_gradients_match(
        [o, mask](const std::vector<V>& v) {
          const LSTMResult<double> r = lstm_with_state(v[0], v[1], v[2], &v[3], o, &mask);
          return add(sum(r.output), mul(sum(r.c), 2.0));
        },
        {random_tensor({2, 3, 2}, seed + 4), random_tensor({2, 12}, seed + 5),
         random_tensor({3, 12}, seed + 6), random_tensor({12}, seed + 7)});
    seed += 8;
  }
}

TEST(GruGrad, WithARecurrentMaskMatchesFiniteDifferences) {
  std::uint64_t seed = 500;
  for (const Walk w : kWalks) {
    for (const bool after : {true, false}) {
      for (const bool with_bias : {true, false}) {
        const GatedRNNOpOptions o{
            .return_sequences = w.sequences, .go_backwards = w.backwards, .reset_after = after};
        SCOPED_TRACE(describe(o) + (with_bias ? "" : ", no bias"));
        const Tensor<double> mask = dropout_mask(2, 3, 0.4, seed);
        std::vector<Tensor<double>> in{random_tensor({2, 4, 3}, seed),
                                       random_tensor({3, 9}, seed + 1),
                                       random_tensor({3, 9}, seed + 2)};
        if (with_bias) in.push_back(random_tensor(after ? Shape{2, 9} : Shape{9}, seed + 3));
        seed += 4;
        expect_gradients_match(
            [o, mask](const std::vector<V>& v) {
              return gru(v[0], v[1], v[2], v.size() > 3 ? &v[3] : nullptr, o, &mask);
            },
            in);
      }
    }
  }
}

// PyTorch float64, the recurrences written out with the mask
// (tests/ops/reference/gen_recurrent_dropout_reference.py): forward and every gradient.
TEST(RecurrentMaskReference, MatchesPyTorch) {
  const testing::Reference ref("ops/reference/recurrent_dropout.txt");
  const std::vector<std::string> names{"x", "kernel", "recurrent_kernel", "bias"};
  for (const std::string name :
       {"lstm_last", "lstm_sequences_backwards", "gru_last", "gru_sequences_backwards",
        "gru_reset_before_sequences", "gru_reset_before_last_backwards"}) {
    SCOPED_TRACE(name);
    const Tensor<double> opt = ref.tensor(name + ".options"), mask = ref.tensor(name + ".mask");
    const GatedRNNOpOptions o{.return_sequences = opt.data()[1] != 0,
                              .go_backwards = opt.data()[2] != 0,
                              .reset_after = opt.data()[3] != 0};
    std::vector<V> in;
    for (const std::string& n : names) in.emplace_back(ref.tensor(name + "." + n), true);
    V out = opt.data()[0] != 0 ? gru(in[0], in[1], in[2], &in[3], o, &mask)
                               : lstm(in[0], in[1], in[2], &in[3], o, &mask);
    testing::expect_matches_reference(out.value(), ref.tensor(name + ".out"), name + ".out", 1e-12);
    out.backward(ref.tensor(name + ".upstream"));
    for (std::size_t i = 0; i < names.size(); ++i)
      testing::expect_matches_reference(in[i].grad(), ref.tensor(name + ".grad_" + names[i]),
                                        name + ".grad_" + names[i], 1e-12);
  }
}

TEST(RecurrentMask, OnesChangeNothingAndZerosCutTheRecurrence) {
  const V x(random_tensor({2, 5, 3}, 31)), lw(random_tensor({3, 8}, 32)),
      lu(random_tensor({2, 8}, 33)), lb(random_tensor({8}, 34)), gw(random_tensor({3, 6}, 35)),
      gu(random_tensor({2, 6}, 36)), gb(random_tensor({2, 6}, 37));
  const Tensor<double> ones = Tensor<double>::full({2, 2}, 1.0),
                       zeros = Tensor<double>::zeros({2, 2});
  for (const bool after : {true, false}) {
    const GatedRNNOpOptions o{.return_sequences = true, .reset_after = after};
    const V& b = after ? gb : V(random_tensor({6}, 38));
    EXPECT_EQ(gru(x, gw, gu, &b, o, &ones).value().to_vector(),
              gru(x, gw, gu, &b, o).value().to_vector());
    // A zero mask leaves z h_{t-1} as the only path through time: the same as a zero recurrent
    // kernel (whose products vanish too).
    const V u0(Tensor<double>::zeros({2, 6}));
    EXPECT_EQ(gru(x, gw, gu, &b, o, &zeros).value().to_vector(),
              gru(x, gw, u0, &b, o).value().to_vector());
  }
  const GatedRNNOpOptions o{.return_sequences = true};
  EXPECT_EQ(lstm(x, lw, lu, &lb, o, &ones).value().to_vector(),
            lstm(x, lw, lu, &lb, o).value().to_vector());
  const V u0(Tensor<double>::zeros({2, 8}));
  EXPECT_EQ(lstm(x, lw, lu, &lb, o, &zeros).value().to_vector(),
            lstm(x, lw, u0, &lb, o).value().to_vector());
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
  const Tensor<double> mask = Tensor<double>::full({2, 3}, 1.0);
  expect_error<ShapeError>([&] { lstm(x, w, u, &b, {}, &mask); },
                           {"lstm: recurrent dropout mask [2, 3]", "[batch, units] = [2, 4]"});
  expect_error<ShapeError>([&] { gru(x, gw, gu, &gb, {}, &mask); },
                           {"gru: recurrent dropout mask [2, 3]", "[batch, units] = [2, 4]"});
}

}  // namespace
}  // namespace lamina
