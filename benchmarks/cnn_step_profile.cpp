// A small driver for profilers: training steps of the tutorial CNN (the model of
// training_bench's BM_CnnTrainStep) on fixed random data, with the measured steps inside one
// function, `profiled_steps`, that a profiler can be told to collect alone (not a Google
// Benchmark, so CMake does not build it). The commands that made docs/PERFORMANCE.md's profiles
// (callgrind on an AVX2 build, since Valgrind cannot run AVX-512; perf's software clock on the
// -march=native build) are in that file, section "Where lamina's time goes".
//
// Arguments: batch size (default 32), measured steps (default 5); two unmeasured warm-up steps
// come first.
#include <cstdlib>
#include <iostream>

#include <lamina/lamina.hpp>

#include "bench_common.hpp"

namespace {

using lamina::Sequential;
using lamina::Tensor;

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
  Sequential<float> model = lamina::bench::tutorial_cnn();
  const Tensor<float> x = lamina::bench::uniform({batch, 28, 28, 1}, 1, 0.0f, 1.0f);
  const Tensor<float> y = lamina::bench::labels(batch, 10, 2);
  for (int i = 0; i < 2; ++i) model.train_on_batch(x, y);  // warm-up: builds the optimizer state
  std::cout << "loss after " << steps << " steps: " << profiled_steps(model, x, y, steps) << "\n";
}
