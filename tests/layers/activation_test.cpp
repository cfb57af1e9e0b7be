// Activation (a named activation) and the activation layers with parameters LeakyReLU, ELU,
// ReLU and Softmax (layers/advanced_activations.hpp).
#include "lamina/layers/activation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "lamina/layers/advanced_activations.hpp"
#include "lamina/layers/dense.hpp"
#include "lamina/layers/registry.hpp"
#include "lamina/models/saving.hpp"
#include "lamina/models/sequential.hpp"
#include "support/layer_check.hpp"
#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_config_round_trip;
using testing::expect_error;
using testing::expect_layer_gradients_match;
using testing::expect_matches_reference;
using testing::expect_tensor_near;
using testing::random_tensor;
using testing::Reference;

template <class T>
class ActivationTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ActivationTyped, Scalars);

const std::vector<double> kInputs = {-3, -0.5, 0, 0.25, 2, 40};

/// Expected values of an elementwise activation on kInputs.
std::vector<double> apply(const std::function<double(double)>& f) {
  std::vector<double> out;
  for (double v : kInputs) out.push_back(f(v));
  return out;
}

TYPED_TEST(ActivationTyped, ElementwiseActivationsByName) {
  using T = TypeParam;
  const Variable<T> x(Tensor<T>({2, 3}, {-3, -0.5, 0, 0.25, 2, 40}));
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  struct Case {
    std::string name;
    std::function<double(double)> f;
  };
  const std::vector<Case> cases = {
      {"linear", [](double v) { return v; }},
      {"relu", [](double v) { return v > 0 ? v : 0.0; }},
      {"sigmoid", [](double v) { return 1 / (1 + std::exp(-v)); }},
      {"tanh", [](double v) { return std::tanh(v); }},
      {"leaky_relu", [](double v) { return v > 0 ? v : 0.2 * v; }},
      {"elu", [](double v) { return v > 0 ? v : std::expm1(v); }},
      {"softplus", [](double v) { return std::log1p(std::exp(v)); }},
      {"selu",
       [](double v) {
         return 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * std::expm1(v));
       }},
      {"gelu", [](double v) { return 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))); }},
      {"silu", [](double v) { return v / (1 + std::exp(-v)); }},
      {"swish", [](double v) { return v / (1 + std::exp(-v)); }},
      {"mish", [](double v) { return v * std::tanh(std::log1p(std::exp(v))); }},
      {"hard_sigmoid", [](double v) { return std::clamp(v + 3, 0.0, 6.0) / 6; }},
      {"softsign", [](double v) { return v / (1 + std::abs(v)); }},
      {"relu6", [](double v) { return std::clamp(v, 0.0, 6.0); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Activation<T> layer(c.name);
    EXPECT_EQ(layer.output_activation(), c.name);
    const Tensor<T> y = layer(x).value();
    ASSERT_EQ(y.shape(), (Shape{2, 3}));
    const std::vector<double> want = apply(c.f);
    for (index_t i = 0; i < 6; ++i)  // relative above 1 (selu(40) = 42.03 in float)
      EXPECT_NEAR(y.data()[i], want[i], tol * std::max(1.0, std::abs(want[i]))) << "at " << i;
    // Without its activation the layer is the identity (what losses fuse with).
    expect_tensor_near(layer.call_pre_activation(x).value(), {2, 3}, kInputs, 0);
  }
}

TYPED_TEST(ActivationTyped, SoftmaxActsOnTheLastAxis) {
  using T = TypeParam;
  // [batch 1, 2, 3]: each row of three sums to one; a shift of a row does not change it.
  const Variable<T> x(Tensor<T>({1, 2, 3}, {0, 1, 2, 100, 101, 102}));
  Activation<T> softmax("softmax");
  const double s = 1 + std::exp(1.0) + std::exp(2.0);
  const std::vector<double> row = {1 / s, std::exp(1.0) / s, std::exp(2.0) / s};
  std::vector<double> expected = row;
  expected.insert(expected.end(), row.begin(), row.end());
  expect_tensor_near(softmax(x).value(), {1, 2, 3}, expected, 1e-7);
  EXPECT_EQ(softmax.type(), "Activation");
  EXPECT_TRUE(softmax.weights().empty());
  EXPECT_EQ(softmax.output_shape(), (Shape{2, 3}));
}

TEST(ActivationGrad, MatchesFiniteDifferences) {
  std::uint64_t seed = 1;
  for (const std::string& name : activation_names()) {
    SCOPED_TRACE(name);
    Activation<double> layer(name);
    expect_layer_gradients_match(layer, random_tensor({3, 2, 4}, seed++, -2.0, 2.0));
  }
}

TEST(ActivationErrors, UnknownNameListsEveryValidName) {
  std::vector<std::string> parts = {"Activation option activation: unknown activation 'swish2'"};
  for (const std::string& name : activation_names()) parts.push_back(name);
  expect_error<ValueError>([] { Activation<double>("swish2"); }, parts);
  expect_error<ValueError>([] { Activation<double>(""); }, {"unknown activation ''", "relu"});
}

TEST(ActivationErrors, WrongInputShapeAfterBuild) {
  Activation<double> relu("relu", {.name = "act"});
  relu.build({10});
  expect_error<ShapeError>(
      [&] {
        relu(Variable<double>(Tensor<double>({4, 11})));
      },
      {"Activation \"act\": expected input [*, 10], got [4, 11]"});
}

// --- LeakyReLU, ELU, ReLU, Softmax ---------------------------------------------------------------

TYPED_TEST(ActivationTyped, ParameterisedLayersHaveKerasDefaults) {
  using T = TypeParam;
  // Keras 3: layers.LeakyReLU(negative_slope=0.3) (the function leaky_relu defaults to 0.2),
  // layers.ELU(alpha=1.0), layers.ReLU(max_value=None, negative_slope=0.0, threshold=0.0),
  // layers.Softmax(axis=-1).
  EXPECT_EQ(LeakyReLU<T>().negative_slope(), 0.3);
  EXPECT_EQ(ELU<T>().alpha(), 1.0);
  const ReLU<T> relu;
  EXPECT_FALSE(relu.max_value().has_value());
  EXPECT_EQ(relu.negative_slope(), 0.0);
  EXPECT_EQ(relu.threshold(), 0.0);
  EXPECT_EQ(Softmax<T>().axis(), -1);
  // Keras's default names (keras.src.utils.naming.to_snake_case).
  EXPECT_EQ(snake_case("LeakyReLU"), "leaky_re_lu");
  EXPECT_EQ(snake_case("ReLU"), "re_lu");
  EXPECT_EQ(snake_case("ELU"), "elu");
  EXPECT_EQ(snake_case("Softmax"), "softmax");

  const Variable<T> x(Tensor<T>({2, 3}, {-2, -0.5, 0, 0.5, 3, 8}));
  LeakyReLU<T> leaky;
  expect_tensor_near(leaky(x).value(), {2, 3}, {-0.6, -0.15, 0, 0.5, 3, 8}, 1e-7);
  EXPECT_TRUE(leaky.weights().empty());
  EXPECT_EQ(leaky.output_shape(), (Shape{3}));
  ReLU<T> plain;
  expect_tensor_near(plain(x).value(), {2, 3}, {0, 0, 0, 0.5, 3, 8}, 0);
  ReLU<T> six({.max_value = 6.0});
  expect_tensor_near(six(x).value(), {2, 3}, {0, 0, 0, 0.5, 3, 6}, 0);
}

/// The layer that a reference case `name` describes, from its options.
template <class T>
std::shared_ptr<Layer<T>> layer_for_case(const std::string& name, const Tensor<double>& o) {
  if (name.rfind("leaky_relu", 0) == 0)
    return std::make_shared<LeakyReLU<T>>(LeakyReLUOptions{.negative_slope = o.data()[0]});
  if (name.rfind("elu", 0) == 0) return std::make_shared<ELU<T>>(ELUOptions{.alpha = o.data()[0]});
  if (name.rfind("relu", 0) == 0) {
    ReLUOptions r{.negative_slope = o.data()[0], .threshold = o.data()[2]};
    if (!std::isnan(o.data()[1])) r.max_value = o.data()[1];
    return std::make_shared<ReLU<T>>(r);
  }
  return std::make_shared<Softmax<T>>(SoftmaxOptions{.axis = static_cast<int>(o.data()[0])});
}

// PyTorch float64 references (reference/gen_activation_layers_reference.py): the output and the
// gradient of backward(upstream), in float and in double.
TYPED_TEST(ActivationTyped, ParameterisedLayersMatchPyTorch) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, float> ? 1e-6 : 1e-14;
  const Reference ref("layers/reference/activation_layers.txt");
  const std::vector<std::string> cases = {
      "leaky_relu_default", "leaky_relu_b",  "elu_default",      "elu_b",
      "relu_default",       "relu_max6",     "relu_all",         "relu_slope_threshold",
      "softmax_last",       "softmax_axis1", "softmax_axis_neg2"};
  for (const std::string& name : cases) {
    SCOPED_TRACE(name);
    const std::shared_ptr<Layer<T>> layer = layer_for_case<T>(name, ref.tensor(name + ".options"));
    Variable<T> x(ref.tensor<T>(name + ".x"), true);
    Variable<T> y = (*layer)(x);
    expect_matches_reference(y.value(), ref.tensor(name + ".y"), name + ".y", tol);
    y.backward(ref.tensor<T>(name + ".upstream"));
    expect_matches_reference(x.grad(), ref.tensor(name + ".dx"), name + ".dx", tol);
  }
}

TEST(ActivationGrad, ParameterisedLayersMatchFiniteDifferences) {
  // Inputs in [-5, 5], moved off the kinks (0, the threshold 0.5 and max_value 4).
  Tensor<double> x = random_tensor({3, 2, 4}, 31, -5.0, 5.0);
  for (double& v : x)
    for (double k : {0.0, 0.5, 4.0})
      if (std::abs(v - k) < 0.05) v = k + 0.05;
  LeakyReLU<double> leaky;
  expect_layer_gradients_match(leaky, x);
  ELU<double> elu({.alpha = 0.7});
  expect_layer_gradients_match(elu, x);
  ReLU<double> relu({.max_value = 4.0, .negative_slope = 0.1, .threshold = 0.5});
  expect_layer_gradients_match(relu, x);
  for (int axis : {-1, 1, 0}) {
    SCOPED_TRACE(axis);
    Softmax<double> softmax({.axis = axis});
    expect_layer_gradients_match(softmax, x);
  }
}

TEST(ActivationLayers, SoftmaxOverTheLastAxisFusesWithCrossEntropy) {
  // Like Dense(activation="softmax"), a Softmax layer over the last axis reports "softmax",
  // so that a cross-entropy loss takes the logits; over another axis it cannot.
  const Variable<double> x(random_tensor({2, 3, 4}, 5));
  Softmax<double> last;
  EXPECT_EQ(last.output_activation(), "softmax");
  expect_tensor_near(last.call_pre_activation(x).value(), {2, 3, 4}, x.value().to_vector(), 0);
  Softmax<double> axis1({.axis = 1});
  EXPECT_EQ(axis1.output_activation(), "linear");
  const Tensor<double> y = axis1.call_pre_activation(x).value();
  expect_tensor_near(y, {2, 3, 4}, axis1(x).value().to_vector(), 0);
  // Each column of three sums to one.
  for (index_t b = 0; b < 2; ++b)
    for (index_t j = 0; j < 4; ++j)
      EXPECT_NEAR(y.data()[b * 12 + j] + y.data()[b * 12 + 4 + j] + y.data()[b * 12 + 8 + j], 1.0,
                  1e-15);
  EXPECT_EQ(LeakyReLU<double>().output_activation(), "linear");  // 0.3 is not "leaky_relu"'s 0.2
}

TYPED_TEST(ActivationTyped, ParameterisedLayerConfigsRoundTrip) {
  using T = TypeParam;
  expect_config_round_trip<T>(LeakyReLU<T>({.negative_slope = 0.05, .name = "leaky"}));
  expect_config_round_trip<T>(LeakyReLU<T>());
  EXPECT_EQ(LeakyReLU<T>().get_config()["negative_slope"], 0.3);
  expect_config_round_trip<T>(ELU<T>({.alpha = 0.5, .input_shape = {4}}));
  EXPECT_EQ(ELU<T>().get_config()["alpha"], 1.0);
  expect_config_round_trip<T>(ReLU<T>());
  expect_config_round_trip<T>(ReLU<T>({.max_value = 6.0, .negative_slope = 0.1, .threshold = 1}));
  // Keras writes max_value None as null.
  EXPECT_TRUE(ReLU<T>().get_config()["max_value"].is_null());
  EXPECT_EQ(ReLU<T>({.max_value = 6.0}).get_config()["max_value"], 6.0);
  EXPECT_FALSE(ReLU<T>::from_config({{"max_value", nullptr}})->max_value().has_value());
  expect_config_round_trip<T>(Softmax<T>({.axis = 1, .name = "sm"}));
  EXPECT_EQ(Softmax<T>().get_config()["axis"], -1);
  EXPECT_EQ(Softmax<T>::from_config(Json::object())->axis(), -1);
}

Sequential<double> activations_model() {
  Sequential<double> model({.seed = 3});
  model.add(Dense<double>(6, {.input_shape = {4}}));
  model.add(LeakyReLU<double>());
  model.add(Dense<double>(5));
  model.add(ELU<double>({.alpha = 0.5}));
  model.add(ReLU<double>({.max_value = 6.0}));
  model.add(Dense<double>(3));
  model.add(Softmax<double>());
  return model;
}

TEST(ActivationLayers, SummaryShowsNamesShapesAndNoParameters) {
  Sequential<double> model = activations_model();
  model.build({4});
  std::ostringstream out;
  model.summary(out);
  const std::string s = out.str();
  const std::vector<std::array<std::string, 3>> rows = {
      {"leaky_re_lu (LeakyReLU)", "(None, 6)", " 0"},
      {"elu (ELU)", "(None, 5)", " 0"},
      {"re_lu (ReLU)", "(None, 5)", " 0"},
      {"softmax (Softmax)", "(None, 3)", " 0"},
  };
  for (const auto& [name, shape, params] : rows) {
    const std::size_t at = s.find(" " + name + " ");
    ASSERT_NE(at, std::string::npos) << "lacks " << name << " in\n" << s;
    const std::string line = s.substr(at, s.find('\n', at) - at);
    EXPECT_NE(line.find(shape), std::string::npos) << line;
    EXPECT_EQ(line.substr(line.size() - params.size()), params) << line;
  }
  // Only the three Dense layers have parameters: 4*6+6 + 6*5+5 + 5*3+3.
  EXPECT_NE(s.find("Total params: 83\n"), std::string::npos) << s;
}

TEST(ActivationLayers, SaveLoadRoundTrips) {
  Sequential<double> model = activations_model();
  model.build({4});
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "activation_layers.safetensors").string();
  model.save(path);
  const std::shared_ptr<Model<double>> loaded = load_model<double>(path);
  EXPECT_EQ(loaded->spec(), model.spec());
  const Tensor<double> x = random_tensor({5, 4}, 8, -3.0, 3.0);
  EXPECT_EQ(loaded->predict(x).to_vector(), model.predict(x).to_vector());
}

TEST(ActivationErrors, ParameterisedLayersRejectBadOptions) {
  expect_error<ValueError>([] { LeakyReLU<double>({.negative_slope = -0.1}); },
                           {"LeakyReLU \"leaky_re_lu\"", "negative_slope", ">= 0", "-0.1"});
  expect_error<ValueError>([] { LeakyReLU<double>({.negative_slope = NAN, .name = "lr"}); },
                           {"LeakyReLU \"lr\"", "negative_slope", "finite", "nan"});
  expect_error<ValueError>([] { ELU<float>({.alpha = INFINITY}); },
                           {"ELU \"elu\"", "alpha", "finite", "inf"});
  expect_error<ValueError>([] { ReLU<double>({.max_value = -1.0}); },
                           {"ReLU \"re_lu\"", "max_value", "-1"});
  expect_error<ValueError>([] { ReLU<double>({.max_value = NAN}); }, {"ReLU", "max_value", "nan"});
  expect_error<ValueError>([] { ReLU<double>({.negative_slope = -0.5}); },
                           {"ReLU", "negative_slope", "-0.5"});
  expect_error<ValueError>([] { ReLU<double>({.threshold = INFINITY}); },
                           {"ReLU", "threshold", "inf"});
  // Configs: a bad value is checked as in the constructor; an unknown option is an error.
  expect_error<ValueError>(
      [] {
        LeakyReLU<double>::from_config({{"negative_slope", -1.0}});
      },
      {"LeakyReLU", "negative_slope", "-1"});
  expect_error<ValueError>(
      [] {
        ELU<double>::from_config({{"alpha", 1.0}, {"slope", 2.0}});
      },
      {"ELU config", "unknown option 'slope'"});
  expect_error<ValueError>(
      [] {
        Softmax<double>::from_config({{"axis", "last"}});
      },
      {"Softmax config", "axis"});
}

TEST(ActivationErrors, SoftmaxAxisOutOfRangeNamesTheLayer) {
  // Input [batch, 4, 5]: rank 3, axes -3 to 2.
  for (int axis : {3, -4, 7}) {
    SCOPED_TRACE(axis);
    Softmax<double> softmax({.axis = axis, .name = "probs"});
    expect_error<ValueError>(
        [&] {
          softmax(Variable<double>(Tensor<double>::zeros({2, 4, 5})));
        },
        {"Softmax \"probs\"", "axis " + std::to_string(axis), "out of range", "[*, 4, 5]",
         "rank 3"});
  }
  Softmax<double> first({.axis = -3});
  EXPECT_EQ(first(Variable<double>(Tensor<double>::zeros({2, 4, 5}))).shape(), (Shape{2, 4, 5}));
}

}  // namespace
}  // namespace lamina
