#pragma once

#include <memory>
#include <string>

#include "lamina/losses/loss.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/arithmetic.hpp"

namespace lamina {

/// Hinge loss ("hinge"): mean(max(1 - y_true y_pred, 0)). Labels are -1 or 1; as in Keras, a
/// y_true whose values are all 0 or 1 is read as binary labels and mapped to -1/1 (2y - 1), and
/// any other y_true is used as it is. y_pred (scores), y_true: [batch, ...], same shape.
template <class T = float>
class Hinge : public LossFunctionWrapper<T> {
 public:
  std::string name() const override { return "hinge"; }
  std::unique_ptr<Loss<T>> clone() const override { return std::make_unique<Hinge>(*this); }

 protected:
  Variable<T> values(const Variable<T>& y_pred, const Variable<T>& y_true) const override {
    return relu(sub(T(1), mul(signed_labels(y_true.value()), y_pred)));
  }

 private:
  /// Keras's convert_binary_labels_to_hinge: 2y - 1 when every label is 0 or 1.
  static Variable<T> signed_labels(const Tensor<T>& y) {
    for (const T v : y)
      if (v != T(0) && v != T(1)) return Variable<T>(y);
    Tensor<T> s = Tensor<T>::empty(y.shape());
    for (index_t i = 0; i < y.size(); ++i) s.data()[i] = T(2) * y.data()[i] - T(1);
    return Variable<T>(s);
  }
};

}  // namespace lamina
