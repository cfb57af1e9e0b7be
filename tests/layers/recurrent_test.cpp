// LSTM, GRU and Bidirectional: PyTorch parity (tests/layers/reference/gen_recurrent_reference.py),
// gradient checks, Keras's weights, defaults and parameter counts, dropout, return_state,
// save/load round trips and errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "lamina/layers/bidirectional.hpp"
#include "lamina/layers/gru.hpp"
#include "lamina/layers/lstm.hpp"
#include "support/layer_check.hpp"
#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_close;
using testing::expect_error;
using testing::expect_layer_gradients_match;
using testing::expect_layer_matches_reference;
using testing::random_tensor;
using testing::set_weight;

const char* const kReference = "layers/reference/recurrent.txt";

template <class T>
class RecurrentTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(RecurrentTyped, Scalars);

/// The options a reference case stores: [units, return_sequences, go_backwards, use_bias(,
/// reset_after)].
LSTMOptions lstm_options(const Tensor<double>& o) {
  return {.use_bias = o.data()[3] != 0,
          .return_sequences = o.data()[1] != 0,
          .go_backwards = o.data()[2] != 0};
}
GRUOptions gru_options(const Tensor<double>& o) {
  return {.use_bias = o.data()[3] != 0,
          .reset_after = o.data()[4] != 0,
          .return_sequences = o.data()[1] != 0,
          .go_backwards = o.data()[2] != 0};
}

TEST(LSTMReference, MatchesPyTorch) {
  const testing::Reference ref(kReference);
  for (const std::string name : {"lstm_a", "lstm_b", "lstm_c", "lstm_d"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    LSTM<double> layer(static_cast<index_t>(o.data()[0]), lstm_options(o));
    expect_layer_matches_reference(layer, ref, name);
  }
}

TEST(LSTMReference, StatesMatchPyTorch) {
  const testing::Reference ref(kReference);
  for (const std::string name : {"lstm_state_a", "lstm_state_b"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    LSTMOptions options = lstm_options(o);
    options.return_state = true;
    LSTM<double> layer(static_cast<index_t>(o.data()[0]), options);
    Variable<double> x(ref.tensor(name + ".x"), true);
    layer.build({x.dim(1), x.dim(2)});
    for (const char* w : {"kernel", "recurrent_kernel", "bias"})
      set_weight(layer, w, ref.tensor(name + "." + w));
    const RecurrentOutputs<double> r = layer.call_with_state(x);
    ASSERT_EQ(r.states.size(), 2u);
    expect_close(r.output.value(), ref.tensor(name + ".y"), 1e-12, "y");
    expect_close(r.states[0].value(), ref.tensor(name + ".h"), 1e-12, "h");
    expect_close(r.states[1].value(), ref.tensor(name + ".c"), 1e-12, "c");
    const Variable<double> loss =
        add(add(sum(mul(r.output, Variable<double>(ref.tensor(name + ".upstream_y")))),
                sum(mul(r.states[0], Variable<double>(ref.tensor(name + ".upstream_h"))))),
            sum(mul(r.states[1], Variable<double>(ref.tensor(name + ".upstream_c")))));
    Variable<double>(loss).backward();
    expect_close(x.grad(), ref.tensor(name + ".dx"), 1e-12, "dx");
    for (const Weight<double>& w : layer.weights())
      expect_close(w.variable.grad(), ref.tensor(name + ".d" + w.name), 1e-12, "d" + w.name);
  }
}

TEST(GRUReference, MatchesPyTorch) {
  const testing::Reference ref(kReference);
  for (const std::string name : {"gru_a", "gru_b", "gru_c", "gru_d", "gru_e", "gru_f", "gru_g"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    GRU<double> layer(static_cast<index_t>(o.data()[0]), gru_options(o));
    expect_layer_matches_reference(layer, ref, name);
  }
}

TEST(LSTMGrad, MatchesFiniteDifferences) {
  const std::vector<LSTMOptions> cases = {
      {},
      {.return_sequences = true},
      {.go_backwards = true},
      {.return_sequences = true, .go_backwards = true},
      {.use_bias = false, .return_sequences = true},
      {.activation = "relu", .recurrent_activation = "tanh", .return_sequences = true},
  };
  std::uint64_t seed = 40;
  for (const LSTMOptions& o : cases) {
    LSTM<double> layer(3, o);
    layer.set_seed(seed);
    layer.build({4, 2});
    if (o.use_bias) set_weight(layer, "bias", random_tensor({12}, seed + 100, -0.5, 0.5));
    expect_layer_gradients_match(layer, random_tensor({2, 4, 2}, seed++));
  }
}

TEST(GRUGrad, MatchesFiniteDifferences) {
  const std::vector<GRUOptions> cases = {
      {},
      {.reset_after = false},
      {.return_sequences = true, .go_backwards = true},
      {.reset_after = false, .return_sequences = true, .go_backwards = true},
      {.use_bias = false, .reset_after = false, .return_sequences = true},
      {.activation = "elu", .return_sequences = true},
  };
  std::uint64_t seed = 60;
  for (const GRUOptions& o : cases) {
    GRU<double> layer(3, o);
    layer.set_seed(seed);
    layer.build({4, 2});
    if (o.use_bias)
      set_weight(layer, "bias",
                 random_tensor(o.reset_after ? Shape{2, 9} : Shape{9}, seed + 100, -0.5, 0.5));
    expect_layer_gradients_match(layer, random_tensor({2, 4, 2}, seed++));
  }
}

TYPED_TEST(RecurrentTyped, KerasWeightsShapesAndDefaults) {
  using T = TypeParam;
  LSTM<T> lstm(8);
  EXPECT_EQ(lstm(Variable<T>(Tensor<T>::ones({4, 10, 3}))).shape(), (Shape{4, 8}));
  ASSERT_EQ(lstm.weights().size(), 3u);
  EXPECT_EQ(lstm.weights()[0].name, "kernel");
  EXPECT_EQ(lstm.weights()[1].name, "recurrent_kernel");
  EXPECT_EQ(lstm.weights()[2].name, "bias");
  EXPECT_EQ(lstm.kernel().shape(), (Shape{3, 32}));
  EXPECT_EQ(lstm.recurrent_kernel().shape(), (Shape{8, 32}));
  EXPECT_EQ(lstm.bias().shape(), (Shape{32}));
  // unit_forget_bias: [0 (i), 1 (f), 0 (c), 0 (o)].
  for (index_t j = 0; j < 32; ++j) EXPECT_EQ(lstm.bias().value().data()[j], T(j / 8 == 1));
  LSTM<T> plain(2, {.unit_forget_bias = false});
  plain.build({3, 1});
  for (T b : plain.bias().value()) EXPECT_EQ(b, T(0));

  GRU<T> gru(8);
  EXPECT_EQ(gru(Variable<T>(Tensor<T>::ones({4, 10, 3}))).shape(), (Shape{4, 8}));
  EXPECT_EQ(gru.kernel().shape(), (Shape{3, 24}));
  EXPECT_EQ(gru.recurrent_kernel().shape(), (Shape{8, 24}));
  EXPECT_EQ(gru.bias().shape(), (Shape{2, 24}));
  GRU<T> before(8, {.reset_after = false, .return_sequences = true});
  EXPECT_EQ(before(Variable<T>(Tensor<T>::ones({4, 10, 3}))).shape(), (Shape{4, 10, 8}));
  EXPECT_EQ(before.output_shape(), (Shape{10, 8}));
  EXPECT_EQ(before.bias().shape(), (Shape{24}));
  // The recurrent kernel [units, 3 units] is orthogonal as a whole (Keras): its rows are.
  const Tensor<T>& u = gru.recurrent_kernel().value();
  for (index_t i = 0; i < 8; ++i)
    for (index_t j = 0; j < 8; ++j) {
      double dot = 0;
      for (index_t k = 0; k < 24; ++k) dot += double(u.at({i, k})) * double(u.at({j, k}));
      EXPECT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-5);
    }
  GRU<T> nobias(2, {.use_bias = false});
  nobias.build({3, 1});
  EXPECT_EQ(nobias.weights().size(), 2u);
}

TYPED_TEST(RecurrentTyped, ParameterCountsEqualKeras) {
  using T = TypeParam;
  Sequential<T> lstm;
  lstm.add(LSTM<T>(128, {.input_shape = {28, 28}}));
  lstm.build({28, 28});
  std::ostringstream lstm_summary;
  lstm.summary(lstm_summary);
  EXPECT_NE(lstm_summary.str().find("80,384"), std::string::npos) << lstm_summary.str();
  Sequential<T> gru;
  gru.add(GRU<T>(128, {.input_shape = {28, 28}}));
  gru.build({28, 28});
  std::ostringstream gru_summary;
  gru.summary(gru_summary);
  EXPECT_NE(gru_summary.str().find("60,672"), std::string::npos) << gru_summary.str();
  GRU<T> before(128, {.reset_after = false});
  before.build({28, 28});
  EXPECT_EQ(before.count_params(), 60288);  // Keras's GRU(128, reset_after=False)
}

TYPED_TEST(RecurrentTyped, FloatFollowsDouble) {
  using T = TypeParam;
  const Tensor<double> x = random_tensor({3, 6, 4}, 5);
  LSTM<T> lt(5, {.return_sequences = true});
  LSTM<double> ld(5, {.return_sequences = true});
  GRU<T> gt(5, {.go_backwards = true});
  GRU<double> gd(5, {.go_backwards = true});
  lt.set_seed(1);
  ld.set_seed(1);
  gt.set_seed(2);
  gd.set_seed(2);
  const double tol = std::is_same_v<T, float> ? 1e-5 : 0.0;
  expect_close(lt(Variable<T>(x.cast<T>())).value(), ld(Variable<double>(x)).value(), tol, "lstm");
  expect_close(gt(Variable<T>(x.cast<T>())).value(), gd(Variable<double>(x)).value(), tol, "gru");
}

// Keras's input dropout: one mask per sequence, the same at every step; none in inference.
TEST(RecurrentDropout, OneMaskPerSequenceInTrainingOnly) {
  const Tensor<double> xt = random_tensor({4, 5, 6}, 3);
  for (const bool gru : {false, true}) {
    SCOPED_TRACE(gru ? "GRU" : "LSTM");
    std::unique_ptr<Layer<double>> layer, plain;
    if (gru) {
      layer = std::make_unique<GRU<double>>(3, GRUOptions{.dropout = 0.5});
      plain = std::make_unique<GRU<double>>(3);
    } else {
      layer = std::make_unique<LSTM<double>>(3, LSTMOptions{.dropout = 0.5});
      plain = std::make_unique<LSTM<double>>(3);
    }
    layer->set_seed(9);
    plain->set_seed(9);
    const Variable<double> x(xt);
    EXPECT_EQ((*layer)(x).value().to_vector(), (*plain)(x).value().to_vector());
    layer->set_training(true);
    Variable<double> xg(xt, true);
    Variable<double> y = (*layer)(xg);
    EXPECT_NE(y.value().to_vector(), (*plain)(x).value().to_vector());
    y.backward(Tensor<double>::ones(y.shape()));
    const Tensor<double> g = xg.grad();
    int dropped = 0;
    for (index_t n = 0; n < 4; ++n)
      for (index_t f = 0; f < 6; ++f) {
        const bool zero = g.at({n, 0, f}) == 0.0;
        dropped += zero;
        for (index_t t = 1; t < 5; ++t) EXPECT_EQ(g.at({n, t, f}) == 0.0, zero) << n << " " << f;
      }
    EXPECT_GT(dropped, 0);
    EXPECT_LT(dropped, 24);
  }
}

/// LSTM or GRU with `rate` recurrent dropout, return_sequences and seed 9.
template <class Layer, class Options>
std::unique_ptr<Layer> with_recurrent_dropout(index_t units, double rate) {
  Options o;
  o.recurrent_dropout = rate;
  o.return_sequences = true;
  auto layer = std::make_unique<Layer>(units, o);
  layer->set_seed(9);
  return layer;
}

// Keras's recurrent dropout: in training one mask [batch, units] per sequence on h_{t-1} where it
// meets the recurrent kernel; none in inference; rate 0 is the layer without it. (The op's
// values and gradients with a mask: tests/ops/recurrent_test.cpp.)
TEST(RecurrentDropout, RecurrentMaskPerSequenceInTrainingOnly) {
  const Tensor<double> xt = random_tensor({4, 5, 6}, 3), x1 = random_tensor({1, 6, 6}, 4);
  for (const bool gru : {false, true}) {
    SCOPED_TRACE(gru ? "GRU" : "LSTM");
    const auto make = [gru](index_t units, double rate) -> std::unique_ptr<RecurrentLayer<double>> {
      if (gru) return with_recurrent_dropout<GRU<double>, GRUOptions>(units, rate);
      return with_recurrent_dropout<LSTM<double>, LSTMOptions>(units, rate);
    };
    std::unique_ptr<RecurrentLayer<double>> layer = make(3, 0.5), zero = make(3, 0.0),
                                            plain = make(3, 0.0);
    const Variable<double> x(xt);
    const std::vector<double> expected = (*plain)(x).value().to_vector();
    EXPECT_EQ((*layer)(x).value().to_vector(), expected);  // inference
    zero->set_training(true);
    EXPECT_EQ((*zero)(x).value().to_vector(), expected);  // rate 0
    layer->set_training(true);
    const Tensor<double> y = (*layer)(x).value(), y0 = (*plain)(x).value();
    for (index_t n = 0; n < 4; ++n)
      for (index_t j = 0; j < 3; ++j) {
        // The first step has no h_{t-1}: unchanged.
        EXPECT_EQ(y.at({n, 0, j}), y0.at({n, 0, j}));
      }
    EXPECT_NE(y.to_vector(), expected);
    // One sample: row j of dU = sum_t m_j h_{t-1, j} dz_t is zero exactly when unit j is dropped,
    // for the whole sequence.
    std::unique_ptr<RecurrentLayer<double>> one = make(8, 0.5);
    one->set_training(true);
    Variable<double> y1 = (*one)(Variable<double>(x1));
    y1.backward(Tensor<double>::ones(y1.shape()));
    const Tensor<double> du = one->trainable_variables()[1].grad();  // recurrent_kernel
    int zero_rows = 0;
    for (index_t j = 0; j < 8; ++j) {
      bool all_zero = true;
      for (index_t c = 0; c < du.dim(1); ++c) all_zero = all_zero && du.at({j, c}) == 0.0;
      zero_rows += all_zero;
    }
    EXPECT_GT(zero_rows, 0);
    EXPECT_LT(zero_rows, 8);
  }
  LSTM<double> lstm(4, {.recurrent_dropout = 0.3});
  EXPECT_EQ(LSTM<double>::from_config(lstm.get_config())->options().recurrent_dropout, 0.3);
  GRU<double> gru(4, {.recurrent_dropout = 0.25});
  EXPECT_EQ(GRU<double>::from_config(gru.get_config())->options().recurrent_dropout, 0.25);
}

TEST(RecurrentState, CallWithStateNeedsTheOption) {
  LSTM<double> lstm(3);
  expect_error<ValueError>(
      [&] {
        lstm.call_with_state(Variable<double>(Tensor<double>::ones({1, 2, 2})));
      },
      {"LSTM \"lstm\"", "return_state"});
  GRU<double> gru(3, {.return_sequences = true, .return_state = true, .go_backwards = true});
  const RecurrentOutputs<double> r =
      gru.call_with_state(Variable<double>(random_tensor({2, 4, 3}, 1)));
  ASSERT_EQ(r.states.size(), 1u);
  EXPECT_EQ(r.output.shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(slice(r.output, 1, 3, 4).value().to_vector(), r.states[0].value().to_vector());
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

/// A trained model saved and loaded predicts the same bits, and has the same config.
template <class T>
void expect_round_trip(Sequential<T>& model, const Tensor<T>& x, const std::string& file) {
  Tensor<T> y({x.dim(0)});
  for (index_t i = 0; i < x.dim(0); ++i) y.data()[i] = T(i % 3);
  model.compile("adam", "sparse_categorical_crossentropy");
  model.fit(x, y, {.epochs = 1, .batch_size = 4, .verbose = 0});
  const std::string path = temp_path(file);
  model.save(path);
  const std::shared_ptr<Model<T>> loaded = load_model<T>(path);
  EXPECT_EQ(loaded->spec(), model.spec());
  EXPECT_EQ(loaded->predict(x).to_vector(), model.predict(x).to_vector());
}

TYPED_TEST(RecurrentTyped, SaveLoadRoundTripsBitForBit) {
  using T = TypeParam;
  Generator gen(4);
  const Tensor<T> x = Tensor<T>::uniform({8, 5, 3}, T(-1), T(1), gen);
  Sequential<T> model({.seed = 3});
  model.add(LSTM<T>(4, {.unit_forget_bias = false,
                        .dropout = 0.25,
                        .return_sequences = true,
                        .go_backwards = true,
                        .input_shape = {5, 3}}));
  model.add(GRU<T>(4, {.activation = "relu", .recurrent_dropout = 0.3, .return_sequences = true}));
  model.add(GRU<T>(3, {.reset_after = false, .return_state = true}));
  model.add(Dense<T>(3, {.activation = "softmax"}));
  expect_round_trip(model, x, "recurrent.safetensors");
}

const std::vector<std::string> kMergeModes{"concat", "sum", "mul", "ave"};

/// Bidirectional around the layer a reference case describes: [units, return_sequences,
/// merge_mode, is_gru].
std::unique_ptr<Bidirectional<double>> reference_bidirectional(const Tensor<double>& o) {
  const auto units = static_cast<index_t>(o.data()[0]);
  const bool seq = o.data()[1] != 0;
  const BidirectionalOptions b{.merge_mode = kMergeModes.at(static_cast<std::size_t>(o.data()[2]))};
  if (o.data()[3] != 0)
    return std::make_unique<Bidirectional<double>>(GRU<double>(units, {.return_sequences = seq}),
                                                   b);
  return std::make_unique<Bidirectional<double>>(LSTM<double>(units, {.return_sequences = seq}), b);
}

TEST(BidirectionalReference, MatchesPyTorch) {
  const testing::Reference ref(kReference);
  for (const std::string name : {"bi_a", "bi_b", "bi_c", "bi_d", "bi_e"}) {
    SCOPED_TRACE(name);
    auto layer = reference_bidirectional(ref.tensor(name + ".options"));
    expect_layer_matches_reference(*layer, ref, name);
  }
}

TEST(BidirectionalGrad, EveryMergeModeMatchesFiniteDifferences) {
  std::uint64_t seed = 70;
  for (const std::string& mode : kMergeModes) {
    for (const bool seq : {false, true}) {
      SCOPED_TRACE(mode + (seq ? ", sequences" : ", last"));
      Bidirectional<double> lstm(LSTM<double>(2, {.return_sequences = seq}), {.merge_mode = mode});
      lstm.set_seed(seed);
      expect_layer_gradients_match(lstm, random_tensor({2, 3, 2}, seed++));
      Bidirectional<double> gru(GRU<double>(2, {.reset_after = false, .return_sequences = seq}),
                                {.merge_mode = mode});
      gru.set_seed(seed);
      expect_layer_gradients_match(gru, random_tensor({2, 3, 2}, seed++));
    }
  }
}

TYPED_TEST(RecurrentTyped, BidirectionalWeightsShapesAndParameterCount) {
  using T = TypeParam;
  Sequential<T> model;
  model.add(Bidirectional(LSTM<T>(64), {.input_shape = {28, 28}}));
  model.build({28, 28});
  std::ostringstream summary;
  model.summary(summary);
  EXPECT_NE(summary.str().find("47,616"), std::string::npos) << summary.str();
  EXPECT_NE(summary.str().find("(None, 128)"), std::string::npos) << summary.str();
  const Layer<T>& bi = *model.layers()[0];
  EXPECT_EQ(bi.name(), "bidirectional");
  std::vector<std::string> names;
  for (const Weight<T>& w : bi.weights()) names.push_back(w.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"forward_lstm/kernel", "forward_lstm/recurrent_kernel",
                                      "forward_lstm/bias", "backward_lstm/kernel",
                                      "backward_lstm/recurrent_kernel", "backward_lstm/bias"}));
  // Two layers with their own weights; the backward one walks backwards.
  const auto& b = dynamic_cast<const Bidirectional<T>&>(bi);
  EXPECT_FALSE(b.forward_layer().go_backwards());
  EXPECT_TRUE(b.backward_layer().go_backwards());
  EXPECT_NE(bi.weights()[0].variable.value().to_vector(),
            bi.weights()[3].variable.value().to_vector());

  Bidirectional<T> seq(GRU<T>(5, {.return_sequences = true, .name = "enc"}), {.merge_mode = "sum"});
  EXPECT_EQ(seq(Variable<T>(Tensor<T>::ones({2, 7, 3}))).shape(), (Shape{2, 7, 5}));
  EXPECT_EQ(seq.weights()[0].name, "forward_enc/kernel");
  EXPECT_EQ(seq.weights()[3].name, "backward_enc/kernel");
}

// The backward direction on the sequence equals the forward direction's layer run on the
// reversed sequence, and its outputs are put back into input order.
TEST(BidirectionalValues, BackwardIsTheLayerOnTheReversedSequence) {
  const Tensor<double> xt = random_tensor({2, 5, 3}, 21);
  Bidirectional<double> bi(LSTM<double>(4, {.return_sequences = true}));
  const Variable<double> y = bi(Variable<double>(xt));
  LSTM<double> plain(4, {.return_sequences = true});
  plain.build({5, 3});
  plain.set_weights({bi.weights()[3].variable.value(), bi.weights()[4].variable.value(),
                     bi.weights()[5].variable.value()});
  const Variable<double> reversed = flip(plain(flip(Variable<double>(xt), 1)), 1);
  expect_close(slice(y, 2, 4, 8).value(), reversed.value(), 0.0, "backward half");
}

TYPED_TEST(RecurrentTyped, BidirectionalSaveLoadRoundTripsBitForBit) {
  using T = TypeParam;
  Generator gen(6);
  const Tensor<T> x = Tensor<T>::uniform({8, 5, 3}, T(-1), T(1), gen);
  Sequential<T> model({.seed = 4});
  model.add(Bidirectional(GRU<T>(3, {.dropout = 0.2, .return_sequences = true}),
                          {.merge_mode = "ave", .input_shape = {5, 3}}));
  model.add(Bidirectional(LSTM<T>(3, {.name = "summary"}), {.merge_mode = "mul"}));
  model.add(Dense<T>(3, {.activation = "softmax"}));
  expect_round_trip(model, x, "bidirectional.safetensors");
  const Json config = model.layers()[1]->get_config();
  EXPECT_EQ(config["merge_mode"], "mul");
  EXPECT_EQ(config["layer"]["class_name"], "LSTM");
  EXPECT_EQ(config["layer"]["config"]["name"], "summary");
}

TEST(BidirectionalErrors, BadLayersAndOptions) {
  expect_error<ValueError>([] { Bidirectional<double>(Dense<double>(3)); },
                           {"Bidirectional", "recurrent layer", "Dense \"dense\""});
  expect_error<ValueError>([] { Bidirectional<double>(SimpleRNN<double>(3)); },
                           {"Bidirectional", "recurrent layer", "SimpleRNN"});
  expect_error<ValueError>([] { Bidirectional<double>(LSTM<double>(3), {.merge_mode = "max"}); },
                           {"Bidirectional: unknown merge_mode 'max'", "concat, sum, mul, ave"});
  expect_error<ValueError>([] { Bidirectional<double>(GRU<double>(3, {.return_state = true})); },
                           {"Bidirectional", "return_state", "not support"});
  expect_error<ValueError>([] { Bidirectional<double>(std::shared_ptr<Layer<double>>()); },
                           {"Bidirectional", "null"});
  Bidirectional<double> bi(LSTM<double>(3));
  expect_error<ShapeError>(
      [&] {
        bi(Variable<double>(Tensor<double>({2, 4})));
      },
      {"Bidirectional \"bidirectional\"", "[batch, timesteps, features]"});
}

TEST(RecurrentErrors, BadOptions) {
  expect_error<ValueError>([] { LSTM<double>(0); }, {"LSTM", "units", "0"});
  expect_error<ValueError>([] { GRU<double>(-3); }, {"GRU", "units", "-3"});
  expect_error<ValueError>([] { LSTM<double>(4, {.activation = "tanhh"}); },
                           {"LSTM option activation: unknown activation 'tanhh'", "tanh"});
  expect_error<ValueError>([] { GRU<double>(4, {.recurrent_activation = "softmax"}); },
                           {"GRU option recurrent_activation", "'softmax'", "sigmoid"});
  expect_error<ValueError>([] { LSTM<double>(4, {.kernel_initializer = "glorot"}); },
                           {"LSTM option kernel_initializer: unknown initializer 'glorot'"});
  expect_error<ValueError>([] { GRU<double>(4, {.dropout = 1.0}); }, {"GRU", "dropout", "1"});
  expect_error<ValueError>([] { LSTM<double>(4, {.recurrent_dropout = -0.1}); },
                           {"LSTM: recurrent_dropout must be in [0, 1), got -0.1"});
  expect_error<ValueError>([] { LSTM<double>(4, {.recurrent_dropout = 1.0}); },
                           {"LSTM: recurrent_dropout must be in [0, 1), got 1"});
  expect_error<ValueError>([] { GRU<double>(4, {.recurrent_dropout = 1.5}); },
                           {"GRU: recurrent_dropout must be in [0, 1), got 1.5"});
}

TEST(RecurrentErrors, WrongInputShape) {
  LSTM<double> lstm(4);
  expect_error<ShapeError>(
      [&] {
        lstm(Variable<double>(Tensor<double>({4, 8})));
      },
      {"LSTM \"lstm\"", "[batch, timesteps, features]", "[8]"});
  GRU<double> gru(4, {.name = "g"});
  gru.build({10, 8});
  expect_error<ShapeError>(
      [&] {
        gru(Variable<double>(Tensor<double>({4, 12, 8})));
      },
      {"GRU \"g\": expected input [*, 10, 8], got [4, 12, 8]"});
  GRU<double> empty(4);
  expect_error<ShapeError>(
      [&] {
        empty(Variable<double>(Tensor<double>({4, 0, 8})));
      },
      {"GRU \"gru\"", "timesteps > 0", "[0, 8]"});
}

}  // namespace
}  // namespace lamina
