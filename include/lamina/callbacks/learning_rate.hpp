#pragma once

#include <algorithm>
#include <functional>
#include <limits>
#include <string>
#include <utility>

#include "lamina/callbacks/callback.hpp"

namespace lamina {

/// Keras's LearningRateScheduler: before each epoch, sets the optimizer's learning rate to
/// schedule(epoch, current rate) (epoch 0-based); logs "learning_rate" at each epoch's end.
template <class T = float>
class LearningRateScheduler : public Callback<T> {
 public:
  using Schedule = std::function<double(int epoch, double learning_rate)>;
  explicit LearningRateScheduler(Schedule schedule, int verbose = 0)
      : schedule_(std::move(schedule)), verbose_(verbose) {
    check<ValueError>(static_cast<bool>(schedule_), "LearningRateScheduler: no schedule given");
  }
  void on_epoch_begin(int epoch, Logs&) override {
    auto& optimizer = this->model().optimizer();
    const double lr = schedule_(epoch, optimizer.learning_rate());
    check<ValueError>(std::isfinite(lr) && lr > 0, "LearningRateScheduler: the schedule returned ",
                      lr, " for epoch ", epoch, "; a learning rate must be positive");
    optimizer.set_learning_rate(lr);
    if (verbose_ > 0)
      this->out() << "\nEpoch " << epoch + 1 << ": LearningRateScheduler setting learning rate to "
                  << lr << ".\n";
  }
  void on_epoch_end(int, Logs& logs) override {
    logs["learning_rate"] = this->model().optimizer().learning_rate();
  }

 private:
  Schedule schedule_;
  int verbose_;
};

/// Options of ReduceLROnPlateau (Keras's names and defaults).
struct ReduceLROnPlateauOptions {
  std::string monitor = "val_loss";
  /// New rate = rate * factor; must be < 1.
  double factor = 0.1;
  /// Epochs without improvement before the rate is reduced.
  int patience = 10;
  int verbose = 0;
  std::string mode = "auto";
  /// The least change that counts as an improvement.
  double min_delta = 1e-4;
  /// Epochs to wait after a reduction before counting again.
  int cooldown = 0;
  /// The rate is never reduced below this.
  double min_lr = 0.0;
};

/// Keras's ReduceLROnPlateau: multiplies the learning rate by `factor` once `monitor` has not
/// improved (by min_delta) for `patience` epochs, then waits `cooldown` epochs; never below
/// min_lr. Logs "learning_rate" at each epoch's end.
template <class T = float>
class ReduceLROnPlateau : public Callback<T> {
 public:
  explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {})
      : o_(std::move(options)),
        maximise_(detail::monitor_maximises(o_.monitor, o_.mode, "ReduceLROnPlateau")) {
    check<ValueError>(o_.factor < 1.0 && o_.factor > 0,
                      "ReduceLROnPlateau: factor must be in "
                      "(0, 1) (it does not reduce the rate otherwise), got ",
                      o_.factor);
    check<ValueError>(o_.patience >= 0 && o_.cooldown >= 0 && o_.min_lr >= 0,
                      "ReduceLROnPlateau: patience, cooldown and min_lr must be >= 0");
  }
  void on_train_begin(Logs&) override {
    best_ = maximise_ ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
    cooldown_counter_ = 0;
    wait_ = 0;
  }
  void on_epoch_end(int epoch, Logs& logs) override {
    auto& optimizer = this->model().optimizer();
    logs["learning_rate"] = optimizer.learning_rate();
    const auto current = detail::monitored(logs, o_.monitor, "ReduceLROnPlateau", this->out());
    if (!current) return;
    if (cooldown_counter_ > 0) {
      --cooldown_counter_;
      wait_ = 0;
    }
    const bool better =
        maximise_ ? *current > best_ + o_.min_delta : *current < best_ - o_.min_delta;
    if (better) {
      best_ = *current;
      wait_ = 0;
    } else if (cooldown_counter_ == 0) {
      if (++wait_ >= o_.patience) {
        const double old_lr = optimizer.learning_rate();
        if (old_lr > o_.min_lr) {
          const double new_lr = std::max(old_lr * o_.factor, o_.min_lr);
          optimizer.set_learning_rate(new_lr);
          if (o_.verbose > 0)
            this->out() << "\nEpoch " << epoch + 1
                        << ": ReduceLROnPlateau reducing learning rate to " << new_lr << ".\n";
          cooldown_counter_ = o_.cooldown;
          wait_ = 0;
        }
      }
    }
  }

 private:
  ReduceLROnPlateauOptions o_;
  bool maximise_;
  double best_ = 0;
  int cooldown_counter_ = 0, wait_ = 0;
};

ReduceLROnPlateau()->ReduceLROnPlateau<float>;
ReduceLROnPlateau(ReduceLROnPlateauOptions)->ReduceLROnPlateau<float>;

}  // namespace lamina
