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
  /// history["loss"][e] is the mean training loss of epoch e (0-based).
  std::map<std::string, std::vector<double>> history;
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
  void append(const Logs& logs) {
    for (const auto& [key, value] : logs) history[key].push_back(value);
    ++epochs;
  }
};

}  // namespace lamina
