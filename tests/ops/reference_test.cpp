// lamina against PyTorch float64 reference values (tests/ops/reference/gen_ops_reference.py):
// forward values and the gradients of backward(upstream), to 1e-6 (relative, absolute below 1).
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include <lamina/lamina.hpp>

#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_matches_reference;
using testing::Reference;
using V = Variable<double>;

const Reference& reference() {
  static const Reference ref("ops/reference/ops.txt");
  return ref;
}

/// Leaves for the named inputs of `name`, requiring grad.
std::vector<V> inputs(const std::string& name, const std::vector<std::string>& names) {
  std::vector<V> out;
  for (const std::string& n : names) out.emplace_back(reference().tensor(name + "." + n), true);
  return out;
}

/// Runs backward(upstream) from `out` and compares the output and each input's gradient.
void expect_case(const std::string& name, V out, const std::vector<V>& in,
                 const std::vector<std::string>& names) {
  SCOPED_TRACE(name);
  const Reference& ref = reference();
  expect_matches_reference(out.value(), ref.tensor(name + ".out"), name + ".out");
  out.backward(ref.tensor(name + ".upstream"));
  for (std::size_t i = 0; i < in.size(); ++i) {
    const std::string g = name + ".grad_" + names[i];
    expect_matches_reference(in[i].grad(), ref.tensor(g), g);
  }
}

TEST(OpsReference, Matmul) {
  for (const std::string name : {"matmul_2d", "matmul_batched", "matmul_shared"}) {
    const std::vector<V> v = inputs(name, {"a", "b"});
    expect_case(name, matmul(v[0], v[1]), v, {"a", "b"});
  }
}

TEST(OpsReference, SoftmaxAndLogSoftmax) {
  for (const std::string name : {"softmax_last", "softmax_axis0"}) {
    const std::vector<V> v = inputs(name, {"x"});
    const auto axis = static_cast<int>(reference().tensor(name + ".axis").item());
    expect_case(name, softmax(v[0], axis), v, {"x"});
  }
  for (const std::string name : {"log_softmax_last", "log_softmax_axis0", "log_softmax_large"}) {
    const std::vector<V> v = inputs(name, {"x"});
    const auto axis = static_cast<int>(reference().tensor(name + ".axis").item());
    expect_case(name, log_softmax(v[0], axis), v, {"x"});
  }
}

TEST(OpsReference, CompositeExpression) {
  const std::vector<std::string> names = {"x", "w", "b", "x2"};
  const std::vector<V> v = inputs("composite", names);
  const V x = v[0], w = v[1], b = v[2], x2 = v[3];
  const V t(reference().tensor("composite.t"));
  const V loss = mean(log_softmax(tanh(matmul(x, w) + b) * 2.0 - sigmoid(x2), -1) * t) +
                 mean(sum(square(x2), {1}));
  expect_case("composite", loss, v, names);
}

/// The activations of the reference file, by case name, for scalar T.
template <class T>
std::vector<std::pair<std::string, Variable<T> (*)(const Variable<T>&)>> activation_cases() {
  using VT = Variable<T>;
  return {
      {"gelu", [](const VT& x) { return gelu(x); }},
      {"gelu_tanh", [](const VT& x) { return gelu(x, {.approximate = true}); }},
      {"selu", [](const VT& x) { return selu(x); }},
      {"silu", [](const VT& x) { return silu(x); }},
      {"mish", [](const VT& x) { return mish(x); }},
      {"hard_sigmoid", [](const VT& x) { return hard_sigmoid(x); }},
      {"softsign", [](const VT& x) { return softsign(x); }},
      {"relu6", [](const VT& x) { return relu6(x); }},
  };
}

/// Each activation (and Keras's relu with options) in T against the float64 reference: output
/// and the gradient of backward(upstream), within `tol`.
template <class T>
void expect_activations_match(double tol) {
  const Reference& ref = reference();
  auto check_case = [&](const std::string& name, auto&& f) {
    SCOPED_TRACE(name);
    Variable<T> x(ref.tensor<T>(name + ".x"), true);
    Variable<T> y = f(x);
    expect_matches_reference(y.value(), ref.tensor(name + ".out"), name + ".out", tol);
    y.backward(ref.tensor<T>(name + ".upstream"));
    expect_matches_reference(x.grad(), ref.tensor(name + ".grad_x"), name + ".grad_x", tol);
  };
  for (const auto& [name, f] : activation_cases<T>()) check_case(name, f);
  const Tensor<double> o = ref.tensor("relu_options.options");
  const ReluOpOptions options{
      .negative_slope = o.data()[0], .max_value = o.data()[1], .threshold = o.data()[2]};
  check_case("relu_options", [&](const Variable<T>& x) { return relu(x, options); });
}

TEST(OpsReference, ActivationsDouble) { expect_activations_match<double>(1e-14); }

// float: the same ops within float rounding (the inputs reach |x| = 30).
TEST(OpsReference, ActivationsFloat) { expect_activations_match<float>(1e-6); }

}  // namespace
}  // namespace lamina
