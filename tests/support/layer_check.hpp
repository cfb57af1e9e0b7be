#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <lamina/lamina.hpp>

#include "support/reference.hpp"

/// Test helpers for layers: central finite differences over a layer's input and its weights.
namespace lamina::testing {

using LayerGradcheckResult = lamina::LayerGradcheckResult;

/// gradcheck_layer (lamina/layers/gradcheck.hpp) with its options as arguments.
inline LayerGradcheckResult check_layer_gradients(Layer<double>& layer, const Tensor<double>& input,
                                                  double tolerance = 1e-6, double eps = 1e-6,
                                                  std::uint64_t seed = 0) {
  return gradcheck_layer(layer, input, {.eps = eps, .tolerance = tolerance, .seed = seed});
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

/// Distinct values (a shuffled k / n - 0.5) at least 1/n apart: no ties, so max pooling has
/// one winner per window and a finite-difference step of 1e-6 never changes it.
inline Tensor<double> distinct_tensor(const Shape& shape, std::uint64_t seed) {
  const index_t n = shape.numel();
  std::vector<double> v(static_cast<std::size_t>(n));
  for (index_t k = 0; k < n; ++k) v[static_cast<std::size_t>(k)] = double(k) / double(n) - 0.5;
  Generator gen(seed);
  for (index_t k = n - 1; k > 0; --k)
    std::swap(v[static_cast<std::size_t>(k)],
              v[static_cast<std::size_t>(gen.below(static_cast<std::uint64_t>(k + 1)))]);
  return Tensor<double>(shape, v);
}

/// Expects the layer rebuilt from its layer_spec (through the layer registry) to have the same
/// class and config.
template <class T>
void expect_config_round_trip(const Layer<T>& layer) {
  const Json spec = layer_spec(layer);
  const std::shared_ptr<Layer<T>> back = layer_from_spec<T>(spec);
  EXPECT_EQ(back->type(), layer.type());
  EXPECT_EQ(back->get_config(), layer.get_config()) << spec.dump();
}

/// One row of a model's summary(): "name (Class)", its output shape ("(None, 98, 32)") and the
/// end of the row, its parameter count (" 0", "1,168").
using SummaryRow = std::array<std::string, 3>;

/// Expects `summary` (a model's summary() text) to hold each row.
inline void expect_summary_rows(const std::string& summary, const std::vector<SummaryRow>& rows) {
  for (const auto& [name, shape, params] : rows) {
    const std::size_t at = summary.find(" " + name + " ");
    ASSERT_NE(at, std::string::npos) << "lacks " << name << " in\n" << summary;
    const std::string line = summary.substr(at, summary.find('\n', at) - at);
    EXPECT_NE(line.find(shape), std::string::npos) << line;
    EXPECT_EQ(line.substr(line.size() - params.size()), params) << line;
  }
}

}  // namespace lamina::testing
