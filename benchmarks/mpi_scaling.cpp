// Figures for docs/DISTRIBUTED.md, run by hand under mpirun (not a Google Benchmark; built only
// when CMake finds MPI):
//   mpirun -np 2 --oversubscribe build/release/benchmarks/mpi_scaling [global batch] [steps]
// Prints, on rank 0: MPI_Allreduce's time for messages of 8 B to 4 MB (latency, and bandwidth as
// "bus bandwidth", 2 (P - 1) / P bytes per time, comparable across process counts); then the
// tutorial CNN's training step with the global batch split over the processes: the step
// (DataParallel fit), its compute alone (train_on_batch on a local batch, no communication) and
// its communication alone (one allreduce of every gradient).
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#include <lamina/distributed/data_parallel.hpp>
#include <lamina/distributed/environment.hpp>

#include "bench_common.hpp"

namespace {

/// Seconds per call of `f`, the median-free mean of `iterations` calls after one warm-up, the
/// slowest process's.
template <class F>
double seconds_per_call(int iterations, F&& f) {
  f();
  MPI_Barrier(MPI_COMM_WORLD);
  const double start = MPI_Wtime();
  for (int i = 0; i < iterations; ++i) f();
  double mine = (MPI_Wtime() - start) / iterations, slowest = 0;
  MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return slowest;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lamina;
  distributed::Environment env(argc, argv);
  const int p = env.size();
  const bool chief = env.chief();
  const index_t global = argc > 1 ? std::atoi(argv[1]) : 64;
  const int steps = argc > 2 ? std::atoi(argv[2]) : 10;

  if (chief)
    std::printf("processes: %d\n\nallreduce (float sum)\n%10s %12s %14s\n", p, "bytes", "time [us]",
                "busbw [MB/s]");
  for (const std::size_t bytes : {std::size_t(8), std::size_t(4096), std::size_t(65536),
                                  std::size_t(524288), std::size_t(4194304)}) {
    std::vector<float> buffer(bytes / sizeof(float), 1.0f);
    const double t = seconds_per_call(bytes <= 65536 ? 2000 : 100, [&] {
      MPI_Allreduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(buffer.size()), MPI_FLOAT,
                    MPI_SUM, MPI_COMM_WORLD);
    });
    if (chief)
      std::printf("%10zu %12.1f %14.1f\n", bytes, t * 1e6,
                  p > 1 ? 2.0 * (p - 1) / p * double(bytes) / t / 1e6 : 0.0);
  }

  Sequential<float> model = bench::tutorial_cnn();
  const Tensor<float> x = bench::uniform({global * steps, 28, 28, 1}, 1, 0.0f, 1.0f);
  const Tensor<float> y = bench::labels(global * steps, 10, 2);
  const index_t local = global / p;
  const Tensor<float> xl = x.slice(0, local), yl = y.slice(0, local);
  model.train_on_batch(xl, yl);  // builds the model and the optimizer state
  index_t values = 0;
  for (const Variable<float>& v : model.trainable_variables()) values += v.size();

  const double compute = seconds_per_call(steps, [&] { model.train_on_batch(xl, yl); });
  std::vector<float> gradients(static_cast<std::size_t>(values), 1.0f);
  const double communicate = seconds_per_call(steps, [&] {
    MPI_Allreduce(MPI_IN_PLACE, gradients.data(), static_cast<int>(gradients.size()), MPI_FLOAT,
                  MPI_SUM, MPI_COMM_WORLD);
  });
  // The step as fit runs it: with the default buckets (several, launched while the backward
  // pass goes on), and with all gradients in one bucket (launched when the backward pass has
  // made the last of them, the first layer's: no overlap).
  auto step_with = [&](std::size_t bucket_bytes, std::size_t& buckets) {
    FitOptions<float> fit{.epochs = 1, .batch_size = global, .shuffle = false, .verbose = 0};
    auto strategy = std::make_shared<distributed::DataParallel<float>>(
        distributed::DataParallelOptions{.bucket_bytes = bucket_bytes});
    fit.strategy = strategy;
    const double t = seconds_per_call(1, [&] { model.fit(x, y, fit); }) / steps;
    buckets = strategy->buckets();
    return t;
  };
  std::size_t buckets = 0, one = 0;
  const double step = step_with(distributed::DataParallelOptions{}.bucket_bytes, buckets);
  const double step_one_bucket = step_with(std::size_t(1) << 30, one);
  if (chief)
    std::printf(
        "\ntutorial CNN, global batch %lld (%lld per process), %lld gradient values "
        "(%.0f KB)\n  step (DataParallel fit, %zu buckets): %8.2f ms\n"
        "  step with one bucket (no overlap):  %8.2f ms\n  compute alone:                      "
        "%8.2f ms\n  communication alone:                %8.2f ms\n",
        static_cast<long long>(global), static_cast<long long>(local),
        static_cast<long long>(values), double(values) * 4 / 1024, buckets, step * 1e3,
        step_one_bucket * 1e3, compute * 1e3, communicate * 1e3);
}
