// Keras's metrics inside compile / fit / evaluate: History keys, accumulation across batches,
// evaluate's printed figures, and metric objects saved with the model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>

#include <lamina/lamina.hpp>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

/// x [n, 4] and binary labels y [n, 1] that a logistic model can partly learn.
std::pair<Tensor<float>, Tensor<float>> binary_data(index_t n, std::uint64_t seed) {
  Generator gen(seed);
  Tensor<float> x({n, 4}), y({n, 1});
  for (index_t i = 0; i < n; ++i) {
    double s = 0.0;
    for (index_t k = 0; k < 4; ++k) {
      const double v = double(gen.below(1000)) / 500.0 - 1.0;
      x.data()[i * 4 + k] = float(v);
      s += (k + 1) * v;
    }
    y.data()[i] = s + double(gen.below(1000)) / 500.0 - 1.0 > 0.0 ? 1.0f : 0.0f;
  }
  return {x, y};
}

Sequential<float> logistic() {
  Sequential<float> model({.seed = 3});
  model.add(Dense<float>(1, {.activation = "sigmoid", .input_shape = {4}}));
  return model;
}

TEST(MetricsInModels, FitRecordsKerasNames) {
  auto [x, y] = binary_data(64, 1);
  Sequential<float> model = logistic();
  model.compile("adam", "binary_crossentropy",
                {"accuracy", "precision", "recall", "auc",
                 BinaryAccuracy<float>({.threshold = 0.3, .name = "acc_at_03"})});
  const History h = model.fit(x, y, {.epochs = 2, .validation_split = 0.25, .verbose = 0});
  for (const char* key :
       {"loss", "accuracy", "precision", "recall", "auc", "acc_at_03", "val_loss", "val_accuracy",
        "val_precision", "val_recall", "val_auc", "val_acc_at_03"}) {
    SCOPED_TRACE(key);
    ASSERT_EQ(h[key].size(), 2u);
    EXPECT_GE(h[key][1], 0.0);
    EXPECT_LE(h[key][1], std::string(key).ends_with("loss") ? 10.0 : 1.0);
  }
  // The last validation figures are those of the trained model on the held-out quarter.
  const Logs val = model.evaluate(x.slice(48, 64), y.slice(48, 64));
  EXPECT_DOUBLE_EQ(h["val_auc"][1], val.at("auc"));
  EXPECT_DOUBLE_EQ(h["val_precision"][1], val.at("precision"));
  // Two metrics with one name would share a History key.
  expect_error<ValueError>(
      [&] {
        model.compile("adam", "binary_crossentropy", {"auc", AUC<float>({.curve = "PR"})});
      },
      {"compile", "two metrics are named 'auc'"});
  expect_error<ValueError>([&] { model.compile("adam", "mse", {"f1"}); },
                           {"unknown metric 'f1'", "auc", "precision"});
}

TEST(MetricsInModels, EvaluateAccumulatesAcrossBatchesAsKeras) {
  // Precision, recall and AUC keep counts over every batch: evaluating in batches of 3 gives
  // the figures of the whole set at once, not a mean of per-batch figures.
  auto [x, y] = binary_data(40, 2);
  Sequential<float> model = logistic();
  model.compile("sgd", "binary_crossentropy", {"precision", "recall", "auc", "binary_accuracy"});
  const Logs logs = model.evaluate(x, y, {.batch_size = 3});
  const Tensor<float> p = model.predict(x, {.batch_size = 3});
  Precision<float> precision;
  Recall<float> recall;
  AUC<float> auc;
  BinaryAccuracy<float> accuracy;
  for (Metric<float>* m :
       std::initializer_list<Metric<float>*>{&precision, &recall, &auc, &accuracy}) {
    m->update(p, y);
    EXPECT_DOUBLE_EQ(logs.at(m->name()), m->result()) << m->name();
  }
  // The mean of the per-batch AUCs would differ.
  double mean_of_batches = 0.0;
  for (index_t b = 0; b < 40; b += 3) {
    AUC<float> one;
    one.update(p.slice(b, std::min<index_t>(40, b + 3)), y.slice(b, std::min<index_t>(40, b + 3)));
    mean_of_batches += one.result() / 14.0;
  }
  EXPECT_GT(std::abs(mean_of_batches - logs.at("auc")), 1e-3);
}

TEST(MetricsInModels, EvaluatePrintsItsFiguresWhenVerbose) {
  auto [x, y] = binary_data(20, 3);
  Sequential<float> model = logistic();
  model.compile("sgd", "binary_crossentropy", {"accuracy", "auc"});
  std::ostringstream bar, line, quiet;
  const Logs logs = model.evaluate(x, y, {.batch_size = 8, .verbose = 1, .output = &bar});
  model.evaluate(x, y, {.batch_size = 8, .verbose = 2, .output = &line});
  model.evaluate(x, y, {.batch_size = 8, .verbose = 0, .output = &quiet});
  std::ostringstream figures;
  figures << std::fixed;
  figures.precision(4);
  figures << " - loss: " << logs.at("loss") << " - accuracy: " << logs.at("accuracy")
          << " - auc: " << logs.at("auc") << "\n";
  // Keras's layout: steps, the bar (verbose 1 only), time, then loss and the metrics.
  EXPECT_TRUE(bar.str().starts_with("3/3 [==============================] - ")) << bar.str();
  EXPECT_TRUE(bar.str().ends_with("/step" + figures.str())) << bar.str();
  EXPECT_TRUE(line.str().starts_with("3/3 - ")) << line.str();
  EXPECT_TRUE(line.str().ends_with("/step" + figures.str())) << line.str();
  const std::string bar_text = bar.str();
  EXPECT_EQ(std::count(bar_text.begin(), bar_text.end(), '\n'), 1);
  EXPECT_EQ(quiet.str(), "");
}

TEST(MetricsInModels, MetricObjectsAreSavedWithTheModel) {
  auto [x, y] = binary_data(24, 4);
  Sequential<float> model = logistic();
  model.compile("adam", "binary_crossentropy",
                {"accuracy", AUC<float>({.num_thresholds = 50, .curve = "PR", .name = "pr_auc"}),
                 Precision<float>({.thresholds = 0.7})});
  model.fit(x, y, {.epochs = 1, .verbose = 0});
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "metrics_model.safetensors").string();
  model.save(path);
  const auto loaded = load_model<float>(path);
  const Logs before = model.evaluate(x, y), after = loaded->evaluate(x, y);
  ASSERT_EQ(after.size(), 4u);  // loss, accuracy, pr_auc, precision
  for (const auto& [key, value] : before) EXPECT_DOUBLE_EQ(after.at(key), value) << key;
  const Json config = Json::parse(SafetensorsFile::read(path).metadata().at("compile_config"));
  EXPECT_EQ(config["metrics"][0], "accuracy");
  EXPECT_EQ(config["metrics"][1]["name"], "auc");
  EXPECT_EQ(config["metrics"][1]["config"]["curve"], "PR");
  EXPECT_EQ(config["metrics"][2]["config"]["thresholds"], 0.7);
}

TEST(MetricsInModels, CallbacksMaximiseKerasUpwardMetrics) {
  // Keras's EarlyStopping / ModelCheckpoint mode "auto": these metrics improve upwards.
  for (const char* up :
       {"accuracy", "val_binary_accuracy", "auc", "val_auc", "precision", "val_precision", "recall",
        "val_recall", "val_sparse_top_k_categorical_accuracy"})
    EXPECT_TRUE(detail::monitor_maximises(up, "auto", "EarlyStopping")) << up;
  for (const char* down : {"loss", "val_loss", "mae", "val_mse"})
    EXPECT_FALSE(detail::monitor_maximises(down, "auto", "EarlyStopping")) << down;
}

}  // namespace
}  // namespace lamina
