#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/metrics/metric.hpp"

/// Keras's confusion-matrix metrics: Precision, Recall and AUC. They keep weighted counts of
/// true/false positives/negatives over every element of every batch since reset() (not a mean
/// of per-batch values), as Keras's metrics do, and compute their result from the counts.
namespace lamina {
namespace detail {

/// Keras's divide_no_nan: a / b, or 0 when b is 0.
inline double divide_no_nan(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

}  // namespace detail

/// Options of Precision and Recall (Keras's keyword arguments).
struct PrecisionRecallOptions {
  /// An element is predicted positive when y_pred > thresholds; in [0, 1].
  double thresholds = 0.5;
  /// Empty: Keras's default name ("precision" or "recall").
  std::string name = "";
};

/// Keras's Precision (tp / (tp + fp)) and Recall (tp / (tp + fn)) at one threshold, over all
/// elements: an element is a positive when y_true != 0 and predicted positive when y_pred >
/// thresholds; each element counts with its sample's weight. The counts accumulate across
/// batches until reset(); the result is 0 while its denominator is 0.
template <class T>
class PrecisionOrRecall : public Metric<T> {
 public:
  std::string name() const override { return options_.name; }
  std::string config_name() const override { return recall_ ? "recall" : "precision"; }
  Json get_config() const override {
    return {{"name", options_.name}, {"thresholds", options_.thresholds}};
  }

  void reset() override { true_positives_ = false_positives_ = false_negatives_ = 0.0; }
  void update(const Tensor<T>& y_pred, const Tensor<T>& y_true,
              const Tensor<T>* sample_weight = nullptr) override {
    this->validate(y_pred, y_true, sample_weight);
    this->check_same_row(y_pred, y_true);
    const index_t n = this->row(y_pred);
    const T threshold = T(options_.thresholds);  // compared in y_pred's type, as Keras
    for (index_t i = 0; i < y_pred.dim(0); ++i) {
      const double w = this->weight(sample_weight, i);
      for (index_t k = i * n; k < (i + 1) * n; ++k) {
        const bool positive = y_true.data()[k] != T(0);
        const bool predicted = y_pred.data()[k] > threshold;
        if (positive && predicted) true_positives_ += w;
        if (!positive && predicted) false_positives_ += w;
        if (positive && !predicted) false_negatives_ += w;
      }
    }
  }
  double result() const override {
    return detail::divide_no_nan(true_positives_,
                                 true_positives_ + (recall_ ? false_negatives_ : false_positives_));
  }
  /// The weighted counts so far.
  double true_positives() const { return true_positives_; }
  double false_positives() const { return false_positives_; }
  double false_negatives() const { return false_negatives_; }

 protected:
  PrecisionOrRecall(PrecisionRecallOptions options, bool recall)
      : options_(std::move(options)), recall_(recall) {
    if (options_.name.empty()) options_.name = config_name();
    check<ValueError>(options_.thresholds >= 0.0 && options_.thresholds <= 1.0, options_.name,
                      ": thresholds must be in [0, 1], got ", options_.thresholds);
  }

 private:
  PrecisionRecallOptions options_;
  bool recall_;
  double true_positives_ = 0.0, false_positives_ = 0.0, false_negatives_ = 0.0;
};

/// Keras's Precision ("precision"): tp / (tp + fp); see PrecisionOrRecall.
template <class T = float>
class Precision : public PrecisionOrRecall<T> {
 public:
  explicit Precision(PrecisionRecallOptions options = {})
      : PrecisionOrRecall<T>(std::move(options), false) {}
  std::unique_ptr<Metric<T>> clone() const override { return std::make_unique<Precision>(*this); }
};
/// Keras's Recall ("recall"): tp / (tp + fn); see PrecisionOrRecall.
template <class T = float>
class Recall : public PrecisionOrRecall<T> {
 public:
  explicit Recall(PrecisionRecallOptions options = {})
      : PrecisionOrRecall<T>(std::move(options), true) {}
  std::unique_ptr<Metric<T>> clone() const override { return std::make_unique<Recall>(*this); }
};

/// Options of AUC (Keras's keyword arguments and defaults).
struct AUCOptions {
  /// Thresholds of the Riemann sum (> 1): -epsilon, 1/(n-1), ..., (n-2)/(n-1), 1 + epsilon.
  index_t num_thresholds = 200;
  /// "ROC" (true positive rate against false positive rate) or "PR" (precision against recall).
  std::string curve = "ROC";
  /// "interpolation" (trapezoids for ROC; Davis & Goadrich's interpolation for PR),
  /// "minoring" (the lower of the two ends) or "majoring" (the higher).
  std::string summation_method = "interpolation";
  /// Whether y_pred holds logits (a sigmoid is applied first).
  bool from_logits = false;
  std::string name = "auc";
};

/// Keras's AUC ("auc"): the area under the ROC (or PR) curve, approximated as Keras does.
///
/// The algorithm (Keras's update_confusion_matrix_variables with evenly spread thresholds,
/// reproduced step by step so that the numbers match Keras's):
///   1. thresholds t_0 = -1e-7, t_i = i / (n - 1) for 0 < i < n - 1, t_{n-1} = 1 + 1e-7,
///      with n = num_thresholds;
///   2. each element of y_pred (after a sigmoid with from_logits) is clipped to [0, 1] and put
///      in bucket max(ceil(p (n - 1)) - 1, 0), computed in y_pred's type; so p counts as
///      positive at exactly the thresholds it is strictly greater than (a prediction equal to
///      t_i is negative at t_i), and every p in [0, 1] is positive at t_0; a NaN goes to
///      bucket 0;
///   3. each bucket sums the sample weights of its positives (y_true != 0) and negatives;
///      tp_i and fp_i are the sums over buckets >= i, fn_i = positives - tp_i, tn_i = negatives
///      - fp_i; these four counts per threshold accumulate across batches until reset();
///   4. result: with x_i, y_i the curve's points (ROC: fp / (fp + tn), tp / (tp + fn); PR:
///      recall, precision; each 0 when its denominator is 0), the sum over i of
///      (x_i - x_{i+1}) * height_i, height_i = (y_i + y_{i+1}) / 2 for "interpolation",
///      min(y_i, y_{i+1}) for "minoring", max for "majoring"; PR with "interpolation" uses
///      Keras's interpolate_pr_auc (precision interpolated along tp and tp + fp).
/// All elements of y_pred are pooled (Keras's multi_label=false); y_pred and y_true hold the
/// same number of elements. num_thresholds < 2 or an unknown curve or summation method is a
/// ValueError.
template <class T = float>
class AUC : public Metric<T> {
 public:
  explicit AUC(AUCOptions options = {}) : options_(std::move(options)) {
    check<ValueError>(options_.num_thresholds > 1, options_.name,
                      ": num_thresholds must be > 1, got ", options_.num_thresholds);
    const std::string& c = options_.curve;
    check<ValueError>(c == "ROC" || c == "roc" || c == "PR" || c == "pr", options_.name,
                      ": curve must be 'ROC' or 'PR', got '", c, "'");
    options_.curve = c == "roc" ? "ROC" : c == "pr" ? "PR" : c;
    std::string& s = options_.summation_method;
    if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
    check<ValueError>(s == "interpolation" || s == "minoring" || s == "majoring", options_.name,
                      ": summation_method must be 'interpolation', 'minoring' or 'majoring', got '",
                      s, "'");
    reset();
  }
  std::string name() const override { return options_.name; }
  std::string config_name() const override { return "auc"; }
  Json get_config() const override {
    return {{"name", options_.name},
            {"num_thresholds", options_.num_thresholds},
            {"curve", options_.curve},
            {"summation_method", options_.summation_method},
            {"from_logits", options_.from_logits}};
  }
  std::unique_ptr<Metric<T>> clone() const override { return std::make_unique<AUC>(*this); }

  /// The thresholds t_0 .. t_{n-1} (see the class comment).
  std::vector<double> thresholds() const {
    const index_t n = options_.num_thresholds;
    std::vector<double> t(static_cast<std::size_t>(n));
    for (index_t i = 1; i + 1 < n; ++i) t[std::size_t(i)] = double(i) / double(n - 1);
    t.front() = 0.0 - kEpsilon;
    t.back() = 1.0 + kEpsilon;
    return t;
  }

  void reset() override {
    const auto n = static_cast<std::size_t>(options_.num_thresholds);
    tp_.assign(n, 0.0);
    fp_.assign(n, 0.0);
    tn_.assign(n, 0.0);
    fn_.assign(n, 0.0);
  }
  void update(const Tensor<T>& y_pred, const Tensor<T>& y_true,
              const Tensor<T>* sample_weight = nullptr) override {
    this->validate(y_pred, y_true, sample_weight);
    this->check_same_row(y_pred, y_true);
    const index_t n = options_.num_thresholds, row = this->row(y_pred);
    std::vector<double> pos(std::size_t(n), 0.0), neg(std::size_t(n), 0.0);
    for (index_t i = 0; i < y_pred.dim(0); ++i) {
      const double w = this->weight(sample_weight, i);
      for (index_t k = i * row; k < (i + 1) * row; ++k) {
        T p = y_pred.data()[k];
        if (options_.from_logits) p = T(1) / (T(1) + std::exp(-p));
        p = p > T(1) ? T(1) : p > T(0) ? p : T(0);  // clip to [0, 1]; NaN -> 0
        const auto bucket = std::max<index_t>(index_t(std::ceil(p * T(n - 1))) - 1, 0);
        (y_true.data()[k] != T(0) ? pos : neg)[std::size_t(bucket)] += w;
      }
    }
    // tp_i, fp_i: the weights of the buckets >= i (predictions above t_i).
    double tp = 0.0, fp = 0.0;
    const double positives = sum(pos), negatives = sum(neg);
    for (index_t i = n - 1; i >= 0; --i) {
      const auto u = std::size_t(i);
      tp += pos[u];
      fp += neg[u];
      tp_[u] += tp;
      fp_[u] += fp;
      fn_[u] += positives - tp;
      tn_[u] += negatives - fp;
    }
  }
  double result() const override {
    const std::size_t n = tp_.size();
    if (options_.curve == "PR" && options_.summation_method == "interpolation")
      return interpolate_pr_auc();
    std::vector<double> x(n), y(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double recall = detail::divide_no_nan(tp_[i], tp_[i] + fn_[i]);
      if (options_.curve == "ROC") {
        x[i] = detail::divide_no_nan(fp_[i], fp_[i] + tn_[i]);
        y[i] = recall;
      } else {
        x[i] = recall;
        y[i] = detail::divide_no_nan(tp_[i], tp_[i] + fp_[i]);
      }
    }
    double area = 0.0;
    for (std::size_t i = 0; i + 1 < n; ++i) {
      const double height = options_.summation_method == "interpolation" ? (y[i] + y[i + 1]) / 2
                            : options_.summation_method == "minoring"    ? std::min(y[i], y[i + 1])
                                                                         : std::max(y[i], y[i + 1]);
      area += (x[i] - x[i + 1]) * height;
    }
    return area;
  }
  /// The weighted counts per threshold so far.
  const std::vector<double>& true_positives() const { return tp_; }
  const std::vector<double>& false_positives() const { return fp_; }
  const std::vector<double>& true_negatives() const { return tn_; }
  const std::vector<double>& false_negatives() const { return fn_; }

 private:
  static constexpr double kEpsilon = 1e-7;  // Keras's backend.epsilon()

  static double sum(const std::vector<double>& v) {
    double s = 0.0;
    for (double e : v) s += e;
    return s;
  }
  /// Keras's interpolate_pr_auc (Davis & Goadrich 2006, section 4): between thresholds A and
  /// B, tp and p = tp + fp vary linearly, precision = tp / p, and the area is
  /// (slope (dtp + intercept log(p_A / p_B))) / (tp_B + fn_B).
  double interpolate_pr_auc() const {
    double area = 0.0;
    for (std::size_t i = 0; i + 1 < tp_.size(); ++i) {
      const double dtp = tp_[i] - tp_[i + 1];
      const double p_a = tp_[i] + fp_[i], p_b = tp_[i + 1] + fp_[i + 1];
      const double slope = detail::divide_no_nan(dtp, std::max(p_a - p_b, 0.0));
      const double intercept = tp_[i + 1] - slope * p_b;
      const double ratio =
          p_a > 0.0 && p_b > 0.0 ? detail::divide_no_nan(p_a, std::max(p_b, 0.0)) : 1.0;
      area += detail::divide_no_nan(slope * (dtp + intercept * std::log(ratio)),
                                    std::max(tp_[i + 1] + fn_[i + 1], 0.0));
    }
    return area;
  }

  AUCOptions options_;
  std::vector<double> tp_, fp_, tn_, fn_;
};

}  // namespace lamina
