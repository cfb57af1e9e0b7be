#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/config.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/reduce.hpp"
#include "lamina/ops/shape_ops.hpp"

namespace lamina {

/// Keras's epsilon (backend.epsilon()): probabilities are clipped to [eps, 1 - eps] before
/// taking logs, and the losses that divide or take logs guard with it.
inline constexpr double kLossEpsilon = 1e-7;

/// Base of every loss.
///
/// Contract for subclasses: `name()` is the Keras name; `compute(y_pred, y_true)` returns the
/// scalar mean over the batch of the per-sample loss, by composing ops (no gradient code), and
/// may assume `validate` accepted the shapes. A loss that can take the pre-activation outputs
/// of a softmax or sigmoid layer names that activation in `fusable_activation()` and implements
/// `compute_from_logits`, as Keras does for numerical stability. `compute_per_sample` (and
/// `compute_per_sample_from_logits`) return each sample's loss, [batch], for sample weights.
template <class T>
class Loss {
 public:
  virtual ~Loss() = default;
  /// Keras name, e.g. "sparse_categorical_crossentropy".
  virtual std::string name() const = 0;
  virtual std::unique_ptr<Loss<T>> clone() const = 0;
  /// The loss's options (Keras's get_config), e.g. {"from_logits": true}; make_loss(name(),
  /// get_config()) makes the same loss.
  virtual Json get_config() const { return Json::object(); }

  /// Mean loss over the batch. y_pred: [batch, ...]; y_true: as the loss expects.
  Variable<T> operator()(const Variable<T>& y_pred, const Tensor<T>& y_true) const {
    validate(y_pred.shape(), y_true);
    return compute(y_pred, y_true);
  }
  /// The loss weighted per sample (fit's sample_weight and class_weight), Keras's
  /// "sum_over_batch_size": sum_i w_i loss_i / batch, loss_i being sample i's loss (the mean
  /// over its elements). sample_weight: [batch] or [batch, 1], finite and non-negative.
  Variable<T> operator()(const Variable<T>& y_pred, const Tensor<T>& y_true,
                         const Tensor<T>& sample_weight) const {
    validate(y_pred.shape(), y_true);
    return weighted(compute_per_sample(y_pred, y_true), sample_weight);
  }
  /// Checks y_true against predictions of shape `y_pred` (models check whole data sets up front,
  /// so that a bad label is reported by its index in the data); throws ShapeError/ValueError.
  void check_targets(const Shape& y_pred, const Tensor<T>& y_true) const {
    validate(y_pred, y_true);
  }
  /// The activation ("softmax", "sigmoid") whose inputs this loss accepts in from_logits, or "".
  virtual std::string fusable_activation() const { return ""; }
  /// Loss of activation(logits), computed from the logits directly (stable, one fused op).
  Variable<T> from_logits(const Variable<T>& logits, const Tensor<T>& y_true) const {
    check(!fusable_activation().empty(), name(), ": cannot be computed from logits");
    validate(logits.shape(), y_true);
    return compute_from_logits(logits, y_true);
  }
  /// from_logits weighted per sample, as operator()(y_pred, y_true, sample_weight).
  Variable<T> from_logits(const Variable<T>& logits, const Tensor<T>& y_true,
                          const Tensor<T>& sample_weight) const {
    check(!fusable_activation().empty(), name(), ": cannot be computed from logits");
    validate(logits.shape(), y_true);
    return weighted(compute_per_sample_from_logits(logits, y_true), sample_weight);
  }
  /// Checks one weight per sample of a batch of `batch` samples: [batch] or [batch, 1], finite
  /// and non-negative; ValueError/ShapeError naming the loss, the sample and the value.
  void check_sample_weight(index_t batch, const Tensor<T>& sample_weight) const {
    check<ShapeError>(
        (sample_weight.rank() == 1 || (sample_weight.rank() == 2 && sample_weight.dim(1) == 1)) &&
            sample_weight.dim(0) == batch,
        name(), ": sample_weight must be [", batch, "] (one weight per sample), got ",
        sample_weight.shape());
    // Checked for every batch: the message is made for the first bad weight only.
    const T* w = sample_weight.data();
    const index_t n = sample_weight.size();
    const index_t bad =
        std::find_if(w, w + n, [](T v) { return !(std::isfinite(v) && v >= T(0)); }) - w;
    check<ValueError>(bad == n, name(), ": sample_weight ", bad < n ? w[bad] : T(0), " of sample ",
                      bad, " is not a finite, non-negative number");
  }

 protected:
  /// Throws ShapeError/ValueError naming the loss when y_true does not fit y_pred.
  virtual void validate(const Shape& y_pred, const Tensor<T>& y_true) const {
    check<ShapeError>(y_pred.rank() >= 1 && y_true.rank() >= 1 && y_pred[0] == y_true.dim(0),
                      name(), ": y_pred ", y_pred, " and y_true ", y_true.shape(),
                      " must have the same batch size");
    check<ShapeError>(same_or_squeezed(y_pred, y_true.shape()), name(), ": y_pred ", y_pred,
                      " and y_true ", y_true.shape(), " must have the same shape");
  }
  virtual Variable<T> compute(const Variable<T>& y_pred, const Tensor<T>& y_true) const = 0;
  virtual Variable<T> compute_from_logits(const Variable<T>&, const Tensor<T>&) const {
    throw Error(name() + ": cannot be computed from logits");
  }
  /// Each sample's loss, [batch] (what sample weights multiply). A custom loss that does not
  /// override it cannot be weighted.
  virtual Variable<T> compute_per_sample(const Variable<T>&, const Tensor<T>&) const {
    throw Error(name() + ": does not support sample weights (it has no per-sample loss)");
  }
  virtual Variable<T> compute_per_sample_from_logits(const Variable<T>&, const Tensor<T>&) const {
    throw Error(name() + ": cannot be computed from logits");
  }
  /// The mean of x over every axis but the first: [batch, ...] -> [batch].
  static Variable<T> mean_per_sample(const Variable<T>& x) {
    if (x.rank() == 1) return x;
    Axes axes;
    for (int a = 1; a < x.rank(); ++a) axes.push_back(a);
    return mean(x, axes);
  }

  /// sum_i w_i losses_i / batch.
  Variable<T> weighted(const Variable<T>& losses, const Tensor<T>& sample_weight) const {
    check_sample_weight(losses.dim(0), sample_weight);
    const Variable<T> w(sample_weight.reshape({losses.dim(0)}));
    return div(sum(mul(losses, w)), T(losses.dim(0)));
  }
  /// Equal shapes, or [batch, 1] against [batch] (Keras squeezes the trailing 1).
  static bool same_or_squeezed(const Shape& a, const Shape& b) {
    if (a == b) return true;
    const auto trailing_one = [](const Shape& x, const Shape& y) {
      return x.rank() == y.rank() + 1 && x[x.rank() - 1] == 1 && x.numel() == y.numel();
    };
    return trailing_one(a, b) || trailing_one(b, a);
  }
  /// y_true viewed with y_pred's shape (after same_or_squeezed accepted them).
  static Tensor<T> like(const Tensor<T>& y_true, const Shape& y_pred) {
    return y_true.shape() == y_pred ? y_true : y_true.reshape(y_pred);
  }
};

/// A loss given by its value at each position, as Keras's LossFunctionWrapper: `values(y_pred,
/// y_true)` is the loss of each element (elementwise losses, [batch, ..., d]) or of each vector
/// along the last axis (losses that reduce it, [batch, ...]); the loss is the mean of those
/// values (Keras's mean over the last axis, then sum_over_batch_size), and a sample's loss the
/// mean of its values.
///
/// Contract for subclasses: `values` composes ops and may assume y_true has y_pred's shape and
/// that both have rank >= 2 (a [batch] y_pred is seen as [batch, 1]).
template <class T>
class LossFunctionWrapper : public Loss<T> {
 protected:
  /// The loss at each position, from y_pred and y_true of the same shape [batch, ..., d].
  virtual Variable<T> values(const Variable<T>& y_pred, const Variable<T>& y_true) const = 0;

  Variable<T> compute(const Variable<T>& y_pred, const Tensor<T>& y_true) const override {
    return mean(values_of(y_pred, y_true));
  }
  Variable<T> compute_per_sample(const Variable<T>& y_pred,
                                 const Tensor<T>& y_true) const override {
    return this->mean_per_sample(values_of(y_pred, y_true));
  }

 private:
  Variable<T> values_of(const Variable<T>& y_pred, const Tensor<T>& y_true) const {
    if (y_pred.rank() >= 2) return values(y_pred, Variable<T>(this->like(y_true, y_pred.shape())));
    const Shape column{y_pred.dim(0), 1};
    return values(reshape(y_pred, column), Variable<T>(y_true.reshape(column)));
  }
};

}  // namespace lamina
