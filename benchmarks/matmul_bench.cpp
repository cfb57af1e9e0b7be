// lamina's matmul against raw Eigen GEMM on row-major float matrices, [m, k] x [k, n]:
// forward C = A B, and forward + backward (dA = dC B^T, dB = A^T dC). Arguments are m, k, n.
// Results and the command line: docs/PERFORMANCE.md, section "matmul vs raw Eigen".
#include <benchmark/benchmark.h>

#include <cstdint>
#include <utility>

#include <Eigen/Core>

#include <lamina/lamina.hpp>

namespace {

using lamina::Tensor;
using lamina::Variable;
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Dims {
  lamina::index_t m, k, n;
};

Dims dims(const benchmark::State& state) {
  return {state.range(0), state.range(1), state.range(2)};
}

Tensor<float> random(lamina::Shape shape, std::uint64_t seed) {
  lamina::Generator gen(seed);
  return Tensor<float>::uniform(std::move(shape), -1.0f, 1.0f, gen);
}

Matrix as_matrix(const Tensor<float>& t, lamina::index_t rows, lamina::index_t cols) {
  return Eigen::Map<const Matrix>(t.data(), rows, cols);
}

/// Rows (samples) per second as items, and floating-point operations per second
/// (2 m k n per GEMM).
void report(benchmark::State& state, const Dims& d, int gemms) {
  state.SetItemsProcessed(state.iterations() * d.m);
  state.counters["FLOPS"] = benchmark::Counter(2.0 * static_cast<double>(d.m * d.k * d.n) * gemms,
                                               benchmark::Counter::kIsIterationInvariantRate,
                                               benchmark::Counter::kIs1000);
}

void BM_LaminaMatmulForward(benchmark::State& state) {
  const Dims d = dims(state);
  const Variable<float> a(random({d.m, d.k}, 1)), b(random({d.k, d.n}, 2));
  for (auto _ : state) {
    Variable<float> c = lamina::matmul(a, b);
    benchmark::DoNotOptimize(c.value().data());
    benchmark::ClobberMemory();
  }
  report(state, d, 1);
}

void BM_EigenGemmForward(benchmark::State& state) {
  const Dims d = dims(state);
  const Matrix a = as_matrix(random({d.m, d.k}, 1), d.m, d.k);
  const Matrix b = as_matrix(random({d.k, d.n}, 2), d.k, d.n);
  Matrix c(d.m, d.n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  report(state, d, 1);
}

void BM_LaminaMatmulForwardBackward(benchmark::State& state) {
  const Dims d = dims(state);
  const Tensor<float> at = random({d.m, d.k}, 1), bt = random({d.k, d.n}, 2);
  const Tensor<float> upstream = random({d.m, d.n}, 3);
  for (auto _ : state) {
    // Fresh leaves over the same data, so each gradient is stored rather than accumulated.
    Variable<float> a(at, true), b(bt, true);
    Variable<float> c = lamina::matmul(a, b);
    c.backward(upstream);
    benchmark::DoNotOptimize(a.grad().data());
    benchmark::DoNotOptimize(b.grad().data());
    benchmark::ClobberMemory();
  }
  report(state, d, 3);
}

void BM_EigenGemmForwardBackward(benchmark::State& state) {
  const Dims d = dims(state);
  const Matrix a = as_matrix(random({d.m, d.k}, 1), d.m, d.k);
  const Matrix b = as_matrix(random({d.k, d.n}, 2), d.k, d.n);
  const Matrix g = as_matrix(random({d.m, d.n}, 3), d.m, d.n);
  Matrix c(d.m, d.n), ga(d.m, d.k), gb(d.k, d.n);
  for (auto _ : state) {
    c.noalias() = a * b;
    ga.noalias() = g * b.transpose();
    gb.noalias() = a.transpose() * g;
    benchmark::DoNotOptimize(c.data());
    benchmark::DoNotOptimize(ga.data());
    benchmark::DoNotOptimize(gb.data());
    benchmark::ClobberMemory();
  }
  report(state, d, 3);
}

void sizes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "k", "n"})
      ->Args({128, 784, 128})
      ->Args({1024, 1024, 1024})
      ->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_LaminaMatmulForward)->Apply(sizes);
BENCHMARK(BM_EigenGemmForward)->Apply(sizes);
BENCHMARK(BM_LaminaMatmulForwardBackward)->Apply(sizes);
BENCHMARK(BM_EigenGemmForwardBackward)->Apply(sizes);

}  // namespace
