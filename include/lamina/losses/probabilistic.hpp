#pragma once

#include <memory>
#include <string>

#include "lamina/losses/loss.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/math.hpp"
#include "lamina/ops/reduce.hpp"

// Keras's probabilistic losses besides the cross-entropies, written with Keras 3's formulas.

namespace lamina {

/// Kullback-Leibler divergence ("kl_divergence", "kld"): sum(y_true log(y_true / y_pred)) over
/// the last axis, averaged over the other positions; y_true and y_pred are first clipped to
/// [eps, 1] (Keras's epsilon 1e-7). y_pred, y_true: [batch, ..., d] distributions, same shape.
template <class T = float>
class KLDivergence : public LossFunctionWrapper<T> {
 public:
  std::string name() const override { return "kl_divergence"; }
  std::unique_ptr<Loss<T>> clone() const override { return std::make_unique<KLDivergence>(*this); }

 protected:
  Variable<T> values(const Variable<T>& y_pred, const Variable<T>& y_true) const override {
    const Variable<T> t = clamp(y_true, T(kLossEpsilon), T(1));
    const Variable<T> p = clamp(y_pred, T(kLossEpsilon), T(1));
    return sum(mul(t, log(div(t, p))), {-1});
  }
};

/// Poisson loss ("poisson"): mean(y_pred - y_true log(y_pred + eps)), Keras's epsilon 1e-7.
/// y_pred (rates, >= 0), y_true (counts): [batch, ...], same shape.
template <class T = float>
class Poisson : public LossFunctionWrapper<T> {
 public:
  std::string name() const override { return "poisson"; }
  std::unique_ptr<Loss<T>> clone() const override { return std::make_unique<Poisson>(*this); }

 protected:
  Variable<T> values(const Variable<T>& y_pred, const Variable<T>& y_true) const override {
    return sub(y_pred, mul(y_true, log(add(y_pred, T(kLossEpsilon)))));
  }
};

}  // namespace lamina
