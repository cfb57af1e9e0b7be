#pragma once

#include <cstdio>
#include <limits>
#include <string>
#include <utility>

#include "lamina/callbacks/callback.hpp"

namespace lamina {

namespace detail {

/// Python's str.format for checkpoint paths: "{epoch:02d}" is the 1-based epoch, "{val_loss:.4f}"
/// any value of `logs` with a printf-style spec (d for the epoch only; f, e, g for values); "{{"
/// and "}}" are braces. ValueError naming the field for an unknown name or a bad spec; with
/// syntax_only, names missing from `logs` stand for 0 (to check a pattern before training).
inline std::string format_checkpoint_path(const std::string& pattern, int epoch, const Logs& logs,
                                          bool syntax_only = false) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if ((c == '{' || c == '}') && i + 1 < pattern.size() && pattern[i + 1] == c) {
      out += c;
      ++i;
      continue;
    }
    check<ValueError>(c != '}', "ModelCheckpoint: unmatched '}' in filepath '", pattern, "'");
    if (c != '{') {
      out += c;
      continue;
    }
    const std::size_t close = pattern.find('}', i);
    check<ValueError>(close != std::string::npos, "ModelCheckpoint: unmatched '{' in filepath '",
                      pattern, "'");
    const std::string field = pattern.substr(i + 1, close - i - 1);
    const std::size_t colon = field.find(':');
    const std::string name = field.substr(0, colon);
    std::string spec = colon == std::string::npos ? "" : field.substr(colon + 1);
    const bool spec_ok =
        spec.size() < 16 && spec.find_first_not_of("0123456789.+- dfeEgG") == std::string::npos &&
        (spec.empty() || std::string("dfeEgG").find(spec.back()) != std::string::npos);
    check<ValueError>(spec_ok, "ModelCheckpoint: bad format spec '", spec, "' for field '", name,
                      "' in filepath '", pattern, "'");
    char buffer[128];
    if (name == "epoch") {
      if (spec.empty() || spec.back() != 'd') spec += "d";
      std::snprintf(buffer, sizeof buffer, ("%" + spec).c_str(), epoch + 1);
    } else {
      const auto it = logs.find(name);
      const double value = it != logs.end() ? it->second : 0.0;
      if (it == logs.end() && !syntax_only) {
        std::string available = "epoch";
        for (const auto& [key, value] : logs) available += ", " + key;
        throw ValueError("ModelCheckpoint: filepath '" + pattern + "' names '" + name +
                         "', which is not in the logs (available: " + available + ")");
      }
      check<ValueError>(spec.empty() || spec.back() != 'd', "ModelCheckpoint: field '", name,
                        "' is a number, not an integer; use a spec such as .4f");
      if (spec.empty()) spec = "g";
      std::snprintf(buffer, sizeof buffer, ("%" + spec).c_str(), value);
    }
    out += buffer;
    i = close;
  }
  return out;
}

}  // namespace detail

/// Options of ModelCheckpoint (Keras's names and defaults).
struct ModelCheckpointOptions {
  std::string monitor = "val_loss";
  int verbose = 0;
  /// Save only when `monitor` improves on the best value so far.
  bool save_best_only = false;
  /// model.save_weights instead of model.save.
  bool save_weights_only = false;
  std::string mode = "auto";
  /// With save_best_only: the value to beat at first.
  std::optional<double> initial_value_threshold = std::nullopt;
};

/// Keras's ModelCheckpoint: saves the model (lamina's model file, atomically) at the end of each
/// epoch, or only when `monitor` improves with save_best_only. `filepath` may hold fields such as
/// "ckpt-{epoch:02d}-{val_loss:.4f}.safetensors".
template <class T = float>
class ModelCheckpoint : public Callback<T> {
 public:
  explicit ModelCheckpoint(std::string filepath, ModelCheckpointOptions options = {})
      : filepath_(std::move(filepath)),
        o_(std::move(options)),
        maximise_(detail::monitor_maximises(o_.monitor, o_.mode, "ModelCheckpoint")) {
    check<ValueError>(!filepath_.empty(), "ModelCheckpoint: filepath is empty");
    detail::format_checkpoint_path(filepath_, 0, {}, true);  // syntax errors now
  }
  bool writes_files() const override { return true; }
  void on_train_begin(Logs&) override {
    best_ = o_.initial_value_threshold ? *o_.initial_value_threshold
                                       : (maximise_ ? -std::numeric_limits<double>::infinity()
                                                    : std::numeric_limits<double>::infinity());
  }
  void on_epoch_end(int epoch, Logs& logs) override {
    const std::string path = detail::format_checkpoint_path(filepath_, epoch, logs);
    if (o_.save_best_only) {
      const auto current = detail::monitored(logs, o_.monitor, "ModelCheckpoint", this->out());
      if (!current) return;
      if (!(maximise_ ? *current > best_ : *current < best_)) {
        if (o_.verbose > 0)
          this->out() << "\nEpoch " << epoch + 1 << ": " << o_.monitor << " did not improve from "
                      << best_ << "\n";
        return;
      }
      if (o_.verbose > 0)
        this->out() << "\nEpoch " << epoch + 1 << ": " << o_.monitor << " improved from " << best_
                    << " to " << *current << ", saving model to " << path << "\n";
      best_ = *current;
    } else if (o_.verbose > 0) {
      this->out() << "\nEpoch " << epoch + 1 << ": saving model to " << path << "\n";
    }
    if (o_.save_weights_only)
      this->model().save_weights(path);
    else
      this->model().save(path);
    last_path_ = path;
  }
  /// The path of the last file written.
  const std::string& last_path() const { return last_path_; }

 private:
  std::string filepath_;
  ModelCheckpointOptions o_;
  bool maximise_;
  double best_ = 0;
  std::string last_path_;
};

}  // namespace lamina
