#include "lamina/models/sequential.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <sstream>

#include <lamina/lamina.hpp>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

/// Two concentric noisy rings (not linearly separable): label 1 for the inner ring.
std::pair<Tensor<float>, Tensor<float>> rings(index_t n, std::uint64_t seed) {
  Generator gen(seed);
  Tensor<float> x({n, 2}), y({n, 1});
  for (index_t i = 0; i < n; ++i) {
    const bool inner = i % 2 == 0;
    const double r = (inner ? 0.5 : 1.0) + 0.08 * gen.normal();
    const double a = gen.uniform(0.0, 6.283185307179586);
    x.at({i, 0}) = float(r * std::cos(a));
    x.at({i, 1}) = float(r * std::sin(a));
    y.at({i, 0}) = inner ? 1.0f : 0.0f;
  }
  return {x, y};
}

Sequential<float> tutorial_cnn() {
  Sequential<float> model;
  model.add(Conv2D(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}));
  model.add(MaxPooling2D({2, 2}));
  model.add(Conv2D(64, {3, 3}, {.activation = "relu"}));
  model.add(MaxPooling2D({2, 2}));
  model.add(Flatten());
  model.add(Dense(64, {.activation = "relu"}));
  model.add(Dense(10, {.activation = "softmax"}));
  return model;
}

TEST(Sequential, MlpLearnsRingsAbove95Percent) {
  const auto [x, y] = rings(512, 1);
  const auto [x_test, y_test] = rings(256, 2);
  Sequential<float> model({.seed = 3});
  model.add(Dense(16, {.activation = "relu", .input_shape = {2}}));
  model.add(Dense(16, {.activation = "relu"}));
  model.add(Dense(1, {.activation = "sigmoid"}));
  model.compile(Adam({.learning_rate = 0.01}), "binary_crossentropy", {"accuracy"});
  const History h = model.fit(x, y, {.epochs = 60, .batch_size = 32, .verbose = 0, .seed = 4});
  EXPECT_EQ(h.epochs, 60);
  EXPECT_LT(h["loss"].back(), h["loss"].front());
  const Logs test = model.evaluate(x_test, y_test);
  EXPECT_GT(test.at("accuracy"), 0.95) << "test loss " << test.at("loss");
}

TEST(Sequential, SummaryMatchesKerasParameterCounts) {
  Sequential<float> model = tutorial_cnn();
  std::ostringstream out;
  model.summary(out);
  const std::string s = out.str();
  for (const char* row : {"conv2d (Conv2D)",
                          "(None, 26, 26, 32)",
                          "320",
                          "max_pooling2d (MaxPooling2D)",
                          "(None, 13, 13, 32)",
                          "conv2d_1 (Conv2D)",
                          "(None, 11, 11, 64)",
                          "18,496",
                          "max_pooling2d_1 (MaxPooling2D)",
                          "(None, 5, 5, 64)",
                          "flatten (Flatten)",
                          "(None, 1600)",
                          "dense (Dense)",
                          "102,464",
                          "dense_1 (Dense)",
                          "(None, 10)",
                          "650",
                          "Total params: 121,930",
                          "Trainable params: 121,930",
                          "Non-trainable params: 0"}) {
    EXPECT_NE(s.find(row), std::string::npos) << "missing \"" << row << "\" in\n" << s;
  }
  const std::vector<index_t> counts = {320, 0, 18496, 0, 0, 102464, 650};
  for (std::size_t i = 0; i < counts.size(); ++i)
    EXPECT_EQ(model.layer(i).count_params(), counts[i]);
}

TEST(Sequential, ListOfLayersBuildsTheSameModelAsAdd) {
  // Keras's Sequential([Conv2D(32, 3, activation="relu", input_shape=...), ...]).
  Sequential<float> listed(
      {Conv2D(32, 3, {.activation = "relu", .input_shape = {28, 28, 1}}), MaxPooling2D(2),
       Conv2D(64, 3, {.activation = "relu"}), MaxPooling2D(2), Flatten(),
       std::make_shared<Dense<float>>(64, DenseOptions{.activation = "relu"}),
       Dense(10, {.activation = "softmax"})},
      {.name = "listed"});
  Sequential<float> added = tutorial_cnn();
  EXPECT_EQ(listed.name(), "listed");
  ASSERT_TRUE(listed.built());
  ASSERT_EQ(listed.layers().size(), added.layers().size());
  for (std::size_t i = 0; i < added.layers().size(); ++i) {
    EXPECT_EQ(listed.layer(i).type(), added.layer(i).type());
    EXPECT_EQ(listed.layer(i).output_shape(), added.layer(i).output_shape());
  }
  EXPECT_EQ(listed.count_params(), 121930);
  EXPECT_EQ(added.count_params(), 121930);
}

TEST(Sequential, GetLayerFindsLayersByName) {
  Sequential<float> model = tutorial_cnn();
  EXPECT_EQ(&model.get_layer("conv2d_1"), &model.layer(2));
  EXPECT_EQ(model.get_layer("dense_1").count_params(), 650);
  expect_error<ValueError>([&] { model.get_layer("dense_7"); },
                           {"get_layer", "'dense_7'", "conv2d, max_pooling2d, conv2d_1"});
  Sequential<float> unbuilt({Dense(4)});
  expect_error<ValueError>([&] { unbuilt.count_params(); }, {"count_params", "built"});
}

TEST(Sequential, ProgressLineLooksLikeKeras) {
  const auto [x, y] = rings(100, 5);
  Sequential<float> model;
  model.add(Dense(4, {.activation = "relu"}));
  model.add(Dense(1, {.activation = "sigmoid"}));
  model.compile("sgd", "binary_crossentropy", {"accuracy"});
  std::ostringstream out;
  model.fit(x, y, {.epochs = 2, .batch_size = 32, .validation_split = 0.2, .output = &out});
  const std::string s = out.str();
  const std::regex line(
      "Epoch 2/2\n3/3 \\[==============================\\] - \\d+s \\d+(ms|us|s)/step - loss: "
      "\\d\\.\\d{4} - accuracy: \\d\\.\\d{4} - val_loss: \\d\\.\\d{4} - val_accuracy: "
      "\\d\\.\\d{4}\n$");
  EXPECT_TRUE(std::regex_search(s, line)) << s;
}

TEST(Sequential, HistoryRecordsValidationAndPredictIsBatched) {
  const auto [x, y] = rings(200, 6);
  Sequential<float> model;
  model.add(Dense(8, {.activation = "tanh"}));
  model.add(Dense(1, {.activation = "sigmoid"}));
  model.compile("adam", "binary_crossentropy", {"accuracy", "mae"});
  const History h = model.fit(
      x, y,
      {.epochs = 3, .validation_data = std::pair{x.slice(0, 50), y.slice(0, 50)}, .verbose = 0});
  for (const char* key : {"loss", "accuracy", "mae", "val_loss", "val_accuracy", "val_mae"})
    EXPECT_EQ(h[key].size(), 3u) << key;
  expect_error<ValueError>([&] { (void)h["precision"]; }, {"precision", "loss"});
  const Tensor<float> all = model.predict(x, {.batch_size = 7});
  const Tensor<float> one = model(Variable<float>(x)).value();
  ASSERT_EQ(all.shape(), (Shape{200, 1}));
  for (index_t i = 0; i < all.size(); ++i) EXPECT_FLOAT_EQ(all.data()[i], one.data()[i]);
}

TEST(Sequential, SameSeedGivesBitwiseIdenticalWeights) {
  const auto [x, y] = rings(128, 7);
  const auto train = [&] {
    Sequential<float> model({.seed = 11});
    model.add(Dense(8, {.activation = "relu"}));
    model.add(Dropout(0.25));
    model.add(Dense(1, {.activation = "sigmoid"}));
    model.compile("adam", "binary_crossentropy");
    model.fit(x, y, {.epochs = 3, .batch_size = 16, .verbose = 0, .seed = 12});
    std::vector<float> w;
    for (const Variable<float>& v : model.trainable_variables())
      w.insert(w.end(), v.value().begin(), v.value().end());
    return w;
  };
  const std::vector<float> a = train(), b = train();
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

TEST(Sequential, FusedSoftmaxCrossEntropyMatchesProbabilityPath) {
  Generator gen(8);
  const Tensor<double> x = Tensor<double>::uniform({6, 5}, -1, 1, gen);
  const Tensor<double> y({6}, {0, 1, 2, 0, 1, 2});
  Sequential<double> fused({.seed = 1}), plain({.seed = 1});
  fused.add(Dense<double>(3, {.activation = "softmax"}));
  plain.add(Dense<double>(3));
  plain.add(Activation<double>("softmax"));
  fused.compile(SGD<double>(), SparseCategoricalCrossentropy<double>());
  plain.compile(SGD<double>(), SparseCategoricalCrossentropy<double>());
  fused.build({5});
  plain.build({5});
  plain.layer(0).set_weights(fused.layer(0).get_weights());
  // Activation fuses too (it reports softmax as its output activation); compare with the
  // loss computed on probabilities directly.
  const Variable<double> probs = fused(Variable<double>(x));
  const double direct = SparseCategoricalCrossentropy<double>()(probs, y).item();
  EXPECT_NEAR(fused.evaluate(x, y).at("loss"), direct, 1e-12);
  EXPECT_NEAR(plain.evaluate(x, y).at("loss"), direct, 1e-12);
}

/// Sequences [n, steps, 2] with a label per step [n, steps]: how many of the step's two features
/// are positive (0, 1 or 2).
std::pair<Tensor<float>, Tensor<float>> counting_sequences(index_t n, index_t steps,
                                                           std::uint64_t seed) {
  Generator gen(seed);
  const Tensor<float> x = Tensor<float>::uniform({n, steps, 2}, -1, 1, gen);
  Tensor<float> y({n, steps});
  for (index_t i = 0; i < n * steps; ++i)
    y.data()[i] = float(x.data()[2 * i] > 0) + float(x.data()[2 * i + 1] > 0);
  return {x, y};
}

TEST(Sequential, ReturnSequencesTrainsOnALabelPerStep) {
  // What a return_sequences model trains on, as in Keras: outputs [batch, steps, classes],
  // labels [batch, steps], loss and accuracy over every batch * steps position.
  const auto [x, y] = counting_sequences(96, 5, 1);
  for (const bool lstm : {false, true}) {
    SCOPED_TRACE(lstm ? "LSTM" : "SimpleRNN");
    Sequential<float> model({.seed = 3});
    if (lstm)
      model.add(LSTM(16, {.return_sequences = true, .input_shape = {5, 2}}));
    else
      model.add(SimpleRNN(16, {.return_sequences = true, .input_shape = {5, 2}}));
    model.add(Dense(3, {.activation = "softmax"}));
    model.compile(Adam({.learning_rate = 0.01}), "sparse_categorical_crossentropy", {"accuracy"});
    EXPECT_EQ(model.predict(x).shape(), (Shape{96, 5, 3}));
    const History h = model.fit(x, y, {.epochs = 60, .batch_size = 16, .verbose = 0, .seed = 2});
    EXPECT_LT(h["loss"].back(), 0.5 * h["loss"].front())
        << "first " << h["loss"].front() << ", last " << h["loss"].back();
    EXPECT_GT(h["accuracy"].back(), 0.9) << "first " << h["accuracy"].front();
    // evaluate's figures are the loss and accuracy over all positions.
    const Tensor<float> probs = model.predict(x);
    const double loss = SparseCategoricalCrossentropy<float>()(Variable<float>(probs), y).item();
    EXPECT_NEAR(model.evaluate(x, y).at("loss"), loss, 1e-5);
  }
}

TEST(SequentialErrors, SequenceLabelOutOfRangeNamesItsPosition) {
  auto [x, y] = counting_sequences(48, 4, 2);
  y.at({40, 2}) = 3;
  Sequential<float> model;
  model.add(SimpleRNN(4, {.return_sequences = true, .input_shape = {4, 2}}));
  model.add(Dense(3, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  expect_error<ValueError>(
      [&] { model.fit(x, y, {.verbose = 0}); },
      {"sparse_categorical_crossentropy", "label 3", "position [40, 2]", "[0, 3)"});
}

TEST(Sequential, LearningRateCanChangeBetweenEpochs) {
  const auto [x, y] = rings(64, 9);
  Sequential<float> model;
  model.add(Dense(1, {.activation = "sigmoid"}));
  model.compile(SGD({.learning_rate = 0.1}), "binary_crossentropy");
  std::vector<double> seen;
  model.fit(x, y, {.epochs = 3, .verbose = 0, .on_epoch_end = [&](int, const Logs&) {
                     seen.push_back(model.optimizer().learning_rate());
                     model.optimizer().set_learning_rate(model.optimizer().learning_rate() / 2);
                   }});
  EXPECT_EQ(seen, (std::vector<double>{0.1, 0.05, 0.025}));
}

TEST(Sequential, NonFiniteLossStopsWithEpochAndBatch) {
  auto [x, y] = rings(96, 10);
  y.at({70, 0}) = std::nanf("");  // batch 3 of 3 at batch_size 32 without shuffling
  Sequential<float> model;
  model.add(Dense(1));
  model.compile("sgd", "mse");
  expect_error<Error>([&] { model.fit(x, y, {.epochs = 2, .shuffle = false, .verbose = 0}); },
                      {"fit", "nan", "epoch 1", "batch 3 of 3"});
}

TEST(Sequential, LayerAddedAfterTrainingIsTrainedByTheNextFit) {
  // Issue 14's bug: the optimizer kept the variables of its first step, so a layer added after a
  // fit was silently never trained. The optimizer now learns about new variables at each fit
  // (fresh state for them, the iteration count and the other layers' state carried over).
  const auto [x, y] = rings(64, 12);
  Sequential<float> model({.seed = 5});
  model.add(Dense(4, {.activation = "tanh", .input_shape = {2}}));
  model.add(Dense(1, {.activation = "sigmoid"}));
  model.compile(Adam({.learning_rate = 0.01}), "binary_crossentropy");
  model.fit(x, y, {.epochs = 2, .batch_size = 16, .verbose = 0});
  EXPECT_EQ(model.optimizer().iterations(), 8);

  model.add(Dense(1, {.activation = "sigmoid"}));
  Layer<float>* added = model.layers()[2];
  const Tensor<float> kernel_before = added->weights()[0].variable.value().clone();
  const Tensor<float> first_before = model.layers()[0]->weights()[0].variable.value().clone();
  model.fit(x, y, {.epochs = 2, .batch_size = 16, .verbose = 0});
  EXPECT_EQ(model.optimizer().iterations(), 16);
  EXPECT_EQ(model.optimizer().parameters().size(), 6u);
  EXPECT_NE(added->weights()[0].variable.value().to_vector(), kernel_before.to_vector());
  EXPECT_NE(model.layers()[0]->weights()[0].variable.value().to_vector(), first_before.to_vector());
}

TEST(Sequential, LayerMadeNonTrainableAfterCompileIsNotTrainedByTheNextFit) {
  // Keras documents that a change of `trainable` needs a new compile(); here it takes effect at
  // the next fit either way. Adam would otherwise keep moving the frozen weights by their
  // momentum even with zero gradients.
  const auto [x, y] = rings(64, 13);
  Sequential<float> model({.seed = 6});
  model.add(Dense(4, {.activation = "tanh", .input_shape = {2}}));
  model.add(Dense(1, {.activation = "sigmoid"}));
  model.compile(Adam({.learning_rate = 0.01}), "binary_crossentropy");
  model.fit(x, y, {.epochs = 2, .batch_size = 16, .verbose = 0});

  Layer<float>& frozen = *model.layers()[0];
  frozen.set_trainable(false);
  const Tensor<float> kernel = frozen.weights()[0].variable.value().clone();
  const Tensor<float> bias = frozen.weights()[1].variable.value().clone();
  const Tensor<float> last = model.layers()[1]->weights()[0].variable.value().clone();
  model.fit(x, y, {.epochs = 2, .batch_size = 16, .verbose = 0});
  EXPECT_EQ(frozen.weights()[0].variable.value().to_vector(), kernel.to_vector());
  EXPECT_EQ(frozen.weights()[1].variable.value().to_vector(), bias.to_vector());
  EXPECT_NE(model.layers()[1]->weights()[0].variable.value().to_vector(), last.to_vector());
  EXPECT_EQ(model.optimizer().parameters().size(), 2u);

  // Trainable again: trained again from the next fit (its optimizer state starts afresh).
  frozen.set_trainable(true);
  model.fit(x, y, {.epochs = 1, .batch_size = 16, .verbose = 0});
  EXPECT_NE(frozen.weights()[0].variable.value().to_vector(), kernel.to_vector());
}

TEST(Sequential, LayerFrozenBetweenCompileAndTheFirstFitIsNeverTrained) {
  const auto [x, y] = rings(32, 14);
  Sequential<float> model({.seed = 7});
  model.add(Dense(4, {.activation = "tanh", .input_shape = {2}}));
  model.add(Dense(1, {.activation = "sigmoid"}));
  model.compile("adam", "binary_crossentropy");
  model.layers()[1]->set_trainable(false);
  const Tensor<float> kernel = model.layers()[1]->weights()[0].variable.value().clone();
  model.fit(x, y, {.epochs = 1, .verbose = 0});
  EXPECT_EQ(model.layers()[1]->weights()[0].variable.value().to_vector(), kernel.to_vector());
}

TEST(Sequential, UseEmaLeavesTheMovingAverageOfTheWeightsAfterFit) {
  // Keras 3: with use_ema the optimizer keeps an average of each weight and fit ends by
  // overwriting the weights with it; the averages are saved with the model like other state.
  const auto [x, y] = rings(64, 15);
  auto run = [&](bool use_ema) {
    Sequential<float> model({.seed = 8});
    model.add(Dense(4, {.activation = "tanh", .input_shape = {2}}));
    model.add(Dense(1, {.activation = "sigmoid"}));
    model.compile(Adam({.learning_rate = 0.05, .use_ema = use_ema, .ema_momentum = 0.9}),
                  "binary_crossentropy");
    model.fit(x, y, {.epochs = 3, .batch_size = 16, .verbose = 0, .seed = 9});
    if (use_ema) {
      Optimizer<float>& opt = model.optimizer();
      EXPECT_EQ(opt.parameters().size(), 4u);
      for (std::size_t i = 0; i < opt.parameters().size(); ++i) {
        const auto state = opt.state_tensors(i);
        EXPECT_EQ(state.back().first, "average");
        EXPECT_EQ(state.back().second.to_vector(), opt.parameters()[i].value().to_vector());
      }
      const std::string path = ::testing::TempDir() + "sequential_ema.safetensors";
      model.save(path);
      const auto loaded = load_model<float>(path);
      EXPECT_TRUE(loaded->optimizer().use_ema());
      const auto state = loaded->optimizer().state_tensors(0);
      EXPECT_EQ(state.back().first, "average");
      EXPECT_EQ(state.back().second.to_vector(), opt.state_tensors(0).back().second.to_vector());
    }
    return model.get_weights();
  };
  const auto plain = run(false);
  const auto averaged = run(true);
  ASSERT_EQ(plain.size(), averaged.size());
  EXPECT_NE(plain[0].to_vector(), averaged[0].to_vector());
}

/// A model that is not a plain stack: a residual block whose layers the model owns.
class Residual : public Model<float> {
 public:
  Residual() : Model<float>("residual") {}
  Variable<float> call(const Variable<float>& x) override { return out_(add(x, hidden_(x))); }

 private:
  Dense<float>& hidden_ = add_layer(Dense<float>(2, {.activation = "tanh"}));
  Dense<float>& out_ = add_layer(Dense<float>(1, {.activation = "sigmoid"}));
};

TEST(Model, CustomModelTrainsWithTrackedLayers) {
  const auto [x, y] = rings(256, 11);
  Residual model;
  model.compile(Adam({.learning_rate = 0.02}), "binary_crossentropy", {"accuracy"});
  const History h = model.fit(x, y, {.epochs = 20, .verbose = 0});
  EXPECT_EQ(model.trainable_variables().size(), 4u);
  EXPECT_EQ(model.layers()[0]->name(), "dense");
  EXPECT_EQ(model.layers()[1]->name(), "dense_1");
  EXPECT_LT(h["loss"].back(), h["loss"].front());
  Residual moved = std::move(model);  // layers are owned through shared pointers
  EXPECT_EQ(moved.predict(x).shape(), (Shape{256, 1}));
}

TEST(SequentialErrors, BadInputsNameWhatIsWrong) {
  Sequential<float> model = tutorial_cnn();
  Tensor<float> x({4, 28, 28, 1}), y({4}, {0, 1, 2, 3});
  expect_error<Error>([&] { model.fit(x, y); }, {"fit", "compile"});
  expect_error<Error>([&] { model.evaluate(x, y); }, {"evaluate", "compile"});
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  expect_error<ShapeError>(
      [&] {
        model.fit(Tensor<float>({4, 28, 28, 3}), y);
      },
      {"Conv2D \"conv2d\"", "[*, 28, 28, 1]", "[4, 28, 28, 3]"});
  expect_error<ShapeError>([&] { model.fit(x, Tensor<float>({3})); }, {"fit", "4", "3"});
  expect_error<ValueError>(
      [&] {
        model.fit(Tensor<float>({0, 28, 28, 1}), Tensor<float>({0}));
      },
      {"fit", "empty"});
  expect_error<ValueError>(
      [&] {
        model.fit(x, Tensor<float>({4}, {0, 1, 10, 3}), {.verbose = 0});
      },
      {"sparse_categorical_crossentropy", "label 10", "index 2", "[0, 10)"});
  expect_error<ValueError>([&] { model.fit(x, y, {.epochs = 0}); }, {"epochs", "0"});
  expect_error<ValueError>([&] { model.fit(x, y, {.batch_size = -1}); }, {"batch_size", "-1"});
  expect_error<ValueError>([&] { model.fit(x, y, {.validation_split = 1.0}); },
                           {"validation_split", "[0, 1)"});
  expect_error<ValueError>([&] { model.compile("adamx", "mse"); }, {"adamx", "adamax", "adamw"});
  expect_error<ValueError>([&] { model.compile("adam", "mean_cubed_error"); },
                           {"mean_cubed_error", "mse", "hinge"});
  expect_error<ValueError>([&] { model.compile("adam", "mse", {"f1_score"}); },
                           {"f1_score", "accuracy", "auc"});
  expect_error<ValueError>([&] { Dense(3, {.activation = "swishy"}); }, {"swishy", "relu"});
  expect_error<ValueError>(
      [&] {
        Conv2D(3, {3, 3}, {.padding = "full"});
      },
      {"full", "valid, same"});
  Sequential<float> empty;
  expect_error<Error>([&] { empty.summary(); }, {"summary", "built"});
}

TEST(SequentialErrors, WrongInputShapeAfterBuildNamesLayer) {
  Sequential<float> model;
  model.add(Dense(8, {.input_shape = {1600}}));
  model.add(Dense(2));
  model.compile("sgd", "mse");
  expect_error<ShapeError>(
      [&] {
        model.predict(Tensor<float>({32, 1024}));
      },
      {"Dense \"dense\"", "expected input [*, 1600]", "got [32, 1024]"});
}

}  // namespace
}  // namespace lamina
