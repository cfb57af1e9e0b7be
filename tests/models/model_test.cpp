#include "lamina/models/model.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include <lamina/lamina.hpp>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_same_bits;

/// Images [n, 6, 6, 1] as bytes scaled by 1/255, whose class (0..2) is the brightest third of
/// the image, so that a small model learns something; labels [n].
std::pair<ByteTensor, Tensor<float>> byte_images(index_t n, std::uint64_t seed) {
  Generator gen(seed);
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(n * 36));
  Tensor<float> y({n});
  for (index_t i = 0; i < n; ++i) {
    const index_t label = i % 3;
    y.data()[i] = float(label);
    for (index_t p = 0; p < 36; ++p) {
      const bool bright = (p % 6) / 2 == label;
      pixels[static_cast<std::size_t>(i * 36 + p)] =
          static_cast<std::uint8_t>(gen.below(bright ? 256 : 96));
    }
  }
  return {ByteTensor(Shape{n, 6, 6, 1}, std::move(pixels), {.scale = 1.0 / 255.0}), y};
}

Sequential<float> small_cnn(std::uint64_t seed) {
  Sequential<float> model({.seed = seed});
  model.add(Conv2D(4, {3, 3}, {.activation = "relu", .input_shape = {6, 6, 1}}));
  model.add(Flatten());
  model.add(Dropout(0.2));
  model.add(Dense(3, {.activation = "softmax"}));
  model.compile(Adam({.learning_rate = 0.01}), "sparse_categorical_crossentropy", {"accuracy"});
  return model;
}

std::vector<float> weights(const Model<float>& model) {
  std::vector<float> w;
  for (const Variable<float>& v : model.trainable_variables())
    w.insert(w.end(), v.value().begin(), v.value().end());
  return w;
}

TEST(ModelOnBytes, FitEvaluatePredictMatchTheFloatTensorExactly) {
  const auto [bytes, y] = byte_images(90, 1);
  const Tensor<float> floats = bytes.to_tensor<float>();
  const auto [val_bytes, y_val] = byte_images(20, 2);
  // Shuffled batches of 16 (the last one short), explicit validation data as bytes and floats.
  Sequential<float> on_bytes = small_cnn(3), on_floats = small_cnn(3);
  const History hb = on_bytes.fit(bytes, y,
                                  {.epochs = 3,
                                   .batch_size = 16,
                                   .validation_data = std::pair{val_bytes, y_val},
                                   .verbose = 0,
                                   .seed = 4});
  const History hf =
      on_floats.fit(floats, y,
                    {.epochs = 3,
                     .batch_size = 16,
                     .validation_data = std::pair{val_bytes.to_tensor<float>(), y_val},
                     .verbose = 0,
                     .seed = 4});
  EXPECT_EQ(hb.history, hf.history);
  EXPECT_EQ(hb["val_accuracy"].size(), 3u);
  EXPECT_LT(hb["loss"].back(), hb["loss"].front());
  expect_same_bits(weights(on_bytes), weights(on_floats));

  const Logs eb = on_bytes.evaluate(val_bytes, y_val, {.batch_size = 7});
  const Logs ef = on_floats.evaluate(val_bytes.to_tensor<float>(), y_val, {.batch_size = 7});
  EXPECT_EQ(eb, ef);
  const Tensor<float> pb = on_bytes.predict(bytes, {.batch_size = 7});
  const Tensor<float> pf = on_floats.predict(floats, {.batch_size = 7});
  ASSERT_EQ(pb.shape(), (Shape{90, 3}));
  expect_same_bits(pb.to_vector(), pf.to_vector());
  // A slice predicts its own rows (the same batch sizes give the same bits).
  expect_same_bits(on_bytes.predict(bytes.slice(80, 90)).to_vector(),
                   on_floats.predict(floats.slice(80, 90)).to_vector());
}

TEST(ModelOnBytes, TrainOnBatchMatchesTheFloatTensor) {
  const auto [bytes, y] = byte_images(12, 5);
  Sequential<float> on_bytes = small_cnn(6), on_floats = small_cnn(6);
  for (int step = 0; step < 3; ++step) {
    const double lb = on_bytes.train_on_batch(bytes, y);
    const double lf = on_floats.train_on_batch(bytes.to_tensor<float>(), y);
    EXPECT_EQ(lb, lf);
  }
  expect_same_bits(weights(on_bytes), weights(on_floats));
  expect_error<ShapeError>([&] { on_bytes.train_on_batch(bytes, Tensor<float>({5})); },
                           {"train_on_batch", "12", "5"});
}

TEST(ModelOnBytes, ValidationSplitAndUnshuffledFitMatchTheFloatTensor) {
  const auto [bytes, y] = byte_images(60, 5);
  const Tensor<float> floats = bytes.to_tensor<float>();
  for (const bool shuffle : {true, false}) {
    Sequential<float> on_bytes = small_cnn(6), on_floats = small_cnn(6);
    const FitOptions<float> options{.epochs = 2,
                                    .batch_size = 8,
                                    .shuffle = shuffle,
                                    .validation_split = 0.25,
                                    .verbose = 0,
                                    .seed = 7};
    const History hb = on_bytes.fit(bytes, y, options);
    const History hf = on_floats.fit(floats, y, options);
    EXPECT_EQ(hb.history, hf.history) << "shuffle " << shuffle;
    EXPECT_EQ(hb["val_loss"].size(), 2u);
    expect_same_bits(weights(on_bytes), weights(on_floats));
  }
}

TEST(ModelOnBytes, ScaleAndOffsetReachTheModel) {
  // Same bytes, another scale: other inputs, so other results (the conversion is not skipped).
  const auto [bytes, y] = byte_images(30, 8);
  Sequential<float> a = small_cnn(9), b = small_cnn(9);
  a.build({6, 6, 1});
  b.build({6, 6, 1});
  const Tensor<float> pa = a.predict(bytes);
  const Tensor<float> pb = b.predict(bytes.rescaled({.scale = 1.0 / 127.5, .offset = -1.0}));
  expect_same_bits(pa.to_vector(), a.predict(bytes.to_tensor<float>()).to_vector());
  EXPECT_NE(pa.to_vector(), pb.to_vector());
  expect_same_bits(
      pb.to_vector(),
      b.predict(bytes.rescaled({.scale = 1.0 / 127.5, .offset = -1.0}).to_tensor<float>())
          .to_vector());
}

/// Records the largest batch that reaches the model.
class BatchProbe : public Model<float> {
 public:
  BatchProbe() : Model<float>("probe") {}
  Variable<float> call(const Variable<float>& x) override {
    largest = std::max(largest, x.value().dim(0));
    return out_(flatten_(x));
  }
  index_t largest = 0;

 private:
  Flatten<float>& flatten_ = add_layer(Flatten<float>());
  Dense<float>& out_ = add_layer(Dense<float>(3, {.activation = "softmax"}));
};

TEST(ModelOnBytes, OnlyBatchesReachTheModel) {
  const auto [bytes, y] = byte_images(50, 10);
  BatchProbe model;
  model.compile("sgd", "sparse_categorical_crossentropy");
  model.fit(bytes, y, {.epochs = 1, .batch_size = 8, .validation_split = 0.2, .verbose = 0});
  model.evaluate(bytes, y, {.batch_size = 8});
  model.predict(bytes, {.batch_size = 8});
  EXPECT_EQ(model.largest, 8);
}

TEST(ModelOnBytesErrors, BadInputsNameWhatIsWrong) {
  const auto [bytes, y] = byte_images(12, 11);
  Sequential<float> model = small_cnn(12);
  expect_error<ValueError>(
      [&] {
        model.fit(ByteTensor(Shape{0, 6, 6, 1}), Tensor<float>({0}));
      },
      {"fit", "x is empty", "[0, 6, 6, 1]"});
  expect_error<ShapeError>([&] { model.fit(bytes, y.slice(0, 10)); },
                           {"fit", "12 samples", "y has 10", "[12, 6, 6, 1]"});
  expect_error<ShapeError>(
      [&] {
        model.fit(bytes, y, {.validation_data = std::pair{bytes.slice(0, 4), y}, .verbose = 0});
      },
      {"fit (validation_data)", "4 samples", "y has 12"});
  expect_error<ShapeError>(
      [&] {
        model.fit(bytes.reshape({12, 36, 1, 1}), y, {.verbose = 0});
      },
      {"Conv2D \"conv2d\"", "[*, 6, 6, 1]", "[1, 36, 1, 1]"});
  expect_error<ValueError>([&] { model.fit(bytes, y, {.validation_split = 0.95}); },
                           {"validation_split 0.95", "of 12"});
  expect_error<ShapeError>([&] { model.evaluate(bytes, y.slice(0, 3)); },
                           {"evaluate", "12 samples", "y has 3"});
  expect_error<ValueError>([&] { model.evaluate(bytes.slice(0, 0), y.slice(0, 0)); },
                           {"evaluate", "x is empty"});
  expect_error<ShapeError>(
      [&] {
        model.predict(ByteTensor(Shape{0, 6, 6, 1}));
      },
      {"predict", "non-empty", "[0, 6, 6, 1]"});
  expect_error<ValueError>([&] { model.predict(bytes, {.batch_size = 0}); },
                           {"predict", "batch_size", "0"});
}

}  // namespace
}  // namespace lamina
