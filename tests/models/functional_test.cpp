#include "lamina/models/functional.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <lamina/lamina.hpp>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

Tensor<float> random_tensor(Shape shape, std::uint64_t seed) {
  Generator gen(seed);
  Tensor<float> t(std::move(shape));
  for (index_t i = 0; i < t.size(); ++i) t.data()[i] = float(gen.normal());
  return t;
}

bool same_values(const Tensor<float>& a, const Tensor<float>& b) {
  return a.shape() == b.shape() && std::equal(a.begin(), a.end(), b.begin());
}

TEST(Functional, MlpHasKerasLayersNamesAndShapes) {
  auto inputs = Input<float>({784});
  EXPECT_EQ(inputs.shape(), Shape({784}));
  auto x = Dense(64, {.activation = "relu"})(inputs);
  EXPECT_EQ(x.shape(), Shape({64}));
  x = Dense(64, {.activation = "relu"})(x);
  auto outputs = Dense(10)(x);
  Model<float> model(inputs, outputs, {.name = "mnist_model"});
  EXPECT_EQ(model.name(), "mnist_model");
  EXPECT_EQ(model.class_name(), "Functional");
  EXPECT_TRUE(model.built());
  ASSERT_EQ(model.layers().size(), 4u);
  EXPECT_EQ(model.layers()[0]->type(), "InputLayer");
  EXPECT_EQ(model.layers()[0]->name(), "input_layer");
  EXPECT_EQ(model.layers()[1]->name(), "dense");
  EXPECT_EQ(model.layers()[3]->name(), "dense_2");
  // Keras's documentation: 55,050 parameters.
  EXPECT_EQ(model.count_params(), 55050);
  EXPECT_EQ(Model<float>(inputs, outputs).name(), "functional");
}

TEST(Functional, PredictsWhatItsLayersComputeInOrder) {
  auto dense1 = std::make_shared<Dense<float>>(8, DenseOptions{.activation = "tanh"});
  auto dense2 = std::make_shared<Dense<float>>(3, DenseOptions{.activation = "softmax"});
  auto inputs = Input<float>({5});
  Model<float> model(inputs, (*dense2)((*dense1)(inputs)));
  const Tensor<float> x = random_tensor({7, 5}, 1);
  const Tensor<float> y = model.predict(x);
  NoGradGuard no_grad;
  const Tensor<float> by_hand = (*dense2)((*dense1)(Variable<float>(x))).value();
  EXPECT_TRUE(same_values(y, by_hand));
  // The layers held by shared_ptr are the model's own.
  EXPECT_EQ(&model.get_layer("dense"), dense1.get());
}

/// The same network as a Sequential and as a functional model, same weights, same data:
/// training gives bitwise the same weights (the functional model runs the same ops in the
/// same order, and fuses softmax with the cross-entropy the same way).
TEST(Functional, TrainsExactlyAsTheEquivalentSequential) {
  Sequential<float> seq(
      {Dense(16, {.activation = "relu", .input_shape = {6}}), Dense(4, {.activation = "softmax"})},
      {.seed = 3});
  auto inputs = Input<float>({6});
  auto h = Dense(16, {.activation = "relu"})(inputs);
  Model<float> fun(inputs, Dense(4, {.activation = "softmax"})(h));
  fun.set_weights(seq.get_weights());
  const Tensor<float> x = random_tensor({40, 6}, 2);
  Tensor<float> y({40});
  for (index_t i = 0; i < 40; ++i) y.data()[i] = float(i % 4);
  for (Model<float>* m : {static_cast<Model<float>*>(&seq), &fun}) {
    m->compile(Adam(), "sparse_categorical_crossentropy", {"accuracy"});
    m->fit(x, y, {.epochs = 2, .batch_size = 8, .verbose = 0, .seed = 5});
  }
  const auto a = seq.get_weights(), b = fun.get_weights();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(same_values(a[i], b[i])) << i;
  EXPECT_EQ(seq.evaluate(x, y).at("loss"), fun.evaluate(x, y).at("loss"));
}

TEST(Functional, ResidualBlockAddsTheSkipConnection) {
  auto inputs = Input<float>({8, 8, 3});
  auto x = Conv2D(4, 3, {.padding = "same", .activation = "relu"})(inputs);
  auto block = Conv2D(4, 3, {.padding = "same"})(x);
  auto merged = Add()({block, x});
  auto outputs = Dense(2)(GlobalAveragePooling2D()(merged));
  Model<float> model(inputs, outputs);
  EXPECT_EQ(merged.shape(), Shape({8, 8, 4}));
  EXPECT_EQ(model.layers().size(), 6u);
  EXPECT_EQ(model.count_params(), (27 * 4 + 4) + (36 * 4 + 4) + (4 * 2 + 2));
  const Tensor<float> xs = random_tensor({3, 8, 8, 3}, 4);
  NoGradGuard no_grad;
  const Variable<float> conv1 = model.get_layer("conv2d")(Variable<float>(xs));
  const Variable<float> conv2 = model.get_layer("conv2d_1")(conv1);
  const Variable<float> pooled = model.get_layer("global_average_pooling2d")(add(conv2, conv1));
  EXPECT_TRUE(same_values(model.predict(xs), model.get_layer("dense")(pooled).value()));
}

TEST(Functional, TwoInputsTwoOutputsShapesAndCounts) {
  // Keras's guide: a ticket classifier with a title, a body, and two outputs.
  auto title = Input<float>({10}, {.name = "title"});
  auto body = Input<float>({20}, {.name = "body"});
  auto features = Concatenate()({Dense(8)(title), Dense(8)(body)});
  auto priority = Dense(1, {.activation = "sigmoid", .name = "priority"})(features);
  auto department = Dense(4, {.activation = "softmax", .name = "department"})(features);
  Model<float> model({title, body}, {priority, department});
  EXPECT_EQ(features.shape(), Shape({16}));
  EXPECT_EQ(model.count_params(), (10 * 8 + 8) + (20 * 8 + 8) + (16 + 1) + (16 * 4 + 4));
  EXPECT_EQ(model.get_layer("title").type(), "InputLayer");
  expect_error<ValueError>([&] { model.predict(random_tensor({2, 10}, 1)); }, {"2 inputs"});
}

/// Keras's multi-input, multi-output example: per-output losses and loss weights, logs per
/// output, predict_outputs; the total loss is the weighted sum of the outputs' losses.
TEST(Functional, TwoInputsTwoOutputsTrainWithWeightedLosses) {
  auto title = Input<float>({10}, {.name = "title"});
  auto body = Input<float>({20}, {.name = "body"});
  auto features = Concatenate()({Dense(8, {.activation = "relu"})(title), Dense(8)(body)});
  auto priority = Dense(1, {.activation = "sigmoid", .name = "priority"})(features);
  auto department = Dense(4, {.activation = "softmax", .name = "department"})(features);
  Model<float> model({title, body}, {priority, department});
  model.compile(Adam({.learning_rate = 0.01}),
                {"binary_crossentropy", "sparse_categorical_crossentropy"}, {"accuracy"},
                {1.0, 0.2});
  const index_t n = 64;
  const Tensor<float> x1 = random_tensor({n, 10}, 1), x2 = random_tensor({n, 20}, 2);
  Tensor<float> y1({n, 1}), y2({n});
  for (index_t i = 0; i < n; ++i) {
    y1.data()[i] = x1.data()[i * 10] > 0 ? 1.0f : 0.0f;
    y2.data()[i] = float(i % 4);
  }
  const Logs before = model.evaluate({x1, x2}, {y1, y2});
  for (const char* key :
       {"loss", "priority_loss", "department_loss", "priority_accuracy", "department_accuracy"})
    EXPECT_TRUE(before.contains(key)) << key;
  EXPECT_NEAR(before.at("loss"), before.at("priority_loss") + 0.2 * before.at("department_loss"),
              1e-5);
  const History h = model.fit({x1, x2}, {y1, y2}, {.epochs = 20, .batch_size = 16, .verbose = 0});
  EXPECT_LT(h["loss"].back(), h["loss"].front());
  EXPECT_LT(h["priority_loss"].back(), h["priority_loss"].front());
  const std::vector<Tensor<float>> outs = model.predict_outputs({x1, x2});
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[0].shape(), Shape({n, 1}));
  EXPECT_EQ(outs[1].shape(), Shape({n, 4}));
  // The logged loss of an output is its loss on predict_outputs's values.
  const Logs after = model.evaluate({x1, x2}, {y1, y2}, {.batch_size = n});
  {
    NoGradGuard no_grad;
    const double bce = BinaryCrossentropy<float>()(Variable<float>(outs[0]), y1).item();
    EXPECT_NEAR(after.at("priority_loss"), bce, 1e-5);
  }
  // Saved with its losses, weights, metrics and optimizer state, it resumes exactly.
  const std::string path = ::testing::TempDir() + "functional_two_outputs.safetensors";
  model.save(path);
  auto loaded = load_model<float>(path);
  EXPECT_EQ(loaded->evaluate({x1, x2}, {y1, y2}, {.batch_size = n}), after);
  const FitOptions<float> more{.epochs = 1, .batch_size = 16, .verbose = 0, .seed = 7};
  model.fit({x1, x2}, {y1, y2}, more);
  loaded->fit({x1, x2}, {y1, y2}, more);
  const auto w = model.get_weights(), v = loaded->get_weights();
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_TRUE(same_values(w[i], v[i])) << i;
  expect_error<ValueError>([&] { model.fit(x1, y1); }, {"2 inputs"});
  expect_error<ValueError>([&] { model.fit({x1, x2}, y1); }, {"1 targets for a model of 2"});
  expect_error<ShapeError>([&] { model.evaluate({x2, x1}, {y1, y2}); }, {"input 0 must be"});
  expect_error<ValueError>([&] { model.compile("adam", std::vector<LossArg<float>>{"mse"}); },
                           {"1 losses for 2"});
}

TEST(Functional, SharedLayerIsOneLayerWithSharedWeights) {
  auto a = Input<float>({4});
  auto b = Input<float>({4});
  Dense<float> shared(3);
  auto ya = shared(a);
  auto yb = shared(b);
  Model<float> model({a, b}, Subtract()({ya, yb}));
  ASSERT_EQ(model.layers().size(), 4u);  // two inputs, the shared Dense once, Subtract
  EXPECT_EQ(model.count_params(), 15);
  EXPECT_EQ(&ya.layer(), &yb.layer());
  std::ostringstream out;
  model.summary(out);
  EXPECT_NE(out.str().find("['input_layer[0][0]',"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("'input_layer_1[0][0]']"), std::string::npos) << out.str();
}

TEST(Functional, SummaryHasKerasLayoutWithConnectedTo) {
  auto inputs = Input<float>({32}, {.name = "img"});
  auto x = Dense(16, {.activation = "relu"})(inputs);
  auto y = Dense(16)(x);
  Model<float> model(inputs, Add()({x, y}), {.name = "toy"});
  std::ostringstream out;
  model.summary(out);
  const std::string line(98, '_'), rule(98, '=');
  const std::string blank = "\n";
  const std::string expected =
      "Model: \"toy\"\n" + line + "\n" +
      " Layer (type)                Output Shape                 Param #   Connected to\n" + rule +
      "\n"
      " img (InputLayer)            [(None, 32)]                 0         []\n" +
      blank +
      " dense (Dense)               (None, 16)                   528       ['img[0][0]']\n" +
      blank +
      " dense_1 (Dense)             (None, 16)                   272       ['dense[0][0]']\n" +
      blank +
      " add (Add)                   (None, 16)                   0         ['dense[0][0]',\n"
      "                                                                     'dense_1[0][0]']\n" +
      rule +
      "\n"
      "Total params: 800\n"
      "Trainable params: 800\n"
      "Non-trainable params: 0\n" +
      line + "\n";
  EXPECT_EQ(out.str(), expected);
}

TEST(Functional, MergeLayersComputeKerasValues) {
  auto a = Input<float>({3});
  auto b = Input<float>({3});
  const Tensor<float> xa = Tensor<float>({2, 3}, {1, -2, 3, 0, 5, -1});
  const Tensor<float> xb = Tensor<float>({2, 3}, {4, 1, -3, 2, 5, 0});
  const auto run = [&](Layer<float>& merge) {
    NoGradGuard no_grad;
    return merge({Variable<float>(xa), Variable<float>(xb)}).value();
  };
  Add<float> add_layer;
  Subtract<float> subtract;
  Multiply<float> multiply;
  Average<float> average;
  Maximum<float> maximum_layer;
  Minimum<float> minimum_layer;
  Concatenate<float> concatenate;
  EXPECT_TRUE(same_values(run(add_layer), Tensor<float>({2, 3}, {5, -1, 0, 2, 10, -1})));
  EXPECT_TRUE(same_values(run(subtract), Tensor<float>({2, 3}, {-3, -3, 6, -2, 0, -1})));
  EXPECT_TRUE(same_values(run(multiply), Tensor<float>({2, 3}, {4, -2, -9, 0, 25, 0})));
  EXPECT_TRUE(same_values(run(average), Tensor<float>({2, 3}, {2.5f, -0.5f, 0, 1, 5, -0.5f})));
  EXPECT_TRUE(same_values(run(maximum_layer), Tensor<float>({2, 3}, {4, 1, 3, 2, 5, 0})));
  EXPECT_TRUE(same_values(run(minimum_layer), Tensor<float>({2, 3}, {1, -2, -3, 0, 5, -1})));
  EXPECT_TRUE(same_values(run(concatenate),
                          Tensor<float>({2, 6}, {1, -2, 3, 4, 1, -3, 0, 5, -1, 2, 5, 0})));
  // Concatenate along the batch-counting axis 1 of [batch, 1, 3] inputs gives [batch, 2, 3].
  auto c = Concatenate(1)({Reshape({1, 3})(a), Reshape({1, 3})(b)});
  EXPECT_EQ(c.shape(), Shape({2, 3}));
}

TEST(Functional, LowerCaseMergeFunctionsAreTheLayers) {
  auto a = Input<float>({3});
  auto b = Input<float>({3});
  EXPECT_EQ(add({a, b}).layer().type(), "Add");
  EXPECT_EQ(subtract({a, b}).layer().type(), "Subtract");
  EXPECT_EQ(multiply({a, b}).layer().type(), "Multiply");
  EXPECT_EQ(average({a, b}).layer().type(), "Average");
  EXPECT_EQ(maximum({a, b}).layer().type(), "Maximum");
  EXPECT_EQ(minimum({a, b}).layer().type(), "Minimum");
  const auto joined = concatenate({a, b});
  EXPECT_EQ(joined.shape(), Shape({6}));
  Model<float> model({a, b}, joined);
  const Tensor<float> xa = random_tensor({2, 3}, 1), xb = random_tensor({2, 3}, 2);
  const Tensor<float> y = model.predict({xa, xb});
  EXPECT_EQ(y.at({1, 4}), xb.at({1, 1}));
}

TEST(Functional, MinimumGradientMatchesFiniteDifferences) {
  Minimum<double> minimum_layer;
  const auto f = [&](const std::vector<Variable<double>>& xs) {
    return sum(minimum_layer(std::vector<Variable<double>>{xs[0], xs[1]}));
  };
  const Tensor<double> a = Tensor<double>({2, 2}, {1.0, -2.0, 0.5, 3.0});
  const Tensor<double> b = Tensor<double>({2, 2}, {0.3, -1.0, 2.0, -4.0});
  EXPECT_TRUE(gradcheck(f, {a, b}).ok);
}

TEST(Functional, SavesAndLoadsWithItsGraph) {
  auto a = Input<float>({4}, {.name = "a"});
  auto b = Input<float>({4}, {.name = "b"});
  auto shared = std::make_shared<Dense<float>>(5, DenseOptions{.activation = "relu"});
  auto merged = Concatenate()({(*shared)(a), (*shared)(b), a});
  Model<float> model({a, b}, Dense(1, {.activation = "sigmoid"})(merged), {.name = "siamese"});
  const std::string path = ::testing::TempDir() + "functional_siamese.safetensors";
  model.save(path);
  auto loaded = load_model<float>(path);
  EXPECT_EQ(loaded->class_name(), "Functional");
  EXPECT_EQ(loaded->name(), "siamese");
  EXPECT_EQ(loaded->get_config(), model.get_config());
  const auto w = model.get_weights(), v = loaded->get_weights();
  ASSERT_EQ(w.size(), v.size());
  for (std::size_t i = 0; i < w.size(); ++i) EXPECT_TRUE(same_values(w[i], v[i]));
  std::ostringstream s1, s2;
  model.summary(s1);
  loaded->summary(s2);
  EXPECT_EQ(s1.str(), s2.str());
}

TEST(Functional, SingleInputModelSavesLoadsAndPredictsBitwise) {
  auto inputs = Input<float>({6});
  auto x = Dense(8, {.activation = "relu"})(inputs);
  auto y = Add()({Dense(8)(x), x});
  Model<float> model(inputs, Dense(3, {.activation = "softmax"})(y));
  const Tensor<float> xs = random_tensor({5, 6}, 9);
  Tensor<float> ys({5});
  for (index_t i = 0; i < 5; ++i) ys.data()[i] = float(i % 3);
  model.compile("adam", "sparse_categorical_crossentropy");
  model.fit(xs, ys, {.epochs = 1, .batch_size = 2, .verbose = 0});
  const std::string path = ::testing::TempDir() + "functional_residual.safetensors";
  model.save(path);
  auto loaded = load_model_as<Model<float>>(path);
  EXPECT_TRUE(same_values(model.predict(xs), loaded->predict(xs)));
}

TEST(Functional, ErrorsNameTheProblem) {
  auto a = Input<float>({4});
  auto b = Input<float>({4});
  auto y = Dense(2)(a);
  expect_error<ValueError>([&] { Model<float>(b, y); }, {"not among the model's inputs"});
  expect_error<ValueError>([&] { Model<float>(y, Dense(2)(y)); }, {"is not an Input"});
  expect_error<ShapeError>([&] { Add()({a, Input<float>({5})}); }, {"Add"});
  expect_error<ValueError>([&] { Subtract()({a, a, a}); }, {"expected 2 inputs, got 3"});
  expect_error<ValueError>([&] { Add()({a}); }, {"expected at least 2 inputs, got 1"});
  expect_error<ValueError>([&] { Concatenate(0)({a, b}); }, {"axis 0"});
  expect_error<ShapeError>([&] { Dense(2)(Input<float>({0})); }, {"InputLayer"});
  Model<float> model(a, y);
  expect_error<ShapeError>([&] { model.predict(random_tensor({2, 5}, 1)); }, {"input_layer"});
  // A built layer that is not held by a shared_ptr cannot join a graph.
  Dense<float> built(2);
  built(Variable<float>(Tensor<float>({1, 4})));
  expect_error<ValueError>([&] { built(a); }, {"std::shared_ptr"});
}

TEST(Functional, MalformedConfigsAreRejected) {
  auto a = Input<float>({4});
  Model<float> model(a, Dense(2)(a));
  const Json good = model.get_config();
  const auto rejected = [&](const std::function<void(Json&)>& edit, const std::string& part) {
    Json c = good;
    edit(c);
    expect_error<ValueError>([&] { detail::functional_from_config<float>(c); }, {part});
  };
  rejected([](Json& c) { c["layers"][1]["inbound_nodes"][0][0][0] = "nowhere"; },
           "names layer \"nowhere\"");
  rejected([](Json& c) { c["layers"][1]["inbound_nodes"][0][0][1] = 3; }, "are never computed");
  rejected([](Json& c) { c["layers"][1]["name"] = "other"; }, "has the name 'dense'");
  rejected([](Json& c) { c["output_layers"][0][1] = -1; }, "bad node or tensor index");
  rejected([](Json& c) { c["layers"][1]["inbound_nodes"] = 7; }, "must be a list");
  EXPECT_EQ(detail::functional_from_config<float>(good)->get_config(), good);
}

TEST(Functional, SequentialStartsWithAnInput) {
  Sequential<float> model({Input<float>({16}), Dense(8, {.activation = "relu"}), Dense(2)});
  EXPECT_TRUE(model.built());
  EXPECT_EQ(model.size(), 2u);  // the Input is not a layer of a Sequential, as in Keras
  EXPECT_EQ(model.count_params(), 16 * 8 + 8 + 8 * 2 + 2);
  Sequential<float> added;
  added.add(Input<float>({4}));
  added.add(Dense(3));
  EXPECT_TRUE(added.built());
  const std::string path = ::testing::TempDir() + "sequential_input.safetensors";
  added.save(path);
  auto loaded = load_model_as<Sequential<float>>(path);
  EXPECT_EQ(loaded->get_config(), added.get_config());
  expect_error<ValueError>([&] { added.add(Input<float>({3})); }, {"Input can only start"});
}

TEST(Functional, SetRandomSeedMakesTheGraphsWeightsReproducible) {
  const auto make = [] {
    set_random_seed(42);
    auto inputs = Input<float>({3});
    return Model<float>(inputs, Dense(2)(Dense(4)(inputs))).get_weights();
  };
  const auto a = make(), b = make();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(same_values(a[i], b[i]));
  set_random_seed(43);
  auto inputs = Input<float>({3});
  EXPECT_FALSE(
      same_values(a[0], Model<float>(inputs, Dense(2)(Dense(4)(inputs))).get_weights()[0]));
}

}  // namespace
}  // namespace lamina
