// One whole training step (float) of each tutorial model, as `fit` runs it: zero the
// gradients, forward, loss, backward, optimizer step. Data is fixed random (inputs uniform,
// labels uniform over the classes), the same batch every step.
//
//   BM_CnnTrainStep/<batch>: the Keras tutorial CNN (examples/cnn.cpp), Conv2D(32, 3x3, relu)
//     -> MaxPooling2D -> Conv2D(64, 3x3, relu) -> MaxPooling2D -> Flatten -> Dense(64, relu)
//     -> Dense(10, softmax) on [batch, 28, 28, 1]; Adam, sparse categorical cross-entropy;
//   BM_CnnFiniteCheck: the CNN step's check that its gradients are finite, alone;
//   BM_RnnTrainStep/32: SimpleRNN(32, relu) on [32, 28, 28] -> Dense(10, softmax), the same
//     loss and optimizer;
//   BM_AutoencoderTrainStep/256: Dense(32, relu) -> Dense(784, sigmoid) on [256, 784], binary
//     cross-entropy against the input, Adam;
//   BM_GanTrainStep/64: one GAN::train_step (a discriminator update, then a generator update) with
//     G: 100 -> Dense(256, leaky_relu 0.2) -> Dense(784, tanh) and
//     D: 784 -> Dense(256, leaky_relu 0.2) -> Dense(1, sigmoid), both Adam(2e-4, beta_1 0.5);
//   BM_LstmTrainStep/32, BM_GruTrainStep/32: LSTM(128) / GRU(128) on [32, 28, 28] ->
//     Dense(10, softmax), sparse categorical cross-entropy, Adam (the lstm example's network);
//   BM_DcganTrainStep/128: one GAN::train_step of the dcgan example's networks
//     (examples/common/dcgan_models.hpp) on [128, 28, 28, 1].
//
// The Sequential models use Model::train_on_batch (compiled without metrics, so the step is
// the optimisation alone). Items per second are samples per second.
// Run: build/bench/benchmarks/training_bench --benchmark_repetitions=3
//        --benchmark_report_aggregates_only=true
// benchmarks/compare_pytorch.py runs it beside the same models in PyTorch (docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>

#include <utility>
#include <vector>

#include <lamina/lamina.hpp>

#include "../examples/common/dcgan_models.hpp"
#include "bench_common.hpp"

namespace {

using lamina::Adam;
using lamina::Dense;
using lamina::index_t;
using lamina::Sequential;
using lamina::Shape;
using lamina::Tensor;
using lamina::bench::labels;
using lamina::bench::uniform;

/// Times model.train_on_batch(x, y).
void run_train_on_batch(benchmark::State& state, lamina::Model<float>& model,
                        const Tensor<float>& x, const Tensor<float>& y) {
  for (auto _ : state) {
    const double loss = model.train_on_batch(x, y);
    benchmark::DoNotOptimize(loss);
  }
  state.SetItemsProcessed(state.iterations() * x.dim(0));
}

void BM_CnnTrainStep(benchmark::State& state) {
  const index_t batch = state.range(0);
  Sequential<float> model = lamina::bench::tutorial_cnn();
  run_train_on_batch(state, model, uniform({batch, 28, 28, 1}, 1, 0.0f, 1.0f),
                     labels(batch, 10, 2));
}
BENCHMARK(BM_CnnTrainStep)->Arg(32)->Arg(128)->Unit(benchmark::kMillisecond);

/// The part of BM_CnnTrainStep that checks, before the optimizer step, that every
/// gradient are finite (docs/RELIABILITY.md): one pass over the CNN's 121,930 gradient values.
void BM_CnnFiniteCheck(benchmark::State& state) {
  Sequential<float> model = lamina::bench::tutorial_cnn();
  model.train_on_batch(uniform({32, 28, 28, 1}, 1, 0.0f, 1.0f), labels(32, 10, 2));
  const std::vector<lamina::Layer<float>*> layers = model.layers();
  for (auto _ : state) lamina::detail::check_finite_gradients(layers, {"fit"});
}
BENCHMARK(BM_CnnFiniteCheck)->Unit(benchmark::kMicrosecond);

void BM_RnnTrainStep(benchmark::State& state) {
  const index_t batch = state.range(0);
  Sequential<float> model({.seed = 1});
  model.add(lamina::SimpleRNN(32, {.activation = "relu", .input_shape = {28, 28}}));
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy");
  run_train_on_batch(state, model, uniform({batch, 28, 28}, 1, 0.0f, 1.0f), labels(batch, 10, 2));
}
BENCHMARK(BM_RnnTrainStep)->Arg(32)->Unit(benchmark::kMillisecond);

void BM_AutoencoderTrainStep(benchmark::State& state) {
  const index_t batch = state.range(0);
  Sequential<float> encoder({.name = "encoder", .seed = 1}),
      decoder({.name = "decoder", .seed = 2});
  encoder.add(Dense(32, {.activation = "relu", .input_shape = {784}}));
  decoder.add(Dense(784, {.activation = "sigmoid", .input_shape = {32}}));
  lamina::Autoencoder<float> model(std::move(encoder), std::move(decoder));
  model.compile("adam", "binary_crossentropy");
  const Tensor<float> x = uniform({batch, 784}, 1, 0.0f, 1.0f);
  run_train_on_batch(state, model, x, x);
}
BENCHMARK(BM_AutoencoderTrainStep)->Arg(256)->Unit(benchmark::kMillisecond);

template <class Layer>
void run_recurrent_step(benchmark::State& state, Layer recurrent) {
  const index_t batch = state.range(0);
  Sequential<float> model({.seed = 1});
  model.add(std::move(recurrent));
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy");
  run_train_on_batch(state, model, uniform({batch, 28, 28}, 1, 0.0f, 1.0f), labels(batch, 10, 2));
}

void BM_LstmTrainStep(benchmark::State& state) {
  run_recurrent_step(state, lamina::LSTM(128, {.input_shape = {28, 28}}));
}
BENCHMARK(BM_LstmTrainStep)->Arg(32)->Unit(benchmark::kMillisecond);

void BM_GruTrainStep(benchmark::State& state) {
  run_recurrent_step(state, lamina::GRU(128, {.input_shape = {28, 28}}));
}
BENCHMARK(BM_GruTrainStep)->Arg(32)->Unit(benchmark::kMillisecond);

/// Times gan.train_step on a fixed batch of real samples [batch, sample...].
void run_gan_step(benchmark::State& state, lamina::GAN<float>& gan, const Shape& sample) {
  const index_t batch = state.range(0);
  gan.compile(Adam({.learning_rate = 2e-4, .beta_1 = 0.5}),
              Adam({.learning_rate = 2e-4, .beta_1 = 0.5}));
  std::vector<index_t> dims{batch};
  dims.insert(dims.end(), sample.begin(), sample.end());
  const Tensor<float> real = uniform(Shape(dims), 1);
  // One epoch over a single batch builds both optimizers (train_step alone does not).
  gan.fit(real, {.epochs = 1, .batch_size = batch, .verbose = 0});
  lamina::Generator latent(3);
  for (auto _ : state) {
    lamina::Logs logs = gan.train_step(real, 0.0, latent);
    benchmark::DoNotOptimize(logs);
  }
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_GanTrainStep(benchmark::State& state) {
  constexpr index_t kLatent = 100;
  Sequential<float> g({.name = "generator", .seed = 1}), d({.name = "discriminator", .seed = 2});
  g.add(Dense(256, {.activation = "leaky_relu", .input_shape = {kLatent}}));  // slope 0.2
  g.add(Dense(784, {.activation = "tanh"}));
  d.add(Dense(256, {.activation = "leaky_relu", .input_shape = {784}}));
  d.add(Dense(1, {.activation = "sigmoid"}));
  lamina::GAN<float> gan(std::move(g), std::move(d), kLatent);
  run_gan_step(state, gan, {784});
}
BENCHMARK(BM_GanTrainStep)->Arg(64)->Unit(benchmark::kMillisecond);

void BM_DcganTrainStep(benchmark::State& state) {
  lamina::GAN<float> gan(lamina::examples::dcgan_generator(1),
                         lamina::examples::dcgan_discriminator(2),
                         lamina::examples::kDcganLatentDim);
  run_gan_step(state, gan, {28, 28, 1});
}
BENCHMARK(BM_DcganTrainStep)->Arg(128)->Unit(benchmark::kMillisecond);

}  // namespace
