#pragma once

// The command line every example shares: --epochs, --batch-size, --data, --seed, --threads,
// --out, --limit and --expect-loss-decrease. An example adds its own options through
// ExampleCli::add_option / add_flag before parse(). Every example's main ends in
// `catch (...) { return examples::report_error("<name>"); }`, so that any error, std::exception
// included, is one line on stderr and exit status 1, never an abort.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <Eigen/Core>

#include <lamina/lamina.hpp>

#include "common/distributed.hpp"

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
  /// The data directory (four Fashion-MNIST IDX files). An example whose data is something else
  /// sets its default here and says what --data holds in data_help.
  std::string data{};
  /// --data's help text when the example sets its own default `data`.
  std::string data_help{};
  std::uint64_t seed = 0;
  /// Threads for the kernels (OpenMP's thread count); 0 leaves OpenMP's default.
  int threads = 0;
  /// Output directory (created by parse()).
  std::string out{};
  /// Train on the first `limit` training samples only (0: all).
  index_t limit = 0;
  /// Fail (exit 1) unless the last epoch's training loss is below the first's.
  bool expect_loss_decrease = false;
  /// A model file (saved by an earlier run in <out>/model.safetensors) to evaluate or sample
  /// from instead of training; empty: train.
  std::string load{};
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

namespace detail {

/// Parses `text` as a whole integer of type V; nullopt unless all of it is one in range.
template <class V>
std::optional<V> parse_integer(const std::string& text) {
  V value{};
  const char* const last = text.data() + text.size();
  const auto [end, error] = std::from_chars(text.data(), last, value);
  if (text.empty() || error != std::errc() || end != last) return std::nullopt;
  return value;
}

}  // namespace detail

/// The shared command line of an example: `--name value` or `--name=value` options, flags and
/// --help. A small parser of its own rather than a command-line library, which would add
/// seconds to the compile of every example.
class ExampleCli {
 public:
  /// What an option accepts beyond its type.
  enum class Check { none, positive, non_negative, existing_directory, thread_count };

  /// The most threads --threads accepts: far beyond any machine these examples train on, and a
  /// clear error instead of starting, say, 2^31 threads.
  static constexpr int kMaxThreads = 1024;

  /// `defaults` gives the example's name and its defaults (epochs, batch size, ...).
  ExampleCli(std::string description, ExampleOptions defaults)
      : options_(std::move(defaults)), description_(std::move(description)) {
    const bool fashion_mnist = options_.data.empty();
    if (fashion_mnist) options_.data = default_data_dir();
    options_.out = "out/" + options_.name;
    add_option("--epochs", options_.epochs, "Training epochs", Check::positive);
    add_option("--batch-size", options_.batch_size, "Samples per training step", Check::positive);
    add_option("--data", options_.data,
               fashion_mnist
                   ? "Directory of the Fashion-MNIST IDX files (default: $LAMINA_DATA, else " +
                         std::string(kFashionMnistDebianDir) +
                         " when Debian's dataset-fashion-mnist is installed, else the bundled "
                         "slice " +
                         kSliceDir + ")"
                   : options_.data_help,
               Check::existing_directory);
    add_option("--seed", options_.seed, "Seed of the weights and the shuffling");
    add_option("--threads", options_.threads,
               kMultithreaded
                   ? "Threads for the kernels (OpenMP; 0: OpenMP's default, all cores)"
                   : "Threads for the kernels. This build has no OpenMP, so the kernels run on "
                     "one thread and the flag has no effect",
               Check::thread_count);
    add_option("--out", options_.out,
               "Output directory (history CSV, pictures), created if needed; checked writable "
               "before training");
    add_option("--limit", options_.limit,
               "Train on the first N training samples only (0: all), e.g. for CI",
               Check::non_negative);
    add_option("--load", options_.load,
               "Load this model file (an earlier run's <out>/model.safetensors) and evaluate or "
               "sample from it instead of training");
    add_flag("--expect-loss-decrease", options_.expect_loss_decrease,
             "Exit with status 1 unless the last epoch's loss is below the first's (a CI check)");
  }

  // The options point into this object.
  ExampleCli(const ExampleCli&) = delete;
  ExampleCli& operator=(const ExampleCli&) = delete;

  /// The number of threads the kernels use.
  static int threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
  }

  /// An option `name` ("--latent") that sets `target` (an integer or a string) from the next
  /// argument; `target`'s value when parse() is called is the default --help shows.
  template <class V>
  void add_option(std::string name, V& target, std::string help, Check check = Check::none) {
    Option o{std::move(name), std::move(help), false, {}, {}};
    o.show = [&target] {
      if constexpr (std::is_same_v<V, std::string>)
        return target;
      else
        return std::to_string(target);
    };
    o.set = [&target, check](const std::string& text) -> std::string {
      if constexpr (std::is_same_v<V, std::string>) {
        std::error_code ignored;
        if (check == Check::existing_directory && !std::filesystem::is_directory(text, ignored))
          return "directory does not exist: " + text;
        target = text;
      } else {
        const std::optional<V> value = detail::parse_integer<V>(text);
        if (!value) return "expected an integer, got '" + text + "'";
        if (check == Check::positive && *value <= 0) return "must be positive, got " + text;
        if ((check == Check::non_negative || check == Check::thread_count) && *value < 0)
          return "must be >= 0, got " + text;
        if (check == Check::thread_count && *value > kMaxThreads)
          return "must be at most " + std::to_string(kMaxThreads) + ", got " + text;
        target = *value;
      }
      return {};
    };
    options_list_.push_back(std::move(o));
  }

  /// A flag `name` that sets `target` to true when given.
  void add_flag(std::string name, bool& target, std::string help) {
    Option o{std::move(name), std::move(help), true, {}, {}};
    o.set = [&target](const std::string&) -> std::string {
      target = true;
      return {};
    };
    options_list_.push_back(std::move(o));
  }

  /// Parses argv, applies --threads and creates --out (checking that a file can be written in
  /// it). Prints the help and exits with status 0 on --help or -h; prints the error and exits
  /// with status 2 on an unknown option, a missing or bad value, or an unusable --out.
  ExampleOptions parse(int argc, char** argv) {
    for (Option& o : options_list_)
      if (o.show) o.shown_default = o.show();
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i], value;
      if (arg == "--help" || arg == "-h") {
        print_help(std::cout);
        std::exit(0);
      }
      const std::size_t equals = arg.find('=');
      const bool inline_value = arg.rfind("--", 0) == 0 && equals != std::string::npos;
      if (inline_value) {
        value = arg.substr(equals + 1);
        arg.resize(equals);
      }
      const auto o = std::find_if(options_list_.begin(), options_list_.end(),
                                  [&](const Option& candidate) { return candidate.name == arg; });
      if (o == options_list_.end()) fail("unknown option '" + arg + "'");
      if (o->flag && inline_value) fail(arg + " takes no value");
      if (!o->flag && !inline_value) {
        if (i + 1 >= argc) fail(arg + " needs a value");
        value = argv[++i];
      }
      if (const std::string error = o->set(value); !error.empty()) fail(arg + ": " + error);
    }
    if (options_.threads > 0) {
#ifdef _OPENMP
      omp_set_num_threads(options_.threads);  // lamina's kernels
#endif
      Eigen::setNbThreads(options_.threads);
    }
    const Processes processes = start_distributed(options_.out);  // under mpirun
    if (const std::string error = writable_directory(options_.out); !error.empty())
      fail("--out: " + error);
    std::cout << options_.name << ": lamina " << LAMINA_VERSION_STRING << ", seed " << options_.seed
              << ", "
              << (kMultithreaded ? std::to_string(threads()) + " thread(s)"
                                 : std::string("1 thread (built without OpenMP)"))
              << (processes.size > 1
                      ? " per process, " + std::to_string(processes.size) + " MPI processes"
                      : std::string())
              << ", output in " << options_.out << "\n";
    return options_;
  }

 private:
  struct Option {
    std::string name, help;
    bool flag;
    std::function<std::string(const std::string&)> set;  // an error message, or empty
    std::function<std::string()> show;                   // the value as text (options only)
    std::string shown_default{};
  };

  void print_help(std::ostream& out) const {
    out << description_ << "\nUsage: " << options_.name << " [OPTIONS]\n\nOptions:\n"
        << "  -h, --help  Print this help and exit\n";
    for (const Option& o : options_list_) {
      out << "  " << o.name << (o.flag ? "" : " VALUE") << "\n      " << o.help;
      if (!o.flag) out << " [default: " << o.shown_default << "]";
      out << "\n";
    }
  }

  /// Creates `dir` if needed and writes (then removes) a probe file in it; the problem as text,
  /// or empty when the directory is usable. Never throws.
  static std::string writable_directory(const std::string& dir) {
    if (dir.empty()) return "the output directory must not be empty";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return "cannot create directory '" + dir + "': " + ec.message();
    if (!std::filesystem::is_directory(dir, ec)) return "'" + dir + "' is not a directory";
    const std::filesystem::path probe = std::filesystem::path(dir) / ".lamina-write-test";
    bool written = false;
    {
      std::ofstream out(probe, std::ios::binary | std::ios::trunc);
      written = out && (out << "lamina\n") && out.flush();
    }
    std::filesystem::remove(probe, ec);
    return written ? std::string() : "cannot write files in directory '" + dir + "'";
  }

  [[noreturn]] void fail(const std::string& message) const {
    std::cerr << options_.name << ": error: " << message << "\nRun with --help for the options.\n";
    std::exit(2);
  }

  ExampleOptions options_;
  std::string description_;
  std::vector<Option> options_list_;
};

/// For an example's `catch (...)`: prints the exception in flight as one line
/// "<name>: error: <what>" on stderr and returns exit status 1.
inline int report_error(const char* name) noexcept {
  try {
    throw;
  } catch (const std::exception& e) {
    std::cerr << name << ": error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << name << ": error: unknown exception\n";
  }
  return 1;
}

}  // namespace lamina::examples
