// BatchNormalization and LayerNormalization (layers/normalization.hpp) and the ops under them,
// batch_norm, batch_norm_inference and layer_norm (ops/normalization.hpp): one file for both, to
// keep to one test translation unit.
#include "lamina/layers/normalization.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <lamina/lamina.hpp>

#include "support/layer_check.hpp"
#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_close;
using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_layer_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using testing::set_weight;
using testing::weight;

template <class T>
class NormalizationTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(NormalizationTyped, Scalars);

// --- the ops: gradients against central differences -------------------------------------------

TEST(NormalizationOps, BatchNormGradientsMatchFiniteDifferences) {
  // [batch, features] after Dense and NHWC [batch, h, w, channels] after Conv2D; x spread away
  // from mean 0 and variance 1, gamma away from 1.
  for (const Shape& x : {Shape{5, 3}, Shape{2, 3, 3, 2}}) {
    SCOPED_TRACE(x.str());
    const index_t c = x[x.rank() - 1];
    const std::vector<Tensor<double>> inputs = {
        random_tensor(x, 1, -2.0, 3.0), random_tensor({c}, 2, 0.5, 1.5), random_tensor({c}, 3)};
    expect_gradients_match(
        [](const std::vector<Variable<double>>& v) {
          return batch_norm(v[0], v[1], v[2], {.epsilon = 1e-3}).y;
        },
        inputs);
    // Inference: the statistics are constants.
    const Tensor<double> mean = random_tensor({c}, 4), variance = random_tensor({c}, 5, 0.2, 2.0);
    expect_gradients_match(
        [&](const std::vector<Variable<double>>& v) {
          return batch_norm_inference(v[0], mean, variance, v[1], v[2], {.epsilon = 1e-2});
        },
        inputs);
  }
}

TEST(NormalizationOps, LayerNormGradientsMatchFiniteDifferences) {
  for (const Shape& x : {Shape{4, 5}, Shape{2, 3, 4}, Shape{3, 1}}) {
    SCOPED_TRACE(x.str());
    const index_t c = x[x.rank() - 1];
    expect_gradients_match(
        [](const std::vector<Variable<double>>& v) {
          return layer_norm(v[0], v[1], v[2], {.epsilon = 1e-3});
        },
        {random_tensor(x, 6, -2.0, 3.0), random_tensor({c}, 7, 0.5, 1.5), random_tensor({c}, 8)});
  }
}

TYPED_TEST(NormalizationTyped, OpsForwardOnHandValues) {
  using T = TypeParam;
  // Two features over three rows: means 2 and -1, biased variances 8/3 and 2/3.
  const Variable<T> x(Tensor<T>({3, 2}, {0, -1, 2, 0, 4, -2}));
  const Variable<T> gamma(Tensor<T>({2}, {2, 1})), beta(Tensor<T>({2}, {0.5, 0}));
  const double eps = 1e-3;
  const BatchNormResult<T> r = batch_norm(x, gamma, beta, {.epsilon = eps});
  expect_tensor_near(r.mean, {2}, {2, -1}, 1e-6);
  expect_tensor_near(r.variance, {2}, {8.0 / 3, 2.0 / 3}, 1e-6);
  const double s0 = 1 / std::sqrt(8.0 / 3 + eps), s1 = 1 / std::sqrt(2.0 / 3 + eps);
  expect_tensor_near(r.y.value(), {3, 2}, {-2 * 2 * s0 + 0.5, 0, 0.5, s1, 2 * 2 * s0 + 0.5, -s1},
                     1e-5);
  // Layer norm of the rows [0, -1], [2, 0], [4, -2]: each becomes [1, -1] / sqrt(1 + eps / v).
  const Variable<T> y = layer_norm(x, gamma, beta, {.epsilon = eps});
  const double a = 1 / std::sqrt(1 + eps / 0.25), b = 1 / std::sqrt(1 + eps),
               c = 1 / std::sqrt(1 + eps / 9);
  expect_tensor_near(y.value(), {3, 2}, {2 * a + 0.5, -a, 2 * b + 0.5, -b, 2 * c + 0.5, -c}, 1e-5);
}

/// A stand-in for a data-parallel step of two processes with identical shards: every sum over
/// the processes is twice this process's.
class TwoIdenticalShards final : public BatchNormStatistics<double> {
 public:
  explicit TwoIdenticalShards(index_t samples) : samples_(samples) {}
  index_t local_samples() const override { return samples_; }
  index_t global_samples() const override { return 2 * samples_; }
  void sum(double* values, std::size_t count) override {
    ++calls;
    for (std::size_t i = 0; i < count; ++i) values[i] *= 2;
  }
  int calls = 0;

 private:
  index_t samples_;
};

// Synchronised statistics over a global batch made of this batch twice are this batch's own,
// and the gradient (of this process's loss, as the strategy expects it) is the plain op's: two
// allreduces forward (sums, then squared deviations), one backward. Without an installed
// BatchNormStatistics, batch_norm uses no sync.
TEST(NormalizationOps, SynchronisedStatisticsOfIdenticalShardsAreTheShardsOwn) {
  const Tensor<double> xv = random_tensor({3, 2, 2, 4}, 7);
  const Tensor<double> gv = random_tensor({4}, 8), bv = random_tensor({4}, 9);
  const Tensor<double> upstream = random_tensor({3, 2, 2, 4}, 10);
  auto run = [&](TwoIdenticalShards* sync) {
    Variable<double> x(xv, true), gamma(gv, true), beta(bv, true);
    std::optional<BatchNormStatisticsScope<double>> scope;
    if (sync != nullptr) scope.emplace(*sync);
    BatchNormResult<double> r = batch_norm(x, gamma, beta);
    r.y.backward(upstream);
    return std::vector<Tensor<double>>{r.y.value(), r.mean,       r.variance,
                                       x.grad(),    gamma.grad(), beta.grad()};
  };
  TwoIdenticalShards sync(3);
  const auto synced = run(&sync);
  EXPECT_EQ(sync.calls, 3);
  const auto plain = run(nullptr);
  for (std::size_t i = 0; i < plain.size(); ++i)
    for (index_t k = 0; k < plain[i].size(); ++k)
      EXPECT_NEAR(synced[i].data()[k], plain[i].data()[k], 1e-12) << "output " << i << " at " << k;
  EXPECT_EQ(lamina::detail::batch_norm_statistics<double>(), nullptr);
}

TEST(NormalizationOps, BadArgumentsNameTheOpAndShapes) {
  const Variable<double> x(Tensor<double>({4, 3})), g(Tensor<double>::ones({3}));
  const Variable<double> b(Tensor<double>({3})), g4(Tensor<double>::ones({4}));
  expect_error<ShapeError>([&] { batch_norm(x, g4, b); },
                           {"batch_norm", "gamma [4]", "x [4, 3]", "expected [3]"});
  expect_error<ShapeError>([&] { layer_norm(x, g, g4); }, {"layer_norm", "beta [4]", "[3]"});
  expect_error<ShapeError>([&] { batch_norm(Variable<double>(Tensor<double>({3})), g, b); },
                           {"batch_norm", "[batch, ..., features]", "[3]"});
  expect_error<ShapeError>(
      [&] {
        batch_norm(Variable<double>(Tensor<double>({0, 3})), g, b);
      },
      {"batch_norm", "[0, 3]", "empty"});
  expect_error<ShapeError>(
      [&] { batch_norm_inference(x, Tensor<double>({2}), Tensor<double>({3}), g, b); },
      {"batch_norm_inference", "mean [2]", "expected [3]"});
  expect_error<ValueError>([&] { layer_norm(x, g, b, {.epsilon = 0}); },
                           {"layer_norm", "epsilon", "0"});
}

// --- the layers: weights, modes, moving statistics ---------------------------------------------

TYPED_TEST(NormalizationTyped, BatchNormalizationHasKerasWeightsAndCounts) {
  using T = TypeParam;
  BatchNormalization<T> bn;
  EXPECT_EQ(bn.type(), "BatchNormalization");
  EXPECT_EQ(bn.momentum(), 0.99);
  EXPECT_EQ(bn.epsilon(), 1e-3);
  bn.build({32});
  ASSERT_EQ(bn.weights().size(), 4u);
  const char* names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
  const double init[] = {1, 0, 0, 1};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(bn.weights()[i].name, names[i]);
    EXPECT_EQ(bn.weights()[i].trainable, i < 2) << names[i];
    EXPECT_EQ(bn.weights()[i].variable.requires_grad(), i < 2) << names[i];
    expect_tensor_near(bn.weights()[i].variable.value(), {32}, std::vector<double>(32, init[i]), 0);
  }
  // As Keras: 128 parameters on 32 channels, of which 64 do not train.
  EXPECT_EQ(bn.count_params(), 128);
  EXPECT_EQ(bn.count_trainable_params(), 64);
  EXPECT_EQ(bn.trainable_variables().size(), 2u);
  EXPECT_EQ(bn.output_shape(), (Shape{32}));

  BatchNormalization<T> bare({.center = false, .scale = false});
  bare.build({5, 5, 3});
  ASSERT_EQ(bare.weights().size(), 2u);
  EXPECT_EQ(bare.weights()[0].name, "moving_mean");
  EXPECT_EQ(bare.count_trainable_params(), 0);
  EXPECT_EQ(bare.count_params(), 6);

  LayerNormalization<T> ln;
  EXPECT_EQ(ln.type(), "LayerNormalization");
  ln.build({7, 10});
  ASSERT_EQ(ln.weights().size(), 2u);
  EXPECT_EQ(ln.weights()[0].name, "gamma");
  EXPECT_EQ(ln.weights()[1].name, "beta");
  EXPECT_EQ(ln.count_trainable_params(), 20);
  EXPECT_EQ(ln.gamma().shape(), (Shape{10}));
}

TYPED_TEST(NormalizationTyped, TrainingNormalisesWithTheBatchAndMovesTheStatistics) {
  using T = TypeParam;
  BatchNormalization<T> bn({.momentum = 0.9});
  bn.set_training(true);
  // One feature over [batch 2, 2, 1]: mean 2, biased variance 5 (unbiased would be 20/3).
  const Variable<T> x(Tensor<T>({2, 2, 1, 1}, {-1, 1, 3, 5}));
  const double s = 1 / std::sqrt(5 + 1e-3);
  expect_tensor_near(bn(x).value(), {2, 2, 1, 1}, {-3 * s, -s, s, 3 * s}, 1e-6);
  // moving = moving * 0.9 + batch * 0.1, from 0 and 1.
  expect_tensor_near(bn.moving_mean().value(), {1}, {0.2}, 1e-7);
  expect_tensor_near(bn.moving_variance().value(), {1}, {0.9 + 0.5}, 1e-6);
  bn(x);
  expect_tensor_near(bn.moving_mean().value(), {1}, {0.38}, 1e-6);
  expect_tensor_near(bn.moving_variance().value(), {1}, {1.4 * 0.9 + 0.5}, 1e-6);

  // Inference uses the moving statistics and leaves them alone.
  bn.set_training(false);
  const double si = 1 / std::sqrt(1.76 + 1e-3);
  expect_tensor_near(bn(x).value(), {2, 2, 1, 1},
                     {(-1 - 0.38) * si, (1 - 0.38) * si, (3 - 0.38) * si, (5 - 0.38) * si}, 1e-6);
  expect_tensor_near(bn.moving_mean().value(), {1}, {0.38}, 1e-6);

  // As Keras: a layer that does not train runs in inference mode even in training mode.
  bn.set_training(true);
  bn.set_trainable(false);
  expect_tensor_near(bn(x).value(), {2, 2, 1, 1},
                     {(-1 - 0.38) * si, (1 - 0.38) * si, (3 - 0.38) * si, (5 - 0.38) * si}, 1e-6);
  expect_tensor_near(bn.moving_variance().value(), {1}, {1.76}, 1e-6);
}

TYPED_TEST(NormalizationTyped, NonFiniteBatchLeavesTheMovingStatisticsAlone) {
  using T = TypeParam;
  BatchNormalization<T> bn;
  bn.set_training(true);
  const Variable<T> y =
      bn(Variable<T>(Tensor<T>({2, 2}, {1, std::numeric_limits<T>::quiet_NaN(), 3, 4})));
  EXPECT_TRUE(std::isnan(static_cast<double>(y.value().data()[1])));
  expect_tensor_near(bn.moving_mean().value(), {2}, {0, 0}, 0);
  expect_tensor_near(bn.moving_variance().value(), {2}, {1, 1}, 0);
}

TYPED_TEST(NormalizationTyped, CenterAndScaleOff) {
  using T = TypeParam;
  const Variable<T> x(Tensor<T>({2, 2}, {0, 1, 2, 5}));
  const double a = 1 / std::sqrt(1 + 1e-2), b = 2 / std::sqrt(4 + 1e-2);
  BatchNormalization<T> bn({.epsilon = 1e-2, .center = false, .scale = false});
  bn.set_training(true);
  expect_tensor_near(bn(x).value(), {2, 2}, {-a, -b, a, b}, 1e-6);
  // Rows [0, 1] and [2, 5]: deviations +-0.5 and +-1.5.
  LayerNormalization<T> ln({.epsilon = 1e-2, .center = false});
  ln.build({2});
  set_weight(ln, "gamma", Tensor<T>({2}, {3, 1}));
  const double c = 0.5 / std::sqrt(0.25 + 1e-2), d = 1.5 / std::sqrt(2.25 + 1e-2);
  expect_tensor_near(ln(x).value(), {2, 2}, {-3 * c, c, -3 * d, d}, 1e-6);
}

TEST(NormalizationGrad, LayersMatchFiniteDifferences) {
  std::uint64_t seed = 10;
  for (const Shape& x : {Shape{6, 4}, Shape{2, 3, 3, 2}}) {
    SCOPED_TRACE(x.str());
    const Shape per_sample(std::vector<index_t>(x.begin() + 1, x.end()));
    const index_t c = x[x.rank() - 1];
    for (bool training : {true, false}) {
      SCOPED_TRACE(training ? "training" : "inference");
      BatchNormalization<double> bn;
      bn.build(per_sample);
      set_weight(bn, "gamma", random_tensor({c}, seed++, 0.5, 1.5));
      set_weight(bn, "beta", random_tensor({c}, seed++));
      set_weight(bn, "moving_mean", random_tensor({c}, seed++));
      set_weight(bn, "moving_variance", random_tensor({c}, seed++, 0.5, 2.0));
      bn.set_training(training);
      const testing::LayerGradcheckResult r =
          testing::check_layer_gradients(bn, random_tensor(x, seed++, -2.0, 3.0));
      EXPECT_TRUE(r.ok) << r.message;
      EXPECT_EQ(r.checked, x.numel() + 2 * c);  // the input, gamma and beta
    }
    LayerNormalization<double> ln;
    ln.build(per_sample);
    set_weight(ln, "gamma", random_tensor({c}, seed++, 0.5, 1.5));
    set_weight(ln, "beta", random_tensor({c}, seed++));
    expect_layer_gradients_match(ln, random_tensor(x, seed++, -2.0, 3.0));
  }
}

// --- PyTorch float64 references (tests/layers/reference/gen_normalization_reference.py) -------

const testing::Reference& reference() {
  static const testing::Reference ref("layers/reference/normalization.txt");
  return ref;
}

/// Runs layer(x) (training or not) with the reference's upstream and checks y and the gradients.
template <class T>
void expect_call_matches(Layer<T>& layer, const std::string& name, const std::string& suffix,
                         double tol) {
  const testing::Reference& ref = reference();
  Variable<T> x(ref.tensor<T>(name + ".x" + suffix), true);
  for (const Weight<T>& w : layer.weights()) Variable<T>(w.variable).zero_grad();
  Variable<T> y = layer(x);
  expect_close(y.value(), ref.tensor(name + ".y" + suffix), tol, name + ".y" + suffix);
  y.backward(ref.tensor<T>(name + ".upstream" + suffix));
  expect_close(x.grad(), ref.tensor(name + ".dx" + suffix), tol, name + ".dx" + suffix);
  expect_close(weight(layer, "gamma").grad(), ref.tensor(name + ".dgamma" + suffix), tol,
               name + ".dgamma" + suffix);
  expect_close(weight(layer, "beta").grad(), ref.tensor(name + ".dbeta" + suffix), tol,
               name + ".dbeta" + suffix);
}

TYPED_TEST(NormalizationTyped, BatchNormalizationMatchesPyTorch) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, double> ? 1e-12 : 2e-5;
  const testing::Reference& ref = reference();
  for (const std::string name : {"bn_dense", "bn_conv"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    BatchNormalization<T> bn({.momentum = o.data()[0], .epsilon = o.data()[1]});
    const Tensor<T> x0 = ref.tensor<T>(name + ".x0");
    bn.build(Shape(std::vector<index_t>(x0.shape().begin() + 1, x0.shape().end())));
    set_weight(bn, "gamma", ref.tensor<T>(name + ".gamma"));
    set_weight(bn, "beta", ref.tensor<T>(name + ".beta"));

    bn.set_training(true);
    expect_call_matches(bn, name, "0", tol);
    // The first step's statistics are the op's, and the biased variance.
    const BatchNormResult<T> r =
        batch_norm(Variable<T>(x0), bn.gamma(), bn.beta(), {.epsilon = bn.epsilon()});
    expect_close(r.mean, ref.tensor(name + ".mean0"), tol, "mean0");
    expect_close(r.variance, ref.tensor(name + ".variance0"), tol, "variance0");
    // The later steps, then Keras's moving statistics after all of them.
    for (int k = 1; k < static_cast<int>(o.data()[2]); ++k)
      bn(Variable<T>(ref.tensor<T>(name + ".x" + std::to_string(k))));
    expect_close(bn.moving_mean().value(), ref.tensor(name + ".moving_mean"), tol, "moving_mean");
    expect_close(bn.moving_variance().value(), ref.tensor(name + ".moving_variance"), tol,
                 "moving_variance");

    bn.set_training(false);
    expect_call_matches(bn, name, "i", tol);
  }
}

TYPED_TEST(NormalizationTyped, LayerNormalizationMatchesPyTorch) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, double> ? 1e-12 : 2e-5;
  const testing::Reference& ref = reference();
  for (const std::string name : {"ln_dense", "ln_seq"}) {
    SCOPED_TRACE(name);
    LayerNormalization<T> ln({.epsilon = ref.tensor(name + ".options").data()[0]});
    const Tensor<T> x = ref.tensor<T>(name + ".x");
    ln.build(Shape(std::vector<index_t>(x.shape().begin() + 1, x.shape().end())));
    set_weight(ln, "gamma", ref.tensor<T>(name + ".gamma"));
    set_weight(ln, "beta", ref.tensor<T>(name + ".beta"));
    for (bool training : {true, false}) {  // the same in both modes
      ln.set_training(training);
      expect_call_matches(ln, name, "", tol);
    }
  }
}

// --- config, models, files ----------------------------------------------------------------------

TEST(NormalizationConfig, RoundTripsThroughTheRegistry) {
  BatchNormalization<float> bn({.momentum = 0.9,
                                .epsilon = 1e-2,
                                .center = false,
                                .beta_initializer = "ones",
                                .gamma_initializer = "random_normal",
                                .moving_mean_initializer = "ones",
                                .moving_variance_initializer = "zeros",
                                .input_shape = {4, 4, 3},
                                .name = "bn"});
  const Json c = bn.get_config();
  EXPECT_EQ(c["axis"], -1);
  EXPECT_EQ(c["momentum"], 0.9);
  EXPECT_EQ(c["epsilon"], 1e-2);
  EXPECT_EQ(c["center"], false);
  EXPECT_EQ(c["scale"], true);
  EXPECT_EQ(c["moving_variance_initializer"], "zeros");
  const std::shared_ptr<Layer<float>> back = layer_from_spec<float>(layer_spec<float>(bn));
  EXPECT_EQ(back->type(), "BatchNormalization");
  EXPECT_EQ(back->get_config(), c);
  EXPECT_EQ(BatchNormalization<float>::from_config(c)->get_config(), c);

  LayerNormalization<double> ln({.axis = 2, .epsilon = 1e-5, .scale = false, .name = "ln"});
  const Json lc = ln.get_config();
  EXPECT_EQ(lc["axis"], 2);
  EXPECT_EQ(lc["scale"], false);
  EXPECT_FALSE(lc.contains("momentum"));
  EXPECT_EQ(layer_from_spec<double>(layer_spec<double>(ln))->get_config(), lc);
  // Defaults fill in what a config leaves out; unknown options are refused.
  EXPECT_EQ(LayerNormalization<double>::from_config({{"name", "x"}})->get_config()["epsilon"],
            1e-3);
  expect_error<ValueError>(
      [] {
        BatchNormalization<float>::from_config({{"name", "x"}, {"synchronized", true}});
      },
      {"BatchNormalization", "synchronized"});
}

TEST(NormalizationModel, SummaryCountsTheMovingStatisticsAsNonTrainable) {
  Sequential<float> model;
  model.add(Conv2D(32, {3, 3}, {.input_shape = {6, 6, 1}}));
  model.add(BatchNormalization());
  model.add(Flatten());
  model.add(Dense(4));
  model.add(LayerNormalization());
  std::ostringstream out;
  model.summary(out);
  const std::string s = out.str();
  for (const char* row : {"batch_normalization (BatchNormalization)", "(None, 4, 4, 32)", "128",
                          "layer_normalization (LayerNormalization)", "Total params: 2,508",
                          "Trainable params: 2,444", "Non-trainable params: 64"})
    EXPECT_NE(s.find(row), std::string::npos) << row << "\n" << s;
}

TYPED_TEST(NormalizationTyped, ModelWithBatchNormalizationSavesAndLoadsBitForBit) {
  using T = TypeParam;
  Sequential<T> model({.seed = 1});
  model.add(Conv2D<T>(3, {3, 3}, {.input_shape = {5, 5, 2}}));
  model.add(BatchNormalization<T>({.momentum = 0.8}));
  model.add(Flatten<T>());
  model.add(Dense<T>(6));
  model.add(BatchNormalization<T>());
  model.add(LayerNormalization<T>());
  model.add(Dense<T>(1));
  model.compile("adam", "mse");
  Generator gen(2);
  const Tensor<T> x = Tensor<T>::uniform({16, 5, 5, 2}, T(-1), T(2), gen);
  const Tensor<T> y = Tensor<T>::uniform({16, 1}, T(0), T(1), gen);
  model.fit(x, y, {.epochs = 2, .batch_size = 8, .verbose = 0});
  // fit ran in training mode: the moving statistics moved from their initial values.
  const auto weights = model.named_weights();
  int moved = 0;
  for (const auto& [path, w] : weights) {
    if (path.find("/moving_") == std::string::npos) continue;
    const bool mean = path.find("mean") != std::string::npos;
    for (T v : w.value()) EXPECT_NE(v, T(mean ? 0 : 1)) << path;
    ++moved;
  }
  EXPECT_EQ(moved, 4);  // two layers' moving_mean and moving_variance

  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "normalization.safetensors").string();
  model.save(path);
  const std::shared_ptr<Model<T>> loaded = load_model<T>(path);
  EXPECT_EQ(loaded->spec(), model.spec());
  const auto loaded_weights = loaded->named_weights();
  ASSERT_EQ(loaded_weights.size(), weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    EXPECT_EQ(loaded_weights[i].first, weights[i].first);
    EXPECT_EQ(loaded_weights[i].second.value().to_vector(), weights[i].second.value().to_vector())
        << weights[i].first;
  }
  // Inference mode (predict) reads the moving statistics: the same outputs, bit for bit.
  EXPECT_EQ(loaded->predict(x).to_vector(), model.predict(x).to_vector());
}

// --- bad options and shapes ---------------------------------------------------------------------

TEST(NormalizationErrors, BadOptionsNameTheLayerAndTheValue) {
  expect_error<ValueError>([] { BatchNormalization<float>({.epsilon = 0, .name = "bn"}); },
                           {"BatchNormalization \"bn\"", "epsilon must be positive", "got 0"});
  expect_error<ValueError>([] { BatchNormalization<float>({.epsilon = -1e-3}); },
                           {"BatchNormalization \"batch_normalization\"", "epsilon", "-0.001"});
  expect_error<ValueError>([] { LayerNormalization<float>({.epsilon = std::nan("")}); },
                           {"LayerNormalization \"layer_normalization\"", "epsilon", "nan"});
  for (double m : {-0.1, 1.5}) {
    expect_error<ValueError>(
        [&] { BatchNormalization<float>({.momentum = m}); },
        {"BatchNormalization", "momentum must be in [0, 1]", m < 0 ? "-0.1" : "1.5"});
  }
  EXPECT_NO_THROW(BatchNormalization<float>({.momentum = 0}));  // both ends are allowed
  EXPECT_NO_THROW(BatchNormalization<float>({.momentum = 1}));
  for (int axis : {0, -2}) {
    expect_error<ValueError>([&] { BatchNormalization<float>({.axis = axis}); },
                             {"BatchNormalization", "only the last axis", std::to_string(axis)});
    expect_error<ValueError>([&] { LayerNormalization<float>({.axis = axis}); },
                             {"LayerNormalization", "only the last axis", std::to_string(axis)});
  }
  expect_error<ValueError>(
      [] { BatchNormalization<float>({.moving_variance_initializer = "onez"}); },
      {"BatchNormalization option moving_variance_initializer", "onez"});
  expect_error<ValueError>([] { LayerNormalization<float>({.gamma_initializer = "one"}); },
                           {"LayerNormalization option gamma_initializer", "one"});
}

TEST(NormalizationErrors, BadShapesNameTheLayerAndTheShapes) {
  // The axis given as a positive index must be the input's last one.
  BatchNormalization<float> positive({.axis = 3, .name = "bn"});
  positive.build({4, 4, 3});  // axis 3 of [batch, 4, 4, 3] is the last
  BatchNormalization<float> not_last({.axis = 1, .name = "bn"});
  expect_error<ValueError>(
      [&] {
        not_last.build({4, 4, 3});
      },
      {"BatchNormalization \"bn\"", "axis 1", "[*, 4, 4, 3]", "-1 or 3"});
  EXPECT_FALSE(not_last.built());
  EXPECT_TRUE(not_last.weights().empty());

  // A rank-1 input [batch] has no feature axis.
  BatchNormalization<float> bn({.name = "bn"});
  expect_error<ShapeError>([&] { bn(Variable<float>(Tensor<float>({8}))); },
                           {"BatchNormalization \"bn\"", "rank >= 2", "[*]"});
  LayerNormalization<float> ln({.name = "ln"});
  expect_error<ShapeError>([&] { ln(Variable<float>(Tensor<float>({8}))); },
                           {"LayerNormalization \"ln\"", "rank >= 2"});

  // The channel count may not change once built.
  bn(Variable<float>(Tensor<float>({2, 5, 5, 4})));
  expect_error<ShapeError>(
      [&] {
        bn(Variable<float>(Tensor<float>({2, 5, 5, 3})));
      },
      {"BatchNormalization \"bn\"", "[*, 5, 5, 4]", "[2, 5, 5, 3]"});
  ln(Variable<float>(Tensor<float>({2, 6})));
  expect_error<ShapeError>(
      [&] {
        ln(Variable<float>(Tensor<float>({2, 7})));
      },
      {"LayerNormalization \"ln\"", "[*, 6]", "[2, 7]"});
}

}  // namespace
}  // namespace lamina
