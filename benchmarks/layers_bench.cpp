// lamina's layers (float) at the shapes of the Keras tutorials, each as users call it
// (`layer(x)`), forward alone (inference: under NoGradGuard, no graph recorded) and forward +
// backward (training: the weights' gradients are zeroed, then the layer's output is
// back-propagated with a fixed random upstream gradient). Data is fixed random.
//
//   Dense(128) on [128, 784], and beside it the raw Eigen GEMMs of the same FLOPs: one for the
//     forward (X W), three for forward + backward (X W, dX = dY W^T, dW = X^T dY);
//   Conv2D(32, 3x3, relu) on [32, 28, 28, 1] ("conv1") and Conv2D(64, 3x3, relu) on
//     [32, 13, 13, 32] ("conv2"): the tutorial CNN's two convolutions at batch 32;
//   MaxPooling2D(2x2) on [32, 26, 26, 32] ("pool1") and [32, 11, 11, 64] ("pool2");
//   SimpleRNN(32) (tanh) over [32, 28, 28]: 28 steps of 28 features at batch 32;
//   LSTM(128) and GRU(128) over [32, 28, 28] (the issue-10 tutorial's row-by-row Fashion-MNIST
//     classifier at batch 32).
//
// In forward + backward the input needs a gradient where it would in the tutorial model (a
// hidden layer: Dense, conv2, the pools), not where it is data (conv1, the RNN).
// Run: build/bench/benchmarks/layers_bench --benchmark_repetitions=3
//        --benchmark_report_aggregates_only=true
// benchmarks/compare_pytorch.py runs it beside the same layers in PyTorch (docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>

#include <utility>

#include <Eigen/Core>

#include <lamina/lamina.hpp>

#include "bench_common.hpp"

namespace {

using lamina::index_t;
using lamina::Layer;
using lamina::NoGradGuard;
using lamina::Shape;
using lamina::Tensor;
using lamina::Variable;
using lamina::bench::uniform;
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Times `layer` on x [input]: forward only, with no graph recorded.
void run_forward(benchmark::State& state, Layer<float>& layer, const Shape& input) {
  const Variable<float> x(uniform(input, 1));
  for (auto _ : state) {
    NoGradGuard no_grad;
    Variable<float> y = layer(x);
    benchmark::DoNotOptimize(y.value().data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * input[0]);
}

/// Times one training pass through `layer` on x [input]: zero the weights' gradients, forward,
/// backward from a fixed upstream gradient. `input_grad`: x is a hidden activation (a new node
/// each step whose gradient is wanted) rather than data.
void run_forward_backward(benchmark::State& state, Layer<float>& layer, const Shape& input,
                          bool input_grad) {
  const Tensor<float> xt = uniform(input, 1);
  Tensor<float> upstream;
  {
    NoGradGuard no_grad;
    upstream = uniform(layer(Variable<float>(xt)).shape(), 2);
  }
  std::vector<Variable<float>> weights = layer.trainable_variables();
  for (auto _ : state) {
    for (Variable<float>& w : weights) w.zero_grad();
    Variable<float> x(xt, input_grad);
    Variable<float> y = layer(x);
    y.backward(upstream);
    benchmark::DoNotOptimize(input_grad ? x.grad().data() : weights.front().grad().data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * input[0]);
}

// --- Dense(128) on [128, 784], and raw Eigen GEMMs of the same FLOPs -----------------------------

constexpr index_t kDenseBatch = 128, kDenseIn = 784, kDenseUnits = 128;

/// 2 m k n floating-point operations per GEMM, as a rate.
void report_gemm_flops(benchmark::State& state, int gemms) {
  state.SetItemsProcessed(state.iterations() * kDenseBatch);
  state.counters["FLOPS"] = benchmark::Counter(
      2.0 * double(kDenseBatch * kDenseIn * kDenseUnits) * gemms,
      benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::kIs1000);
}

void BM_DenseForward(benchmark::State& state) {
  lamina::Dense<float> dense(kDenseUnits, {.input_shape = {kDenseIn}});
  run_forward(state, dense, {kDenseBatch, kDenseIn});
  report_gemm_flops(state, 1);
}

void BM_DenseForwardBackward(benchmark::State& state) {
  lamina::Dense<float> dense(kDenseUnits, {.input_shape = {kDenseIn}});
  run_forward_backward(state, dense, {kDenseBatch, kDenseIn}, true);
  report_gemm_flops(state, 3);
}

Matrix random_matrix(index_t rows, index_t cols, std::uint64_t seed) {
  const Tensor<float> t = uniform({rows, cols}, seed);
  return Eigen::Map<const Matrix>(t.data(), rows, cols);
}

/// Y = X W into a preallocated Y: the GEMM of Dense's forward.
void BM_DenseRawEigenForward(benchmark::State& state) {
  const Matrix x = random_matrix(kDenseBatch, kDenseIn, 1);
  const Matrix w = random_matrix(kDenseIn, kDenseUnits, 2);
  Matrix y(kDenseBatch, kDenseUnits);
  for (auto _ : state) {
    y.noalias() = x * w;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  report_gemm_flops(state, 1);
}

/// Y = X W, dX = dY W^T, dW = X^T dY into preallocated matrices: Dense's three GEMMs.
void BM_DenseRawEigenForwardBackward(benchmark::State& state) {
  const Matrix x = random_matrix(kDenseBatch, kDenseIn, 1);
  const Matrix w = random_matrix(kDenseIn, kDenseUnits, 2);
  const Matrix dy = random_matrix(kDenseBatch, kDenseUnits, 3);
  Matrix y(kDenseBatch, kDenseUnits), dx(kDenseBatch, kDenseIn), dw(kDenseIn, kDenseUnits);
  for (auto _ : state) {
    y.noalias() = x * w;
    dx.noalias() = dy * w.transpose();
    dw.noalias() = x.transpose() * dy;
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(dx.data());
    benchmark::DoNotOptimize(dw.data());
    benchmark::ClobberMemory();
  }
  report_gemm_flops(state, 3);
}

BENCHMARK(BM_DenseForward)->Name("BM_DenseForward/128x784x128")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DenseRawEigenForward)
    ->Name("BM_DenseRawEigenForward/128x784x128")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DenseForwardBackward)
    ->Name("BM_DenseForwardBackward/128x784x128")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DenseRawEigenForwardBackward)
    ->Name("BM_DenseRawEigenForwardBackward/128x784x128")
    ->Unit(benchmark::kMicrosecond);

// --- Conv2D and MaxPooling2D at the tutorial CNN's shapes, batch 32 ----------------------------

constexpr index_t kBatch = 32;

/// The tutorial's convolutions: 0 = Conv2D(32, 3x3, relu) on [32, 28, 28, 1],
/// 1 = Conv2D(64, 3x3, relu) on [32, 13, 13, 32].
std::pair<lamina::Conv2D<float>, Shape> tutorial_conv(int which) {
  if (which == 0)
    return {lamina::Conv2D<float>(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}),
            Shape{kBatch, 28, 28, 1}};
  return {lamina::Conv2D<float>(64, {3, 3}, {.activation = "relu", .input_shape = {13, 13, 32}}),
          Shape{kBatch, 13, 13, 32}};
}

void BM_Conv2DForward(benchmark::State& state, int which) {
  auto [conv, input] = tutorial_conv(which);
  run_forward(state, conv, input);
}
void BM_Conv2DForwardBackward(benchmark::State& state, int which) {
  auto [conv, input] = tutorial_conv(which);
  run_forward_backward(state, conv, input, /*input_grad=*/which == 1);
}
BENCHMARK_CAPTURE(BM_Conv2DForward, conv1, 0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Conv2DForward, conv2, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Conv2DForwardBackward, conv1, 0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Conv2DForwardBackward, conv2, 1)->Unit(benchmark::kMicrosecond);

/// The tutorial's pools: 0 = MaxPooling2D(2x2) on [32, 26, 26, 32], 1 = on [32, 11, 11, 64].
Shape pool_input(int which) {
  return which == 0 ? Shape{kBatch, 26, 26, 32} : Shape{kBatch, 11, 11, 64};
}

void BM_MaxPooling2DForward(benchmark::State& state, int which) {
  lamina::MaxPooling2D<float> pool({2, 2});
  run_forward(state, pool, pool_input(which));
}
void BM_MaxPooling2DForwardBackward(benchmark::State& state, int which) {
  lamina::MaxPooling2D<float> pool({2, 2});
  run_forward_backward(state, pool, pool_input(which), /*input_grad=*/true);
}
BENCHMARK_CAPTURE(BM_MaxPooling2DForward, pool1, 0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_MaxPooling2DForward, pool2, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_MaxPooling2DForwardBackward, pool1, 0)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_MaxPooling2DForwardBackward, pool2, 1)->Unit(benchmark::kMicrosecond);

// --- SimpleRNN(32) over 28 steps of 28 features, batch 32 --------------------------------------

const Shape kRnnInput{kBatch, 28, 28};

void BM_SimpleRNNForward(benchmark::State& state) {
  lamina::SimpleRNN<float> rnn(32, {.input_shape = {28, 28}});
  run_forward(state, rnn, kRnnInput);
}
void BM_SimpleRNNForwardBackward(benchmark::State& state) {
  lamina::SimpleRNN<float> rnn(32, {.input_shape = {28, 28}});
  run_forward_backward(state, rnn, kRnnInput, /*input_grad=*/false);
}
BENCHMARK(BM_SimpleRNNForward)
    ->Name("BM_SimpleRNNForward/b32_t28_f28_u32")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SimpleRNNForwardBackward)
    ->Name("BM_SimpleRNNForwardBackward/b32_t28_f28_u32")
    ->Unit(benchmark::kMicrosecond);

// --- LSTM(128) and GRU(128) over 28 steps of 28 features, batch 32 ----------------------------

void BM_LSTMForward(benchmark::State& state) {
  lamina::LSTM<float> lstm(128, {.input_shape = {28, 28}});
  run_forward(state, lstm, kRnnInput);
}
void BM_LSTMForwardBackward(benchmark::State& state) {
  lamina::LSTM<float> lstm(128, {.input_shape = {28, 28}});
  run_forward_backward(state, lstm, kRnnInput, /*input_grad=*/false);
}
void BM_GRUForward(benchmark::State& state) {
  lamina::GRU<float> gru(128, {.input_shape = {28, 28}});
  run_forward(state, gru, kRnnInput);
}
void BM_GRUForwardBackward(benchmark::State& state) {
  lamina::GRU<float> gru(128, {.input_shape = {28, 28}});
  run_forward_backward(state, gru, kRnnInput, /*input_grad=*/false);
}
BENCHMARK(BM_LSTMForward)->Name("BM_LSTMForward/b32_t28_f28_u128")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LSTMForwardBackward)
    ->Name("BM_LSTMForwardBackward/b32_t28_f28_u128")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GRUForward)->Name("BM_GRUForward/b32_t28_f28_u128")->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GRUForwardBackward)
    ->Name("BM_GRUForwardBackward/b32_t28_f28_u128")
    ->Unit(benchmark::kMicrosecond);

}  // namespace
