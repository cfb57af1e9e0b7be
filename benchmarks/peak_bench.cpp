// The machine's floating-point peak: float fused multiply-adds on independent registers, no
// memory traffic, the yardstick of the whole-epoch GFLOP/s in benchmarks/compare_pytorch.py.
//
//   BM_FmaPeak<bits>/<threads>: each of `threads` OpenMP threads runs kChains independent FMA
//     chains on `bits`-wide float vectors (256: AVX2 + FMA, 512: AVX-512F; each width only when
//     the build targets it, as the CMake build does with -march=native). The counter "FLOPS"
//     counts 2 flops per lane per FMA over wall time.
//
// The achievable peak of the machine is the larger of the two widths at the thread count
// measured: on CPUs that split a 512-bit FMA into two 256-bit halves both give the same.
// Run: build/release/benchmarks/peak_bench --benchmark_repetitions=5
//        --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

// FMA latency is 4-5 cycles with two issued per cycle on current x86 cores: 12 independent
// chains keep both pipes busy without spilling registers.
constexpr int kChains = 12;
constexpr std::int64_t kIterations = 1 << 21;  // a few milliseconds per thread

/// Runs kIterations rounds of kChains FMAs on vectors V; returns a value that depends on all
/// of them (so that none is optimised away).
template <class V, class Ops>
float fma_chains(float seed) {
  V acc[kChains];
  for (int c = 0; c < kChains; ++c) acc[c] = Ops::set(seed + 0.001f * float(c));
  const V mul = Ops::set(0.999999f), add = Ops::set(1e-7f);
  for (std::int64_t i = 0; i < kIterations; ++i) {
    for (int c = 0; c < kChains; ++c) acc[c] = Ops::fma(acc[c], mul, add);
  }
  float sum = 0.0f;
  for (int c = 0; c < kChains; ++c) sum += Ops::first(acc[c]);
  return sum;
}

template <class V, class Ops, int kLanes>
void run_peak(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  float sink = 0.0f;
  for (auto _ : state) {
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : sink)
    sink += fma_chains<V, Ops>(1.0f + 0.01f * float(omp_get_thread_num()));
#else
    for (int t = 0; t < threads; ++t) sink += fma_chains<V, Ops>(1.0f + 0.01f * float(t));
#endif
  }
  benchmark::DoNotOptimize(sink);
  state.counters["FLOPS"] = benchmark::Counter(
      double(state.iterations()) * threads * kIterations * kChains * kLanes * 2.0,
      benchmark::Counter::kIsRate);
#ifndef _OPENMP
  state.SetLabel("built without OpenMP: the threads ran one after the other");
#endif
}

#if defined(__FMA__) && defined(__AVX__)
struct Avx2 {
  static __m256 set(float v) { return _mm256_set1_ps(v); }
  static __m256 fma(__m256 a, __m256 b, __m256 c) { return _mm256_fmadd_ps(a, b, c); }
  static float first(__m256 v) { return _mm256_cvtss_f32(v); }
};
void BM_FmaPeak256(benchmark::State& state) { run_peak<__m256, Avx2, 8>(state); }
BENCHMARK(BM_FmaPeak256)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif

#if defined(__AVX512F__)
struct Avx512 {
  static __m512 set(float v) { return _mm512_set1_ps(v); }
  static __m512 fma(__m512 a, __m512 b, __m512 c) { return _mm512_fmadd_ps(a, b, c); }
  static float first(__m512 v) { return _mm512_cvtss_f32(v); }
};
void BM_FmaPeak512(benchmark::State& state) { run_peak<__m512, Avx512, 16>(state); }
BENCHMARK(BM_FmaPeak512)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
#endif

#if !(defined(__FMA__) && defined(__AVX__)) && !defined(__AVX512F__)
// Built for a CPU without FMA (no -march=native): nothing to measure, and saying so.
void BM_FmaPeakUnavailable(benchmark::State& state) {
  for (auto _ : state) {
  }
  state.SkipWithError("peak_bench needs AVX2+FMA or AVX-512F; build with LAMINA_NATIVE=ON");
}
BENCHMARK(BM_FmaPeakUnavailable);
#endif

}  // namespace
