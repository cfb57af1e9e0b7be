#pragma once

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

/// A metric averaged over the samples seen since reset() (Keras's stateful metrics).
///
/// Contract for subclasses: `per_sample(y_pred, y_true, i)` returns sample i's value; y_pred is
/// [batch, ...] (probabilities or values, never logits) and y_true is the loss's target format.
template <class T>
class Metric {
 public:
  virtual ~Metric() = default;
  /// The name shown in logs and History ("accuracy", "mae").
  virtual std::string name() const = 0;
  virtual std::unique_ptr<Metric<T>> clone() const = 0;

  void reset() {
    total_ = 0.0;
    count_ = 0.0;
  }
  /// Adds one batch; with `sample_weight` (one weight per sample, as fit's sample_weight), the
  /// result is the weighted mean sum(w v) / sum(w), as Keras's metrics weight samples.
  void update(const Tensor<T>& y_pred, const Tensor<T>& y_true,
              const Tensor<T>* sample_weight = nullptr) {
    check<ShapeError>(y_pred.rank() >= 1 && y_true.rank() >= 1 && y_pred.dim(0) == y_true.dim(0),
                      name(), ": y_pred ", y_pred.shape(), " and y_true ", y_true.shape(),
                      " must have the same batch size");
    check<ShapeError>(!sample_weight || sample_weight->size() == y_pred.dim(0), name(),
                      ": sample_weight ", sample_weight ? sample_weight->shape() : Shape{},
                      " must hold one weight per sample of y_pred ", y_pred.shape());
    for (index_t i = 0; i < y_pred.dim(0); ++i) {
      const double w = sample_weight ? double(sample_weight->data()[i]) : 1.0;
      if (w != 0.0) total_ += w * per_sample(y_pred, y_true, i);
      count_ += w;
    }
  }
  /// The (weighted) mean over the samples seen (0 before any, or when every weight was 0).
  double result() const { return count_ == 0.0 ? 0.0 : total_ / count_; }

 protected:
  virtual double per_sample(const Tensor<T>& y_pred, const Tensor<T>& y_true, index_t i) const = 0;
  /// Elements per sample of `t`.
  static index_t row(const Tensor<T>& t) { return t.dim(0) == 0 ? 0 : t.size() / t.dim(0); }
  static index_t argmax(const T* p, index_t n) {
    index_t best = 0;
    for (index_t k = 1; k < n; ++k)
      if (p[k] > p[best]) best = k;
    return best;
  }

 private:
  double total_ = 0.0;
  double count_ = 0.0;
};

/// Keras's "accuracy", resolved from the shapes as Keras does: binary (threshold 0.5) when the
/// loss is binary cross-entropy or y_pred's last axis has size 1, sparse categorical when y_true
/// holds labels (y_pred's shape without the classes axis, or with a trailing 1: [batch] or [batch,
/// 1] against [batch, classes], [batch, steps] against [batch, steps, classes]), categorical
/// otherwise. A sample's value is the fraction of its positions predicted right (Keras averages
/// over every batch * steps position, which is the same for equal steps).
template <class T = float>
class Accuracy : public Metric<T> {
 public:
  explicit Accuracy(bool binary = false, std::string name = "accuracy")
      : binary_(binary), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::unique_ptr<Metric<T>> clone() const override { return std::make_unique<Accuracy>(*this); }

 protected:
  double per_sample(const Tensor<T>& y_pred, const Tensor<T>& y_true, index_t i) const override {
    const index_t np = this->row(y_pred), nt = this->row(y_true);
    const index_t classes = y_pred.rank() >= 2 ? y_pred.dim(y_pred.rank() - 1) : 1;
    const T* p = y_pred.data() + i * np;
    const T* t = y_true.data() + i * nt;
    if (binary_ || classes == 1) {
      check<ShapeError>(np == nt, name_, ": binary accuracy needs y_true like y_pred, got ",
                        y_true.shape(), " and ", y_pred.shape());
      double hits = 0.0;
      for (index_t k = 0; k < np; ++k) hits += (p[k] > T(0.5)) == (t[k] > T(0.5)) ? 1.0 : 0.0;
      return hits / double(np);
    }
    double hits = 0.0;
    if (nt * classes == np) {  // one label per position
      for (index_t k = 0; k < nt; ++k)
        hits += double(this->argmax(p + k * classes, classes)) == double(t[k]) ? 1.0 : 0.0;
      return hits / double(nt);
    }
    check<ShapeError>(np == nt, name_, ": categorical accuracy needs y_true like y_pred, got ",
                      y_true.shape(), " and ", y_pred.shape());
    const index_t positions = np / classes;
    for (index_t k = 0; k < positions; ++k)
      hits += this->argmax(p + k * classes, classes) == this->argmax(t + k * classes, classes)
                  ? 1.0
                  : 0.0;
    return hits / double(positions);
  }

 private:
  bool binary_;
  std::string name_;
};

/// Mean absolute error ("mae") or mean squared error ("mse") per sample, averaged.
template <class T = float>
class MeanError : public Metric<T> {
 public:
  explicit MeanError(bool squared) : squared_(squared) {}
  std::string name() const override { return squared_ ? "mse" : "mae"; }
  std::unique_ptr<Metric<T>> clone() const override { return std::make_unique<MeanError>(*this); }

 protected:
  double per_sample(const Tensor<T>& y_pred, const Tensor<T>& y_true, index_t i) const override {
    const index_t n = this->row(y_pred);
    check<ShapeError>(n == this->row(y_true), name(), ": y_pred ", y_pred.shape(), " and y_true ",
                      y_true.shape(), " differ per sample");
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

/// The metric names make_metric accepts.
inline const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {
      "acc", "accuracy", "mae", "mean_absolute_error", "mean_squared_error", "mse"};
  return names;
}

/// A metric by its Keras name; `loss_name` resolves "accuracy" (binary for binary
/// cross-entropy). Throws ValueError listing the valid names for any other.
template <class T>
std::unique_ptr<Metric<T>> make_metric(const std::string& name, const std::string& loss_name) {
  if (name == "accuracy" || name == "acc")
    return std::make_unique<Accuracy<T>>(loss_name == "binary_crossentropy", name);
  if (name == "mae" || name == "mean_absolute_error") return std::make_unique<MeanError<T>>(false);
  if (name == "mse" || name == "mean_squared_error") return std::make_unique<MeanError<T>>(true);
  std::string valid;
  for (const std::string& n : metric_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw ValueError("unknown metric '" + name + "'; valid names: " + valid);
}

}  // namespace lamina
