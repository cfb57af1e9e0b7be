#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>

#include "lamina/autograd/grad_mode.hpp"
#include "lamina/autograd/gradcheck.hpp"
#include "lamina/core/random.hpp"
#include "lamina/layers/layer.hpp"

// gradcheck for layers: a layer's backward rules (those of the ops it composes) against finite
// differences, over its input and its trainable weights.

namespace lamina {

/// The outcome of gradcheck_layer: the worst element over the input and the trainable weights.
struct LayerGradcheckResult {
  bool ok = true;
  double max_error = 0.0;
  /// "input" or the weight's name ("kernel", "bias", ...), the index and the two values.
  std::string message;
  /// Number of elements compared (input plus weights), so a test can tell it checked something.
  index_t checked = 0;
  explicit operator bool() const { return ok; }
};

/// Checks a layer's gradients, its own or lamina's: compares the gradients backward() gives for
/// `layer` at `input` (a batch) with central differences, for the input and every trainable
/// weight. The output is weighted by a fixed
/// random tensor R: the analytic gradients are backward(R); the numeric ones differentiate
/// sum(layer(x) * R), perturbing the input copy or the weight's own storage in place (each
/// weight is restored afterwards). The layer is built by its first call if it is not yet.
/// Error per element: |analytic - numeric| / max(1, |analytic|, |numeric|), accepted up to
/// options.tolerance; options.seed draws R. In double, as finite differences need:
///
///     Dense<double> dense(4, {.activation = "tanh"});
///     const LayerGradcheckResult r = gradcheck_layer(dense, Tensor<double>::ones({3, 5}));
///     if (!r) std::cerr << r.message << "\n";
inline LayerGradcheckResult gradcheck_layer(Layer<double>& layer, const Tensor<double>& input,
                                            const GradcheckOptions& options = {}) {
  const double eps = options.eps;
  Variable<double> x(input.clone(), true);
  Variable<double> out = layer(x);
  for (const Weight<double>& w : layer.weights()) Variable<double>(w.variable).zero_grad();
  Generator gen(options.seed);
  const Tensor<double> r = Tensor<double>::uniform(out.shape(), -1.0, 1.0, gen);
  out.backward(r);

  auto weighted = [&](const Tensor<double>& at) {
    NoGradGuard no_grad;
    const Tensor<double> y = layer(Variable<double>(at)).value();
    double s = 0.0;
    for (index_t k = 0; k < y.size(); ++k) s += y.data()[k] * r.data()[k];
    return s;
  };

  LayerGradcheckResult result;
  bool found = false;
  // Perturbs data[k] of `values` (the probe input or a weight's storage) and records the error.
  auto compare = [&](const std::string& what, Tensor<double> values, const Tensor<double>& analytic,
                     const Tensor<double>& probe) {
    double* data = values.data();
    for (index_t k = 0; k < values.size(); ++k) {
      const double saved = data[k];
      data[k] = saved + eps;
      const double plus = weighted(probe);
      data[k] = saved - eps;
      const double minus = weighted(probe);
      data[k] = saved;
      const double numeric = (plus - minus) / (2.0 * eps);
      const double a = analytic.data()[k];
      double error = std::abs(a - numeric) / std::max({1.0, std::abs(a), std::abs(numeric)});
      if (std::isnan(error)) error = INFINITY;
      ++result.checked;
      if (!found || error > result.max_error) {
        found = true;
        result.max_error = error;
        std::ostringstream msg;
        msg << layer.label() << ": " << what << " at " << Shape(detail::unravel(k, values.shape()))
            << ": analytic " << a << ", numeric " << numeric << ", error " << error;
        result.message = msg.str();
      }
    }
  };

  const Tensor<double> probe = input.clone();
  compare("input", probe, x.grad(), probe);
  for (const Weight<double>& w : layer.weights()) {
    if (!w.variable.requires_grad()) continue;
    // The weight's value shares storage with the layer's variable: perturbing it moves the layer.
    compare(w.name, w.variable.value(), w.variable.grad(), probe);
  }
  result.ok = found && result.max_error <= options.tolerance;
  result.message += result.ok ? " (within tolerance)" : " (exceeds tolerance)";
  return result;
}

}  // namespace lamina
