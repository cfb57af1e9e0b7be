#include "lamina/losses/losses.hpp"

#include "lamina/layers/dense.hpp"
#include "lamina/models/sequential.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/loss_check.hpp"
#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::loss_tolerance;
using testing::loss_value;
using testing::random_tensor;
using V = Variable<double>;

template <class T>
class LossesTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(LossesTyped, Scalars);

TYPED_TEST(LossesTyped, MeanSquaredError) {
  using T = TypeParam;
  const MeanSquaredError<T> mse;
  // (0 + 4 + 9 + 0) / 4
  EXPECT_NEAR(loss_value<T>(mse, Tensor<T>({2, 2}, {1, 2, 3, 4}), Tensor<T>({2, 2}, {1, 0, 0, 4})),
              3.25, loss_tolerance<T>());
  // Predictions [batch, 1] against targets [batch] (and the other way round), as Keras.
  EXPECT_NEAR(loss_value<T>(mse, Tensor<T>({3, 1}, {1, 2, 3}), Tensor<T>({3}, {0, 2, 5})), 5.0 / 3,
              loss_tolerance<T>());
  EXPECT_NEAR(loss_value<T>(mse, Tensor<T>({3}, {1, 2, 3}), Tensor<T>({3, 1}, {0, 2, 5})), 5.0 / 3,
              loss_tolerance<T>());
  EXPECT_EQ(mse.name(), "mean_squared_error");
  EXPECT_EQ(mse.fusable_activation(), "");
}

TYPED_TEST(LossesTyped, BinaryCrossentropy) {
  using T = TypeParam;
  const BinaryCrossentropy<T> bce;
  // -(log 0.5 + log 0.2) / 2, then the batch mean with a second row of -(log 0.9 + log 0.9) / 2.
  const double row0 = -(std::log(0.5) + std::log(0.2)) / 2, row1 = -std::log(0.9);
  EXPECT_NEAR(
      loss_value<T>(bce, Tensor<T>({2, 2}, {0.5, 0.8, 0.9, 0.1}), Tensor<T>({2, 2}, {1, 0, 1, 0})),
      (row0 + row1) / 2, 2 * loss_tolerance<T>());
  // Soft labels: -(0.25 log 0.5 + 0.75 log 0.5) = log 2.
  EXPECT_NEAR(loss_value<T>(bce, Tensor<T>({1, 1}, {0.5}), Tensor<T>({1}, {0.25})), std::log(2.0),
              loss_tolerance<T>());
  // From logits: softplus(x) - x y; x = 0 gives log 2 whatever y.
  const BinaryCrossentropy<T> logits({.from_logits = true});
  EXPECT_NEAR(loss_value<T>(logits, Tensor<T>({1, 2}, {0, 0}), Tensor<T>({1, 2}, {1, 0})),
              std::log(2.0), loss_tolerance<T>());
  EXPECT_EQ(bce.name(), "binary_crossentropy");
  EXPECT_EQ(bce.fusable_activation(), "sigmoid");
  EXPECT_EQ(logits.fusable_activation(), "");
}

TYPED_TEST(LossesTyped, CategoricalCrossentropy) {
  using T = TypeParam;
  const CategoricalCrossentropy<T> cce;
  const Tensor<T> target({1, 3}, {0, 0, 1});
  EXPECT_NEAR(loss_value<T>(cce, Tensor<T>({1, 3}, {0.2, 0.3, 0.5}), target), -std::log(0.5),
              loss_tolerance<T>());
  // Rows are renormalised to sum 1 first, as Keras: [1, 1, 2] -> [0.25, 0.25, 0.5].
  EXPECT_NEAR(loss_value<T>(cce, Tensor<T>({1, 3}, {1, 1, 2}), target), -std::log(0.5),
              loss_tolerance<T>());
  // Soft targets, batch mean: row 2 = -(0.5 log 0.25 + 0.5 log 0.75).
  const double row2 = -(0.5 * std::log(0.25) + 0.5 * std::log(0.75));
  EXPECT_NEAR(loss_value<T>(cce, Tensor<T>({2, 2}, {0.5, 0.5, 0.25, 0.75}),
                            Tensor<T>({2, 2}, {1, 0, 0.5, 0.5})),
              (-std::log(0.5) + row2) / 2, loss_tolerance<T>());
  const CategoricalCrossentropy<T> logits({.from_logits = true});
  EXPECT_NEAR(loss_value<T>(logits, Tensor<T>({1, 3}, {0, 0, 0}), target), std::log(3.0),
              loss_tolerance<T>());
  EXPECT_EQ(cce.fusable_activation(), "softmax");
}

TYPED_TEST(LossesTyped, SparseCategoricalCrossentropy) {
  using T = TypeParam;
  const SparseCategoricalCrossentropy<T> scce;
  const Tensor<T> p({2, 3}, {0.1, 0.6, 0.3, 0.5, 0.25, 0.25});
  const double expected = -(std::log(0.6) + std::log(0.5)) / 2;
  EXPECT_NEAR(loss_value<T>(scce, p, Tensor<T>({2}, {1, 0})), expected, loss_tolerance<T>());
  EXPECT_NEAR(loss_value<T>(scce, p, Tensor<T>({2, 1}, {1, 0})), expected, loss_tolerance<T>());
  const SparseCategoricalCrossentropy<T> logits({.from_logits = true});
  EXPECT_NEAR(loss_value<T>(logits, Tensor<T>({2, 4}), Tensor<T>({2}, {3, 0})), std::log(4.0),
              loss_tolerance<T>());
  EXPECT_EQ(scce.name(), "sparse_categorical_crossentropy");
  EXPECT_EQ(scce.fusable_activation(), "softmax");
}

TYPED_TEST(LossesTyped, FusedLogitsPathEqualsActivationThenLoss) {
  using T = TypeParam;
  // What a model does with a final sigmoid/softmax layer: loss.from_logits(pre-activation).
  const Tensor<T> x = random_tensor({4, 3}, 7, -3, 3).cast<T>();
  const Variable<T> xv(x);
  const Tensor<T> binary({4, 3}, {1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0});
  const Tensor<T> onehot({4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0});
  const Tensor<T> labels({4}, {0, 1, 2, 1});
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;

  const BinaryCrossentropy<T> bce;
  EXPECT_NEAR(bce.from_logits(xv, binary).item(), bce(sigmoid(xv), binary).item(), tol);
  EXPECT_NEAR(bce.from_logits(xv, binary).item(),
              BinaryCrossentropy<T>({.from_logits = true})(xv, binary).item(), tol);
  const CategoricalCrossentropy<T> cce;
  EXPECT_NEAR(cce.from_logits(xv, onehot).item(), cce(softmax(xv), onehot).item(), tol);
  EXPECT_NEAR(cce.from_logits(xv, onehot).item(),
              CategoricalCrossentropy<T>({.from_logits = true})(xv, onehot).item(), tol);
  const SparseCategoricalCrossentropy<T> scce;
  EXPECT_NEAR(scce.from_logits(xv, labels).item(), scce(softmax(xv), labels).item(), tol);
  EXPECT_NEAR(scce.from_logits(xv, labels).item(), cce.from_logits(xv, onehot).item(), tol);
}

TYPED_TEST(LossesTyped, LargeLogitsStayFinite) {
  using T = TypeParam;
  const Variable<T> x(Tensor<T>({2, 2}, {1000, -1000, -500, 800}));
  const Tensor<T> y({2, 2}, {0, 1, 1, 0});
  // softplus(1000) - 0 = 1000, softplus(-1000) + 1000 = 1000, 500, 800 -> mean 825.
  EXPECT_NEAR(BinaryCrossentropy<T>({.from_logits = true})(x, y).item(), 825.0, 1e-3);
  // Row 0: log-sum-exp 1000 - x[1] = 2000; row 1: 800 - (-500) = 1300.
  EXPECT_NEAR(CategoricalCrossentropy<T>({.from_logits = true})(x, y).item(), 1650.0, 1e-3);
  EXPECT_NEAR(
      SparseCategoricalCrossentropy<T>({.from_logits = true})(x, Tensor<T>({2}, {1, 0})).item(),
      1650.0, 1e-3);
}

TEST(Losses, ProbabilitiesAreClippedAsKeras) {
  // p = 0 for the true class and p = 1 for the false one: -log(1e-7) each instead of inf, and
  // no gradient through the clip.
  const double clipped = -std::log(kLossEpsilon);
  V p(Tensor<double>({1, 2}, {0, 1}), true);
  Variable<double> l = BinaryCrossentropy<double>()(p, Tensor<double>({1, 2}, {1, 0}));
  EXPECT_NEAR(l.item(), clipped, 1e-8);
  l.backward();
  EXPECT_EQ(p.grad().to_vector(), (std::vector<double>{0, 0}));
  EXPECT_NEAR(CategoricalCrossentropy<double>()(V(Tensor<double>({1, 2}, {0, 1})),
                                                Tensor<double>({1, 2}, {1, 0}))
                  .item(),
              clipped, 1e-8);
  EXPECT_NEAR(SparseCategoricalCrossentropy<double>()(V(Tensor<double>({1, 2}, {1, 0})),
                                                      Tensor<double>({1}, {1}))
                  .item(),
              clipped, 1e-8);
}

TEST(LossesGrad, MatchesFiniteDifferences) {
  const Tensor<double> targets = random_tensor({4, 3}, 2);
  const Tensor<double> binary({4, 3}, {1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0});
  const Tensor<double> soft = random_tensor({4, 3}, 3, 0.0, 1.0);
  const Tensor<double> onehot({4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0});
  const Tensor<double> distribution({4, 3}, {0.2, 0.3, 0.5, 1, 0, 0, 0.1, 0.1, 0.8, 0.6, 0.2, 0.2});
  const Tensor<double> labels({4}, {0, 2, 1, 2});
  const Tensor<double> probs = random_tensor({4, 3}, 4, 0.05, 0.95);
  const Tensor<double> logits = random_tensor({4, 3}, 5, -3.0, 3.0);
  const auto check = [](const Loss<double>& loss, const Tensor<double>& y_pred,
                        const Tensor<double>& y_true) {
    SCOPED_TRACE(loss.name());
    expect_gradients_match([&](const std::vector<V>& v) { return loss(v[0], y_true); }, {y_pred});
  };
  check(MeanSquaredError<double>(), logits, targets);
  check(MeanSquaredError<double>(), random_tensor({5, 1}, 6), random_tensor({5}, 7));
  check(BinaryCrossentropy<double>(), probs, binary);
  check(BinaryCrossentropy<double>(), probs, soft);
  check(BinaryCrossentropy<double>({.from_logits = true}), logits, soft);
  check(CategoricalCrossentropy<double>(), probs, onehot);  // rows not normalised
  check(CategoricalCrossentropy<double>(), probs, distribution);
  check(CategoricalCrossentropy<double>({.from_logits = true}), logits, distribution);
  check(SparseCategoricalCrossentropy<double>(), probs, labels);
  check(SparseCategoricalCrossentropy<double>({.from_logits = true}), logits, labels);
  // The fused entry point that models use.
  expect_gradients_match(
      [&](const std::vector<V>& v) {
        return CategoricalCrossentropy<double>().from_logits(v[0], onehot);
      },
      {logits});
  expect_gradients_match(
      [&](const std::vector<V>& v) {
        return BinaryCrossentropy<double>().from_logits(v[0], binary);
      },
      {logits});
}

TEST(LossesWeighted, EachSampleWeighsItsOwnLoss) {
  // Keras's sum_over_batch_size: sum_i w_i loss_i / batch. With all weights 1 it is the plain
  // loss (checked against PyTorch below); with weight n on sample k alone, sample k's loss.
  const Tensor<double> binary({4, 3}, {1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0});
  const Tensor<double> onehot({4, 3}, {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0});
  const Tensor<double> labels({4}, {0, 2, 1, 2});
  const Tensor<double> probs = random_tensor({4, 3}, 4, 0.05, 0.95);
  const Tensor<double> logits = random_tensor({4, 3}, 5, -3.0, 3.0);
  const Tensor<double> weights({4}, {0.5, 2.0, 0.0, 1.25});
  const auto check = [&](const Loss<double>& loss, const Tensor<double>& y_pred,
                         const Tensor<double>& y_true, bool logits_entry) {
    SCOPED_TRACE(loss.name() + (logits_entry ? " from_logits" : ""));
    const auto weighted = [&](const V& p, const Tensor<double>& y, const Tensor<double>& w) {
      return logits_entry ? loss.from_logits(p, y, w) : loss(p, y, w);
    };
    const auto plain = [&](const V& p, const Tensor<double>& y) {
      return logits_entry ? loss.from_logits(p, y) : loss(p, y);
    };
    EXPECT_NEAR(weighted(V(y_pred), y_true, Tensor<double>::ones({4})).item(),
                plain(V(y_pred), y_true).item(), 1e-12);
    for (index_t k = 0; k < 4; ++k) {
      Tensor<double> only_k({4, 1});
      only_k.data()[k] = 4.0;
      EXPECT_NEAR(weighted(V(y_pred), y_true, only_k).item(),
                  plain(V(y_pred.slice(k, k + 1)), y_true.slice(k, k + 1)).item(), 1e-12)
          << "sample " << k;
    }
    expect_gradients_match([&](const std::vector<V>& v) { return weighted(v[0], y_true, weights); },
                           {y_pred});
  };
  check(MeanSquaredError<double>(), logits, probs, false);
  check(BinaryCrossentropy<double>(), probs, binary, false);
  check(BinaryCrossentropy<double>({.from_logits = true}), logits, binary, false);
  check(BinaryCrossentropy<double>(), logits, binary, true);
  check(CategoricalCrossentropy<double>(), probs, onehot, false);
  check(CategoricalCrossentropy<double>({.from_logits = true}), logits, onehot, false);
  check(CategoricalCrossentropy<double>(), logits, onehot, true);
  check(SparseCategoricalCrossentropy<double>(), probs, labels, false);
  check(SparseCategoricalCrossentropy<double>({.from_logits = true}), logits, labels, false);
  check(SparseCategoricalCrossentropy<double>(), logits, labels, true);
  check(MeanAbsoluteError<double>(), logits, probs, false);
  check(Huber<double>(), logits, probs, false);
  check(LogCosh<double>(), logits, probs, false);
  check(KLDivergence<double>(), probs, onehot, false);
  check(Hinge<double>(), logits, binary, false);
  check(Poisson<double>(), probs, binary, false);
  check(CosineSimilarity<double>(), logits, probs, false);
  // Sequence outputs [batch, steps, classes]: a sample's loss is the mean over its steps.
  const Tensor<double> seq_logits = random_tensor({4, 2, 3}, 8, -3.0, 3.0);
  const Tensor<double> seq_probs = random_tensor({4, 2, 3}, 9, 0.05, 0.95);
  const Tensor<double> seq_labels({4, 2}, {0, 2, 1, 1, 2, 0, 0, 1});
  check(SparseCategoricalCrossentropy<double>(), seq_probs, seq_labels, false);
  check(SparseCategoricalCrossentropy<double>({.from_logits = true}), seq_logits, seq_labels,
        false);
  check(SparseCategoricalCrossentropy<double>(), seq_logits, seq_labels.reshape({4, 2, 1}), true);
}

TYPED_TEST(LossesTyped, SparseCategoricalCrossentropyOnSequences) {
  using T = TypeParam;
  // [batch 2, steps 2, classes 3] against labels [2, 2]: the mean over the 4 positions.
  const Tensor<T> p({2, 2, 3}, {0.1, 0.6, 0.3, 0.5, 0.25, 0.25, 0.2, 0.2, 0.6, 0.7, 0.2, 0.1});
  const Tensor<T> labels({2, 2}, {1, 0, 2, 1});
  const double expected = -(std::log(0.6) + std::log(0.5) + std::log(0.6) + std::log(0.2)) / 4;
  const SparseCategoricalCrossentropy<T> scce;
  EXPECT_NEAR(loss_value<T>(scce, p, labels), expected, loss_tolerance<T>());
  EXPECT_NEAR(loss_value<T>(scce, p, labels.reshape({2, 2, 1})), expected, loss_tolerance<T>());
  // From logits: log(p) as logits gives the same (softmax(log p) = p, rows summing to 1).
  Tensor<T> log_p = p.clone();
  for (T& v : log_p) v = std::log(v);
  const SparseCategoricalCrossentropy<T> logits({.from_logits = true});
  EXPECT_NEAR(loss_value<T>(logits, log_p, labels), expected, 10 * loss_tolerance<T>());
  EXPECT_NEAR(static_cast<double>(scce.from_logits(Variable<T>(log_p), labels).item()), expected,
              10 * loss_tolerance<T>());
  // Each position is the [batch, classes] loss of its row.
  const Tensor<T> rows = p.reshape({4, 3});
  EXPECT_NEAR(loss_value<T>(scce, rows, labels.reshape({4})), expected, loss_tolerance<T>());
}

TEST(LossesGrad, SparseCategoricalCrossentropyOnSequences) {
  const Tensor<double> probs = random_tensor({2, 3, 4}, 10, 0.05, 0.95);
  const Tensor<double> logits = random_tensor({2, 3, 4}, 11, -3.0, 3.0);
  const Tensor<double> labels({2, 3}, {0, 3, 1, 2, 2, 0});
  for (const bool from_logits : {false, true}) {
    const SparseCategoricalCrossentropy<double> scce({.from_logits = from_logits});
    expect_gradients_match([&](const std::vector<V>& v) { return scce(v[0], labels); },
                           {from_logits ? logits : probs});
  }
  expect_gradients_match(
      [&](const std::vector<V>& v) {
        return SparseCategoricalCrossentropy<double>().from_logits(v[0], labels);
      },
      {logits});
}

TEST(LossesErrors, SparseLabelsOnSequences) {
  const V p(Tensor<double>::full({2, 3, 5}, 0.2));
  for (const bool from_logits : {false, true}) {
    SCOPED_TRACE(from_logits ? "from logits" : "probabilities");
    const SparseCategoricalCrossentropy<double> scce({.from_logits = from_logits});
    // Flat index 5 of [2, 3] is sample 1, step 2.
    expect_error<ValueError>(
        [&] {
          scce(p, Tensor<double>({2, 3}, {0, 1, 2, 3, 4, 7}));
        },
        {"sparse_categorical_crossentropy", "label 7", "position [1, 2]", "[0, 5)"});
    expect_error<ValueError>(
        [&] {
          scce(p, Tensor<double>({2, 3, 1}, {0, -1, 2, 3, 4, 0}));
        },
        {"sparse_categorical_crossentropy", "label -1", "position [0, 1]"});
    expect_error<ValueError>(
        [&] {
          scce(p, Tensor<double>({2, 3}, {0, 1, 2, 0.5, 4, 0}));
        },
        {"sparse_categorical_crossentropy", "label 0.5", "position [1, 0]", "integer"});
    // Labels that are not y_pred's shape without the classes axis.
    for (const Shape& wrong : {Shape{2}, Shape{2, 5}, Shape{3, 3}, Shape{2, 3, 5}, Shape{6}}) {
      SCOPED_TRACE(wrong);
      expect_error<ShapeError>(
          [&] { scce(p, Tensor<double>(wrong)); },
          {"sparse_categorical_crossentropy", "[2, 3, 5]", detail::cat(wrong), "[batch, steps]"});
    }
  }
}

TEST(LossesErrors, BadSampleWeights) {
  const MeanSquaredError<double> mse;
  const V y_pred(random_tensor({4, 3}, 1));
  const Tensor<double> y = random_tensor({4, 3}, 2);
  expect_error<ShapeError>([&] { mse(y_pred, y, Tensor<double>::ones({3})); },
                           {"mean_squared_error", "sample_weight must be [4]", "got [3]"});
  expect_error<ValueError>(
      [&] {
        mse(y_pred, y, Tensor<double>({4}, {1, 1, -0.5, 1}));
      },
      {"mean_squared_error", "sample_weight -0.5 of sample 2"});
}

/// The loss a reference case names (same order as LOSSES in gen_losses_reference.py).
std::unique_ptr<Loss<double>> reference_loss(const Tensor<double>& options) {
  const bool from_logits = options.data()[1] != 0;
  const double parameter = options.size() > 2 ? options.data()[2] : 0.0;
  switch (static_cast<int>(options.data()[0])) {
    case 0:
      return std::make_unique<MeanSquaredError<double>>();
    case 1:
      return std::make_unique<BinaryCrossentropy<double>>(CrossentropyOptions{from_logits});
    case 2:
      return std::make_unique<CategoricalCrossentropy<double>>(CrossentropyOptions{from_logits});
    case 3:
      return std::make_unique<SparseCategoricalCrossentropy<double>>(
          CrossentropyOptions{from_logits});
    case 4:
      return std::make_unique<MeanAbsoluteError<double>>();
    case 5:
      return std::make_unique<Huber<double>>(HuberOptions{.delta = parameter});
    case 6:
      return std::make_unique<LogCosh<double>>();
    case 7:
      return std::make_unique<KLDivergence<double>>();
    case 8:
      return std::make_unique<Hinge<double>>();
    case 9:
      return std::make_unique<Poisson<double>>();
    case 10:
      return std::make_unique<CosineSimilarity<double>>(
          CosineSimilarityOptions{.axis = static_cast<int>(parameter)});
    default:
      ADD_FAILURE() << "unknown loss index " << options.data()[0];
      return nullptr;
  }
}

/// |actual - expected| <= tol * max(1, |expected|) elementwise.
void expect_close(const Tensor<double>& actual, const Tensor<double>& expected, double tol,
                  const std::string& what) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  for (index_t k = 0; k < expected.size(); ++k) {
    const double e = expected.data()[k];
    EXPECT_LE(std::abs(actual.data()[k] - e), tol * std::max(1.0, std::abs(e)))
        << what << " at " << k << ": " << actual.data()[k] << " vs " << e;
  }
}

TEST(LossesReference, MatchesPyTorch) {
  const testing::Reference ref("losses/reference/losses.txt");
  int cases = 0;
  for (const std::string& key : ref.names()) {
    if (!key.ends_with(".options")) continue;
    const std::string name = key.substr(0, key.size() - std::string(".options").size());
    SCOPED_TRACE(name);
    ++cases;
    const std::unique_ptr<Loss<double>> loss = reference_loss(ref.tensor(key));
    ASSERT_NE(loss, nullptr);
    V y_pred(ref.tensor(name + ".y_pred"), true);
    Variable<double> l = (*loss)(y_pred, ref.tensor(name + ".y_true"));
    expect_close(l.value(), ref.tensor(name + ".loss"), 1e-12, name + ".loss");
    l.backward();
    expect_close(y_pred.grad(), ref.tensor(name + ".dy_pred"), 1e-12, name + ".dy_pred");
  }
  EXPECT_EQ(cases, 34);  // every case of the generator
}

TEST(Losses, MakeLossByKerasName) {
  const std::map<std::string, std::string> aliases = {
      {"mse", "mean_squared_error"}, {"mae", "mean_absolute_error"}, {"kld", "kl_divergence"}};
  for (const std::string& name : loss_names()) {
    SCOPED_TRACE(name);
    const std::unique_ptr<Loss<float>> loss = make_loss<float>(name);
    EXPECT_EQ(loss->name(), aliases.count(name) ? aliases.at(name) : name);
    EXPECT_EQ(loss->clone()->name(), loss->name());
    // make_loss(name(), get_config()) makes the same loss (what a saved model is reloaded with).
    const std::unique_ptr<Loss<float>> again = make_loss<float>(loss->name(), loss->get_config());
    EXPECT_EQ(again->name(), loss->name());
    EXPECT_EQ(again->get_config(), loss->get_config());
  }
  const std::vector<std::string> names = loss_names();
  for (const std::string name : {"mae", "mean_absolute_error", "huber", "log_cosh", "kl_divergence",
                                 "kld", "hinge", "poisson", "cosine_similarity"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
  }
  // A clone keeps the options.
  const BinaryCrossentropy<double> logits({.from_logits = true});
  const std::unique_ptr<Loss<double>> copy = logits.clone();
  const Tensor<double> x({1, 1}, {0}), y({1, 1}, {1});
  EXPECT_NEAR((*copy)(V(x), y).item(), std::log(2.0), 1e-15);
  // Options from a config: Huber's delta (1.5 |e| - 1.125 for e = 3), CosineSimilarity's axis.
  const std::unique_ptr<Loss<double>> huber = make_loss<double>("huber", {{"delta", 1.5}});
  EXPECT_NEAR((*huber)(V(Tensor<double>({1, 1}, {3})), Tensor<double>({1}, {0})).item(), 3.375,
              1e-15);
  EXPECT_EQ(huber->get_config(), Json({{"delta", 1.5}}));
  EXPECT_EQ(make_loss<double>("cosine_similarity", {{"axis", 1}})->get_config(),
            Json({{"axis", 1}}));
  EXPECT_EQ(make_loss<double>("sparse_categorical_crossentropy", {{"from_logits", true}})
                ->fusable_activation(),
            "");
}

TEST(Losses, CompileTakesTheNewNames) {
  Generator gen(5);
  const Tensor<double> x = Tensor<double>::uniform({8, 3}, -1, 1, gen);
  const Tensor<double> y = Tensor<double>::uniform({8, 2}, 0.1, 0.9, gen);
  for (const std::string name : {"mae", "huber", "log_cosh", "kl_divergence", "kld", "hinge",
                                 "poisson", "cosine_similarity"}) {
    SCOPED_TRACE(name);
    Sequential<double> model({.seed = 2});
    model.add(Dense<double>(2, {.activation = "sigmoid", .input_shape = {3}}));
    model.compile("sgd", name);
    EXPECT_EQ(model.loss().name(), make_loss<double>(name)->name());
    // evaluate's loss is the loss of the model's predictions.
    const double expected = model.loss()(Variable<double>(model.predict(x)), y).item();
    EXPECT_NEAR(model.evaluate(x, y).at("loss"), expected, 1e-12);
  }
}

TEST(LossesErrors, BadConfigNamesTheLossAndOption) {
  expect_error<ValueError>(
      [] {
        make_loss<double>("mae", {{"from_logits", true}});
      },
      {"loss mae", "unknown option 'from_logits'"});
  expect_error<ValueError>(
      [] {
        make_loss<double>("huber", {{"delta", "big"}});
      },
      {"loss huber", "delta"});
  expect_error<ValueError>(
      [] {
        make_loss<double>("huber", {{"delta", -2}});
      },
      {"huber", "delta", "-2"});
}

TEST(LossesErrors, UnknownNameListsValidNames) {
  std::vector<std::string> parts = {"unknown loss 'categorical_cross_entropy'"};
  for (const std::string& name : loss_names()) parts.push_back(name);
  expect_error<ValueError>([] { make_loss<double>("categorical_cross_entropy"); }, parts);
}

TEST(LossesErrors, MismatchedShapes) {
  const V p(Tensor<double>({4, 3}));
  expect_error<ShapeError>(
      [&] {
        MeanSquaredError<double>()(p, Tensor<double>({4, 2}));
      },
      {"mean_squared_error", "[4, 3]", "[4, 2]"});
  expect_error<ShapeError>(
      [&] {
        MeanSquaredError<double>()(p, Tensor<double>({5, 3}));
      },
      {"mean_squared_error", "[4, 3]", "[5, 3]", "batch size"});
  expect_error<ShapeError>([&] { BinaryCrossentropy<double>()(p, Tensor<double>({4})); },
                           {"binary_crossentropy", "[4, 3]", "[4]"});
  expect_error<ShapeError>(
      [&] {
        BinaryCrossentropy<double>({.from_logits = true})(p, Tensor<double>({4, 3, 2}));
      },
      {"binary_crossentropy", "[4, 3]", "[4, 3, 2]"});
  // Class ids given to the categorical loss (which wants one-hot targets).
  expect_error<ShapeError>([&] { CategoricalCrossentropy<double>()(p, Tensor<double>({4})); },
                           {"categorical_crossentropy", "[4, 3]", "[4]"});
  expect_error<ShapeError>(
      [&] {
        CategoricalCrossentropy<double>().from_logits(p, Tensor<double>({4, 2}));
      },
      {"categorical_crossentropy", "[4, 3]", "[4, 2]"});
  expect_error<ShapeError>(
      [&] {
        CategoricalCrossentropy<double>()(V(Tensor<double>({2, 3, 4})), Tensor<double>({2, 3, 4}));
      },
      {"categorical_crossentropy", "[batch, classes]", "[2, 3, 4]"});
  // One-hot targets given to the sparse loss (which wants class ids).
  expect_error<ShapeError>(
      [&] {
        SparseCategoricalCrossentropy<double>()(p, Tensor<double>({4, 3}));
      },
      {"sparse_categorical_crossentropy", "[4, 3]", "[batch]"});
  expect_error<ShapeError>([&] { SparseCategoricalCrossentropy<double>()(p, Tensor<double>({3})); },
                           {"sparse_categorical_crossentropy", "[4, 3]", "[3]"});
}

TEST(LossesErrors, BadSparseLabels) {
  const V p(Tensor<double>::full({4, 3}, 1.0 / 3));
  for (const bool from_logits : {false, true}) {
    SCOPED_TRACE(from_logits ? "from logits" : "probabilities");
    const SparseCategoricalCrossentropy<double> scce({.from_logits = from_logits});
    expect_error<ValueError>(
        [&] {
          scce(p, Tensor<double>({4}, {0, 3, 1, 2}));
        },
        {"sparse_categorical_crossentropy", "label 3", "index 1", "[0, 3)"});
    expect_error<ValueError>(
        [&] {
          scce(p, Tensor<double>({4}, {0, 1, -1, 2}));
        },
        {"sparse_categorical_crossentropy", "label -1", "index 2"});
    expect_error<ValueError>(
        [&] {
          scce(p, Tensor<double>({4, 1}, {1.5, 0, 1, 2}));
        },
        {"sparse_categorical_crossentropy", "label 1.5", "index 0", "integer"});
    expect_error<ValueError>(
        [&] {
          scce(p, Tensor<double>({4}, {0, 1, 2, std::numeric_limits<double>::quiet_NaN()}));
        },
        {"sparse_categorical_crossentropy", "label nan", "index 3"});
  }
  // The fused entry point validates the same way.
  expect_error<ValueError>(
      [&] {
        SparseCategoricalCrossentropy<double>().from_logits(p, Tensor<double>({4}, {0, 1, 2, 7}));
      },
      {"sparse_categorical_crossentropy", "label 7", "index 3"});
}

TEST(LossesErrors, BinaryLabelsOutsideZeroOne) {
  // Issue 15, finding 7: labels 2 and -1 were accepted; soft labels in [0, 1] still are.
  const V p(Tensor<double>::full({4, 1}, 0.5));
  for (const bool from_logits : {false, true}) {
    SCOPED_TRACE(from_logits ? "from logits" : "probabilities");
    const BinaryCrossentropy<double> bce({.from_logits = from_logits});
    expect_error<ValueError>(
        [&] {
          bce(p, Tensor<double>({4}, {0, 1, 2, 1}));
        },
        {"binary_crossentropy", "label 2", "index 2", "[0, 1]"});
    expect_error<ValueError>(
        [&] {
          bce(p, Tensor<double>({4, 1}, {-1, 0, 1, 0}));
        },
        {"binary_crossentropy", "label -1", "index 0"});
    expect_error<ValueError>(
        [&] {
          bce(p, Tensor<double>({4}, {0, 1, 0, std::numeric_limits<double>::quiet_NaN()}));
        },
        {"binary_crossentropy", "label nan", "index 3"});
    EXPECT_NO_THROW(bce(p, Tensor<double>({4}, {0, 0.1, 0.9, 1})));
  }
  // fit checks the whole of y before the first step, naming the label's index in the data.
  Sequential<double> model;
  model.add(Dense<double>(1, {.activation = "sigmoid", .input_shape = {2}}));
  model.compile("sgd", "binary_crossentropy");
  Tensor<double> y = Tensor<double>::zeros({40, 1});
  y.at({33, 0}) = 2;
  expect_error<ValueError>(
      [&] {
        model.fit(Tensor<double>({40, 2}), y, {.verbose = 0});
      },
      {"label 2", "index 33"});
}

TEST(LossesErrors, LogitsOnALossWithoutAFusedForm) {
  expect_error<Error>(
      [] {
        MeanSquaredError<double>().from_logits(V(Tensor<double>({2, 1})), Tensor<double>({2}));
      },
      {"mean_squared_error", "cannot be computed from logits"});
}

}  // namespace
}  // namespace lamina
