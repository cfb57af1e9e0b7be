#pragma once

#include <cmath>
#include <concepts>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/models/history.hpp"

namespace lamina {

template <class T>
class Model;

/// What fit tells its callbacks before training (Keras's callback.params).
struct CallbackParams {
  int epochs = 1;
  /// Training steps per epoch.
  index_t steps = 0;
  int verbose = 1;
  /// Where messages go (std::cout unless fit's `output` says otherwise).
  std::ostream* output = &std::cout;
};

/// Base of the callbacks (Keras's keras.callbacks.Callback): hooks that Model::fit (and
/// evaluate, for the test hooks) call at fixed points of training, with the model and the logs.
///
/// Contract. Hooks do nothing unless overridden. Epochs and batches are 0-based, as in Keras.
/// `logs` holds the running values of the epoch so far (on_train_batch_end), the epoch's values
/// with val_* (on_epoch_end), and may be changed by a callback (ReduceLROnPlateau adds
/// "learning_rate"); callbacks run in the order given, after the progress line and before the
/// History. model() is valid from on_train_begin to on_train_end; a callback stops training after
/// the current epoch (or batch) by setting model().stop_training = true.
template <class T>
class Callback {
 public:
  virtual ~Callback() = default;

  void set_model(Model<T>* model) { model_ = model; }
  void set_params(const CallbackParams& params) { params_ = params; }
  Model<T>& model() const {
    check(model_ != nullptr, "Callback: model() used outside of fit");
    return *model_;
  }
  const CallbackParams& params() const { return params_; }

  virtual void on_train_begin(Logs&) {}
  virtual void on_train_end(Logs&) {}
  virtual void on_epoch_begin(int /*epoch*/, Logs&) {}
  virtual void on_epoch_end(int /*epoch*/, Logs&) {}
  virtual void on_train_batch_begin(index_t /*batch*/, Logs&) {}
  virtual void on_train_batch_end(index_t /*batch*/, Logs&) {}
  virtual void on_test_begin(Logs&) {}
  virtual void on_test_end(Logs&) {}
  virtual void on_test_batch_begin(index_t /*batch*/, Logs&) {}
  virtual void on_test_batch_end(index_t /*batch*/, Logs&) {}

  /// True for a callback that takes over a non-finite loss (TerminateOnNaN): fit then reports
  /// the batch with loss = nan to the callbacks instead of throwing NonFiniteError. The weights
  /// stay as they were before that batch either way.
  virtual bool handles_non_finite_loss() const { return false; }
  /// True for a callback that writes files (ModelCheckpoint, CSVLogger): in a distributed fit
  /// only the chief process (rank 0) runs it.
  virtual bool writes_files() const { return false; }

 protected:
  std::ostream& out() const { return params_.output ? *params_.output : std::cout; }

 private:
  Model<T>* model_ = nullptr;
  CallbackParams params_;
};

/// What FitOptions::callbacks holds: a callback given by value (fit keeps its own copy), as an
/// lvalue (fit uses that object itself, so it can be inspected afterwards, e.g. EarlyStopping's
/// stopped_epoch(); it must outlive the fit call) or as a shared_ptr.
template <class T>
class CallbackArg {
 public:
  template <class C>
  requires std::derived_from<std::remove_cvref_t<C>, Callback<T>> CallbackArg(C&& callback) {
    using D = std::remove_cvref_t<C>;
    if constexpr (std::is_lvalue_reference_v<C>)
      ptr_ = std::shared_ptr<Callback<T>>(std::shared_ptr<Callback<T>>(), &callback);
    else
      ptr_ = std::make_shared<D>(std::forward<C>(callback));
  }
  template <class C>
  requires std::derived_from<C, Callback<T>> CallbackArg(std::shared_ptr<C> callback)
      : ptr_(std::move(callback)) {
    check<ValueError>(ptr_ != nullptr, "fit: a callback is null");
  }
  Callback<T>* get() const { return ptr_.get(); }

 private:
  std::shared_ptr<Callback<T>> ptr_;
};

/// Keras's LambdaCallback: each hook is an optional function.
template <class T = float>
class LambdaCallback : public Callback<T> {
 public:
  struct Options {
    std::function<void(int epoch, Logs& logs)> on_epoch_begin{};
    std::function<void(int epoch, Logs& logs)> on_epoch_end{};
    std::function<void(index_t batch, Logs& logs)> on_train_batch_begin{};
    std::function<void(index_t batch, Logs& logs)> on_train_batch_end{};
    std::function<void(Logs& logs)> on_train_begin{};
    std::function<void(Logs& logs)> on_train_end{};
  };
  explicit LambdaCallback(Options options) : o_(std::move(options)) {}

  void on_epoch_begin(int epoch, Logs& logs) override {
    if (o_.on_epoch_begin) o_.on_epoch_begin(epoch, logs);
  }
  void on_epoch_end(int epoch, Logs& logs) override {
    if (o_.on_epoch_end) o_.on_epoch_end(epoch, logs);
  }
  void on_train_batch_begin(index_t batch, Logs& logs) override {
    if (o_.on_train_batch_begin) o_.on_train_batch_begin(batch, logs);
  }
  void on_train_batch_end(index_t batch, Logs& logs) override {
    if (o_.on_train_batch_end) o_.on_train_batch_end(batch, logs);
  }
  void on_train_begin(Logs& logs) override {
    if (o_.on_train_begin) o_.on_train_begin(logs);
  }
  void on_train_end(Logs& logs) override {
    if (o_.on_train_end) o_.on_train_end(logs);
  }

 private:
  Options o_;
};

/// Keras's TerminateOnNaN: a batch whose loss is nan or infinite stops training, printing
/// "Batch N: Invalid loss, terminating training" instead of fit's NonFiniteError. The weights stay
/// as they were before that batch.
template <class T = float>
class TerminateOnNaN : public Callback<T> {
 public:
  bool handles_non_finite_loss() const override { return true; }
  void on_train_batch_end(index_t batch, Logs& logs) override {
    const auto it = logs.find("loss");
    if (it == logs.end() || std::isfinite(it->second)) return;
    this->out() << "Batch " << batch << ": Invalid loss, terminating training\n";
    terminated_ = true;
    this->model().stop_training = true;
  }
  /// Whether it stopped the last fit.
  bool terminated() const { return terminated_; }
  void on_train_begin(Logs&) override { terminated_ = false; }

 private:
  bool terminated_ = false;
};

namespace detail {

/// "min" or "max" for a monitored quantity with mode "auto": max for accuracies, AUC, precision
/// and recall (names containing "acc", "auc", "precision" or "recall"), min otherwise, as Keras
/// decides for its built-in metrics.
inline bool monitor_maximises(const std::string& monitor, const std::string& mode,
                              const char* who) {
  check<ValueError>(mode == "auto" || mode == "min" || mode == "max", who,
                    ": mode must be "
                    "'auto', 'min' or 'max', got '",
                    mode, "'");
  if (mode != "auto") return mode == "max";
  for (const char* up : {"acc", "auc", "precision", "recall"})
    if (monitor.find(up) != std::string::npos) return true;
  return false;
}

/// The monitored value of `logs`, or nullopt (printing Keras's warning once per call) when
/// the logs lack it.
inline std::optional<double> monitored(const Logs& logs, const std::string& monitor,
                                       const char* who, std::ostream& out) {
  const auto it = logs.find(monitor);
  if (it != logs.end()) return it->second;
  std::string available;
  for (const auto& [key, value] : logs) available += (available.empty() ? "" : ", ") + key;
  out << who << ": the metric '" << monitor
      << "' it monitors is not in the logs (available: " << available << "); skipping\n";
  return std::nullopt;
}

}  // namespace detail

}  // namespace lamina
