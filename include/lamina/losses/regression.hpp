#pragma once

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <numbers>
#include <string>

#include "lamina/core/config.hpp"
#include "lamina/core/error.hpp"
#include "lamina/losses/loss.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/math.hpp"
#include "lamina/ops/reduce.hpp"

// Keras's regression losses besides mean squared error: each the mean over the batch of a value
// per position (LossFunctionWrapper), written with Keras 3's formulas.

namespace lamina {

/// Mean absolute error ("mae"): mean(|y_pred - y_true|). y_pred, y_true: [batch, ...], same shape.
template <class T = float>
class MeanAbsoluteError : public LossFunctionWrapper<T> {
 public:
  std::string name() const override { return "mean_absolute_error"; }
  std::unique_ptr<Loss<T>> clone() const override {
    return std::make_unique<MeanAbsoluteError>(*this);
  }

 protected:
  Variable<T> values(const Variable<T>& y_pred, const Variable<T>& y_true) const override {
    return abs(sub(y_pred, y_true));
  }
};

/// Options of Huber.
struct HuberOptions {
  /// Where the loss turns from quadratic to linear; positive.
  double delta = 1.0;
};

/// Huber loss ("huber"): with e = y_pred - y_true, 0.5 e^2 where |e| <= delta and
/// delta |e| - 0.5 delta^2 elsewhere, averaged. y_pred, y_true: [batch, ...], same shape.
template <class T = float>
class Huber : public LossFunctionWrapper<T> {
 public:
  explicit Huber(HuberOptions options = {}) : options_(options) {
    check<ValueError>(std::isfinite(options.delta) && options.delta > 0,
                      "huber: delta must be a positive number, got ", options.delta);
  }
  std::string name() const override { return "huber"; }
  std::unique_ptr<Loss<T>> clone() const override { return std::make_unique<Huber>(*this); }
  Json get_config() const override { return {{"delta", options_.delta}}; }

 protected:
  Variable<T> values(const Variable<T>& y_pred, const Variable<T>& y_true) const override {
    const T delta = T(options_.delta);
    const Variable<T> error = sub(y_pred, y_true);
    // Which branch each element takes (no gradient flows through the choice).
    Tensor<T> quadratic = Tensor<T>::empty(error.shape());
    for (index_t i = 0; i < error.value().size(); ++i)
      quadratic.data()[i] = T(std::abs(error.value().data()[i]) <= delta);
    return where(quadratic, mul(square(error), T(0.5)),
                 sub(mul(abs(error), delta), T(0.5) * delta * delta));
  }

 private:
  HuberOptions options_;
};

/// Log-cosh loss ("log_cosh"): mean(log(cosh(y_pred - y_true))), computed as Keras does,
/// x + softplus(-2x) - log 2 (= |x| + log1p(e^{-2|x|}) - log 2), finite for any finite x.
/// y_pred, y_true: [batch, ...], same shape.
template <class T = float>
class LogCosh : public LossFunctionWrapper<T> {
 public:
  std::string name() const override { return "log_cosh"; }
  std::unique_ptr<Loss<T>> clone() const override { return std::make_unique<LogCosh>(*this); }

 protected:
  Variable<T> values(const Variable<T>& y_pred, const Variable<T>& y_true) const override {
    const Variable<T> x = sub(y_pred, y_true);
    return sub(add(x, softplus(mul(x, T(-2)))), T(std::numbers::ln2));
  }
};

/// Options of CosineSimilarity.
struct CosineSimilarityOptions {
  /// The axis along which the vectors lie (negative counts from the end); not the batch axis.
  int axis = -1;
};

/// Cosine similarity loss ("cosine_similarity"), Keras's sign: -sum(l2_normalize(y_true) *
/// l2_normalize(y_pred)) along `axis`, averaged over the other positions; -1 when the vectors
/// point the same way. l2_normalize(x) = x / max(||x||, eps), Keras's epsilon 1e-7, so a zero
/// vector gives 0. y_pred, y_true: [batch, ...], same shape.
template <class T = float>
class CosineSimilarity : public LossFunctionWrapper<T> {
 public:
  explicit CosineSimilarity(CosineSimilarityOptions options = {}) : options_(options) {}
  std::string name() const override { return "cosine_similarity"; }
  std::unique_ptr<Loss<T>> clone() const override {
    return std::make_unique<CosineSimilarity>(*this);
  }
  Json get_config() const override { return {{"axis", options_.axis}}; }

 protected:
  void validate(const Shape& y_pred, const Tensor<T>& y_true) const override {
    Loss<T>::validate(y_pred, y_true);
    const int rank = std::max(y_pred.rank(), 2);  // a [batch] y_pred is seen as [batch, 1]
    check<ValueError>(options_.axis >= -rank && options_.axis < rank && options_.axis != 0 &&
                          options_.axis != -rank,
                      name(), ": axis ", options_.axis, " is not a non-batch axis of y_pred ",
                      y_pred);
  }
  Variable<T> values(const Variable<T>& y_pred, const Variable<T>& y_true) const override {
    return neg(sum(mul(normalize(y_true), normalize(y_pred)), {options_.axis}));
  }

 private:
  /// x / sqrt(max(sum x^2, eps^2)) along the axis (= x / max(||x||, eps)); the floor is taken
  /// before the square root, so that a zero vector has a finite gradient.
  Variable<T> normalize(const Variable<T>& x) const {
    const T floor = T(kLossEpsilon * kLossEpsilon);
    const Variable<T> squares = sum(square(x), {options_.axis}, {.keepdims = true});
    return div(x, sqrt(clamp(squares, floor, std::numeric_limits<T>::infinity())));
  }

  CosineSimilarityOptions options_;
};

}  // namespace lamina
