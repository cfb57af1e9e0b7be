#pragma once

/// MPI's lifetime as a lamina object: `lamina::distributed::Environment env(argc, argv);` at the
/// top of main initialises MPI and finalises it when env goes out of scope. Needs MPI (CMake
/// target lamina::mpi); lamina.hpp does not include it.

// lamina uses MPI's C API only: leave out the deprecated C++ bindings that Open MPI's and
// MPICH's mpi.h would otherwise pull in (they warn under -Wextra).
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "lamina/core/error.hpp"

namespace lamina::distributed {

namespace detail {

/// std::terminate's handler while an Environment lives: an exception that leaves main on one
/// process would otherwise leave the others waiting in a collective operation forever, so it
/// prints the error and ends the whole job (MPI_Abort).
[[noreturn]] inline void abort_job() {
  std::string what = "unknown error";
  if (std::exception_ptr e = std::current_exception()) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& error) {
      what = error.what();
    } catch (...) {
    }
  }
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::fprintf(stderr, "lamina: rank %d: terminating the MPI job: %s\n", rank, what.c_str());
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
  std::abort();
}

}  // namespace detail

/// Initialises MPI (threads: funneled, the main thread alone calls MPI) and finalises it on
/// destruction, unless MPI was initialised already, in which case it leaves both to whoever
/// did. While it lives, an uncaught exception ends every process of the job, not only this one.
class Environment {
 public:
  Environment() : Environment(nullptr, nullptr) {}
  Environment(int& argc, char**& argv) : Environment(&argc, &argv) {}
  Environment(const Environment&) = delete;
  Environment& operator=(const Environment&) = delete;
  ~Environment() {
    if (!owner_) return;
    std::set_terminate(previous_);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    // Leaving main by an exception: the other processes may be waiting for this one.
    if (std::uncaught_exceptions() > 0) MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Finalize();
  }

  /// This process's number in MPI_COMM_WORLD, 0 .. size() - 1; rank 0 is the chief.
  int rank() const { return rank_; }
  /// The number of processes in MPI_COMM_WORLD.
  int size() const { return size_; }
  /// Whether this process is rank 0, which prints and writes files.
  bool chief() const { return rank_ == 0; }

  /// Whether this process was started by mpirun/mpiexec (Open MPI, MPICH or a PMI launcher such
  /// as srun), so that a program can choose distributed training only then.
  static bool launched_by_mpirun() {
    for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
      if (std::getenv(var) != nullptr) return true;
    return false;
  }

 private:
  Environment(int* argc, char*** argv) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (!initialized) {
      int provided = 0;
      const int rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
      check(rc == MPI_SUCCESS, "distributed::Environment: MPI_Init_thread failed (", rc, ")");
      owner_ = true;
      previous_ = std::set_terminate(detail::abort_job);
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
  }

  int rank_ = 0;
  int size_ = 1;
  bool owner_ = false;
  std::terminate_handler previous_ = nullptr;
};

}  // namespace lamina::distributed
