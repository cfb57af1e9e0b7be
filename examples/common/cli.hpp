#pragma once

// The command line every example shares (CLI11): --epochs, --batch-size, --data, --seed,
// --threads, --out, --limit and --expect-loss-decrease. An example adds its own flags through
// ExampleCli::app() before parse().

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <Eigen/Core>

#include <lamina/lamina.hpp>

#ifndef LAMINA_DATA_SLICE_DIR
// CMake passes the absolute path of the source tree's data/fashion-mnist-slice.
#define LAMINA_DATA_SLICE_DIR "data/fashion-mnist-slice"
#endif

namespace lamina::examples {

/// The bundled slice of Fashion-MNIST (2,000 training and 500 test images) in the source tree.
inline const char* const kSliceDir = LAMINA_DATA_SLICE_DIR;

/// The shared options, after parsing.
struct ExampleOptions {
  /// The example's name ("cnn"); the default output directory is out/<name>.
  std::string name;
  int epochs = 5;
  index_t batch_size = 32;
  /// The data directory (four Fashion-MNIST IDX files).
  std::string data{};
  std::uint64_t seed = 0;
  /// Threads for the kernels (OpenMP's thread count); 0 leaves OpenMP's default.
  int threads = 0;
  /// Output directory (created by parse()).
  std::string out{};
  /// Train on the first `limit` training samples only (0: all).
  index_t limit = 0;
  /// Fail (exit 1) unless the last epoch's training loss is below the first's.
  bool expect_loss_decrease = false;
};

/// Whether lamina's (and Eigen's) kernels can run on several threads in this build: they use
/// OpenMP.
inline constexpr bool kMultithreaded =
#ifdef _OPENMP
    true;
#else
    false;
#endif

/// The default data directory: $LAMINA_DATA, else Debian's dataset-fashion-mnist when it is
/// installed, else the bundled slice.
inline std::string default_data_dir() {
  if (const char* env = std::getenv("LAMINA_DATA"); env && *env) return env;
  std::error_code ignored;
  if (std::filesystem::exists(std::string(kFashionMnistDebianDir) + "/train-images-idx3-ubyte.gz",
                              ignored))
    return kFashionMnistDebianDir;
  return kSliceDir;
}

/// The shared command line of an example, with room for its own flags.
class ExampleCli {
 public:
  /// `defaults` gives the example's name and its defaults (epochs, batch size, ...).
  ExampleCli(const std::string& description, ExampleOptions defaults)
      : options_(std::move(defaults)), app_(description, options_.name) {
    options_.data = default_data_dir();
    options_.out = "out/" + options_.name;
    app_.add_option("--epochs", options_.epochs, "Training epochs")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app_.add_option("--batch-size", options_.batch_size, "Samples per training step")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    app_.add_option("--data", options_.data,
                    "Directory of the Fashion-MNIST IDX files (default: $LAMINA_DATA, else " +
                        std::string(kFashionMnistDebianDir) +
                        " when Debian's dataset-fashion-mnist is installed, else the bundled "
                        "slice " +
                        kSliceDir + ")")
        ->capture_default_str()
        ->check(CLI::ExistingDirectory);
    app_.add_option("--seed", options_.seed, "Seed of the weights and the shuffling")
        ->capture_default_str();
    app_.add_option("--threads", options_.threads,
                    kMultithreaded
                        ? "Threads for the kernels (OpenMP; 0: OpenMP's default, all cores)"
                        : "Threads for the kernels. This build has no OpenMP, so the kernels run "
                          "on one thread and the flag has no effect")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app_.add_option("--out", options_.out, "Output directory (history CSV, pictures)")
        ->capture_default_str();
    app_.add_option("--limit", options_.limit,
                    "Train on the first N training samples only (0: all), e.g. for CI")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app_.add_flag("--expect-loss-decrease", options_.expect_loss_decrease,
                  "Exit with status 1 unless the last epoch's loss is below the first's (a CI "
                  "check)");
  }

  /// The number of threads the kernels use.
  static int threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
  }

  /// For the example's own flags: `cli.app().add_option("--latent", latent, "...")`.
  CLI::App& app() { return app_; }

  /// Parses argv (exits on --help or a bad flag), applies --threads, creates --out.
  ExampleOptions parse(int argc, char** argv) {
    try {
      app_.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      std::exit(app_.exit(e));
    }
    if (options_.threads > 0) {
#ifdef _OPENMP
      omp_set_num_threads(options_.threads);  // lamina's kernels
#endif
      Eigen::setNbThreads(options_.threads);
    }
    std::filesystem::create_directories(options_.out);
    std::cout << options_.name << ": lamina " << LAMINA_VERSION_STRING << ", seed " << options_.seed
              << ", "
              << (kMultithreaded ? std::to_string(threads()) + " thread(s)"
                                 : std::string("1 thread (built without OpenMP)"))
              << ", output in " << options_.out << "\n";
    return options_;
  }

 private:
  ExampleOptions options_;
  CLI::App app_;
};

}  // namespace lamina::examples
