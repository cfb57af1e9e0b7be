#pragma once

// Helpers shared by the layer and training benchmarks (not a benchmark itself: only
// benchmarks/*_bench.cpp become executables).

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <utility>

#include <Eigen/Core>

#include <lamina/lamina.hpp>

namespace lamina::bench {

/// Fixed random data: uniform in [low, high), drawn from a generator seeded with `seed`.
inline Tensor<float> uniform(Shape shape, std::uint64_t seed, float low = -1.0f,
                             float high = 1.0f) {
  Generator gen(seed);
  return Tensor<float>::uniform(std::move(shape), low, high, gen);
}

/// Fixed random integer class labels in [0, classes), as floats: [n].
inline Tensor<float> labels(index_t n, index_t classes, std::uint64_t seed) {
  Generator gen(seed);
  Tensor<float> y = Tensor<float>::empty({n});
  for (index_t i = 0; i < n; ++i)
    y.data()[i] = static_cast<float>(gen.below(static_cast<std::uint64_t>(classes)));
  return y;
}

/// The Keras tutorial CNN (examples/cnn.cpp): Conv2D(32, 3x3, relu) -> MaxPooling2D ->
/// Conv2D(64, 3x3, relu) -> MaxPooling2D -> Flatten -> Dense(64, relu) -> Dense(10, softmax) on
/// [batch, 28, 28, 1], compiled with Adam and sparse categorical cross-entropy (no metrics).
inline Sequential<float> tutorial_cnn() {
  Sequential<float> model({.seed = 1});
  model.add(Conv2D(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}));
  model.add(MaxPooling2D({2, 2}));
  model.add(Conv2D(64, {3, 3}, {.activation = "relu"}));
  model.add(MaxPooling2D({2, 2}));
  model.add(Flatten());
  model.add(Dense(64, {.activation = "relu"}));
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy");
  return model;
}

/// Puts the number of threads Eigen's kernels may use into the benchmark's context (the JSON
/// "context" object), so that a reader of the results sees how many cores lamina ran on.
/// Without OpenMP Eigen runs every kernel on one thread, whatever OMP_NUM_THREADS says.
inline bool report_threads() {
#ifdef _OPENMP
  benchmark::AddCustomContext("lamina_openmp", "yes");
#else
  benchmark::AddCustomContext("lamina_openmp", "no");
#endif
  benchmark::AddCustomContext("lamina_eigen_threads", std::to_string(Eigen::nbThreads()));
  return true;
}
inline const bool threads_reported = report_threads();

}  // namespace lamina::bench
