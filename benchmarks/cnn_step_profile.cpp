// A small driver for profilers: training steps of the tutorial CNN (the model of
// training_bench's BM_CnnTrainStep) on fixed random data, with the measured steps inside one
// function, `profiled_steps`, that a profiler can be told to collect alone (not a Google
// Benchmark, so CMake does not build it). How docs/PERFORMANCE.md's profiles were made:
//
// Instruction counts with callgrind. Valgrind 3.19 cannot decode AVX-512, so this build targets
// AVX2 + FMA (x86-64-v3) rather than -march=native:
//   g++ -std=c++20 -O3 -DNDEBUG -g -march=x86-64-v3 -fopenmp -Iinclude -I/usr/include/eigen3 \
//       benchmarks/cnn_step_profile.cpp -lbenchmark -lz -o /tmp/cnn_step_profile_avx2
//   OMP_NUM_THREADS=1 valgrind --tool=callgrind '--toggle-collect=*profiled_steps*' \
//       --callgrind-out-file=/tmp/cnn.callgrind /tmp/cnn_step_profile_avx2 32 3
//   callgrind_annotate --inclusive=yes /tmp/cnn.callgrind | head -80
//
// Time with perf's software clock (this VM exposes no hardware counters), on the real build:
//   g++ -std=c++20 -O3 -DNDEBUG -g -fno-omit-frame-pointer -march=native -fopenmp -Iinclude \
//       -I/usr/include/eigen3 benchmarks/cnn_step_profile.cpp -lbenchmark -lz \
//       -o /tmp/cnn_step_profile_fp
//   OMP_NUM_THREADS=1 perf record -e cpu-clock -F 4000 -g -o /tmp/cnn.perf.data \
//       /tmp/cnn_step_profile_fp 32 300
//   perf report -i /tmp/cnn.perf.data --no-children --sort symbol --stdio -g none
//
// Arguments: batch size (default 32), measured steps (default 5); two unmeasured warm-up steps
// come first.
#include <cstdlib>
#include <iostream>

#include <lamina/lamina.hpp>

#include "bench_common.hpp"

namespace {

using lamina::Conv2D;
using lamina::Dense;
using lamina::Sequential;
using lamina::Tensor;

Sequential<float> tutorial_cnn() {
  Sequential<float> model({.seed = 1});
  model.add(Conv2D(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}));
  model.add(lamina::MaxPooling2D({2, 2}));
  model.add(Conv2D(64, {3, 3}, {.activation = "relu"}));
  model.add(lamina::MaxPooling2D({2, 2}));
  model.add(lamina::Flatten());
  model.add(Dense(64, {.activation = "relu"}));
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy");
  return model;
}

[[gnu::noinline]] double profiled_steps(Sequential<float>& model, const Tensor<float>& x,
                                        const Tensor<float>& y, int steps) {
  double loss = 0.0;
  for (int i = 0; i < steps; ++i) loss = model.train_on_batch(x, y);
  return loss;
}

}  // namespace

int main(int argc, char** argv) {
  const lamina::index_t batch = argc > 1 ? std::atoi(argv[1]) : 32;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 5;
  Sequential<float> model = tutorial_cnn();
  const Tensor<float> x = lamina::bench::uniform({batch, 28, 28, 1}, 1, 0.0f, 1.0f);
  const Tensor<float> y = lamina::bench::labels(batch, 10, 2);
  for (int i = 0; i < 2; ++i) model.train_on_batch(x, y);  // warm-up: builds the optimizer state
  std::cout << "loss after " << steps << " steps: " << profiled_steps(model, x, y, steps) << "\n";
}
