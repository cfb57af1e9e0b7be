#pragma once

#include <gtest/gtest.h>

#include <type_traits>
#include <vector>

#include <lamina/lamina.hpp>

/// Test helpers shared by the loss tests (tests/losses/).
namespace lamina::testing {

/// How close a hand-computed loss must come: float's and double's rounding.
template <class T>
double loss_tolerance() {
  return std::is_same_v<T, float> ? 1e-6 : 1e-14;
}

/// The scalar value of `loss` (and a check that it is a scalar).
template <class T>
double loss_value(const Loss<T>& loss, const Tensor<T>& y_pred, const Tensor<T>& y_true) {
  const Variable<T> l = loss(Variable<T>(y_pred), y_true);
  EXPECT_EQ(l.shape(), Shape{});
  return static_cast<double>(l.item());
}

/// d loss / d y_pred.
template <class T>
std::vector<T> loss_gradient(const Loss<T>& loss, const Tensor<T>& y_pred,
                             const Tensor<T>& y_true) {
  Variable<T> p(y_pred, true);
  loss(p, y_true).backward();
  return p.grad().to_vector();
}

}  // namespace lamina::testing
