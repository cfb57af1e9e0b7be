#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lamina/core/config.hpp"
#include "lamina/core/registry.hpp"
#include "lamina/losses/hinge.hpp"
#include "lamina/losses/loss.hpp"
#include "lamina/losses/probabilistic.hpp"
#include "lamina/losses/regression.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/math.hpp"
#include "lamina/ops/reduce.hpp"
#include "lamina/ops/shape_ops.hpp"
#include "lamina/ops/softmax.hpp"

namespace lamina {

/// Mean squared error ("mse"): mean((y_pred - y_true)^2). y_pred, y_true: [batch, ...], same
/// shape.
template <class T = float>
class MeanSquaredError : public LossFunctionWrapper<T> {
 public:
  std::string name() const override { return "mean_squared_error"; }
  std::unique_ptr<Loss<T>> clone() const override {
    return std::make_unique<MeanSquaredError>(*this);
  }

 protected:
  Variable<T> values(const Variable<T>& y_pred, const Variable<T>& y_true) const override {
    return square(sub(y_pred, y_true));
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
    // One pass over every label of every batch: the message is made for the first bad one only.
    const T* y = y_true.data();
    const index_t n = y_true.size();
    const index_t bad = std::find_if(y, y + n, [](T v) { return !(v >= T(0) && v <= T(1)); }) - y;
    check<ValueError>(bad == n, name(), ": label ", bad < n ? y[bad] : T(0), " at index ", bad,
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

/// Sparse categorical cross-entropy: integer class labels against predictions over the last
/// axis. y_pred: [batch, classes] with labels [batch] (or [batch, 1]); or, for sequence outputs,
/// [batch, steps, ..., classes] with labels [batch, steps, ...] (or with a trailing 1). The loss
/// is the mean over every labelled position (batch * steps), as Keras. Labels must be integers
/// in [0, classes).
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
    const Shape grid = positions(y_pred);
    std::vector<index_t> with_one(grid.begin(), grid.end());
    with_one.push_back(1);
    check<ShapeError>(
        y_pred.rank() >= 2 && (y_true.shape() == grid || y_true.shape() == Shape(with_one)), name(),
        ": expected y_pred [batch, classes] and integer labels [batch] (or y_pred [batch, steps, "
        "classes] and labels [batch, steps]), got y_pred ",
        y_pred, " and y_true ", y_true.shape());
    const index_t classes = y_pred[y_pred.rank() - 1];
    for (index_t i = 0; i < y_true.size(); ++i) {
      const T label = y_true.data()[i];
      if (label == std::floor(label) && label >= 0 && label < T(classes)) [[likely]]
        continue;
      check<ValueError>(grid.rank() != 1, name(), ": label ", label, " at index ", i,
                        " is not an integer in [0, ", classes, ")");
      check<ValueError>(false, name(), ": label ", label, " at position ", position(grid, i),
                        " is not an integer in [0, ", classes, ")");
    }
  }
  Variable<T> compute(const Variable<T>& y_pred, const Tensor<T>& y_true) const override {
    return mean(per_position(y_pred, y_true, options_.from_logits));
  }
  Variable<T> compute_from_logits(const Variable<T>& logits,
                                  const Tensor<T>& y_true) const override {
    return mean(per_position(logits, y_true, true));
  }
  Variable<T> compute_per_sample(const Variable<T>& y_pred,
                                 const Tensor<T>& y_true) const override {
    return per_sample(y_pred, y_true, options_.from_logits);
  }
  Variable<T> compute_per_sample_from_logits(const Variable<T>& logits,
                                             const Tensor<T>& y_true) const override {
    return per_sample(logits, y_true, true);
  }

 private:
  /// The labelled positions: y_pred's shape without its classes axis.
  static Shape positions(const Shape& y_pred) {
    if (y_pred.rank() < 1) return Shape{};
    return Shape(std::vector<index_t>(y_pred.begin(), y_pred.end() - 1));
  }
  /// Flat index i of `grid` as a position, e.g. [1, 2].
  static Shape position(const Shape& grid, index_t i) {
    std::vector<index_t> at(static_cast<std::size_t>(grid.rank()));
    for (int a = grid.rank() - 1; a >= 0; --a) {
      at[static_cast<std::size_t>(a)] = i % grid[a];
      i /= grid[a];
    }
    return Shape(std::move(at));
  }
  /// The loss at each labelled position, flattened: [positions].
  static Variable<T> per_position(const Variable<T>& y_pred, const Tensor<T>& y_true,
                                  bool from_logits) {
    const index_t classes = y_pred.dim(y_pred.rank() - 1), n = y_true.size();
    const Variable<T> rows = y_pred.rank() == 2 ? y_pred : reshape(y_pred, {n, classes});
    const Tensor<T> labels = y_true.reshape({n});
    if (from_logits) return sparse_softmax_cross_entropy(rows, labels);
    Tensor<T> one_hot({n, classes});
    for (index_t i = 0; i < n; ++i)
      one_hot.data()[i * classes + static_cast<index_t>(labels.data()[i])] = T(1);
    return detail::clipped_crossentropy_per_sample(rows, one_hot);
  }
  /// Each sample's loss, the mean over its positions: [batch].
  Variable<T> per_sample(const Variable<T>& y_pred, const Tensor<T>& y_true,
                         bool from_logits) const {
    const Variable<T> losses = per_position(y_pred, y_true, from_logits);
    if (y_pred.rank() == 2) return losses;
    return this->mean_per_sample(reshape(losses, positions(y_pred.shape())));
  }

  CrossentropyOptions options_;
};

/// Makes a loss from its options (a get_config()), read through `options`.
template <class T>
using LossFactory = std::function<std::unique_ptr<Loss<T>>(ConfigReader& options)>;

namespace detail {

template <template <class> class L, class T>
std::unique_ptr<Loss<T>> make_plain_loss(ConfigReader&) {
  return std::make_unique<L<T>>();
}
template <template <class> class L, class T>
std::unique_ptr<Loss<T>> make_crossentropy_loss(ConfigReader& r) {
  return std::make_unique<L<T>>(
      CrossentropyOptions{.from_logits = r.get<bool>("from_logits", false)});
}
template <class T>
std::unique_ptr<Loss<T>> make_huber_loss(ConfigReader& r) {
  return std::make_unique<Huber<T>>(HuberOptions{.delta = r.get<double>("delta", 1.0)});
}
template <class T>
std::unique_ptr<Loss<T>> make_cosine_similarity_loss(ConfigReader& r) {
  return std::make_unique<CosineSimilarity<T>>(
      CosineSimilarityOptions{.axis = r.get<int>("axis", -1)});
}

}  // namespace detail

/// The losses by Keras name (and Keras's short aliases), with their factories; a custom loss
/// is added with loss_registry<T>().add(name, factory).
template <class T>
Registry<LossFactory<T>>& loss_registry() {
  static Registry<LossFactory<T>> registry(
      "loss",
      {
          {"binary_crossentropy", detail::make_crossentropy_loss<BinaryCrossentropy, T>},
          {"categorical_crossentropy", detail::make_crossentropy_loss<CategoricalCrossentropy, T>},
          {"cosine_similarity", detail::make_cosine_similarity_loss<T>},
          {"hinge", detail::make_plain_loss<Hinge, T>},
          {"huber", detail::make_huber_loss<T>},
          {"kl_divergence", detail::make_plain_loss<KLDivergence, T>},
          {"kld", detail::make_plain_loss<KLDivergence, T>},
          {"log_cosh", detail::make_plain_loss<LogCosh, T>},
          {"mae", detail::make_plain_loss<MeanAbsoluteError, T>},
          {"mean_absolute_error", detail::make_plain_loss<MeanAbsoluteError, T>},
          {"mean_squared_error", detail::make_plain_loss<MeanSquaredError, T>},
          {"mse", detail::make_plain_loss<MeanSquaredError, T>},
          {"poisson", detail::make_plain_loss<Poisson, T>},
          {"sparse_categorical_crossentropy",
           detail::make_crossentropy_loss<SparseCategoricalCrossentropy, T>},
      });
  return registry;
}

/// The loss names make_loss accepts, sorted.
template <class T = float>
std::vector<std::string> loss_names() {
  return loss_registry<T>().names();
}

/// The loss `name` with the options of `config` (a get_config()); ValueError naming an unknown
/// loss (listing the valid names) or an unknown option.
template <class T>
std::unique_ptr<Loss<T>> make_loss(const std::string& name, const Json& config) {
  const LossFactory<T> factory = loss_registry<T>().get(name);
  ConfigReader r(config, "loss " + name);
  std::unique_ptr<Loss<T>> loss = factory(r);
  r.finish();
  return loss;
}

/// A loss by its Keras name, with its default options; throws ValueError listing the valid
/// names for any other.
template <class T>
std::unique_ptr<Loss<T>> make_loss(const std::string& name) {
  return make_loss<T>(name, Json::object());
}

}  // namespace lamina
