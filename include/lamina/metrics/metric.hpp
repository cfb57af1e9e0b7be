#pragma once

#include <cmath>
#include <memory>
#include <string>

#include "lamina/core/config.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

/// A stateful metric, as Keras's keras.metrics.Metric: update() adds a batch to its state,
/// result() reads the value over every batch since reset(). The model resets its metrics at
/// each epoch's start and before evaluating, and updates them after each batch.
///
/// Contract for subclasses: `update(y_pred, y_true, sample_weight)` gets y_pred [batch, ...]
/// (probabilities or values, never logits, unless the metric says otherwise), y_true in the
/// loss's target format with the same batch size, and optionally one weight per sample
/// ([batch]); it validates anything else it needs (validate() does the common checks), throwing
/// a lamina::Error naming name() and the shapes. result() is 0 before any update. config_name()
/// and get_config() describe the metric so that make_metric(config_name(), loss, get_config())
/// rebuilds it (model files save compiled metric objects so).
template <class T>
class Metric {
 public:
  virtual ~Metric() = default;
  /// The name shown in logs and History ("accuracy", "precision", "val_auc" for validation).
  virtual std::string name() const = 0;
  /// The name make_metric knows it by ("precision", "auc"), which with get_config() rebuilds it.
  virtual std::string config_name() const = 0;
  /// The metric's options as Keras's get_config ({"name": ..., "thresholds": 0.5}).
  virtual Json get_config() const { return {{"name", name()}}; }
  virtual std::unique_ptr<Metric<T>> clone() const = 0;

  /// Forgets every batch seen.
  virtual void reset() = 0;
  /// Adds one batch (see the contract above).
  virtual void update(const Tensor<T>& y_pred, const Tensor<T>& y_true,
                      const Tensor<T>* sample_weight = nullptr) = 0;
  /// The value over the batches seen since reset() (0 before any).
  virtual double result() const = 0;

 protected:
  /// The checks every metric makes: same batch size, one sample weight per sample.
  void validate(const Tensor<T>& y_pred, const Tensor<T>& y_true,
                const Tensor<T>* sample_weight) const {
    check<ShapeError>(y_pred.rank() >= 1 && y_true.rank() >= 1 && y_pred.dim(0) == y_true.dim(0),
                      name(), ": y_pred ", y_pred.shape(), " and y_true ", y_true.shape(),
                      " must have the same batch size");
    check<ShapeError>(!sample_weight || sample_weight->size() == y_pred.dim(0), name(),
                      ": sample_weight ", sample_weight ? sample_weight->shape() : Shape{},
                      " must hold one weight per sample of y_pred ", y_pred.shape());
  }
  /// Checks that y_pred and y_true hold as many elements per sample (y_true [batch] against
  /// y_pred [batch, 1] is fine).
  void check_same_row(const Tensor<T>& y_pred, const Tensor<T>& y_true) const {
    check<ShapeError>(row(y_pred) == row(y_true), name(), ": y_pred ", y_pred.shape(),
                      " and y_true ", y_true.shape(), " differ per sample");
  }
  /// Sample i's weight (1 without weights).
  static double weight(const Tensor<T>* sample_weight, index_t i) {
    return sample_weight ? double(sample_weight->data()[i]) : 1.0;
  }
  /// Elements per sample of `t`.
  static index_t row(const Tensor<T>& t) { return t.dim(0) == 0 ? 0 : t.size() / t.dim(0); }
};

/// A metric that is the (weighted) mean of a per-sample value over the samples seen (Keras's
/// MeanMetricWrapper around a function such as binary_accuracy): a sample's value is the mean
/// of the function over its elements (its time steps, its outputs), and the result is
/// sum_i w_i v_i / sum_i w_i over every sample i since reset(), with w_i = 1 without weights.
///
/// Contract for subclasses: `per_sample(y_pred, y_true, i)` returns sample i's value.
template <class T>
class MeanMetric : public Metric<T> {
 public:
  void reset() override {
    total_ = 0.0;
    count_ = 0.0;
  }
  void update(const Tensor<T>& y_pred, const Tensor<T>& y_true,
              const Tensor<T>* sample_weight = nullptr) override {
    this->validate(y_pred, y_true, sample_weight);
    begin_batch(y_pred, y_true);
    for (index_t i = 0; i < y_pred.dim(0); ++i) {
      const double w = this->weight(sample_weight, i);
      if (w != 0.0) total_ += w * per_sample(y_pred, y_true, i);
      count_ += w;
    }
  }
  /// The (weighted) mean over the samples seen (0 before any, or when every weight was 0).
  double result() const override { return count_ == 0.0 ? 0.0 : total_ / count_; }

 protected:
  virtual double per_sample(const Tensor<T>& y_pred, const Tensor<T>& y_true, index_t i) const = 0;
  /// Called once per batch before per_sample, to check the shapes (or adapt to them).
  virtual void begin_batch(const Tensor<T>& /*y_pred*/, const Tensor<T>& /*y_true*/) {}

 private:
  double total_ = 0.0;
  double count_ = 0.0;
};

/// Mean absolute error ("mae") or mean squared error ("mse") per sample, averaged.
template <class T = float>
class MeanError : public MeanMetric<T> {
 public:
  explicit MeanError(bool squared) : squared_(squared) {}
  std::string name() const override { return squared_ ? "mse" : "mae"; }
  std::string config_name() const override { return name(); }
  Json get_config() const override { return Json::object(); }
  std::unique_ptr<Metric<T>> clone() const override { return std::make_unique<MeanError>(*this); }

 protected:
  void begin_batch(const Tensor<T>& y_pred, const Tensor<T>& y_true) override {
    this->check_same_row(y_pred, y_true);
  }
  double per_sample(const Tensor<T>& y_pred, const Tensor<T>& y_true, index_t i) const override {
    const index_t n = this->row(y_pred);
    double s = 0.0;
    for (index_t k = 0; k < n; ++k) {
      const double d = double(y_pred.data()[i * n + k]) - double(y_true.data()[i * n + k]);
      s += squared_ ? d * d : std::abs(d);
    }
    return n == 0 ? 0.0 : s / double(n);
  }

 private:
  bool squared_;
};

}  // namespace lamina
