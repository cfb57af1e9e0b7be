#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/tensor.hpp"

namespace lamina {

/// Options of gradcheck.
struct GradcheckOptions {
  /// Step of the central difference (f(x + eps) - f(x - eps)) / (2 eps).
  double eps = 1e-6;
  /// Largest accepted error |analytic - numeric| / max(1, |analytic|, |numeric|).
  double tolerance = 1e-6;
  /// Seed of the random upstream gradient that weights the outputs.
  std::uint64_t seed = 0;
};

/// The outcome of gradcheck: the worst element over all inputs.
struct GradcheckResult {
  bool ok = true;
  /// Largest error found, with where it was and the two values compared.
  double max_error = 0.0;
  std::size_t input = 0;
  std::vector<index_t> index;
  double analytic = 0.0;
  double numeric = 0.0;
  /// A one-line description, e.g. "input 1 at [2, 0]: analytic 0.5, numeric 0.49, error 0.01".
  std::string message;
  explicit operator bool() const { return ok; }
};

namespace detail {
/// The multi-index of flat position `k` in a row-major tensor of shape `s`.
inline std::vector<index_t> unravel(index_t k, const Shape& s) {
  std::vector<index_t> index(static_cast<std::size_t>(s.rank()));
  for (int axis = s.rank() - 1; axis >= 0; --axis) {
    index[static_cast<std::size_t>(axis)] = k % s[axis];
    k /= s[axis];
  }
  return index;
}
}  // namespace detail

/// Compares the gradients that backward() computes for `f` with central finite differences.
///
/// `f` maps the inputs (leaves that require grad) to an output of any shape. The check covers
/// the full vector-Jacobian product: the output is weighted by a fixed random tensor R, the
/// analytic gradient is backward(R), and the numeric one differentiates sum(f(x) * R) one
/// input element at a time. Runs in double, as finite differences need.
inline GradcheckResult gradcheck(
    const std::function<Variable<double>(const std::vector<Variable<double>>&)>& f,
    const std::vector<Tensor<double>>& inputs, GradcheckOptions options = {}) {
  std::vector<Variable<double>> vars;
  for (const Tensor<double>& x : inputs) vars.emplace_back(x.clone(), true);
  Variable<double> out = f(vars);
  check(out.requires_grad(), "gradcheck: the output does not depend on any input");
  Generator gen(options.seed);
  const Tensor<double> weights = Tensor<double>::uniform(out.shape(), -1.0, 1.0, gen);
  out.backward(weights);

  auto weighted_output = [&](const std::vector<Variable<double>>& at) {
    NoGradGuard no_grad;
    const Tensor<double> y = f(at).value();
    check<ShapeError>(y.shape() == weights.shape(), "gradcheck: output shape changed from ",
                      weights.shape(), " to ", y.shape());
    double s = 0.0;
    for (index_t k = 0; k < y.size(); ++k) s += y.data()[k] * weights.data()[k];
    return s;
  };

  GradcheckResult result;
  bool found = false;
  for (std::size_t i = 0; i < vars.size(); ++i) {
    const Tensor<double> analytic = vars[i].grad();
    std::vector<Variable<double>> probe;
    for (const Variable<double>& v : vars) probe.emplace_back(v.value().clone());
    double* x = probe[i].value().data();
    for (index_t k = 0; k < analytic.size(); ++k) {
      const double saved = x[k];
      x[k] = saved + options.eps;
      const double plus = weighted_output(probe);
      x[k] = saved - options.eps;
      const double minus = weighted_output(probe);
      x[k] = saved;
      const double numeric = (plus - minus) / (2.0 * options.eps);
      const double a = analytic.data()[k];
      const double error = std::abs(a - numeric) / std::max({1.0, std::abs(a), std::abs(numeric)});
      const double e = std::isnan(error) ? INFINITY : error;
      if (!found || e > result.max_error) {
        found = true;
        result.max_error = e;
        result.input = i;
        result.analytic = a;
        result.numeric = numeric;
        result.index = detail::unravel(k, analytic.shape());
      }
    }
  }
  result.ok = result.max_error <= options.tolerance;
  std::ostringstream msg;
  msg << "input " << result.input << " at " << Shape(result.index) << ": analytic "
      << result.analytic << ", numeric " << result.numeric << ", error " << result.max_error
      << (result.ok ? " (within " : " (exceeds ") << options.tolerance << ")";
  result.message = msg.str();
  return result;
}

}  // namespace lamina
