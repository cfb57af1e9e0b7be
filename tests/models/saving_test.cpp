#include "lamina/models/saving.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <lamina/lamina.hpp>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

std::string temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

/// A model with every layer type lamina has, on [6, 6, 2] images:
/// Conv2D -> AveragePooling2D -> MaxPooling2D -> Reshape -> SimpleRNN -> Flatten -> Dropout
/// -> Dense -> Activation(softmax).
template <class T>
Sequential<T> every_layer_model(std::uint64_t seed) {
  Sequential<T> m({.name = "every_layer", .seed = seed});
  m.add(Conv2D<T>(3, {3, 3}, {.padding = "same", .activation = "relu", .input_shape = {6, 6, 2}}));
  m.add(AveragePooling2D<T>({2, 2}));
  m.add(MaxPooling2D<T>({1, 1}, {.strides = {1, 1}}));
  m.add(Reshape<T>(Shape{3, -1}));
  m.add(SimpleRNN<T>(4, {.return_sequences = true}));
  m.add(Flatten<T>());
  m.add(Dropout<T>(0.25));
  m.add(Dense<T>(5, {.kernel_initializer = "he_normal"}));
  m.add(Activation<T>("softmax"));
  return m;
}

template <class T>
Tensor<T> inputs(Shape shape, std::uint64_t seed) {
  Generator gen(seed);
  return Tensor<T>::uniform(std::move(shape), T(0), T(1), gen);
}

template <class T>
Tensor<T> labels(index_t n, index_t classes) {
  Tensor<T> y({n});
  for (index_t i = 0; i < n; ++i) y.data()[i] = T(i % classes);
  return y;
}

/// Every weight of two models, bit for bit.
template <class T>
void expect_same_weights(const Model<T>& a, const Model<T>& b) {
  const auto wa = a.named_weights(), wb = b.named_weights();
  ASSERT_EQ(wa.size(), wb.size());
  for (std::size_t i = 0; i < wa.size(); ++i) {
    EXPECT_EQ(wa[i].first, wb[i].first);
    EXPECT_EQ(wa[i].second.value().to_vector(), wb[i].second.value().to_vector()) << wa[i].first;
  }
}

template <class T>
class SavingTest : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(SavingTest, Scalars);

TYPED_TEST(SavingTest, EveryLayerTypeRoundTripsBitForBit) {
  using T = TypeParam;
  Sequential<T> model = every_layer_model<T>(3);
  model.compile(Adam<T>({.learning_rate = 0.01}), "sparse_categorical_crossentropy", {"accuracy"});
  const Tensor<T> x = inputs<T>({12, 6, 6, 2}, 1);
  model.fit(x, labels<T>(12, 5), {.epochs = 2, .batch_size = 4, .verbose = 0});
  const std::string path = temp_path("every_layer.safetensors");
  model.save(path);

  const std::shared_ptr<Model<T>> loaded = load_model<T>(path);
  EXPECT_EQ(loaded->class_name(), "Sequential");
  EXPECT_EQ(loaded->spec(), model.spec());
  EXPECT_EQ(loaded->predict(x).to_vector(), model.predict(x).to_vector());
  expect_same_weights<T>(*loaded, model);
  EXPECT_EQ(loaded->epoch(), 2);
  EXPECT_EQ(loaded->optimizer().iterations(), model.optimizer().iterations());
  EXPECT_EQ(loaded->optimizer().get_config(), model.optimizer().get_config());
  EXPECT_EQ(loaded->loss().name(), "sparse_categorical_crossentropy");
  // The typed loader gives the Sequential itself.
  const auto sequential = load_model_as<Sequential<T>>(path);
  EXPECT_EQ(sequential->size(), 9u);
}

TEST(Saving, LossOptionsRoundTrip) {
  // The loss is saved as its name and get_config() and rebuilt by make_loss.
  Generator gen(4);
  const Tensor<double> x = Tensor<double>::uniform({6, 3}, -1, 1, gen);
  const Tensor<double> y = Tensor<double>::uniform({6, 2}, -1, 1, gen);
  const std::vector<std::pair<std::string, std::shared_ptr<Loss<double>>>> losses = {
      {"huber", std::make_shared<Huber<double>>(HuberOptions{.delta = 0.25})},
      {"cosine_similarity",
       std::make_shared<CosineSimilarity<double>>(CosineSimilarityOptions{.axis = 1})},
      {"kl_divergence", make_loss<double>("kld")}};
  for (const auto& [name, loss] : losses) {
    SCOPED_TRACE(name);
    Sequential<double> model({.seed = 1});
    model.add(Dense<double>(2, {.input_shape = {3}}));
    model.compile("sgd", *loss);
    const std::string path = temp_path("loss_" + name + ".safetensors");
    model.save(path);
    const std::shared_ptr<Model<double>> loaded = load_model<double>(path);
    EXPECT_EQ(loaded->loss().name(), name);
    EXPECT_EQ(loaded->loss().get_config(), model.loss().get_config());
    EXPECT_EQ(loaded->evaluate(x, y).at("loss"), model.evaluate(x, y).at("loss"));
  }
}

TYPED_TEST(SavingTest, ResumedTrainingMatchesAnUninterruptedRun) {
  using T = TypeParam;
  const Tensor<T> x = inputs<T>({20, 6, 6, 2}, 2);
  const Tensor<T> y = labels<T>(20, 5);
  const FitOptions<T> options{.epochs = 4, .batch_size = 6, .verbose = 0, .seed = 11};
  for (const char* optimizer :
       {"adam", "rmsprop", "sgd", "adamw", "nadam", "adagrad", "adadelta", "adamax", "lion"}) {
    SCOPED_TRACE(optimizer);
    Sequential<T> straight = every_layer_model<T>(5);
    straight.compile(optimizer, "sparse_categorical_crossentropy");
    straight.fit(x, y, options);

    Sequential<T> first = every_layer_model<T>(5);
    first.compile(optimizer, "sparse_categorical_crossentropy");
    FitOptions<T> two = options;
    two.epochs = 2;
    first.fit(x, y, two);
    const std::string path = temp_path(std::string("resume_") + optimizer + "_" +
                                       std::to_string(sizeof(T)) + ".safetensors");
    first.save(path);
    const auto resumed = load_model<T>(path);
    FitOptions<T> rest = options;
    rest.initial_epoch = resumed->epoch();
    const History h = resumed->fit(x, y, rest);
    EXPECT_EQ(h["loss"].size(), 2u);
    expect_same_weights<T>(*resumed, straight);
  }
}

TYPED_TEST(SavingTest, SaveWeightsAndLoadWeightsByName) {
  using T = TypeParam;
  Sequential<T> a = every_layer_model<T>(1);
  Sequential<T> b = every_layer_model<T>(2);
  const std::string path = temp_path("weights.safetensors");
  a.save_weights(path);
  b.load_weights(path);
  expect_same_weights<T>(a, b);
  // A weights file is no model file.
  expect_error<IoError>([&] { load_model<T>(path); }, {path, "holds no model_config"});
  // Into another architecture: the first weight it lacks is named.
  Sequential<T> other({.seed = 1});
  other.add(Dense<T>(3, {.input_shape = {4}, .name = "head"}));
  expect_error<IoError>([&] { other.load_weights(path); },
                        {path, "weight 'head/kernel'", "is not in the file"});
  Sequential<T> unbuilt;
  unbuilt.add(Dense<T>(3));
  expect_error<ValueError>([&] { unbuilt.load_weights(path); }, {"needs a built model"});
}

TYPED_TEST(SavingTest, AutoencoderRoundTrips) {
  using T = TypeParam;
  // Both parts are named "sequential": their paths in the file are encoder/... and decoder/...
  Sequential<T> encoder;
  encoder.add(Dense<T>(3, {.activation = "relu", .input_shape = {8}}));
  Sequential<T> decoder;
  decoder.add(Dense<T>(8, {.activation = "sigmoid"}));
  Autoencoder<T> ae(std::move(encoder), std::move(decoder));
  ae.compile("adam", "binary_crossentropy");
  const Tensor<T> x = inputs<T>({10, 8}, 4);
  ae.fit(x, {.epochs = 1, .batch_size = 5, .verbose = 0});
  const std::string path = temp_path("autoencoder.safetensors");
  ae.save(path);
  const auto loaded = load_model_as<Autoencoder<T>>(path);
  EXPECT_EQ(loaded->predict(x).to_vector(), ae.predict(x).to_vector());
  EXPECT_EQ(loaded->encode(x).to_vector(), ae.encode(x).to_vector());
  const auto names = loaded->named_weights();
  EXPECT_EQ(names.front().first, "encoder/dense/kernel");
  EXPECT_EQ(names.back().first, "decoder/dense/bias");
}

/// A custom model: two Dense towers summed. It saves through class_name, get_config and a
/// registered factory.
template <class T>
class TwoTowers : public Model<T> {
 public:
  explicit TwoTowers(index_t units) : Model<T>("two_towers"), units_(units) {}
  std::string class_name() const override { return "TwoTowers"; }
  Json get_config() const override { return {{"name", this->name()}, {"units", units_}}; }
  Variable<T> call(const Variable<T>& x) override { return add(left_(x), right_(x)); }

 private:
  index_t units_;
  Dense<T>& left_ = this->add_layer(Dense<T>(units_, {.activation = "tanh", .name = "left"}));
  Dense<T>& right_ = this->add_layer(Dense<T>(units_, {.name = "right"}));
};

TYPED_TEST(SavingTest, CustomModelWithARegisteredFactory) {
  using T = TypeParam;
  TwoTowers<T> model(3);
  model.build({4});
  const std::string path = temp_path("custom.safetensors");
  expect_error<ValueError>([&] { Sequential<T>().save(path); }, {"needs a built model"});
  model.save(path);
  register_model<T>("TwoTowers", [](const Json& config) -> std::shared_ptr<Model<T>> {
    ConfigReader r(config, "TwoTowers");
    r.get<std::string>("name");
    auto m = std::make_shared<TwoTowers<T>>(r.get<index_t>("units"));
    r.finish();
    return m;
  });
  const auto loaded = load_model<T>(path);
  const Tensor<T> x = inputs<T>({5, 4}, 9);
  EXPECT_EQ(loaded->predict(x).to_vector(), model.predict(x).to_vector());
}

TEST(Saving, ModelWithoutAClassNameCannotSaveItsArchitecture) {
  struct Plain : Model<float> {
    Plain() : Model<float>("plain") {}
    Variable<float> call(const Variable<float>& x) override { return d_(x); }
    Dense<float>& d_ = add_layer(Dense<float>(2));
  } plain;
  plain.build({3});
  expect_error<ValueError>([&] { plain.save(temp_path("plain.safetensors")); },
                           {"plain", "class_name()", "save_weights"});
  plain.save_weights(temp_path("plain_weights.safetensors"));
}

TEST(Saving, CustomLayerWithARegisteredFactory) {
  // A layer class of the user's, rebuilt through register_layer.
  struct Scale : Layer<float> {
    explicit Scale(float factor = 2) : factor_(factor) {}
    std::string type() const override { return "Scale"; }
    Json get_config() const override {
      Json c = Layer<float>::get_config();
      c["factor"] = factor_;
      return c;
    }
    Shape build_impl(const Shape& s, Generator&) override { return s; }
    Variable<float> forward(const Variable<float>& x) override {
      return mul(x, Variable<float>(Tensor<float>::scalar(factor_)));
    }
    float factor_;
  };
  register_layer<float>("Scale", [](const Json& config) -> std::shared_ptr<Layer<float>> {
    ConfigReader r(config, "Scale");
    auto layer = std::make_shared<Scale>(r.get<float>("factor"));
    layer->set_name(r.get<std::string>("name"));
    r.get<bool>("trainable");
    r.get<Json>("seed", nullptr);
    r.finish();
    return layer;
  });
  Sequential<float> m;
  m.add(Dense<float>(2, {.input_shape = {3}}));
  m.add(Scale(3.5f));
  const std::string path = temp_path("custom_layer.safetensors");
  m.save(path);
  const auto loaded = load_model<float>(path);
  const Tensor<float> x = inputs<float>({4, 3}, 1);
  EXPECT_EQ(loaded->predict(x).to_vector(), m.predict(x).to_vector());
}

// The acceptance case: the tutorial CNN (with Dropout, so the random state matters) on the
// bundled Fashion-MNIST slice, interrupted after epoch 2, saved, loaded and resumed, ends epoch
// 3 with bitwise the weights of the uninterrupted run (same seed, same threads).
TEST(SavingResume, TutorialCnnOnTheDataSliceResumesBitwise) {
  const std::string dir = std::string(LAMINA_TEST_DATA_DIR) + "/../data/fashion-mnist-slice";
  const auto data = load_fashion_mnist<float, ByteTensor>(dir);
  const ByteTensor x = data.x_train.slice(0, 384);
  const Tensor<float> y = data.y_train.slice(0, 384);
  auto cnn = [] {
    Sequential<float> model({.seed = 21});
    model.add(Conv2D(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}));
    model.add(MaxPooling2D({2, 2}));
    model.add(Conv2D(64, {3, 3}, {.activation = "relu"}));
    model.add(MaxPooling2D({2, 2}));
    model.add(Flatten());
    model.add(Dropout(0.3));
    model.add(Dense(64, {.activation = "relu"}));
    model.add(Dense(10, {.activation = "softmax"}));
    model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
    return model;
  };
  const FitOptions<float> options{.epochs = 3, .batch_size = 32, .verbose = 0, .seed = 4};
  Sequential<float> straight = cnn();
  const History all = straight.fit(x, y, options);

  Sequential<float> interrupted = cnn();
  FitOptions<float> two = options;
  two.epochs = 2;
  interrupted.fit(x, y, two);
  const std::string path = temp_path("cnn_checkpoint.safetensors");
  interrupted.save(path);
  const auto resumed = load_model<float>(path);
  FitOptions<float> rest = options;
  rest.initial_epoch = resumed->epoch();
  const History last = resumed->fit(x, y, rest);
  expect_same_weights<float>(*resumed, straight);
  EXPECT_EQ(last["loss"].back(), all["loss"].back());
  EXPECT_EQ(last["accuracy"].back(), all["accuracy"].back());
}

// ---- malformed model files: each an IoError naming the file and the problem ----------------

/// Writes a valid model file, then a copy changed by `edit` (metadata and tensors).
struct FileEditor {
  std::map<std::string, std::string> metadata;
  std::vector<std::pair<std::string, Tensor<float>>> tensors;

  explicit FileEditor(const std::string& path) {
    const SafetensorsFile f = SafetensorsFile::read(path);
    metadata = f.metadata();
    for (const auto& e : f.entries()) tensors.emplace_back(e.name, f.tensor<float>(e.name));
  }
  Json json(const std::string& key) const { return Json::parse(metadata.at(key)); }
  void erase_tensor(const std::string& name) {
    std::erase_if(tensors, [&](const auto& t) { return t.first == name; });
  }
  std::string write(const std::string& name) const {
    SafetensorsWriter w;
    for (const auto& [key, value] : metadata) w.set_metadata(key, value);
    for (const auto& [key, value] : tensors) w.add(key, value);
    const std::string path = temp_path(name);
    w.write(path);
    return path;
  }
};

class MalformedModelFile : public ::testing::Test {
 protected:
  void SetUp() override {
    Sequential<float> m({.seed = 1});
    m.add(Dense<float>(4, {.activation = "relu", .input_shape = {3}}));
    m.add(Dense<float>(2));
    m.compile("adam", "mse");
    m.fit(inputs<float>({4, 3}, 1), inputs<float>({4, 2}, 2), {.epochs = 1, .verbose = 0});
    m.save(good_);
  }
  /// load_model on the edited file fails with an IoError naming it and containing `parts`.
  void expect_rejected(const std::function<void(FileEditor&)>& edit,
                       const std::vector<std::string>& parts) {
    FileEditor editor(good_);
    edit(editor);
    // One file per test: ctest runs the tests of this fixture in parallel processes.
    const std::string path = editor.write(
        std::string("malformed_") +
        ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".safetensors");
    std::vector<std::string> all{path + ": "};
    all.insert(all.end(), parts.begin(), parts.end());
    expect_error<IoError>([&] { load_model<float>(path); }, all);
  }
  /// The same with the model_config's first layer config changed by `edit`.
  void expect_layer_rejected(const std::function<void(Json&)>& edit,
                             const std::vector<std::string>& parts) {
    expect_rejected(
        [&](FileEditor& f) {
          Json spec = f.json("model_config");
          edit(spec["config"]["layers"][0]);
          f.metadata["model_config"] = spec.dump();
        },
        parts);
  }
  std::string good_ =
      temp_path(std::string("good_model_") +
                ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".safetensors");
};

TEST_F(MalformedModelFile, TheUneditedFileLoads) {
  FileEditor editor(good_);
  EXPECT_NO_THROW(load_model<float>(editor.write("unedited.safetensors")));
}

TEST_F(MalformedModelFile, NotALaminaFile) {
  expect_rejected([](FileEditor& f) { f.metadata.clear(); }, {"not a lamina model file"});
}

TEST_F(MalformedModelFile, NewerFormatVersion) {
  expect_rejected([](FileEditor& f) { f.metadata["format_version"] = "99"; },
                  {"format_version 99", "a newer lamina wrote it"});
}

TEST_F(MalformedModelFile, FormatVersionNotANumber) {
  expect_rejected([](FileEditor& f) { f.metadata["format_version"] = "1x"; },
                  {"format_version '1x' is not a number"});
}

TEST_F(MalformedModelFile, ModelConfigNotJson) {
  expect_rejected([](FileEditor& f) { f.metadata["model_config"] = "{oops"; },
                  {"'model_config' is not valid JSON"});
}

TEST_F(MalformedModelFile, UnknownModelClass) {
  expect_rejected(
      [](FileEditor& f) {
        Json spec = f.json("model_config");
        spec["class_name"] = "Transformer";
        f.metadata["model_config"] = spec.dump();
      },
      {"unknown model class 'Transformer'",
       "valid names: Autoencoder, Functional, GAN, Sequential"});
}

TEST_F(MalformedModelFile, UnknownLayerClass) {
  expect_rejected(
      [](FileEditor& f) {
        Json spec = f.json("model_config");
        spec["config"]["layers"][0]["class_name"] = "Dense2";
        f.metadata["model_config"] = spec.dump();
      },
      {"unknown layer class 'Dense2'", "valid names: Activation"});
}

TEST_F(MalformedModelFile, UnknownLayerOption) {
  expect_layer_rejected([](Json& layer) { layer["config"]["unitz"] = 4; },
                        {"Dense config: unknown option 'unitz'"});
}

TEST_F(MalformedModelFile, MissingLayerOption) {
  expect_layer_rejected([](Json& layer) { layer["config"].erase("units"); },
                        {"Dense config: option 'units' is missing"});
}

TEST_F(MalformedModelFile, MistypedLayerOption) {
  expect_layer_rejected([](Json& layer) { layer["config"]["units"] = "four"; },
                        {"Dense config: option 'units' must be an integer, got \"four\""});
}

TEST_F(MalformedModelFile, InvalidLayerOptionValue) {
  expect_layer_rejected([](Json& layer) { layer["config"]["units"] = -4; },
                        {"units must be positive"});
}

TEST_F(MalformedModelFile, HugeLayerIsRefusedBeforeAllocating) {
  // 2^36 units of 3 inputs would take 768 GiB: refused by the loader's allocation limit.
  expect_layer_rejected([](Json& layer) { layer["config"]["units"] = std::int64_t(1) << 36; },
                        {"allocation of", "refused"});
}

TEST_F(MalformedModelFile, UnknownActivation) {
  expect_layer_rejected([](Json& layer) { layer["config"]["activation"] = "relux"; },
                        {"unknown activation 'relux'"});
}

TEST_F(MalformedModelFile, WeightMissing) {
  expect_rejected([](FileEditor& f) { f.erase_tensor("dense_1/bias"); },
                  {"weight 'dense_1/bias' (shape [2]) is not in the file"});
}

TEST_F(MalformedModelFile, ExtraTensor) {
  expect_rejected(
      [](FileEditor& f) { f.tensors.emplace_back("dense_7/kernel", Tensor<float>({1}, {0})); },
      {"tensor 'dense_7/kernel' matches no weight"});
}

TEST_F(MalformedModelFile, MisshapedWeight) {
  expect_rejected(
      [](FileEditor& f) {
        for (auto& [name, t] : f.tensors)
          if (name == "dense/kernel") t = Tensor<float>::zeros({4, 3});
      },
      {"weight 'dense/kernel' has shape [4, 3] in the file but [3, 4] in the model"});
}

TEST_F(MalformedModelFile, UnknownOptimizerClass) {
  expect_rejected(
      [](FileEditor& f) {
        Json c = f.json("compile_config");
        c["optimizer"]["class_name"] = "Adamm";
        f.metadata["compile_config"] = c.dump();
      },
      {"unknown optimizer class 'Adamm'"});
}

TEST_F(MalformedModelFile, UnknownOptimizerOption) {
  expect_rejected(
      [](FileEditor& f) {
        Json c = f.json("compile_config");
        c["optimizer"]["config"]["beta_3"] = 0.5;
        f.metadata["compile_config"] = c.dump();
      },
      {"Adam config: unknown option 'beta_3'"});
}

TEST_F(MalformedModelFile, UnknownLoss) {
  expect_rejected(
      [](FileEditor& f) {
        Json c = f.json("compile_config");
        c["loss"]["name"] = "msle2";
        f.metadata["compile_config"] = c.dump();
      },
      {"unknown loss 'msle2'"});
}

TEST_F(MalformedModelFile, OptimizerStateMissing) {
  expect_rejected([](FileEditor& f) { f.erase_tensor("optimizer/dense/kernel/v"); },
                  {"optimizer state 'optimizer/dense/kernel/v' is not in the file"});
}

TEST_F(MalformedModelFile, OptimizerStateMisshaped) {
  expect_rejected(
      [](FileEditor& f) {
        for (auto& [name, t] : f.tensors)
          if (name == "optimizer/dense/bias/m") t = Tensor<float>::zeros({5});
      },
      {"optimizer state 'optimizer/dense/bias/m' has shape [5]"});
}

TEST_F(MalformedModelFile, NegativeOptimizerIterations) {
  expect_rejected(
      [](FileEditor& f) {
        Json s = f.json("training_state");
        s["optimizer_iterations"] = -3;
        f.metadata["training_state"] = s.dump();
      },
      {"iterations must be non-negative"});
}

TEST_F(MalformedModelFile, BadRandomState) {
  expect_rejected(
      [](FileEditor& f) {
        Json s = f.json("training_state");
        s["rng"] = {{"dense", "not a state"}};
        f.metadata["training_state"] = s.dump();
      },
      {"is not a generator state"});
}

TEST_F(MalformedModelFile, RandomStateOfNoLayer) {
  expect_rejected(
      [](FileEditor& f) {
        Json s = f.json("training_state");
        s["rng"] = {{"dense_9", "1 2 3"}};
        f.metadata["training_state"] = s.dump();
      },
      {"rng names no layer state: 'dense_9'"});
}

TEST_F(MalformedModelFile, BadBuildShape) {
  expect_rejected(
      [](FileEditor& f) {
        Json spec = f.json("model_config");
        spec["build_config"]["input_shape"] = {5};
        f.metadata["model_config"] = spec.dump();
      },
      {"expected input [*, 3], got [1, 5]"});
}

// ---- compatibility: a file written by lamina 0.1 keeps loading -------------------------------

// The fixture is written by this test when LAMINA_WRITE_FIXTURES=1 (done once, for 0.1.0) and
// checked in; later versions must load it and predict the same within float rounding (kernels
// may change the last bits, never the meaning of the file).
TEST(SavingCompatibility, Version_0_1_FileStillLoads) {
  const std::string dir = std::string(LAMINA_TEST_DATA_DIR) + "/models/fixtures";
  const std::string model_path = dir + "/every_layer_v0.1.safetensors";
  const std::string expected_path = dir + "/every_layer_v0.1_predictions.safetensors";
  const Tensor<float> x = inputs<float>({8, 6, 6, 2}, 42);
  if (const char* write = std::getenv("LAMINA_WRITE_FIXTURES");
      write && std::string(write) == "1") {
    Sequential<float> model = every_layer_model<float>(7);
    model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
    model.fit(x, labels<float>(8, 5), {.epochs = 2, .batch_size = 4, .verbose = 0});
    model.save(model_path);
    SafetensorsWriter w;
    w.add("x", x);
    w.add("predictions", model.predict(x));
    w.write(expected_path);
  }
  const SafetensorsFile expected = SafetensorsFile::read(expected_path);
  ASSERT_EQ(expected.tensor<float>("x").to_vector(), x.to_vector());
  const auto model = load_model<float>(model_path);
  const Tensor<float> want = expected.tensor<float>("predictions");
  const Tensor<float> got = model->predict(x);
  ASSERT_EQ(got.shape(), want.shape());
  for (index_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got.data()[i], want.data()[i], 1e-6) << i;
  EXPECT_EQ(model->epoch(), 2);
}

}  // namespace
}  // namespace lamina
