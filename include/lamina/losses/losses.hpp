#pragma once

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "lamina/losses/loss.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/math.hpp"
#include "lamina/ops/reduce.hpp"
#include "lamina/ops/softmax.hpp"

namespace lamina {

/// Keras's epsilon: probabilities are clipped to [eps, 1 - eps] before taking logs.
inline constexpr double kLossEpsilon = 1e-7;

/// Mean squared error: mean((y_pred - y_true)^2) over all elements.
template <class T = float>
class MeanSquaredError : public Loss<T> {
 public:
  std::string name() const override { return "mean_squared_error"; }
  std::unique_ptr<Loss<T>> clone() const override {
    return std::make_unique<MeanSquaredError>(*this);
  }

 protected:
  Variable<T> compute(const Variable<T>& y_pred, const Tensor<T>& y_true) const override {
    return mean(square(sub(y_pred, Variable<T>(this->like(y_true, y_pred.shape())))));
  }
  Variable<T> compute_per_sample(const Variable<T>& y_pred,
                                 const Tensor<T>& y_true) const override {
    return this->mean_per_sample(
        square(sub(y_pred, Variable<T>(this->like(y_true, y_pred.shape())))));
  }
};

/// Options of the cross-entropy losses.
struct CrossentropyOptions {
  /// y_pred holds logits rather than probabilities.
  bool from_logits = false;
};

/// Binary cross-entropy: mean of -(y log p + (1 - y) log(1 - p)), p clipped as in Keras.
/// From logits (or fused with a sigmoid output): softplus(x) - x y, which is stable.
template <class T = float>
class BinaryCrossentropy : public Loss<T> {
 public:
  explicit BinaryCrossentropy(CrossentropyOptions options = {}) : options_(options) {}
  std::string name() const override { return "binary_crossentropy"; }
  std::unique_ptr<Loss<T>> clone() const override {
    return std::make_unique<BinaryCrossentropy>(*this);
  }
  std::string fusable_activation() const override { return options_.from_logits ? "" : "sigmoid"; }
  Json get_config() const override { return {{"from_logits", options_.from_logits}}; }

 protected:
  /// Labels must be probabilities: 0, 1 or (Keras's soft labels) anything in between.
  void validate(const Shape& y_pred, const Tensor<T>& y_true) const override {
    Loss<T>::validate(y_pred, y_true);
    const T* y = y_true.data();
    for (index_t i = 0; i < y_true.size(); ++i)
      check<ValueError>(y[i] >= T(0) && y[i] <= T(1), name(), ": label ", y[i], " at index ", i,
                        " is outside [0, 1] (labels are 0, 1 or a probability in between)");
  }
  Variable<T> compute(const Variable<T>& y_pred, const Tensor<T>& y_true) const override {
    if (options_.from_logits) return compute_from_logits(y_pred, y_true);
    const Variable<T> y(this->like(y_true, y_pred.shape()));
    const Variable<T> p = clamp(y_pred, T(kLossEpsilon), T(1 - kLossEpsilon));
    return neg(mean(add(mul(y, log(p)), mul(sub(T(1), y), log(sub(T(1), p))))));
  }
  Variable<T> compute_from_logits(const Variable<T>& logits,
                                  const Tensor<T>& y_true) const override {
    const Variable<T> y(this->like(y_true, logits.shape()));
    return mean(sub(softplus(logits), mul(logits, y)));
  }
  Variable<T> compute_per_sample(const Variable<T>& y_pred,
                                 const Tensor<T>& y_true) const override {
    if (options_.from_logits) return compute_per_sample_from_logits(y_pred, y_true);
    const Variable<T> y(this->like(y_true, y_pred.shape()));
    const Variable<T> p = clamp(y_pred, T(kLossEpsilon), T(1 - kLossEpsilon));
    return neg(this->mean_per_sample(add(mul(y, log(p)), mul(sub(T(1), y), log(sub(T(1), p))))));
  }
  Variable<T> compute_per_sample_from_logits(const Variable<T>& logits,
                                             const Tensor<T>& y_true) const override {
    const Variable<T> y(this->like(y_true, logits.shape()));
    return this->mean_per_sample(sub(softplus(logits), mul(logits, y)));
  }

 private:
  CrossentropyOptions options_;
};

namespace detail {

/// -sum(y log p) for each sample of [batch, classes], p being y_pred renormalised over the
/// classes and clipped to [eps, 1 - eps] as in Keras.
template <class T>
Variable<T> clipped_crossentropy_per_sample(const Variable<T>& y_pred, const Tensor<T>& y_true) {
  const Variable<T> p = clamp(div(y_pred, sum(y_pred, {-1}, {.keepdims = true})), T(kLossEpsilon),
                              T(1 - kLossEpsilon));
  return neg(sum(mul(Variable<T>(y_true), log(p)), {-1}));
}

}  // namespace detail

/// Categorical cross-entropy against one-hot (or probability) targets [batch, classes]:
/// mean over the batch of -sum(y log p), p renormalised and clipped as in Keras.
template <class T = float>
class CategoricalCrossentropy : public Loss<T> {
 public:
  explicit CategoricalCrossentropy(CrossentropyOptions options = {}) : options_(options) {}
  std::string name() const override { return "categorical_crossentropy"; }
  std::unique_ptr<Loss<T>> clone() const override {
    return std::make_unique<CategoricalCrossentropy>(*this);
  }
  std::string fusable_activation() const override { return options_.from_logits ? "" : "softmax"; }
  Json get_config() const override { return {{"from_logits", options_.from_logits}}; }

 protected:
  void validate(const Shape& y_pred, const Tensor<T>& y_true) const override {
    check<ShapeError>(
        y_pred.rank() == 2 && y_true.shape() == y_pred, name(),
        ": expected y_pred [batch, classes] and y_true of the same shape, got y_pred ", y_pred,
        " and y_true ", y_true.shape());
  }
  Variable<T> compute(const Variable<T>& y_pred, const Tensor<T>& y_true) const override {
    return mean(compute_per_sample(y_pred, y_true));
  }
  Variable<T> compute_from_logits(const Variable<T>& logits,
                                  const Tensor<T>& y_true) const override {
    return mean(softmax_cross_entropy(logits, y_true));
  }
  Variable<T> compute_per_sample(const Variable<T>& y_pred,
                                 const Tensor<T>& y_true) const override {
    if (options_.from_logits) return compute_per_sample_from_logits(y_pred, y_true);
    return detail::clipped_crossentropy_per_sample(y_pred, y_true);
  }
  Variable<T> compute_per_sample_from_logits(const Variable<T>& logits,
                                             const Tensor<T>& y_true) const override {
    return softmax_cross_entropy(logits, y_true);
  }

 private:
  CrossentropyOptions options_;
};

/// Sparse categorical cross-entropy: integer class labels [batch] (or [batch, 1]) against
/// predictions [batch, classes]. Labels must be integers in [0, classes).
template <class T = float>
class SparseCategoricalCrossentropy : public Loss<T> {
 public:
  explicit SparseCategoricalCrossentropy(CrossentropyOptions options = {}) : options_(options) {}
  std::string name() const override { return "sparse_categorical_crossentropy"; }
  std::unique_ptr<Loss<T>> clone() const override {
    return std::make_unique<SparseCategoricalCrossentropy>(*this);
  }
  std::string fusable_activation() const override { return options_.from_logits ? "" : "softmax"; }
  Json get_config() const override { return {{"from_logits", options_.from_logits}}; }

 protected:
  void validate(const Shape& y_pred, const Tensor<T>& y_true) const override {
    const bool labels_ok = y_true.rank() == 1 || (y_true.rank() == 2 && y_true.dim(1) == 1);
    check<ShapeError>(y_pred.rank() == 2 && labels_ok && y_true.dim(0) == y_pred[0], name(),
                      ": expected y_pred [batch, classes] and integer labels [batch], got y_pred ",
                      y_pred, " and y_true ", y_true.shape());
    const index_t classes = y_pred[1];
    for (index_t i = 0; i < y_true.size(); ++i) {
      const T label = y_true.data()[i];
      check<ValueError>(label == std::floor(label) && label >= 0 && label < T(classes), name(),
                        ": label ", label, " at index ", i, " is not an integer in [0, ", classes,
                        ")");
    }
  }
  Variable<T> compute(const Variable<T>& y_pred, const Tensor<T>& y_true) const override {
    return mean(compute_per_sample(y_pred, y_true));
  }
  Variable<T> compute_from_logits(const Variable<T>& logits,
                                  const Tensor<T>& y_true) const override {
    return mean(compute_per_sample_from_logits(logits, y_true));
  }
  Variable<T> compute_per_sample(const Variable<T>& y_pred,
                                 const Tensor<T>& y_true) const override {
    if (options_.from_logits) return compute_per_sample_from_logits(y_pred, y_true);
    const Tensor<T> labels = y_true.reshape({y_true.size()});
    const index_t classes = y_pred.dim(1);
    Tensor<T> one_hot({y_pred.dim(0), classes});
    for (index_t i = 0; i < labels.size(); ++i)
      one_hot.data()[i * classes + static_cast<index_t>(labels.data()[i])] = T(1);
    return detail::clipped_crossentropy_per_sample(y_pred, one_hot);
  }
  Variable<T> compute_per_sample_from_logits(const Variable<T>& logits,
                                             const Tensor<T>& y_true) const override {
    return sparse_softmax_cross_entropy(logits, y_true.reshape({y_true.size()}));
  }

 private:
  CrossentropyOptions options_;
};

/// The loss names make_loss accepts.
inline const std::vector<std::string>& loss_names() {
  static const std::vector<std::string> names = {"binary_crossentropy", "categorical_crossentropy",
                                                 "mean_squared_error", "mse",
                                                 "sparse_categorical_crossentropy"};
  return names;
}

/// A loss by its Keras name; throws ValueError listing the valid names for any other.
template <class T>
std::unique_ptr<Loss<T>> make_loss(const std::string& name) {
  if (name == "mse" || name == "mean_squared_error") return std::make_unique<MeanSquaredError<T>>();
  if (name == "binary_crossentropy") return std::make_unique<BinaryCrossentropy<T>>();
  if (name == "categorical_crossentropy") return std::make_unique<CategoricalCrossentropy<T>>();
  if (name == "sparse_categorical_crossentropy")
    return std::make_unique<SparseCategoricalCrossentropy<T>>();
  std::string valid;
  for (const std::string& n : loss_names()) valid += (valid.empty() ? "" : ", ") + n;
  throw ValueError("unknown loss '" + name + "'; valid names: " + valid);
}

/// The loss `name` with the options of `config` (a get_config()); ValueError naming an unknown
/// loss or option.
template <class T>
std::unique_ptr<Loss<T>> make_loss(const std::string& name, const Json& config) {
  std::unique_ptr<Loss<T>> loss = make_loss<T>(name);
  ConfigReader r(config, "loss " + name);
  if (r.has("from_logits") && name.find("crossentropy") != std::string::npos) {
    const CrossentropyOptions o{.from_logits = r.get<bool>("from_logits")};
    if (name == "binary_crossentropy") loss = std::make_unique<BinaryCrossentropy<T>>(o);
    if (name == "categorical_crossentropy") loss = std::make_unique<CategoricalCrossentropy<T>>(o);
    if (name == "sparse_categorical_crossentropy")
      loss = std::make_unique<SparseCategoricalCrossentropy<T>>(o);
  }
  r.finish();
  return loss;
}

}  // namespace lamina
