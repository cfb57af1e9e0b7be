#pragma once

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "lamina/callbacks/callback.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

/// Options of EarlyStopping (Keras's names and defaults).
struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  /// The least change that counts as an improvement.
  double min_delta = 0.0;
  /// Epochs without improvement after which training stops.
  int patience = 0;
  int verbose = 0;
  /// "auto" (max for accuracies, min otherwise), "min" or "max".
  std::string mode = "auto";
  /// Training stops unless the monitored value beats this (when set) within `patience` epochs.
  std::optional<double> baseline = std::nullopt;
  /// At the end of training, go back to the weights of the best epoch.
  bool restore_best_weights = false;
  /// Epochs to wait before watching at all (warm-up).
  int start_from_epoch = 0;
};

/// Keras's EarlyStopping: stops training when `monitor` has stopped improving. At each epoch's
/// end (from start_from_epoch on) wait += 1; an improvement (by more than min_delta) records
/// the best value and epoch (and weights) and resets wait to 0 when it also beats the baseline;
/// otherwise, once wait >= patience (and epoch > 0), training stops. With
/// restore_best_weights, the best epoch's weights are put back when training ends.
template <class T = float>
class EarlyStopping : public Callback<T> {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {})
      : o_(std::move(options)),
        maximise_(detail::monitor_maximises(o_.monitor, o_.mode, "EarlyStopping")) {
    check<ValueError>(o_.patience >= 0, "EarlyStopping: patience must be >= 0, got ", o_.patience);
    check<ValueError>(o_.min_delta >= 0, "EarlyStopping: min_delta must be >= 0, got ",
                      o_.min_delta);
  }

  /// The 0-based epoch at which the last fit stopped, or 0 when it ran to the end.
  int stopped_epoch() const { return stopped_epoch_; }
  /// The 0-based epoch with the best monitored value, and that value.
  int best_epoch() const { return best_epoch_; }
  std::optional<double> best() const { return best_; }

  void on_train_begin(Logs&) override {
    wait_ = 0;
    stopped_epoch_ = 0;
    best_.reset();
    best_epoch_ = 0;
    best_weights_.clear();
  }
  void on_epoch_end(int epoch, Logs& logs) override {
    const auto current = detail::monitored(logs, o_.monitor, "EarlyStopping", this->out());
    if (!current || epoch < o_.start_from_epoch) return;
    if (o_.restore_best_weights && best_weights_.empty()) {
      best_weights_ = this->model().get_weights();
      best_epoch_ = epoch;
    }
    ++wait_;
    if (improves(*current, best_)) {
      best_ = *current;
      best_epoch_ = epoch;
      if (o_.restore_best_weights) best_weights_ = this->model().get_weights();
      if (!o_.baseline || improves(*current, o_.baseline)) wait_ = 0;
      return;
    }
    if (wait_ >= o_.patience && epoch > 0) {
      stopped_epoch_ = epoch;
      this->model().stop_training = true;
    }
  }
  void on_train_end(Logs&) override {
    if (stopped_epoch_ > 0 && o_.verbose > 0)
      this->out() << "Epoch " << stopped_epoch_ + 1 << ": early stopping\n";
    if (o_.restore_best_weights && !best_weights_.empty()) {
      if (o_.verbose > 0)
        this->out() << "Restoring model weights from the end of the best epoch: " << best_epoch_ + 1
                    << ".\n";
      this->model().set_weights(best_weights_);
    }
  }

 private:
  bool improves(double value, std::optional<double> reference) const {
    if (!reference) return true;
    return maximise_ ? value - o_.min_delta > *reference : value + o_.min_delta < *reference;
  }

  EarlyStoppingOptions o_;
  bool maximise_;
  int wait_ = 0, stopped_epoch_ = 0, best_epoch_ = 0;
  std::optional<double> best_;
  std::vector<Tensor<T>> best_weights_;
};

EarlyStopping()->EarlyStopping<float>;
EarlyStopping(EarlyStoppingOptions)->EarlyStopping<float>;

}  // namespace lamina
