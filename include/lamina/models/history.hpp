#pragma once

#include <map>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"

namespace lamina {

/// Named values of one epoch or one evaluation: "loss", "accuracy", "val_loss", ...
using Logs = std::map<std::string, double>;

/// What fit returns, as Keras's History: per-epoch values of the loss and each metric
/// (and their "val_" counterparts when validating).
struct History {
  /// history["loss"][e] is the mean training loss of the e-th epoch recorded.
  std::map<std::string, std::vector<double>> history;
  /// The epochs recorded, 0-based (Keras's History.epoch): 3, 4, ... for a fit resumed with
  /// initial_epoch 3.
  std::vector<int> epoch;
  /// The epochs at which each name was recorded: every epoch for "loss", only the validated
  /// ones for "val_loss" when fit has a validation_freq.
  std::map<std::string, std::vector<int>> epochs_of;
  /// Number of epochs recorded.
  int epochs = 0;

  /// The per-epoch values of `name`; throws ValueError listing the recorded names otherwise.
  const std::vector<double>& operator[](const std::string& name) const {
    const auto it = history.find(name);
    if (it == history.end()) {
      std::string valid;
      for (const auto& [key, values] : history) valid += (valid.empty() ? "" : ", ") + key;
      throw ValueError("History: no values named '" + name + "'; recorded: " + valid);
    }
    return it->second;
  }
  /// Records the logs of epoch `e` (0-based).
  void append(int e, const Logs& logs) {
    for (const auto& [key, value] : logs) {
      history[key].push_back(value);
      epochs_of[key].push_back(e);
    }
    epoch.push_back(e);
    ++epochs;
  }
  /// Records the logs of the epoch after the last one recorded (the first is epoch 0).
  void append(const Logs& logs) { append(epoch.empty() ? 0 : epoch.back() + 1, logs); }
};

}  // namespace lamina
