#pragma once

// Distributed training for the tutorials, unchanged: an example built with MPI (CMake found it,
// so LAMINA_EXAMPLES_MPI is defined) and started by mpirun trains data-parallel across the
// processes (`mpirun -np 2 build/release/examples/cnn`). Only rank 0 prints; the other ranks
// write their files into a scratch directory. Run without mpirun, an example is what it always
// was. GAN-style examples (their own train_step) stop with DataParallel's error under mpirun.

#include <filesystem>
#include <iostream>
#include <memory>
#include <streambuf>
#include <string>

#include <lamina/lamina.hpp>

#ifdef LAMINA_EXAMPLES_MPI
#include <lamina/distributed/data_parallel.hpp>
#include <lamina/distributed/environment.hpp>
#endif

namespace lamina::examples {

/// The MPI processes this example runs as: rank and size (0 and 1 when not distributed).
struct Processes {
  int rank = 0;
  int size = 1;
};

/// Starts MPI when this example was built with it and started by mpirun (once; MPI ends when the
/// program does). On ranks other than 0 std::cout is silenced and `out` becomes a scratch
/// directory of that rank's own.
inline Processes start_distributed([[maybe_unused]] std::string& out) {
#ifdef LAMINA_EXAMPLES_MPI
  if (!distributed::Environment::launched_by_mpirun()) return {};
  static distributed::Environment env;
  if (env.rank() != 0) {
    struct Discard : std::streambuf {
      int overflow(int c) override { return traits_type::not_eof(c); }
    };
    static Discard discard;
    std::cout.rdbuf(&discard);
    out = (std::filesystem::temp_directory_path() /
           ("lamina-rank" + std::to_string(env.rank()) + "-" +
            std::filesystem::path(out).filename().string()))
              .string();
  }
  return {env.rank(), env.size()};
#else
  return {};
#endif
}

/// The fit strategy of this run: data-parallel when start_distributed started MPI, else none.
template <class T>
std::shared_ptr<FitStrategy<T>> fit_strategy() {
#ifdef LAMINA_EXAMPLES_MPI
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized) return distributed::data_parallel<T>();
#endif
  return nullptr;
}

}  // namespace lamina::examples
