#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <vector>

#include "lamina/callbacks/callback.hpp"
#include "lamina/models/history.hpp"
#include "lamina/models/progress.hpp"

namespace lamina {

/// Keras's ProgbarLogger: "Epoch 3/10" and the progress line of each epoch (verbose 1: a bar
/// redrawn at most every 50 ms on a terminal; 2: one line per epoch).
template <class T>
class ProgbarLogger : public Callback<T> {
 public:
  void on_epoch_begin(int epoch, Logs&) override {
    const CallbackParams& p = this->params();
    this->out() << "Epoch " << epoch + 1 << '/' << p.epochs << '\n';
    bar_ = std::make_unique<ProgressBar>(p.steps, p.verbose, this->out());
  }
  void on_train_batch_end(index_t batch, Logs& logs) override {
    if (bar_) bar_->update(batch + 1, logs);
  }
  void on_epoch_end(int, Logs& logs) override {
    if (bar_) bar_->finish(logs);
    bar_.reset();
  }

 private:
  std::unique_ptr<ProgressBar> bar_;
};

/// Keras's History callback: appends each epoch's logs to a History.
template <class T>
class HistoryRecorder : public Callback<T> {
 public:
  explicit HistoryRecorder(History& history) : history_(history) {}
  void on_epoch_end(int epoch, Logs& logs) override { history_.append(epoch, logs); }

 private:
  History& history_;
};

namespace detail {

/// The callbacks of one fit, in Keras's order: the progress line first, then the user's, then
/// the History; each hook is called on each in turn.
template <class T>
class CallbackList {
 public:
  CallbackList(Model<T>& model, const CallbackParams& params,
               const std::vector<CallbackArg<T>>& user, History& history)
      : history_(history) {
    if (params.verbose) all_.push_back(&progbar_);
    for (const CallbackArg<T>& c : user) all_.push_back(c.get());
    all_.push_back(&history_);
    for (Callback<T>* c : all_) {
      c->set_model(&model);
      c->set_params(params);
    }
  }
  CallbackList(const CallbackList&) = delete;
  CallbackList& operator=(const CallbackList&) = delete;

  /// Whether a callback takes over non-finite losses (TerminateOnNaN).
  bool handles_non_finite_loss() const {
    for (const Callback<T>* c : all_)
      if (c->handles_non_finite_loss()) return true;
    return false;
  }
  /// Calls `hook` on every callback: `call(&Callback<T>::on_epoch_end, epoch, logs)`.
  template <class... P, class... A>
  void call(void (Callback<T>::*hook)(P...), A&&... args) {
    for (Callback<T>* c : all_) (c->*hook)(args...);
  }

 private:
  ProgbarLogger<T> progbar_;
  HistoryRecorder<T> history_;
  std::vector<Callback<T>*> all_;
};

}  // namespace detail

}  // namespace lamina
