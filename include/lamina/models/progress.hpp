#pragma once

#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/shape.hpp"
#include "lamina/models/history.hpp"

namespace lamina {

/// Keras's progress line: `1875/1875 [==============================] - 12s 6ms/step - loss:
/// 0.4731`. On a terminal it is redrawn in place; otherwise only the final line of each run is
/// written.
class ProgressBar {
 public:
  /// `verbose`: 0 silent, 1 a bar, 2 one line at the end without the bar (as Keras).
  ProgressBar(index_t steps, int verbose, std::ostream& out)
      : steps_(steps),
        verbose_(verbose),
        out_(out),
        start_(Clock::now()),
        dynamic_(&out == &std::cout && ::isatty(STDOUT_FILENO)) {}

  /// Reports that `done` steps are finished with the running `logs`.
  void update(index_t done, const Logs& logs) {
    if (verbose_ != 1 || !dynamic_) return;
    const auto now = Clock::now();
    if (done < steps_ && now - last_draw_ < std::chrono::milliseconds(50)) return;
    last_draw_ = now;
    out_ << '\r' << line(done, logs, done >= steps_) << std::flush;
  }
  /// Writes the final line (with extra logs such as val_loss) and a newline.
  void finish(const Logs& logs) {
    if (verbose_ == 0) return;
    if (dynamic_ && verbose_ == 1) out_ << '\r';
    out_ << line(steps_, logs, true) << (dynamic_ ? "\x1b[K\n" : "\n") << std::flush;
  }

  /// "12s", "1:23" style durations as Keras prints them.
  static std::string format_seconds(double s) {
    std::ostringstream o;
    if (s >= 3600) {
      o << int(s) / 3600 << ':' << std::setw(2) << std::setfill('0') << (int(s) % 3600) / 60 << ':'
        << std::setw(2) << int(s) % 60;
    } else if (s >= 60) {
      o << int(s) / 60 << ':' << std::setw(2) << std::setfill('0') << int(s) % 60;
    } else {
      o << int(s + 0.5) << 's';
    }
    return o.str();
  }

 private:
  using Clock = std::chrono::steady_clock;

  std::string line(index_t done, const Logs& logs, bool final) const {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
    std::ostringstream o;
    const int width = static_cast<int>(std::to_string(steps_).size());
    o << std::setw(width) << done << '/' << steps_;
    if (verbose_ == 1) {
      constexpr int bar = 30;
      const int filled = steps_ == 0 ? bar : static_cast<int>(bar * done / steps_);
      o << " ["
        << std::string(static_cast<std::size_t>(filled > 0 && !final ? filled - 1 : filled), '=')
        << (filled > 0 && !final ? ">" : "")
        << std::string(static_cast<std::size_t>(bar - filled), '.') << ']';
    }
    if (final) {
      const double per_step = done > 0 ? elapsed / double(done) : 0.0;
      o << " - " << format_seconds(elapsed) << ' ';
      if (per_step >= 1.0) {
        o << int(per_step + 0.5) << "s/step";
      } else if (per_step >= 1e-3) {
        o << int(per_step * 1e3 + 0.5) << "ms/step";
      } else {
        o << int(per_step * 1e6 + 0.5) << "us/step";
      }
    } else {
      const double eta = done > 0 ? elapsed / double(done) * double(steps_ - done) : 0.0;
      o << " - ETA: " << format_seconds(eta);
    }
    for (const auto& [key, value] : ordered(logs)) {
      o << " - " << key << ": " << std::fixed << std::setprecision(4) << value;
      o.unsetf(std::ios::fixed);
    }
    return o.str();
  }
  /// Keras order: loss first, then the metrics, then the val_ ones.
  static std::vector<std::pair<std::string, double>> ordered(const Logs& logs) {
    std::vector<std::pair<std::string, double>> out;
    const auto take = [&](bool val) {
      if (auto it = logs.find(val ? "val_loss" : "loss"); it != logs.end()) out.emplace_back(*it);
      for (const auto& kv : logs) {
        const bool is_val = kv.first.rfind("val_", 0) == 0;
        if (is_val == val && kv.first != "loss" && kv.first != "val_loss") out.emplace_back(kv);
      }
    };
    take(false);
    take(true);
    return out;
  }

  index_t steps_;
  int verbose_;
  std::ostream& out_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  bool dynamic_;
};

}  // namespace lamina
