// What docs/RELIABILITY.md promises of training. Bitwise reproducibility at two threads: the same
// seed and the same thread count give the same weights, History and predictions, byte for byte. The
// models are the tutorials' at sizes where every kernel that can split its work over threads does
// (the CNN's convolutions, poolings and first Dense; the autoencoder's and GAN's Dense layers).
// Determinism.*Fingerprint print a hash of a run; tests/determinism.cmake runs them in two
// processes and compares the hashes. Non-finite values never reach the weights: each case of
// issue 15's finding 2 throws NonFiniteError before the optimizer step. Batch sizes up to the
// index type's maximum train (finding 4).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iomanip>
#include <iostream>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <lamina/lamina.hpp>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

/// While alive, lamina's kernels run on `n` threads.
class Threads {
 public:
#ifdef _OPENMP
  explicit Threads(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~Threads() { omp_set_num_threads(saved_); }
#else
  explicit Threads(int) {}
#endif
  Threads(const Threads&) = delete;
  Threads& operator=(const Threads&) = delete;

 private:
#ifdef _OPENMP
  int saved_ = 1;
#endif
};

/// Everything a run produces, as bytes: each layer's weights, the History, the predictions.
struct Run {
  std::vector<unsigned char> bytes;
  void add(const void* p, std::size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    bytes.insert(bytes.end(), c, c + n);
  }
  void add(const Tensor<float>& t) { add(t.data(), static_cast<std::size_t>(t.size()) * 4); }
  void add(const Model<float>& model) {
    for (const Layer<float>* l : model.layers())
      for (const Tensor<float>& w : l->get_weights()) add(w);
  }
  void add(const History& h) {
    for (const auto& [key, values] : h.history) {
      add(key.data(), key.size());
      add(values.data(), values.size() * sizeof(double));
    }
  }
  /// FNV-1a, 64 bits.
  std::string hash() const {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
    std::ostringstream s;
    s << std::hex << std::setw(16) << std::setfill('0') << h;
    return s.str();
  }
};

Tensor<float> uniform(Shape shape, std::uint64_t seed) {
  Generator gen(seed);
  return Tensor<float>::uniform(std::move(shape), 0.0f, 1.0f, gen);
}

Tensor<float> labels(index_t n, index_t classes, std::uint64_t seed) {
  Generator gen(seed);
  Tensor<float> y = Tensor<float>::empty({n});
  for (index_t i = 0; i < n; ++i)
    y.data()[i] = static_cast<float>(gen.below(static_cast<std::uint64_t>(classes)));
  return y;
}

/// The tutorial CNN trained for one epoch of two batches of 64 at two threads.
Run cnn_run() {
  const Threads threads(2);
  Sequential<float> model({.seed = 7});
  model.add(Conv2D(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}));
  model.add(MaxPooling2D({2, 2}));
  model.add(Conv2D(64, {3, 3}, {.activation = "relu"}));
  model.add(MaxPooling2D({2, 2}));
  model.add(Flatten());
  model.add(Dense(64, {.activation = "relu"}));
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  const Tensor<float> x = uniform({128, 28, 28, 1}, 1);
  const Tensor<float> y = labels(128, 10, 2);
  Run run;
  run.add(model.fit(x, y, {.epochs = 1, .batch_size = 64, .verbose = 0, .seed = 3}));
  run.add(model);
  run.add(model.predict(x.slice(0, 64), {.batch_size = 64}));
  return run;
}

Run rnn_run() {
  const Threads threads(2);
  Sequential<float> model({.seed = 7});
  model.add(SimpleRNN(32, {.activation = "relu", .input_shape = {28, 28}}));
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  const Tensor<float> x = uniform({128, 28, 28}, 1);
  const Tensor<float> y = labels(128, 10, 2);
  Run run;
  run.add(model.fit(x, y, {.epochs = 2, .batch_size = 64, .verbose = 0, .seed = 3}));
  run.add(model);
  run.add(model.predict(x, {.batch_size = 64}));
  return run;
}

Run autoencoder_run() {
  const Threads threads(2);
  Sequential<float> encoder({.name = "encoder", .seed = 1}),
      decoder({.name = "decoder", .seed = 2});
  encoder.add(Dense(128, {.activation = "relu", .input_shape = {784}}));
  encoder.add(Dense(32, {.activation = "relu"}));
  decoder.add(Dense(128, {.activation = "relu", .input_shape = {32}}));
  decoder.add(Dense(784, {.activation = "sigmoid"}));
  Autoencoder<float> model(std::move(encoder), std::move(decoder));
  model.compile("adam", "binary_crossentropy");
  // Batches of 512 make the output layer's bias gradient split over the threads too.
  const Tensor<float> x = uniform({1024, 784}, 1);
  Run run;
  run.add(model.fit(x, {.epochs = 1, .batch_size = 512, .verbose = 0, .seed = 3}));
  run.add(model);
  run.add(model.predict(x.slice(0, 512), {.batch_size = 512}));
  return run;
}

Run gan_run() {
  const Threads threads(2);
  constexpr index_t kLatent = 100;
  Sequential<float> g({.name = "generator", .seed = 1}), d({.name = "discriminator", .seed = 2});
  g.add(Dense(256, {.activation = "leaky_relu", .input_shape = {kLatent}}));
  g.add(Dense(784, {.activation = "tanh"}));
  d.add(Dense(256, {.activation = "leaky_relu", .input_shape = {784}}));
  d.add(Dense(1, {.activation = "sigmoid"}));
  GAN<float> gan(std::move(g), std::move(d), kLatent);
  gan.compile(Adam({.learning_rate = 2e-4, .beta_1 = 0.5}),
              Adam({.learning_rate = 2e-4, .beta_1 = 0.5}));
  // Batches of 512 make the 784-unit layers' bias gradients split over the threads too.
  const Tensor<float> real = uniform({1024, 784}, 1);
  Run run;
  run.add(gan.fit(real, {.epochs = 1, .batch_size = 512, .verbose = 0, .seed = 3}));
  run.add(gan.generator());
  run.add(gan.discriminator());
  run.add(gan.sample(64, 5));
  return run;
}

/// Two runs in this process, compared byte for byte (a first difference is reported by offset).
void expect_identical(Run (*make)()) {
  const Run a = make(), b = make();
  ASSERT_EQ(a.bytes.size(), b.bytes.size());
  const auto diff = std::mismatch(a.bytes.begin(), a.bytes.end(), b.bytes.begin());
  EXPECT_TRUE(diff.first == a.bytes.end())
      << "runs differ from byte " << (diff.first - a.bytes.begin()) << " of " << a.bytes.size();
}

TEST(Determinism, CnnAtTwoThreadsIsBitwiseReproducible) { expect_identical(cnn_run); }
TEST(Determinism, RnnAtTwoThreadsIsBitwiseReproducible) { expect_identical(rnn_run); }
TEST(Determinism, AutoencoderAtTwoThreadsIsBitwiseReproducible) {
  expect_identical(autoencoder_run);
}
TEST(Determinism, GanAtTwoThreadsIsBitwiseReproducible) { expect_identical(gan_run); }

/// One run of each model, hashed; tests/determinism.cmake compares this line across processes.
TEST(Determinism, Fingerprint) {
  std::cout << "fingerprint: " << cnn_run().hash() << ' ' << rnn_run().hash() << ' '
            << autoencoder_run().hash() << ' ' << gan_run().hash() << std::endl;
}

// --- non-finite values never reach the weights ---------------------------------------------------

/// All weights of a model, copied.
std::vector<Tensor<float>> weights_of(const Model<float>& model) {
  std::vector<Tensor<float>> all;
  for (const Layer<float>* l : model.layers())
    for (const Tensor<float>& w : l->get_weights()) all.push_back(w);
  return all;
}

void expect_same_weights(const std::vector<Tensor<float>>& a, const std::vector<Tensor<float>>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].to_vector(), b[i].to_vector()) << i;
}

/// The model: Dense(8, activation) -> Dense(1), MSE, Adam.
Sequential<float> small_regression(const std::string& activation) {
  Sequential<float> model({.seed = 4});
  model.add(Dense(8, {.activation = activation, .input_shape = {2}}));
  model.add(Dense(1));
  model.compile("adam", "mse");
  return model;
}

/// 8 samples [8, 2] and targets [8, 1]; x[row, 0] = bad.
std::pair<Tensor<float>, Tensor<float>> data_with(index_t row, float bad) {
  Tensor<float> x = uniform({8, 2}, 5), y = uniform({8, 1}, 6);
  x.at({row, 0}) = bad;
  return {x, y};
}

TEST(NonFinite, InfiniteInputInTheLastBatchStopsFitBeforeTheStep) {
  // tanh saturates, so the loss stays finite but the kernel's gradient is inf * 0 = nan.
  const auto [x, y] = data_with(6, std::numeric_limits<float>::infinity());
  Sequential<float> model = small_regression("tanh");
  Sequential<float> reference = small_regression("tanh");  // trained on the first batch only
  reference.train_on_batch(x.slice(0, 4), y.slice(0, 4));
  expect_error<NonFiniteError>(
      [&] { model.fit(x, y, {.batch_size = 4, .shuffle = false, .verbose = 0}); },
      {"fit: the gradient of dense/kernel [2, 8] is not finite", "nan", "epoch 1, batch 2 of 2",
       "left as they were"});
  expect_same_weights(weights_of(model), weights_of(reference));
}

TEST(NonFinite, InfiniteInputInTheFirstBatchNamesThatBatch) {
  const auto [x, y] = data_with(1, std::numeric_limits<float>::infinity());
  Sequential<float> model = small_regression("tanh");
  model.build({2});
  const std::vector<Tensor<float>> before = weights_of(model);
  expect_error<NonFiniteError>(
      [&] { model.fit(x, y, {.epochs = 2, .batch_size = 4, .shuffle = false, .verbose = 0}); },
      {"dense/kernel", "epoch 1, batch 1 of 2"});
  expect_same_weights(weights_of(model), before);
}

TEST(NonFinite, NegativeInfinityIntoReluStopsFit) {
  const auto [x, y] = data_with(0, -std::numeric_limits<float>::infinity());
  Sequential<float> model = small_regression("relu");
  model.build({2});
  const std::vector<Tensor<float>> before = weights_of(model);
  expect_error<NonFiniteError>([&] { model.fit(x, y, {.batch_size = 8, .verbose = 0}); },
                               {"fit", "epoch 1, batch 1 of 1"});
  expect_same_weights(weights_of(model), before);
}

TEST(NonFinite, TrainOnBatchWithNanInputThrows) {
  const auto [x, y] = data_with(3, std::numeric_limits<float>::quiet_NaN());
  Sequential<float> model = small_regression("tanh");
  model.build({2});
  const std::vector<Tensor<float>> before = weights_of(model);
  expect_error<NonFiniteError>([&] { model.train_on_batch(x, y); },
                               {"train_on_batch: the loss became nan", "left as they were"});
  expect_same_weights(weights_of(model), before);
  EXPECT_EQ(model.optimizer().iterations(), 0);
}

TEST(NonFinite, NanInValidationDataIsAnErrorNamingTheSample) {
  const auto [x, y] = data_with(0, 0.5f);
  const auto [vx, vy] = data_with(5, std::numeric_limits<float>::quiet_NaN());
  Sequential<float> model = small_regression("tanh");
  expect_error<NonFiniteError>(
      [&] {
        model.fit(x, y, {.batch_size = 4, .validation_data = std::pair{vx, vy}, .verbose = 0});
      },
      {"fit: the validation loss became nan at epoch 1", "validation x holds nan in sample 5"});
}

TEST(NonFinite, AutoencoderStopsBeforeTheStep) {
  Sequential<float> encoder({.name = "encoder", .seed = 1}),
      decoder({.name = "decoder", .seed = 2});
  encoder.add(Dense(4, {.activation = "tanh", .input_shape = {6}}));
  decoder.add(Dense(6));
  Autoencoder<float> model(std::move(encoder), std::move(decoder));
  model.compile("adam", "mse");
  model.build({6});
  Tensor<float> x = uniform({8, 6}, 3);
  x.at({2, 1}) = std::numeric_limits<float>::infinity();
  const std::vector<Tensor<float>> before = weights_of(model);
  expect_error<NonFiniteError>([&] { model.fit(x, {.batch_size = 8, .verbose = 0}); },
                               {"fit", "epoch 1, batch 1 of 1"});
  expect_same_weights(weights_of(model), before);
}

GAN<float> small_gan() {
  Sequential<float> g({.name = "generator", .seed = 1}), d({.name = "discriminator", .seed = 2});
  g.add(Dense(8, {.activation = "leaky_relu"}));
  g.add(Dense(2, {.activation = "tanh"}));
  d.add(Dense(8, {.activation = "leaky_relu"}));
  d.add(Dense(1, {.activation = "sigmoid"}));
  GAN<float> gan(std::move(g), std::move(d), 3);
  gan.compile("adam", "adam");
  return gan;
}

TEST(NonFinite, GanChecksBeforeTheDiscriminatorStep) {
  GAN<float> gan = small_gan();
  Tensor<float> real = uniform({16, 2}, 2);
  gan.fit(real, {.epochs = 1, .batch_size = 16, .verbose = 0});  // builds both parts
  const std::vector<Tensor<float>> g_before = weights_of(gan.generator()),
                                   d_before = weights_of(gan.discriminator());
  real.at({9, 1}) = std::numeric_limits<float>::quiet_NaN();
  expect_error<NonFiniteError>(
      [&] { gan.fit(real, {.epochs = 1, .batch_size = 16, .verbose = 0}); },
      {"fit: d_loss became nan at epoch 1, batch 1 of 1"});
  expect_same_weights(weights_of(gan.generator()), g_before);
  expect_same_weights(weights_of(gan.discriminator()), d_before);
  Generator latent(1);
  expect_error<NonFiniteError>([&] { gan.train_step(real, 0.0, latent); },
                               {"GAN: train_step: d_loss became nan"});
  expect_same_weights(weights_of(gan.discriminator()), d_before);
}

TEST(NonFinite, FiniteCheckFindsTheFirstBadValue) {
  std::vector<float> v(10000, 1.0f);
  EXPECT_EQ(detail::first_non_finite(v.data(), index_t(v.size())), -1);
  v[9000] = -std::numeric_limits<float>::infinity();
  v[9500] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(detail::first_non_finite(v.data(), index_t(v.size())), 9000);
  v[3] = std::numeric_limits<float>::max();  // large but finite
  EXPECT_EQ(detail::first_non_finite(v.data(), index_t(v.size())), 9000);
  EXPECT_EQ(detail::first_non_finite(v.data(), index_t(0)), -1);
}

// --- batch sizes up to the index type's maximum -----------------------------------------------

TEST(HugeBatchSize, TrainsOneBatchHoldingAllSamples) {
  constexpr index_t kHuge = std::numeric_limits<index_t>::max() - 7;
  const auto [x, y] = data_with(0, 0.5f);
  Sequential<float> model = small_regression("tanh"), reference = small_regression("tanh");
  const History h = model.fit(x, y, {.batch_size = kHuge, .shuffle = false, .verbose = 0});
  reference.train_on_batch(x, y);
  ASSERT_EQ(h["loss"].size(), 1u);
  expect_same_weights(weights_of(model), weights_of(reference));
  EXPECT_TRUE(std::isfinite(model.evaluate(x, y, {.batch_size = kHuge})["loss"]));
  EXPECT_EQ(model.predict(x, {.batch_size = kHuge}).to_vector(), model.predict(x).to_vector());
  GAN<float> gan = small_gan();
  const History g = gan.fit(uniform({8, 2}, 2), {.batch_size = kHuge, .verbose = 0});
  EXPECT_EQ(g["d_loss"].size(), 1u);
  EXPECT_EQ(detail::batch_count(8, kHuge), 1);
  EXPECT_EQ(detail::batch_count(std::numeric_limits<index_t>::max(), kHuge), 2);
}

}  // namespace
}  // namespace lamina
