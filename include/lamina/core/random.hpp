#pragma once

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <sstream>
#include <string>

#include "lamina/core/error.hpp"

namespace lamina {

/// A seeded pseudo-random generator (64-bit Mersenne twister). Every random draw in lamina
/// takes one explicitly, so that results are reproducible. Distributions are computed here
/// rather than by <random>'s distributions, whose output differs between standard libraries.
class Generator {
 public:
  explicit Generator(std::uint64_t seed = 0) : engine_(seed) {}

  void seed(std::uint64_t s) {
    engine_.seed(s);
    has_spare_ = false;
  }
  /// Raw 64 random bits.
  std::uint64_t next() { return engine_(); }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  /// Uniform in [low, high) (just `low` when low == high).
  double uniform(double low, double high) {
    const double x = low + (high - low) * uniform();
    // Rounding can give `high` itself (e.g. when high - low is a few ulps): keep the range open.
    return x < high ? x : std::nextafter(high, low);
  }
  /// Standard normal (Box-Muller transform; caches the second draw of each pair).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u1 = uniform();
    while (u1 <= std::numeric_limits<double>::min()) u1 = uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * std::numbers::pi * u2;
    spare_ = r * std::sin(theta);
    has_spare_ = true;
    return r * std::cos(theta);
  }
  double normal(double mean, double stddev) { return mean + stddev * normal(); }
  /// The whole state as text (the engine's state and the cached normal draw); set_state()
  /// restores it, so a generator saved in a checkpoint continues exactly where it stopped.
  std::string state() const {
    std::ostringstream out;
    out << engine_ << ' ' << has_spare_ << ' ' << std::bit_cast<std::uint64_t>(spare_);
    return out.str();
  }
  /// Restores a state() text; ValueError when it is not one.
  void set_state(const std::string& text) {
    std::istringstream in(text);
    std::mt19937_64 engine;
    bool has_spare = false;
    std::uint64_t spare = 0;
    in >> engine >> has_spare >> spare;
    check<ValueError>(!in.fail() && (in >> std::ws).eof(), "Generator: '", text.substr(0, 40),
                      "...' is not a generator state");
    engine_ = engine;
    has_spare_ = has_spare;
    spare_ = std::bit_cast<double>(spare);
  }

  /// Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) {
    check<ValueError>(n > 0, "below: n must be positive, got 0");
    // Rejecting the top partial block keeps the draw unbiased.
    const std::uint64_t limit =
        std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
    std::uint64_t x = engine_();
    while (x >= limit) x = engine_();
    return x % n;
  }

 private:
  std::mt19937_64 engine_;
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace lamina
