// conv2d and max_pool2d at the shapes of the Keras CNN tutorial (batch 32, float):
//   conv 1: x [32, 28, 28, 1]  * kernel [3, 3, 1, 32]   -> [32, 26, 26, 32]
//   pool 1: [32, 26, 26, 32] -> [32, 13, 13, 32]
//   conv 2: x [32, 13, 13, 32] * kernel [3, 3, 32, 64]  -> [32, 11, 11, 64]
//   pool 2: [32, 11, 11, 64] -> [32, 5, 5, 64]
// Forward alone (inference: nothing requires grad) and forward + backward (training).
// Run: build/release/benchmarks/conv_bench --benchmark_repetitions=3
//        --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <lamina/lamina.hpp>

namespace {

using lamina::Shape;
using lamina::Tensor;
using lamina::Variable;

constexpr lamina::index_t kBatch = 32;

Tensor<float> random(Shape shape, std::uint64_t seed) {
  lamina::Generator gen(seed);
  return Tensor<float>::uniform(std::move(shape), -1.0f, 1.0f, gen);
}

/// state.range(0) picks the layer: 0 = conv 1, 1 = conv 2.
Shape conv_input(int layer) {
  return layer == 0 ? Shape{kBatch, 28, 28, 1} : Shape{kBatch, 13, 13, 32};
}
Shape conv_kernel(int layer) { return layer == 0 ? Shape{3, 3, 1, 32} : Shape{3, 3, 32, 64}; }

void BM_Conv2DForward(benchmark::State& state) {
  const int layer = static_cast<int>(state.range(0));
  const Variable<float> x(random(conv_input(layer), 1));
  const Variable<float> k(random(conv_kernel(layer), 2));
  for (auto _ : state) {
    Variable<float> y = lamina::conv2d(x, k);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_Conv2DForward)->ArgName("layer")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

/// state.range(1): 1 when the input needs a gradient too (a hidden layer), 0 when only the
/// kernel does (the first layer, whose input is data). As in training, the kernel is a
/// persistent parameter whose gradient accumulates, while the input is a new node each step
/// (its gradient is handed over, not accumulated).
void BM_Conv2DForwardBackward(benchmark::State& state) {
  const int layer = static_cast<int>(state.range(0));
  const bool input_grad = state.range(1) != 0;
  const Tensor<float> input = random(conv_input(layer), 1);
  Variable<float> k(random(conv_kernel(layer), 2), true);
  const Tensor<float> upstream = random(lamina::conv2d(Variable<float>(input), k).shape(), 3);
  for (auto _ : state) {
    Variable<float> x(input, input_grad);
    Variable<float> y = lamina::conv2d(x, k);
    y.backward(upstream);
    benchmark::DoNotOptimize(k.grad().data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_Conv2DForwardBackward)
    ->ArgNames({"layer", "input_grad"})
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({1, 1})
    ->Unit(benchmark::kMicrosecond);

/// state.range(0) picks the layer: 0 = pool 1, 1 = pool 2.
Shape pool_input(int layer) {
  return layer == 0 ? Shape{kBatch, 26, 26, 32} : Shape{kBatch, 11, 11, 64};
}

void BM_MaxPool2DForward(benchmark::State& state) {
  const Variable<float> x(random(pool_input(static_cast<int>(state.range(0))), 4));
  for (auto _ : state) {
    Variable<float> y = lamina::max_pool2d(x);
    benchmark::DoNotOptimize(y.value().data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_MaxPool2DForward)->ArgName("layer")->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

/// The input is a new node each step, as a hidden activation is in training.
void BM_MaxPool2DForwardBackward(benchmark::State& state) {
  const Tensor<float> input = random(pool_input(static_cast<int>(state.range(0))), 4);
  const Tensor<float> upstream = random(lamina::max_pool2d(Variable<float>(input)).shape(), 5);
  for (auto _ : state) {
    Variable<float> x(input, true);
    Variable<float> y = lamina::max_pool2d(x);
    y.backward(upstream);
    benchmark::DoNotOptimize(x.grad().data());
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_MaxPool2DForwardBackward)
    ->ArgName("layer")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
