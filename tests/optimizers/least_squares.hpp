#pragma once

#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

#include <lamina/lamina.hpp>

#include "support/reference.hpp"

/// Helpers shared by the optimizer tests: handing a parameter a chosen gradient, and the small
/// least-squares problem whose PyTorch trajectories gen_optimizer_reference.py writes.
namespace lamina::testing {

/// Tolerance of a trajectory against its float64 reference: float carries ~1e-7 relative
/// rounding.
template <class T>
inline constexpr double kTrajectoryTol = std::is_same_v<T, double> ? 1e-12 : 1e-6;

/// Makes `p`'s gradient exactly `g` (through a backward pass of sum(p * g)).
template <class T>
void give_grad(Variable<T>& p, const Tensor<T>& g) {
  p.zero_grad();
  mul(p, Variable<T>(g)).backward(Tensor<T>::ones(p.shape()));
}

/// loss = sum((w * x + b - y)^2) / 8 with w [2], b [1], x and y [4, 2]; the data and the starting
/// point are given in double and converted to T.
template <class T>
struct LeastSquares {
  Variable<T> x, y, w, b;

  LeastSquares(const Tensor<double>& x0, const Tensor<double>& y0, const Tensor<double>& w0,
               const Tensor<double>& b0)
      : x(x0.cast<T>()), y(y0.cast<T>()), w(w0.cast<T>(), true), b(b0.cast<T>(), true) {}

  /// The elementwise loss terms [4, 2] (their sum is the loss).
  Variable<T> terms() const {
    Variable<T> r = w * x + b - y;
    return r * r * T(0.125);
  }
  double loss() const {
    const Variable<T> t = terms();
    double total = 0;
    for (T v : t.value()) total += static_cast<double>(v);
    return total;
  }
  /// zero_grad, then backward of the loss into w and b.
  void backward() {
    w.zero_grad();
    b.zero_grad();
    Variable<T> t = terms();
    t.backward(Tensor<T>::ones(t.shape()));
  }
  /// Builds `opt` on {w, b} and runs `steps` steps; returns w after each step, row by row
  /// ([steps, 2] flattened) and b likewise ([steps, 1]).
  std::pair<std::vector<double>, std::vector<double>> run(Optimizer<T>& opt, int steps) {
    opt.build({w, b});
    std::vector<double> ws, bs;
    for (int k = 0; k < steps; ++k) {
      backward();
      opt.step();
      for (T v : w.value()) ws.push_back(static_cast<double>(v));
      for (T v : b.value()) bs.push_back(static_cast<double>(v));
    }
    return {ws, bs};
  }
};

/// Expects two equally long sequences to agree elementwise within `tol`.
inline void expect_all_near(const std::vector<double>& actual, const std::vector<double>& expected,
                            double tol, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], tol) << what << " at flat index " << i;
}

/// The trajectories and problem data written by reference/gen_optimizer_reference.py.
inline const Reference& optimizer_reference() {
  static const Reference ref("optimizers/reference/optimizer_reference.txt");
  return ref;
}

/// The values of reference tensor `name`, flattened.
inline std::vector<double> reference_values(const std::string& name) {
  return optimizer_reference().tensor<double>(name).to_vector();
}

/// The reference problem at its starting point, in T.
template <class T>
LeastSquares<T> reference_problem() {
  const Reference& ref = optimizer_reference();
  return LeastSquares<T>(ref.tensor("x"), ref.tensor("y"), ref.tensor("w0"), ref.tensor("b0"));
}

/// Runs `opt` for 10 steps on the reference problem and expects w and b after every step to match
/// the reference trajectory `<name>/w`, `<name>/b` within `tol`.
template <class T>
void expect_trajectory(Optimizer<T>& opt, const std::string& name, double tol) {
  LeastSquares<T> problem = reference_problem<T>();
  const auto [ws, bs] = problem.run(opt, 10);
  expect_all_near(ws, reference_values(name + "/w"), tol, name + "/w");
  expect_all_near(bs, reference_values(name + "/b"), tol, name + "/b");
}

/// Runs `opt` for `steps` steps from the reference start and expects it to reach the
/// least-squares minimiser (w and b within `tol`).
template <class T>
void expect_converges(Optimizer<T>& opt, int steps, double tol) {
  LeastSquares<T> problem = reference_problem<T>();
  const double start = problem.loss();
  problem.run(opt, steps);
  expect_all_near(problem.w.value().template cast<double>().to_vector(),
                  reference_values("optimum/w"), tol, opt.name() + " w");
  expect_all_near(problem.b.value().template cast<double>().to_vector(),
                  reference_values("optimum/b"), tol, opt.name() + " b");
  EXPECT_LT(problem.loss(), start);
  EXPECT_NEAR(problem.loss(), reference_values("optimum/loss")[0], tol);
}

}  // namespace lamina::testing
