// Callbacks and the one fit loop (include/lamina/callbacks/): each callback against hand-traced
// expectations of Keras 3's semantics, with the monitored values scripted so that the expected
// epochs follow from the algorithm alone. (Kept in the models test executable: callbacks need a
// model to run on, and one executable fewer saves CI compile time.)
#include "lamina/callbacks/callback.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <lamina/lamina.hpp>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_same_bits;

std::string temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

Sequential<float> regression(double learning_rate = 0.1) {
  Sequential<float> m({.seed = 2});
  m.add(Dense<float>(4, {.activation = "tanh", .input_shape = {3}}));
  m.add(Dense<float>(1));
  m.compile(SGD<float>({.learning_rate = learning_rate}), "mse");
  return m;
}

Tensor<float> inputs(index_t n) {
  Generator gen(5);
  return Tensor<float>::uniform({n, 3}, -1, 1, gen);
}

/// Overwrites logs[key] at each epoch's end with script[epoch] (placed before the callback under
/// test, it decides what that callback sees).
LambdaCallback<float> script(std::string key, std::vector<double> values) {
  return LambdaCallback<float>({.on_epoch_end = [key, values](int epoch, Logs& logs) {
    logs[key] = values.at(static_cast<std::size_t>(epoch));
  }});
}

TEST(Callbacks, EarlyStoppingStopsAfterPatienceAndRestoresTheBestWeights) {
  Sequential<float> m = regression();
  std::vector<std::vector<Tensor<float>>> weights_at_end;
  LambdaCallback<float> record(
      {.on_epoch_end = [&](int, Logs&) { weights_at_end.push_back(m.get_weights()); }});
  EarlyStopping<float> stop({.patience = 2, .restore_best_weights = true});
  // val_loss by epoch: best at epoch 1; epochs 2 and 3 do not improve, so wait reaches 2 at
  // epoch 3 and training stops there.
  const History h =
      m.fit(inputs(8), Tensor<float>::zeros({8, 1}),
            {.epochs = 10,
             .verbose = 0,
             .callbacks = {script("val_loss", {1.0, 0.8, 0.9, 0.85, 0.1, 0.1}), record, stop}});
  EXPECT_EQ(h["loss"].size(), 4u);
  EXPECT_EQ(stop.stopped_epoch(), 3);
  EXPECT_EQ(stop.best_epoch(), 1);
  EXPECT_EQ(stop.best(), 0.8);
  ASSERT_EQ(weights_at_end.size(), 4u);
  const auto now = m.get_weights();
  for (std::size_t i = 0; i < now.size(); ++i)
    EXPECT_EQ(now[i].to_vector(), weights_at_end[1][i].to_vector());
}

TEST(Callbacks, EarlyStoppingMinDeltaBaselineAndWarmup) {
  auto stopped_after = [](EarlyStoppingOptions o, std::vector<double> values) {
    Sequential<float> m = regression();
    EarlyStopping<float> stop(o);
    const History h = m.fit(inputs(4), Tensor<float>::zeros({4, 1}),
                            {.epochs = int(values.size()),
                             .verbose = 0,
                             .callbacks = {script(o.monitor, values), stop}});
    return h["loss"].size();
  };
  // An improvement smaller than min_delta does not count: waits 1, 2 -> stops at epoch 2.
  EXPECT_EQ(stopped_after({.min_delta = 0.1, .patience = 2}, {1.0, 0.95, 0.92, 0.5, 0.4}), 3u);
  // Improving without beating the baseline keeps wait growing; the first non-improvement after
  // patience stops (Keras returns early on improvements).
  EXPECT_EQ(stopped_after({.patience = 1, .baseline = 0.5}, {1.0, 0.9, 0.95, 0.1}), 3u);
  // Epochs before start_from_epoch are not watched.
  EXPECT_EQ(stopped_after({.patience = 1, .start_from_epoch = 3}, {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}),
            5u);
  // "auto" maximises accuracies.
  EXPECT_EQ(stopped_after({.monitor = "val_accuracy", .patience = 1}, {0.5, 0.6, 0.55, 0.9}), 3u);
  EXPECT_EQ(stopped_after({.monitor = "val_accuracy", .patience = 1, .mode = "min"},
                          {0.5, 0.6, 0.55, 0.9}),
            2u);
  expect_error<ValueError>([] { EarlyStopping<float>({.mode = "maximum"}); },
                           {"EarlyStopping", "mode", "maximum"});
}

TEST(Callbacks, ReduceLROnPlateauWithCooldownAndMinLr) {
  Sequential<float> m = regression(1.0);
  std::vector<double> lr_after;
  LambdaCallback<float> record(
      {.on_epoch_end = [&](int, Logs&) { lr_after.push_back(m.optimizer().learning_rate()); }});
  const History h = m.fit(
      inputs(4), Tensor<float>::zeros({4, 1}),
      {.epochs = 7,
       .verbose = 0,
       .callbacks = {
           script("val_loss", {1, 0.9, 0.95, 0.95, 0.95, 0.8, 0.85}),
           ReduceLROnPlateau<float>({.factor = 0.5, .patience = 2, .cooldown = 1, .min_lr = 0.3}),
           record}});
  // Traced from Keras's algorithm: the plateau of epochs 2-3 halves the rate at epoch 3; the
  // cooldown then resets the count, and min_lr would stop it at 0.3.
  EXPECT_EQ(lr_after, (std::vector<double>{1, 1, 1, 0.5, 0.5, 0.5, 0.5}));
  EXPECT_EQ(h["learning_rate"], (std::vector<double>{1, 1, 1, 1, 0.5, 0.5, 0.5}));

  Sequential<float> flat = regression(1.0);
  const History h2 = flat.fit(
      inputs(4), Tensor<float>::zeros({4, 1}),
      {.epochs = 7,
       .verbose = 0,
       .callbacks = {script("val_loss", {1, 1, 1, 1, 1, 1, 1}),
                     ReduceLROnPlateau<float>({.factor = 0.5, .patience = 1, .cooldown = 2})}});
  EXPECT_EQ(h2["learning_rate"], (std::vector<double>{1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125}));
  expect_error<ValueError>([] { ReduceLROnPlateau<float>({.factor = 1.5}); },
                           {"ReduceLROnPlateau", "factor", "1.5"});
}

TEST(Callbacks, LearningRateSchedulerSetsTheRateBeforeEachEpoch) {
  Sequential<float> m = regression(0.8);
  const History h = m.fit(inputs(4), Tensor<float>::zeros({4, 1}),
                          {.epochs = 4,
                           .verbose = 0,
                           .callbacks = {LearningRateScheduler<float>(
                               [](int epoch, double lr) { return epoch < 2 ? lr : lr * 0.5; })}});
  EXPECT_EQ(h["learning_rate"], (std::vector<double>{0.8, 0.8, 0.4, 0.2}));
}

TEST(Callbacks, ScheduledLearningRateIsLogged) {
  Sequential<float> m({.seed = 1});
  m.add(Dense<float>(1, {.input_shape = {3}}));
  m.compile(SGD<float>({.learning_rate = ExponentialDecay(
                            {.initial_learning_rate = 0.1, .decay_steps = 2, .decay_rate = 0.5})}),
            "mse");
  // 2 steps per epoch: after epoch e the optimizer has made 2(e+1) steps.
  const History h =
      m.fit(inputs(4), Tensor<float>::zeros({4, 1}), {.epochs = 3, .batch_size = 2, .verbose = 0});
  EXPECT_EQ(h["learning_rate"], (std::vector<double>{0.05, 0.025, 0.0125}));
}

TEST(Callbacks, CsvLoggerWritesAndAppends) {
  const std::string path = temp_path("log.csv");
  Sequential<float> m = regression();
  const Tensor<float> x = inputs(8);
  const Tensor<float> y = Tensor<float>::zeros({8, 1});
  m.fit(x, y,
        {.epochs = 2, .validation_split = 0.25, .verbose = 0, .callbacks = {CSVLogger(path)}});
  m.fit(x, y,
        {.epochs = 1,
         .validation_split = 0.25,
         .verbose = 0,
         .callbacks = {CSVLogger(path, ",", true)}});
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "epoch,loss,val_loss");
  EXPECT_EQ(lines[1].rfind("0,", 0), 0u);
  EXPECT_EQ(lines[2].rfind("1,", 0), 0u);
  EXPECT_EQ(lines[3].rfind("0,", 0), 0u);  // the appended run, no second header
  expect_error<IoError>(
      [&] {
        m.fit(x, y, {.verbose = 0, .callbacks = {CSVLogger(temp_path("no/such/dir/log.csv"))}});
      },
      {"no/such/dir/log.csv", "CSVLogger"});
}

TEST(Callbacks, ModelCheckpointFormatsPathsAndSavesTheBest) {
  const std::string dir = temp_path("checkpoints");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  Sequential<float> m = regression();
  m.fit(inputs(4), Tensor<float>::zeros({4, 1}),
        {.epochs = 4,
         .verbose = 0,
         .callbacks = {script("val_loss", {0.5, 0.7, 0.25, 0.3}),
                       ModelCheckpoint<float>(dir + "/ckpt-{epoch:02d}-{val_loss:.2f}.safetensors",
                                              {.save_best_only = true})}});
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files,
            (std::vector<std::string>{"ckpt-01-0.50.safetensors", "ckpt-03-0.25.safetensors"}));
  const auto best = load_model<float>(dir + "/ckpt-03-0.25.safetensors");
  EXPECT_EQ(best->epoch(), 3);

  Logs logs{{"loss", 0.123456}};
  EXPECT_EQ(detail::format_checkpoint_path("m-{epoch:03d}-{loss:.3f}-{{x}}", 6, logs),
            "m-007-0.123-{x}");
  expect_error<ValueError>([&] { detail::format_checkpoint_path("{val_acc}", 0, logs); },
                           {"'val_acc'", "not in the logs", "available: epoch, loss"});
  expect_error<ValueError>([] { ModelCheckpoint<float>("m-{epoch:%s}"); }, {"bad format spec"});
  expect_error<ValueError>([] { ModelCheckpoint<float>("m-{epoch"); }, {"unmatched '{'"});
}

TEST(Callbacks, HooksRunInKerasOrder) {
  std::vector<std::string> calls;
  LambdaCallback<float> trace(
      {.on_epoch_begin = [&](int e, Logs&) { calls.push_back("epoch_begin " + std::to_string(e)); },
       .on_epoch_end =
           [&](int e, Logs& logs) {
             calls.push_back("epoch_end " + std::to_string(e) +
                             (logs.count("val_loss") ? " val" : ""));
           },
       .on_train_batch_begin = [&](index_t b,
                                   Logs&) { calls.push_back("batch_begin " + std::to_string(b)); },
       .on_train_batch_end =
           [&](index_t b, Logs& logs) {
             calls.push_back("batch_end " + std::to_string(b) +
                             (logs.count("loss") ? " loss" : ""));
           },
       .on_train_begin = [&](Logs&) { calls.push_back("train_begin"); },
       .on_train_end = [&](Logs&) { calls.push_back("train_end"); }});
  Sequential<float> m = regression();
  m.fit(inputs(6), Tensor<float>::zeros({6, 1}),
        {.epochs = 2,
         .batch_size = 2,
         .validation_split = 1.0 / 3,
         .verbose = 0,
         .initial_epoch = 1,
         .callbacks = {trace}});
  EXPECT_EQ(calls, (std::vector<std::string>{"train_begin", "epoch_begin 1", "batch_begin 0",
                                             "batch_end 0 loss", "batch_begin 1",
                                             "batch_end 1 loss", "epoch_end 1 val", "train_end"}));
}

TEST(Callbacks, StopTrainingFromABatchEndsTheEpoch) {
  Sequential<float> m = regression();
  LambdaCallback<float> stop({.on_train_batch_end = [&](index_t batch, Logs&) {
    if (batch == 1) m.stop_training = true;
  }});
  index_t batches = 0;
  LambdaCallback<float> count({.on_train_batch_end = [&](index_t, Logs&) { ++batches; }});
  const History h = m.fit(inputs(8), Tensor<float>::zeros({8, 1}),
                          {.epochs = 5, .batch_size = 2, .verbose = 0, .callbacks = {stop, count}});
  EXPECT_EQ(batches, 2);
  EXPECT_EQ(h["loss"].size(), 1u);
  EXPECT_EQ(m.epoch(), 0);  // the epoch was cut short
}

TEST(Callbacks, TerminateOnNaNStopsInsteadOfThrowing) {
  Tensor<float> x = inputs(8);
  x.data()[3 * 5] = std::numeric_limits<float>::infinity();  // sample 5, in the third batch
  Sequential<float> plain = regression();
  expect_error<NonFiniteError>(
      [&] {
        plain.fit(x, Tensor<float>::zeros({8, 1}),
                  {.epochs = 1, .batch_size = 2, .shuffle = false, .verbose = 0});
      },
      {"epoch 1, batch 3 of 4"});
  Sequential<float> m = regression();
  std::vector<Tensor<float>> before_bad_batch;
  LambdaCallback<float> record({.on_train_batch_end = [&](index_t batch, Logs&) {
    if (batch == 1) before_bad_batch = m.get_weights();
  }});
  TerminateOnNaN<float> terminate;
  std::ostringstream out;
  const History h = m.fit(x, Tensor<float>::zeros({8, 1}),
                          {.epochs = 3,
                           .batch_size = 2,
                           .shuffle = false,
                           .verbose = 0,
                           .callbacks = {record, terminate},
                           .output = &out});
  EXPECT_TRUE(terminate.terminated());
  EXPECT_NE(out.str().find("Batch 2: Invalid loss, terminating training"), std::string::npos);
  EXPECT_EQ(h["loss"].size(), 1u);
  const auto now = m.get_weights();
  for (std::size_t i = 0; i < now.size(); ++i)
    EXPECT_EQ(now[i].to_vector(), before_bad_batch[i].to_vector());
}

TEST(Callbacks, ProgressLineIsACallbackAndPrintsValidation) {
  Sequential<float> m = regression();
  std::ostringstream out;
  m.fit(inputs(8), Tensor<float>::zeros({8, 1}),
        {.epochs = 2, .validation_split = 0.25, .verbose = 2, .output = &out});
  const std::string text = out.str();
  EXPECT_NE(text.find("Epoch 1/2"), std::string::npos);
  EXPECT_NE(text.find("Epoch 2/2"), std::string::npos);
  EXPECT_NE(text.find("val_loss: "), std::string::npos) << text;
}

TEST(Callbacks, GanAndAutoencoderUseTheSameLoop) {
  // GAN: CSVLogger and EarlyStopping on d_loss work as on any model.
  Sequential<float> g({.name = "g", .seed = 1}), d({.name = "d", .seed = 2});
  g.add(Dense<float>(4, {.activation = "relu"}));
  g.add(Dense<float>(2));
  d.add(Dense<float>(4, {.activation = "relu"}));
  d.add(Dense<float>(1, {.activation = "sigmoid"}));
  GAN<float> gan(std::move(g), std::move(d), 3);
  gan.compile("adam", "adam");
  const std::string csv = temp_path("gan.csv");
  EarlyStopping<float> stop({.monitor = "d_loss", .patience = 0});
  Tensor<float> real({16, 2});
  for (index_t i = 0; i < 32; ++i) real.data()[i] = float(i % 5) * 0.1f;
  const History hg =
      gan.fit(real, {.epochs = 3,
                     .batch_size = 8,
                     .verbose = 0,
                     .callbacks = {script("d_loss", {1.0, 1.0, 1.0}), stop, CSVLogger(csv)}});
  EXPECT_EQ(hg["d_loss"].size(), 2u);  // no improvement at epoch 1 with patience 0
  std::ifstream in(csv);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, "epoch,d_fake,d_loss,d_real,g_loss");

  // Autoencoder: ModelCheckpoint writes a loadable model each epoch.
  Sequential<float> enc, dec;
  enc.add(Dense<float>(2, {.input_shape = {3}}));
  dec.add(Dense<float>(3));
  Autoencoder<float> ae(std::move(enc), std::move(dec));
  ae.compile("adam", "mse");
  const std::string path = temp_path("ae-{epoch}.safetensors");
  ae.fit(inputs(8), {.epochs = 2, .verbose = 0, .callbacks = {ModelCheckpoint<float>(path)}});
  EXPECT_EQ(load_model<float>(temp_path("ae-2.safetensors"))->epoch(), 2);
}

// --- more of fit: sample_weight, class_weight, validation_freq, steps_per_epoch ----------------

std::vector<float> flat_weights(const Model<float>& m) {
  std::vector<float> w;
  for (const Tensor<float>& t : m.get_weights()) w.insert(w.end(), t.begin(), t.end());
  return w;
}

Sequential<double> linear(double learning_rate) {
  Sequential<double> m({.seed = 4});
  m.add(Dense<double>(2, {.input_shape = {3}}));
  m.compile(SGD<double>({.learning_rate = learning_rate}), "mse");
  return m;
}

TEST(FitOptions, SampleWeightIsKerasSumOverBatchSize) {
  // One batch of 8 samples, half of them weighted 0: the loss is sum over the other half / 8,
  // so its gradient is that of the half's mean times 4 / 8, i.e. training on the half alone
  // with half the learning rate gives the same weights.
  Generator gen(3);
  const Tensor<double> x = Tensor<double>::uniform({8, 3}, -1, 1, gen);
  const Tensor<double> y = Tensor<double>::uniform({8, 2}, -1, 1, gen);
  Tensor<double> w({8});
  for (index_t i = 0; i < 8; ++i) w.data()[i] = i % 2 == 0 ? 1.0 : 0.0;
  std::vector<index_t> even = {0, 2, 4, 6};
  Sequential<double> weighted = linear(0.2), half = linear(0.1);
  weighted.fit(x, y,
               {.epochs = 3, .batch_size = 8, .shuffle = false, .verbose = 0, .sample_weight = w});
  half.fit(detail::gather_rows(x, even, 0, 4), detail::gather_rows(y, even, 0, 4),
           {.epochs = 3, .batch_size = 4, .shuffle = false, .verbose = 0});
  const auto a = weighted.get_weights(), b = half.get_weights();
  for (std::size_t k = 0; k < a.size(); ++k)
    for (index_t i = 0; i < a[k].size(); ++i) EXPECT_NEAR(a[k].data()[i], b[k].data()[i], 1e-12);
  // The logged loss is the weighted loss itself: half the half's mean squared error.
  Sequential<double> fresh = linear(0.2);
  const double weighted_loss = fresh.fit(x, y,
                                         {.epochs = 1,
                                          .batch_size = 8,
                                          .shuffle = false,
                                          .verbose = 0,
                                          .sample_weight = w})["loss"][0];
  Sequential<double> fresh_half = linear(0.1);
  const double half_loss = fresh_half.evaluate(detail::gather_rows(x, even, 0, 4),
                                               detail::gather_rows(y, even, 0, 4))["loss"];
  EXPECT_NEAR(weighted_loss, 0.5 * half_loss, 1e-12);
}

TEST(FitOptions, ClassWeightIsASampleWeightByLabel) {
  const auto make = [] {
    Sequential<float> m({.seed = 3});
    m.add(Dense<float>(3, {.activation = "softmax", .input_shape = {3}}));
    m.compile(SGD<float>({.learning_rate = 0.1}), "sparse_categorical_crossentropy", {"accuracy"});
    return m;
  };
  Tensor<float> y({12});
  for (index_t i = 0; i < 12; ++i) y.data()[i] = float(i % 3);
  const std::map<int, double> class_weight = {{0, 1.0}, {1, 3.0}, {2, 0.5}};
  Tensor<float> w({12});
  for (index_t i = 0; i < 12; ++i) w.data()[i] = float(class_weight.at(int(y.data()[i])));
  Sequential<float> by_class = make(), by_sample = make();
  const History hc = by_class.fit(
      inputs(12), y,
      {.epochs = 2, .batch_size = 4, .verbose = 0, .seed = 9, .class_weight = class_weight});
  const History hs = by_sample.fit(
      inputs(12), y, {.epochs = 2, .batch_size = 4, .verbose = 0, .seed = 9, .sample_weight = w});
  expect_same_bits(flat_weights(by_class), flat_weights(by_sample));
  EXPECT_EQ(hc["loss"], hs["loss"]);
  EXPECT_EQ(hc["accuracy"], hs["accuracy"]);

  // One-hot targets: the class is the row's argmax.
  Sequential<float> one_hot({.seed = 3});
  one_hot.add(Dense<float>(3, {.activation = "softmax", .input_shape = {3}}));
  one_hot.compile(SGD<float>({.learning_rate = 0.1}), "categorical_crossentropy");
  Tensor<float> y1({12, 3});
  for (index_t i = 0; i < 12; ++i) y1.data()[i * 3 + i % 3] = 1.0f;
  Sequential<float> one_hot_ref({.seed = 3});
  one_hot_ref.add(Dense<float>(3, {.activation = "softmax", .input_shape = {3}}));
  one_hot_ref.compile(SGD<float>({.learning_rate = 0.1}), "categorical_crossentropy");
  one_hot.fit(inputs(12), y1,
              {.epochs = 1, .batch_size = 4, .verbose = 0, .class_weight = class_weight});
  one_hot_ref.fit(inputs(12), y1, {.epochs = 1, .batch_size = 4, .verbose = 0, .sample_weight = w});
  expect_same_bits(flat_weights(one_hot), flat_weights(one_hot_ref));
}

TEST(FitOptions, WeightedMetricsAreWeightedMeans) {
  Accuracy<float> acc;
  Tensor<float> y_pred({3, 2}), y_true({3});
  const float p[] = {0.9f, 0.1f, 0.2f, 0.8f, 0.7f, 0.3f};  // predicts 0, 1, 0
  std::copy(p, p + 6, y_pred.data());
  y_true.data()[0] = 0;  // hit
  y_true.data()[1] = 0;  // miss
  y_true.data()[2] = 0;  // hit
  Tensor<float> w({3});
  w.data()[0] = 1;
  w.data()[1] = 2;
  w.data()[2] = 1;
  acc.update(y_pred, y_true, &w);
  EXPECT_DOUBLE_EQ(acc.result(), 2.0 / 4.0);
  expect_error<ShapeError>([&] { acc.update(y_pred, y_true, &y_pred); },
                           {"accuracy", "sample_weight [3, 2]", "one weight per sample"});
}

TEST(FitOptions, BadWeightsNameTheProblem) {
  Sequential<float> m = regression();
  const Tensor<float> x = inputs(6), y = Tensor<float>::zeros({6, 1});
  Tensor<float> w = Tensor<float>::ones({6});
  expect_error<ShapeError>(
      [&] { m.fit(x, y, {.verbose = 0, .sample_weight = Tensor<float>::ones({5})}); },
      {"fit: sample_weight must be [6]", "[5]"});
  w.data()[4] = -1.0f;
  expect_error<ValueError>([&] { m.fit(x, y, {.verbose = 0, .sample_weight = w}); },
                           {"fit: sample_weight -1 of sample 4", "non-negative"});
  w.data()[4] = std::numeric_limits<float>::quiet_NaN();
  expect_error<ValueError>([&] { m.fit(x, y, {.verbose = 0, .sample_weight = w}); },
                           {"sample 4", "finite"});
  expect_error<ValueError>(
      [&] {
        m.fit(
            x, y,
            {.verbose = 0, .sample_weight = Tensor<float>::ones({6}), .class_weight = {{0, 1.0}}});
      },
      {"fit: give sample_weight or class_weight, not both"});
  expect_error<ValueError>(
      [&] { m.fit(x, {.verbose = 0, .sample_weight = Tensor<float>::ones({6})}); },
      {"sample_weight and class_weight need targets y"});
  Tensor<float> labels({6});
  labels.data()[5] = 2.0f;
  expect_error<ValueError>(
      [&] {
        m.fit(x, labels.reshape({6, 1}), {.verbose = 0, .class_weight = {{0, 1.0}}});
      },
      {"fit: class_weight has no weight for class 2", "sample 5"});
  expect_error<ValueError>(
      [&] {
        m.fit(x, labels.reshape({6, 1}), {.verbose = 0, .class_weight = {{0, -2.0}}});
      },
      {"fit: class_weight -2 of class 0"});
  expect_error<ValueError>([&] { m.fit(x, y, {.verbose = 0, .validation_freq = 0}); },
                           {"fit: validation_freq must be positive, got 0"});
  expect_error<ValueError>([&] { m.fit(x, y, {.verbose = 0, .steps_per_epoch = -1}); },
                           {"fit: steps_per_epoch must be positive", "got -1"});
}

TEST(FitOptions, ValidationFreqValidatesEveryNthEpoch) {
  Sequential<float> m = regression();
  const History h = m.fit(
      inputs(12), Tensor<float>::zeros({12, 1}),
      {.epochs = 5, .batch_size = 4, .validation_split = 0.25, .verbose = 0, .validation_freq = 2});
  EXPECT_EQ(h["loss"].size(), 5u);
  EXPECT_EQ(h["val_loss"].size(), 2u);
  EXPECT_EQ(h.epochs_of.at("val_loss"), (std::vector<int>{1, 3}));
  EXPECT_EQ(h.epoch, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(FitOptions, StepsPerEpochContinuesThePassAsKerasDoes) {
  // 10 samples in batches of 4: 3 batches per pass. With 2 steps per epoch, epoch 0 takes
  // batches 0-1, epoch 1 batch 2 (the pass runs out), epoch 2 a new pass's batches 0-1, ...
  std::vector<int> batches_per_epoch;
  LambdaCallback<float> count(
      {.on_epoch_begin = [&](int, Logs&) { batches_per_epoch.push_back(0); },
       .on_train_batch_end = [&](index_t, Logs&) { ++batches_per_epoch.back(); }});
  const auto make = [] { return regression(); };
  Sequential<float> m = make();
  const Tensor<float> x = inputs(10), y = Tensor<float>::zeros({10, 1});
  m.fit(x, y,
        {.epochs = 4,
         .batch_size = 4,
         .verbose = 0,
         .seed = 3,
         .callbacks = {count},
         .steps_per_epoch = 2});
  EXPECT_EQ(batches_per_epoch, (std::vector<int>{2, 1, 2, 1}));

  // Resuming at epoch 3 picks up the pass where the uninterrupted run was: same weights.
  Sequential<float> first = make();
  first.fit(x, y, {.epochs = 3, .batch_size = 4, .verbose = 0, .seed = 3, .steps_per_epoch = 2});
  first.fit(x, y,
            {.epochs = 4,
             .batch_size = 4,
             .verbose = 0,
             .seed = 3,
             .initial_epoch = 3,
             .steps_per_epoch = 2});
  expect_same_bits(flat_weights(first), flat_weights(m));

  // Without steps_per_epoch an epoch is one pass, as before.
  batches_per_epoch.clear();
  Sequential<float> plain = make();
  plain.fit(x, y, {.epochs = 2, .batch_size = 4, .verbose = 0, .callbacks = {count}});
  EXPECT_EQ(batches_per_epoch, (std::vector<int>{3, 3}));
}

}  // namespace
}  // namespace lamina
