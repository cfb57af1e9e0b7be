#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <lamina/lamina.hpp>

#include "support/reference.hpp"

/// Test helpers for layers: central finite differences over a layer's input and its weights.
namespace lamina::testing {

/// The worst disagreement found by check_layer_gradients.
struct LayerGradcheckResult {
  bool ok = true;
  double max_error = 0.0;
  /// "input" or the weight's name ("kernel", "bias", ...), the index and the two values.
  std::string message;
  /// Number of elements compared (input plus weights), so a test can tell it checked something.
  index_t checked = 0;
};

/// Compares the gradients backward() gives for `layer` at `input` (a batch) with central
/// differences, for the input and every trainable weight. The output is weighted by a fixed
/// random tensor R: the analytic gradients are backward(R); the numeric ones differentiate
/// sum(layer(x) * R), perturbing the input copy or the weight's own storage in place (each
/// weight is restored afterwards). The layer is built by its first call if it is not yet.
/// Error per element: |analytic - numeric| / max(1, |analytic|, |numeric|).
inline LayerGradcheckResult check_layer_gradients(Layer<double>& layer, const Tensor<double>& input,
                                                  double tolerance = 1e-6, double eps = 1e-6,
                                                  std::uint64_t seed = 0) {
  Variable<double> x(input.clone(), true);
  Variable<double> out = layer(x);
  for (const Weight<double>& w : layer.weights()) Variable<double>(w.variable).zero_grad();
  Generator gen(seed);
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
  result.ok = found && result.max_error <= tolerance;
  result.message += result.ok ? " (within tolerance)" : " (exceeds tolerance)";
  return result;
}

/// Expects check_layer_gradients to pass at relative error 1e-6 (unless given).
inline void expect_layer_gradients_match(Layer<double>& layer, const Tensor<double>& input,
                                         double tolerance = 1e-6) {
  const LayerGradcheckResult r = check_layer_gradients(layer, input, tolerance);
  EXPECT_TRUE(r.ok) << r.message;
}

/// Copies `values` into a built layer's weight called `name` (its storage is shared, so the
/// layer sees the new values). Fails the test when there is no such weight or the shape differs.
template <class T>
void set_weight(Layer<T>& layer, const std::string& name, const Tensor<T>& values) {
  for (const Weight<T>& w : layer.weights()) {
    if (w.name != name) continue;
    Tensor<T> v = w.variable.value();
    ASSERT_EQ(v.shape(), values.shape()) << layer.label() << " weight " << name;
    v.assign(values);
    return;
  }
  ADD_FAILURE() << layer.label() << " has no weight '" << name << "'";
}

/// Expects `actual` to have `expected`'s shape and values within `tol` (absolute).
template <class T>
void expect_close(const Tensor<T>& actual, const Tensor<double>& expected, double tol,
                  const std::string& what) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  double worst = 0.0;
  index_t at = 0;
  for (index_t k = 0; k < expected.size(); ++k) {
    const double e = std::abs(static_cast<double>(actual.data()[k]) - expected.data()[k]);
    if (std::isnan(e) || e > worst) {
      worst = std::isnan(e) ? INFINITY : e;
      at = k;
    }
  }
  EXPECT_LE(worst, tol) << what << " differs at " << Shape(detail::unravel(at, expected.shape()))
                        << ": " << actual.data()[at] << " vs " << expected.data()[at];
}

/// The activation names the generators index by `<case>.options` (same order as
/// ACTIVATIONS in tests/layers/reference/gen_layers_reference.py).
inline std::string reference_activation(double index) {
  static const std::vector<std::string> names = {"linear", "relu", "tanh", "sigmoid", "softmax"};
  return names.at(static_cast<std::size_t>(index));
}

/// Runs a built layer on `<name>.x` of a reference file with its weights set from the file
/// (`<name>.<weight>` for every weight the layer has) and expects y = `<name>.y` and, after
/// backward(`<name>.upstream`), the input gradient `<name>.dx` and each weight's `<name>.d<weight>`
/// within `tol`. Every weight of the layer must be in the file, so none is left unchecked.
inline void expect_layer_matches_reference(Layer<double>& layer, const Reference& ref,
                                           const std::string& name, double tol = 1e-12) {
  Variable<double> x(ref.tensor(name + ".x"), true);
  {
    NoGradGuard no_grad;
    layer(Variable<double>(x.value()));  // builds the layer, so that its weights exist
  }
  for (const Weight<double>& w : layer.weights()) {
    set_weight(layer, w.name, ref.tensor(name + "." + w.name));
    Variable<double>(w.variable).zero_grad();
  }
  Variable<double> y = layer(x);
  expect_close(y.value(), ref.tensor(name + ".y"), tol, name + ".y");
  y.backward(ref.tensor(name + ".upstream"));
  expect_close(x.grad(), ref.tensor(name + ".dx"), tol, name + ".dx");
  for (const Weight<double>& w : layer.weights())
    expect_close(w.variable.grad(), ref.tensor(name + ".d" + w.name), tol, name + ".d" + w.name);
}

/// The weight called `name` of a built layer (ADD_FAILURE and an empty variable when absent).
template <class T>
Variable<T> weight(const Layer<T>& layer, const std::string& name) {
  for (const Weight<T>& w : layer.weights())
    if (w.name == name) return w.variable;
  ADD_FAILURE() << layer.label() << " has no weight '" << name << "'";
  return Variable<T>();
}

/// The layer rebuilt from its layer_spec has the same class and config.
template <class T>
void expect_config_round_trip(const Layer<T>& layer) {
  const Json spec = layer_spec(layer);
  const std::shared_ptr<Layer<T>> back = layer_from_spec<T>(spec);
  EXPECT_EQ(back->type(), layer.type());
  EXPECT_EQ(back->get_config(), layer.get_config()) << spec.dump();
}

}  // namespace lamina::testing
