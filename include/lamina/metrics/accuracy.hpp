#pragma once

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "lamina/metrics/metric.hpp"

/// Keras's accuracy metrics. Each is a MeanMetric: a sample's value is the fraction of its
/// positions (outputs, or time steps of a [batch, steps, classes] output) that are hits, and
/// the result is the (weighted) mean over the samples seen, as Keras's MeanMetricWrapper.
namespace lamina {
namespace detail {

/// The index of the first largest of p[0..n) (ops.argmax: ties go to the first).
template <class T>
index_t argmax_of(const T* p, index_t n) {
  index_t best = 0;
  for (index_t k = 1; k < n; ++k)
    if (p[k] > p[best]) best = k;
  return best;
}

/// Keras's in_top_k: class `target` is in the top k of p[0..n) when fewer than k scores are
/// strictly greater than its own, so classes tied at the k-th place all count as in the top k.
/// A NaN score at the target counts as -inf.
template <class T>
bool in_top_k(const T* p, index_t n, index_t target, index_t k) {
  const T at = std::isnan(p[target]) ? -std::numeric_limits<T>::infinity() : p[target];
  index_t greater = 0;
  for (index_t c = 0; c < n; ++c) greater += p[c] > at ? 1 : 0;
  return greater < k;
}

/// The shapes of a categorical metric's batch: y_pred [batch, ..., classes]; `steps` positions
/// per sample, each with `classes` scores.
struct CategoricalLayout {
  index_t steps = 0;
  index_t classes = 0;
};

/// Checks y_pred [batch, ..., classes] against one-hot (or score) targets of the same shape.
template <class T>
CategoricalLayout dense_layout(const std::string& who, const Tensor<T>& y_pred,
                               const Tensor<T>& y_true) {
  check<ShapeError>(y_pred.rank() >= 2 && y_pred.shape() == y_true.shape(), who,
                    ": expected y_pred [batch, ..., classes] and y_true of the same shape, got "
                    "y_pred ",
                    y_pred.shape(), " and y_true ", y_true.shape());
  const index_t classes = y_pred.shape()[y_pred.rank() - 1];
  return {classes == 0 ? 0 : y_pred.size() / y_pred.dim(0) / classes, classes};
}

/// Checks y_pred [batch, ..., classes] against integer labels [batch, ...] (one per position,
/// with or without a trailing axis of 1).
template <class T>
CategoricalLayout sparse_layout(const std::string& who, const Tensor<T>& y_pred,
                                const Tensor<T>& y_true) {
  const index_t classes = y_pred.rank() >= 2 ? y_pred.shape()[y_pred.rank() - 1] : 0;
  const index_t steps = classes == 0 ? 0 : y_pred.size() / y_pred.dim(0) / classes;
  check<ShapeError>(classes > 0 && y_true.size() == y_pred.dim(0) * steps, who,
                    ": expected y_pred [batch, ..., classes] and integer labels y_true [batch, "
                    "...] (one per position), got y_pred ",
                    y_pred.shape(), " and y_true ", y_true.shape());
  return {steps, classes};
}

/// Label `value` as a class index; ValueError unless it is an integer in [0, classes).
template <class T>
index_t class_label(const std::string& who, T value, index_t classes, index_t sample) {
  const double v = double(value);
  check<ValueError>(v >= 0.0 && v < double(classes) && v == std::floor(v), who, ": label ", v,
                    " of sample ", sample, " is not a class index in [0, ", classes, ")");
  return static_cast<index_t>(v);
}

/// Fraction of the n positions where y_true equals (p > threshold) (Keras's binary_accuracy).
template <class T>
double binary_hits(const T* p, const T* t, index_t n, double threshold) {
  double hits = 0.0;
  for (index_t k = 0; k < n; ++k) hits += t[k] == (p[k] > T(threshold) ? T(1) : T(0));
  return n == 0 ? 0.0 : hits / double(n);
}

/// The fraction of sample i's positions that are hits. A position's target class is its integer
/// label in y_true when `sparse` (checked by class_label), else the argmax of its y_true row; it
/// is a hit when it is the argmax of its y_pred row (top_k 0, Keras's categorical_accuracy) or
/// in the top_k of that row (in_top_k, Keras's top_k_categorical_accuracy).
template <class T>
double categorical_hits(const std::string& who, const Tensor<T>& y_pred, const Tensor<T>& y_true,
                        index_t i, CategoricalLayout layout, bool sparse, index_t top_k = 0) {
  const auto [steps, classes] = layout;
  double hits = 0.0;
  for (index_t s = 0; s < steps; ++s) {
    const index_t at = i * steps + s;
    const T* scores = y_pred.data() + at * classes;
    const index_t target = sparse ? class_label(who, y_true.data()[at], classes, i)
                                  : argmax_of(y_true.data() + at * classes, classes);
    const bool hit =
        top_k > 0 ? in_top_k(scores, classes, target, top_k) : argmax_of(scores, classes) == target;
    hits += hit ? 1.0 : 0.0;
  }
  return steps == 0 ? 0.0 : hits / double(steps);
}

}  // namespace detail

/// Options of BinaryAccuracy (Keras's keyword arguments).
struct BinaryAccuracyOptions {
  /// A prediction above it counts as 1, otherwise as 0.
  double threshold = 0.5;
  std::string name = "binary_accuracy";
};

/// Keras's BinaryAccuracy ("binary_accuracy"): the fraction of elements where y_true equals
/// (y_pred > threshold). y_pred and y_true hold the same number of elements per sample.
template <class T = float>
class BinaryAccuracy : public MeanMetric<T> {
 public:
  explicit BinaryAccuracy(BinaryAccuracyOptions options = {}) : options_(std::move(options)) {}
  std::string name() const override { return options_.name; }
  std::string config_name() const override { return "binary_accuracy"; }
  Json get_config() const override {
    return {{"name", options_.name}, {"threshold", options_.threshold}};
  }
  std::unique_ptr<Metric<T>> clone() const override {
    return std::make_unique<BinaryAccuracy>(*this);
  }

 protected:
  void begin_batch(const Tensor<T>& y_pred, const Tensor<T>& y_true) override {
    this->check_same_row(y_pred, y_true);
  }
  double per_sample(const Tensor<T>& y_pred, const Tensor<T>& y_true, index_t i) const override {
    const index_t n = this->row(y_pred);
    return detail::binary_hits(y_pred.data() + i * n, y_true.data() + i * n, n, options_.threshold);
  }

 private:
  BinaryAccuracyOptions options_;
};

/// Keras's CategoricalAccuracy ("categorical_accuracy"): whether argmax(y_pred) ==
/// argmax(y_true) over the last axis; y_pred and y_true [batch, ..., classes].
template <class T = float>
class CategoricalAccuracy : public MeanMetric<T> {
 public:
  explicit CategoricalAccuracy(std::string name = "categorical_accuracy")
      : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::string config_name() const override { return "categorical_accuracy"; }
  std::unique_ptr<Metric<T>> clone() const override {
    return std::make_unique<CategoricalAccuracy>(*this);
  }

 protected:
  void begin_batch(const Tensor<T>& y_pred, const Tensor<T>& y_true) override {
    layout_ = detail::dense_layout(name_, y_pred, y_true);
  }
  double per_sample(const Tensor<T>& y_pred, const Tensor<T>& y_true, index_t i) const override {
    return detail::categorical_hits(name_, y_pred, y_true, i, layout_, false);
  }

 private:
  std::string name_;
  detail::CategoricalLayout layout_;
};

/// Keras's SparseCategoricalAccuracy ("sparse_categorical_accuracy"): whether argmax(y_pred)
/// equals the integer label; y_pred [batch, classes] with y_true [batch] or [batch, 1], or
/// y_pred [batch, steps, classes] with y_true [batch, steps]. A label that is not an integer in
/// [0, classes) is a ValueError (Keras would silently count a miss).
template <class T = float>
class SparseCategoricalAccuracy : public MeanMetric<T> {
 public:
  explicit SparseCategoricalAccuracy(std::string name = "sparse_categorical_accuracy")
      : name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::string config_name() const override { return "sparse_categorical_accuracy"; }
  std::unique_ptr<Metric<T>> clone() const override {
    return std::make_unique<SparseCategoricalAccuracy>(*this);
  }

 protected:
  void begin_batch(const Tensor<T>& y_pred, const Tensor<T>& y_true) override {
    layout_ = detail::sparse_layout(name_, y_pred, y_true);
  }
  double per_sample(const Tensor<T>& y_pred, const Tensor<T>& y_true, index_t i) const override {
    return detail::categorical_hits(name_, y_pred, y_true, i, layout_, true);
  }

 private:
  std::string name_;
  detail::CategoricalLayout layout_;
};

/// Options of TopKCategoricalAccuracy and SparseTopKCategoricalAccuracy.
struct TopKOptions {
  /// How many of the largest scores count as hits (>= 1).
  index_t k = 5;
  /// Empty: Keras's default name ("top_k_categorical_accuracy" or
  /// "sparse_top_k_categorical_accuracy").
  std::string name = "";
};

/// Keras's top-k accuracies: whether a position's target class is among the k largest scores
/// of y_pred (in_top_k: ties at the k-th place count as in). The target is the argmax of
/// y_true [batch, ..., classes] (TopKCategoricalAccuracy) or an integer label as in
/// SparseCategoricalAccuracy (SparseTopKCategoricalAccuracy). k < 1 is a ValueError.
template <class T>
class TopKAccuracy : public MeanMetric<T> {
 public:
  std::string name() const override { return options_.name; }
  std::string config_name() const override {
    return sparse_ ? "sparse_top_k_categorical_accuracy" : "top_k_categorical_accuracy";
  }
  Json get_config() const override { return {{"name", options_.name}, {"k", options_.k}}; }

 protected:
  TopKAccuracy(TopKOptions options, bool sparse) : options_(std::move(options)), sparse_(sparse) {
    if (options_.name.empty()) options_.name = config_name();
    check<ValueError>(options_.k >= 1, options_.name, ": k must be at least 1, got ", options_.k);
  }
  void begin_batch(const Tensor<T>& y_pred, const Tensor<T>& y_true) override {
    layout_ = sparse_ ? detail::sparse_layout(options_.name, y_pred, y_true)
                      : detail::dense_layout(options_.name, y_pred, y_true);
  }
  double per_sample(const Tensor<T>& y_pred, const Tensor<T>& y_true, index_t i) const override {
    return detail::categorical_hits(options_.name, y_pred, y_true, i, layout_, sparse_, options_.k);
  }

 private:
  TopKOptions options_;
  bool sparse_;
  detail::CategoricalLayout layout_;
};

/// Keras's TopKCategoricalAccuracy ("top_k_categorical_accuracy", k = 5): one-hot (or score)
/// targets y_true like y_pred [batch, ..., classes]; see TopKAccuracy.
template <class T = float>
class TopKCategoricalAccuracy : public TopKAccuracy<T> {
 public:
  explicit TopKCategoricalAccuracy(TopKOptions options = {})
      : TopKAccuracy<T>(std::move(options), false) {}
  std::unique_ptr<Metric<T>> clone() const override {
    return std::make_unique<TopKCategoricalAccuracy>(*this);
  }
};
/// Keras's SparseTopKCategoricalAccuracy ("sparse_top_k_categorical_accuracy", k = 5): integer
/// labels y_true [batch, ...] against y_pred [batch, ..., classes]; see TopKAccuracy.
template <class T = float>
class SparseTopKCategoricalAccuracy : public TopKAccuracy<T> {
 public:
  explicit SparseTopKCategoricalAccuracy(TopKOptions options = {})
      : TopKAccuracy<T>(std::move(options), true) {}
  std::unique_ptr<Metric<T>> clone() const override {
    return std::make_unique<SparseTopKCategoricalAccuracy>(*this);
  }
};

/// Keras's "accuracy" string, resolved from the shapes of each batch as Keras does: binary
/// (threshold 0.5) when the loss is binary cross-entropy or y_pred's last axis is 1; sparse
/// categorical when y_true has fewer axes than y_pred or a last axis of 1 against several
/// classes; categorical otherwise.
template <class T = float>
class Accuracy : public MeanMetric<T> {
 public:
  explicit Accuracy(bool binary = false, std::string name = "accuracy")
      : binary_(binary), name_(std::move(name)) {}
  std::string name() const override { return name_; }
  std::string config_name() const override { return "accuracy"; }
  Json get_config() const override { return {{"name", name_}, {"binary", binary_}}; }
  std::unique_ptr<Metric<T>> clone() const override { return std::make_unique<Accuracy>(*this); }

 protected:
  void begin_batch(const Tensor<T>& y_pred, const Tensor<T>& y_true) override {
    const index_t p_last = y_pred.shape()[y_pred.rank() - 1];
    const index_t t_last = y_true.shape()[y_true.rank() - 1];
    mode_ = binary_ || y_pred.rank() == 1 || p_last == 1                   ? Mode::binary
            : y_true.rank() < y_pred.rank() || (t_last == 1 && p_last > 1) ? Mode::sparse
                                                                           : Mode::categorical;
    if (mode_ == Mode::binary)
      this->check_same_row(y_pred, y_true);
    else if (mode_ == Mode::sparse)
      layout_ = detail::sparse_layout(name_, y_pred, y_true);
    else
      layout_ = detail::dense_layout(name_ + ": categorical accuracy", y_pred, y_true);
  }
  double per_sample(const Tensor<T>& y_pred, const Tensor<T>& y_true, index_t i) const override {
    if (mode_ == Mode::binary) {
      const index_t n = this->row(y_pred);
      return detail::binary_hits(y_pred.data() + i * n, y_true.data() + i * n, n, 0.5);
    }
    return detail::categorical_hits(name_, y_pred, y_true, i, layout_, mode_ == Mode::sparse);
  }

 private:
  enum class Mode { binary, sparse, categorical };
  bool binary_;
  std::string name_;
  Mode mode_ = Mode::binary;
  detail::CategoricalLayout layout_;
};

}  // namespace lamina
