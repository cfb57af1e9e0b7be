#include "lamina/metrics/metrics.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_error;

template <class T>
class MetricsTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(MetricsTyped, Scalars);

TYPED_TEST(MetricsTyped, AccuracyResolvesLikeKeras) {
  using T = TypeParam;
  const Tensor<T> probs({3, 3}, {0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.2, 0.3, 0.5});
  // Sparse labels [batch]: argmax 1, 0, 2 against 1, 2, 2.
  auto sparse = make_metric<T>("accuracy", "sparse_categorical_crossentropy");
  sparse->update(probs, Tensor<T>({3}, {1, 2, 2}));
  EXPECT_NEAR(sparse->result(), 2.0 / 3.0, 1e-12);
  // One-hot targets: categorical.
  auto categorical = make_metric<T>("acc", "categorical_crossentropy");
  categorical->update(probs, Tensor<T>({3, 3}, {0, 1, 0, 1, 0, 0, 1, 0, 0}));
  EXPECT_NEAR(categorical->result(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(categorical->name(), "acc");
  // One column: binary with threshold 0.5, also averaged over batches.
  auto binary = make_metric<T>("accuracy", "mse");
  binary->update(Tensor<T>({4, 1}, {0.9, 0.4, 0.6, 0.1}), Tensor<T>({4, 1}, {1, 1, 0, 0}));
  binary->update(Tensor<T>({2, 1}, {0.8, 0.2}), Tensor<T>({2, 1}, {1, 0}));
  EXPECT_NEAR(binary->result(), 4.0 / 6.0, 1e-12);
  binary->reset();
  EXPECT_EQ(binary->result(), 0.0);
  // Binary cross-entropy with several outputs: elementwise binary accuracy.
  auto multi = make_metric<T>("accuracy", "binary_crossentropy");
  multi->update(Tensor<T>({1, 4}, {0.9, 0.4, 0.6, 0.1}), Tensor<T>({1, 4}, {1, 1, 1, 0}));
  EXPECT_NEAR(multi->result(), 0.75, 1e-12);
}

TYPED_TEST(MetricsTyped, AccuracyOnSequenceOutputs) {
  using T = TypeParam;
  // [batch, steps, classes] outputs with [batch, steps] labels (a return_sequences model):
  // each sample's value is the fraction of its steps that are hits, as Keras's
  // sparse_categorical_accuracy.
  const Tensor<T> probs({2, 2, 3}, {0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.2, 0.3, 0.5, 0.6, 0.3, 0.1});
  const Tensor<T> labels({2, 2}, {1, 2, 2, 0});  // hits: yes, no; yes, yes
  const Tensor<T> w({2}, {1, 3});
  auto accuracy = make_metric<T>("accuracy", "sparse_categorical_crossentropy");
  SparseCategoricalAccuracy<T> sparse;
  accuracy->update(probs, labels, &w);
  sparse.update(probs, labels, &w);
  EXPECT_NEAR(accuracy->result(), (1 * 0.5 + 3 * 1.0) / 4, 1e-12);
  EXPECT_NEAR(sparse.result(), accuracy->result(), 1e-12);
}

TYPED_TEST(MetricsTyped, AccuracyOnSequenceOutputsForEveryLoss) {
  using T = TypeParam;
  // [batch 2, steps 3, classes 2]; argmax per position: 0, 1, 0 and 1, 0, 1.
  const Tensor<T> probs({2, 3, 2}, {0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7, 0.5, 0.4, 0.1, 0.9});
  // Labels [batch, steps]: sample 0 has 3 of 3 right, sample 1 2 of 3; Keras's mean over all
  // six positions is 5/6.
  const Tensor<T> labels({2, 3}, {0, 1, 0, 1, 1, 1});
  auto sparse = make_metric<T>("accuracy", "sparse_categorical_crossentropy");
  sparse->update(probs, labels);
  EXPECT_NEAR(sparse->result(), 5.0 / 6.0, 1e-12);
  sparse->reset();
  sparse->update(probs, labels.reshape({2, 3, 1}));
  EXPECT_NEAR(sparse->result(), 5.0 / 6.0, 1e-12);
  // Sample weights broadcast over the steps, as Keras: (1 * 3 + 3 * 2) / (1 * 3 + 3 * 3).
  sparse->reset();
  const Tensor<T> weights({2}, {1, 3});
  sparse->update(probs, labels, &weights);
  EXPECT_NEAR(sparse->result(), 0.75, 1e-12);
  // One-hot targets [batch, steps, classes]: categorical accuracy per position.
  auto categorical = make_metric<T>("accuracy", "categorical_crossentropy");
  categorical->update(probs, Tensor<T>({2, 3, 2}, {1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1}));
  EXPECT_NEAR(categorical->result(), 5.0 / 6.0, 1e-12);
  // One output per step [batch, steps, 1]: binary per position.
  auto binary = make_metric<T>("accuracy", "binary_crossentropy");
  binary->update(Tensor<T>({2, 2, 1}, {0.9, 0.2, 0.4, 0.7}), Tensor<T>({2, 2}, {1, 1, 0, 1}));
  EXPECT_NEAR(binary->result(), 0.75, 1e-12);
  // Labels that fit no reading of the shapes.
  expect_error<ShapeError>(
      [&] {
        sparse->update(probs, Tensor<T>({2, 2}));
      },
      {"accuracy", "[2, 2]", "[2, 3, 2]"});
}

TYPED_TEST(MetricsTyped, MeanErrors) {
  using T = TypeParam;
  auto mae = make_metric<T>("mae", "mse"), mse = make_metric<T>("mean_squared_error", "mse");
  const Tensor<T> pred({2, 2}, {1, 2, 3, 4}), truth({2, 2}, {1, 0, 5, 4});
  mae->update(pred, truth);
  mse->update(pred, truth);
  EXPECT_NEAR(mae->result(), 1.0, 1e-12);  // (0 + 2 + 2 + 0) / 4
  EXPECT_NEAR(mse->result(), 2.0, 1e-12);  // (0 + 4 + 4 + 0) / 4
  EXPECT_EQ(mae->name(), "mae");
  EXPECT_EQ(mse->name(), "mse");
}

// --- reference values (tests/metrics/reference/gen_metrics_reference.py) -----------------------

/// The metric a reference case names, built through make_metric with a config (the list is
/// METRICS of the generator, in its order).
template <class T>
std::unique_ptr<Metric<T>> reference_metric(const Tensor<double>& o) {
  static const std::vector<std::string> names = {"binary_accuracy",
                                                 "categorical_accuracy",
                                                 "sparse_categorical_accuracy",
                                                 "top_k_categorical_accuracy",
                                                 "sparse_top_k_categorical_accuracy",
                                                 "precision",
                                                 "recall",
                                                 "auc"};
  const std::string name = names.at(std::size_t(o.data()[0]));
  const double p1 = o.data()[1];
  Json config = Json::object();
  if (name == "binary_accuracy") config["threshold"] = p1;
  if (name.find("top_k") != std::string::npos) config["k"] = index_t(p1);
  if (name == "precision" || name == "recall") config["thresholds"] = p1;
  if (name == "auc") {
    config["num_thresholds"] = index_t(p1);
    config["curve"] = o.data()[2] == 0 ? "ROC" : "PR";
    config["summation_method"] =
        std::vector<std::string>{"interpolation", "minoring", "majoring"}[std::size_t(o.data()[3])];
    config["from_logits"] = o.data()[4] != 0;
  }
  auto metric = make_metric<T>(name, "", config);
  EXPECT_EQ(metric->name(), name);
  return metric;
}

std::vector<double> values(const Tensor<double>& t) { return t.to_vector(); }

TYPED_TEST(MetricsTyped, MatchKerasReference) {
  using T = TypeParam;
  const testing::Reference ref("metrics/reference/metrics.txt");
  int cases = 0;
  for (const std::string& key : ref.names()) {
    if (!key.ends_with(".options")) continue;
    const std::string name = key.substr(0, key.size() - std::string(".options").size());
    SCOPED_TRACE(name);
    ++cases;
    auto metric = reference_metric<T>(ref.tensor(key));
    const Tensor<T> y_pred = ref.tensor<T>(name + ".y_pred");
    const Tensor<T> y_true = ref.tensor<T>(name + ".y_true");
    const Tensor<T> w = ref.tensor<T>(name + ".weight");
    const bool weighted =
        ref.tensor(name + ".weight").to_vector() != std::vector<double>(std::size_t(w.size()), 1.0);
    // Feed the batches twice, with a reset between: the state starts over.
    for (int round = 0; round < 2; ++round) {
      metric->reset();
      index_t begin = 0;
      for (double size : values(ref.tensor(name + ".batches"))) {
        const index_t end = begin + index_t(size);
        const Tensor<T> wb = w.slice(begin, end);
        metric->update(y_pred.slice(begin, end), y_true.slice(begin, end),
                       weighted ? &wb : nullptr);
        begin = end;
      }
      EXPECT_NEAR(metric->result(), ref.tensor(name + ".result").data()[0], 1e-12);
    }
    if (const auto* auc = dynamic_cast<const AUC<T>*>(metric.get())) {
      EXPECT_EQ(auc->true_positives(), values(ref.tensor(name + ".tp")));
      EXPECT_EQ(auc->false_positives(), values(ref.tensor(name + ".fp")));
      EXPECT_EQ(auc->true_negatives(), values(ref.tensor(name + ".tn")));
      EXPECT_EQ(auc->false_negatives(), values(ref.tensor(name + ".fn")));
    }
  }
  EXPECT_EQ(cases, 25);  // every case of the generator
}

// --- Keras's documentation examples, line for line ------------------------------------------

TYPED_TEST(MetricsTyped, KerasDocstringExamples) {
  using T = TypeParam;
  // keras.metrics.BinaryAccuracy
  BinaryAccuracy<T> binary;
  binary.update(Tensor<T>({4, 1}, {0.98, 1, 0, 0.6}), Tensor<T>({4, 1}, {1, 1, 0, 0}));
  EXPECT_NEAR(binary.result(), 0.75, 1e-12);
  binary.reset();
  const Tensor<T> w1001({4}, {1, 0, 0, 1});
  binary.update(Tensor<T>({4, 1}, {0.98, 1, 0, 0.6}), Tensor<T>({4, 1}, {1, 1, 0, 0}), &w1001);
  EXPECT_NEAR(binary.result(), 0.5, 1e-12);
  // keras.metrics.CategoricalAccuracy
  CategoricalAccuracy<T> categorical;
  const Tensor<T> p2({2, 3}, {0.1, 0.9, 0.8, 0.05, 0.95, 0});
  categorical.update(p2, Tensor<T>({2, 3}, {0, 0, 1, 0, 1, 0}));
  EXPECT_NEAR(categorical.result(), 0.5, 1e-12);
  categorical.reset();
  const Tensor<T> w73({2}, {0.7, 0.3});
  categorical.update(p2, Tensor<T>({2, 3}, {0, 0, 1, 0, 1, 0}), &w73);
  EXPECT_NEAR(categorical.result(), 0.3, 1e-6);
  // keras.metrics.SparseCategoricalAccuracy
  SparseCategoricalAccuracy<T> sparse;
  sparse.update(p2, Tensor<T>({2, 1}, {2, 1}));
  EXPECT_NEAR(sparse.result(), 0.5, 1e-12);
  // keras.metrics.TopKCategoricalAccuracy(k=1) / SparseTopKCategoricalAccuracy(k=1)
  TopKCategoricalAccuracy<T> top1({.k = 1});
  top1.update(p2, Tensor<T>({2, 3}, {0, 0, 1, 0, 1, 0}));
  EXPECT_NEAR(top1.result(), 0.5, 1e-12);
  top1.reset();
  top1.update(p2, Tensor<T>({2, 3}, {0, 0, 1, 0, 1, 0}), &w73);
  EXPECT_NEAR(top1.result(), 0.3, 1e-6);
  SparseTopKCategoricalAccuracy<T> sparse_top1({.k = 1});
  sparse_top1.update(p2, Tensor<T>({2}, {2, 1}));
  EXPECT_NEAR(sparse_top1.result(), 0.5, 1e-12);
  // keras.metrics.Precision / Recall
  Precision<T> precision;
  Recall<T> recall;
  const Tensor<T> pr_pred({4}, {1, 0, 1, 1}), pr_true({4}, {0, 1, 1, 1});
  precision.update(pr_pred, pr_true);
  recall.update(pr_pred, pr_true);
  EXPECT_NEAR(precision.result(), 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(recall.result(), 2.0 / 3.0, 1e-12);
  precision.reset();
  recall.reset();
  const Tensor<T> w0010({4}, {0, 0, 1, 0});
  precision.update(pr_pred, pr_true, &w0010);
  recall.update(pr_pred, pr_true, &w0010);
  EXPECT_NEAR(precision.result(), 1.0, 1e-12);
  EXPECT_NEAR(recall.result(), 1.0, 1e-12);
  // keras.metrics.AUC(num_thresholds=3): thresholds [-1e-7, 0.5, 1 + 1e-7],
  // tp = [2, 1, 0], fp = [2, 0, 0], fn = [0, 1, 2], tn = [0, 2, 2] -> 0.75
  AUC<T> auc({.num_thresholds = 3});
  auc.update(Tensor<T>({4}, {0, 0.5, 0.3, 0.9}), Tensor<T>({4}, {0, 0, 1, 1}));
  EXPECT_EQ(auc.true_positives(), (std::vector<double>{2, 1, 0}));
  EXPECT_EQ(auc.false_positives(), (std::vector<double>{2, 0, 0}));
  EXPECT_EQ(auc.false_negatives(), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(auc.true_negatives(), (std::vector<double>{0, 2, 2}));
  EXPECT_NEAR(auc.result(), 0.75, 1e-12);
  auc.reset();
  auc.update(Tensor<T>({4}, {0, 0.5, 0.3, 0.9}), Tensor<T>({4}, {0, 0, 1, 1}), &w1001);
  EXPECT_NEAR(auc.result(), 1.0, 1e-12);
  EXPECT_EQ(auc.thresholds().size(), 3u);
  EXPECT_EQ(AUC<T>().thresholds().size(), 200u);
  EXPECT_NEAR(AUC<T>().thresholds()[1], 1.0 / 199.0, 1e-15);
}

TYPED_TEST(MetricsTyped, NamesConfigsAndClones) {
  using T = TypeParam;
  // Keras's History keys.
  const std::vector<std::pair<std::string, std::string>> keys = {
      {"binary_accuracy", "binary_accuracy"},
      {"BinaryAccuracy", "binary_accuracy"},
      {"categorical_accuracy", "categorical_accuracy"},
      {"sparse_categorical_accuracy", "sparse_categorical_accuracy"},
      {"top_k_categorical_accuracy", "top_k_categorical_accuracy"},
      {"SparseTopKCategoricalAccuracy", "sparse_top_k_categorical_accuracy"},
      {"precision", "precision"},
      {"Recall", "recall"},
      {"auc", "auc"},
      {"AUC", "auc"}};
  for (const auto& [name, key] : keys) EXPECT_EQ(make_metric<T>(name, "mse")->name(), key);
  // Every registered name builds, and config_name + get_config rebuild an equal metric.
  for (const std::string& name : metric_names<T>()) {
    SCOPED_TRACE(name);
    const auto metric = make_metric<T>(name, "binary_crossentropy");
    const auto again = make_metric<T>(metric->config_name(), "mse", metric->get_config());
    EXPECT_EQ(again->name(), metric->name());
    EXPECT_EQ(again->get_config().dump(), metric->get_config().dump());
    EXPECT_EQ(metric->clone()->get_config().dump(), metric->get_config().dump());
  }
  const AUC<T> pr(
      {.num_thresholds = 7, .curve = "pr", .summation_method = "Minoring", .name = "pr_auc"});
  EXPECT_EQ(pr.get_config().dump(),
            R"({"name":"pr_auc","num_thresholds":7,"curve":"PR","summation_method":"minoring",)"
            R"("from_logits":false})");
  EXPECT_EQ(Precision<T>({.thresholds = 0.7, .name = "p70"}).name(), "p70");
  EXPECT_EQ(TopKCategoricalAccuracy<T>({.k = 3}).get_config().dump(),
            R"({"name":"top_k_categorical_accuracy","k":3})");
  // A clone has its own state.
  Recall<T> recall;
  recall.update(Tensor<T>({2}, {0.9, 0.1}), Tensor<T>({2}, {1, 1}));
  const auto copy = recall.clone();
  EXPECT_NEAR(copy->result(), 0.5, 1e-12);
  recall.reset();
  EXPECT_EQ(recall.result(), 0.0);
  EXPECT_NEAR(copy->result(), 0.5, 1e-12);
  EXPECT_NE(dynamic_cast<Recall<T>*>(copy.get()), nullptr);
}

TEST(MetricsErrors, BadOptionsAndLabels) {
  // Unknown names list the valid ones, Keras's new names among them.
  expect_error<ValueError>([] { make_metric<float>("f1_score", "mse"); },
                           {"unknown metric 'f1_score'", "auc", "precision", "recall",
                            "sparse_top_k_categorical_accuracy", "binary_accuracy"});
  expect_error<ValueError>(
      [] {
        make_metric<float>("auc", "mse", {{"thresholds", 3}});
      },
      {"metric auc", "unknown option 'thresholds'"});
  // k < 1, num_thresholds < 2 (Keras requires > 1), unknown curve or summation, thresholds
  // outside [0, 1].
  expect_error<ValueError>([] { TopKCategoricalAccuracy<float>({.k = 0}); },
                           {"top_k_categorical_accuracy", "k must be at least 1", "got 0"});
  expect_error<ValueError>(
      [] {
        make_metric<float>("sparse_top_k_categorical_accuracy", "", {{"k", -2}});
      },
      {"sparse_top_k_categorical_accuracy", "got -2"});
  expect_error<ValueError>([] { AUC<float>({.num_thresholds = 1}); },
                           {"auc", "num_thresholds must be > 1", "got 1"});
  expect_error<ValueError>([] { AUC<float>({.curve = "DET"}); }, {"auc", "curve", "'DET'"});
  expect_error<ValueError>([] { AUC<float>({.summation_method = "trapezoid"}); },
                           {"auc", "summation_method", "'trapezoid'"});
  expect_error<ValueError>([] { Precision<float>({.thresholds = 1.5}); },
                           {"precision", "thresholds must be in [0, 1]", "1.5"});
  // Labels out of range (or not integers) for the sparse metrics.
  const Tensor<float> probs({2, 3}, {0.1, 0.7, 0.2, 0.5, 0.3, 0.2});
  expect_error<ValueError>(
      [&] {
        SparseCategoricalAccuracy<float>().update(probs, Tensor<float>({2}, {1, 3}));
      },
      {"sparse_categorical_accuracy", "label 3 of sample 1", "[0, 3)"});
  expect_error<ValueError>(
      [&] {
        SparseTopKCategoricalAccuracy<float>().update(probs, Tensor<float>({2}, {-1, 0}));
      },
      {"sparse_top_k_categorical_accuracy", "label -1 of sample 0", "[0, 3)"});
  expect_error<ValueError>(
      [&] {
        make_metric<float>("accuracy", "")->update(probs, Tensor<float>({2}, {0.5, 0}));
      },
      {"accuracy", "label 0.5 of sample 0", "[0, 3)"});
}

TEST(MetricsErrors, ShapesNameTheMetric) {
  const Tensor<float> p23({2, 3});
  expect_error<ShapeError>(
      [&] {
        BinaryAccuracy<float>().update(p23, Tensor<float>({2, 2}));
      },
      {"binary_accuracy", "[2, 3]", "[2, 2]"});
  expect_error<ShapeError>(
      [&] {
        CategoricalAccuracy<float>().update(p23, Tensor<float>({2, 4}));
      },
      {"categorical_accuracy", "[2, 3]", "[2, 4]"});
  expect_error<ShapeError>(
      [&] {
        SparseCategoricalAccuracy<float>().update(p23, Tensor<float>({2, 2}));
      },
      {"sparse_categorical_accuracy", "[2, 3]", "[2, 2]"});
  expect_error<ShapeError>(
      [&] { TopKCategoricalAccuracy<float>().update(p23, Tensor<float>({2})); },
      {"top_k_categorical_accuracy", "[2, 3]", "[2]"});
  expect_error<ShapeError>(
      [&] {
        Precision<float>().update(p23, Tensor<float>({2, 1}));
      },
      {"precision", "[2, 3]", "[2, 1]"});
  expect_error<ShapeError>(
      [&] {
        Recall<float>().update(p23, Tensor<float>({3, 3}));
      },
      {"recall", "[2, 3]", "[3, 3]", "batch size"});
  expect_error<ShapeError>(
      [&] {
        AUC<float>().update(p23, Tensor<float>({2, 4}));
      },
      {"auc", "[2, 3]", "[2, 4]"});
  const Tensor<float> w3({3});
  expect_error<ShapeError>([&] { AUC<float>().update(p23, p23, &w3); },
                           {"auc", "sample_weight", "[3]"});
}

TEST(MetricsErrors, NamesAndShapes) {
  expect_error<ValueError>([] { make_metric<float>("f1", "mse"); },
                           {"unknown metric 'f1'", "accuracy", "mae"});
  auto acc = make_metric<float>("accuracy", "categorical_crossentropy");
  expect_error<ShapeError>(
      [&] {
        acc->update(Tensor<float>({2, 3}), Tensor<float>({3, 3}));
      },
      {"accuracy", "[2, 3]", "[3, 3]"});
  expect_error<ShapeError>(
      [&] {
        acc->update(Tensor<float>({2, 3}), Tensor<float>({2, 4}));
      },
      {"accuracy", "[2, 4]", "[2, 3]"});
  auto mae = make_metric<float>("mae", "mse");
  expect_error<ShapeError>(
      [&] {
        mae->update(Tensor<float>({2, 3}), Tensor<float>({2, 2}));
      },
      {"mae", "[2, 3]", "[2, 2]"});
}

}  // namespace
}  // namespace lamina
