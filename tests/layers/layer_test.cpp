#include "lamina/layers/layer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lamina/layers/dense.hpp"
#include "support/layer_check.hpp"
#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::check_layer_gradients;
using testing::expect_error;
using testing::expect_layer_gradients_match;
using testing::random_tensor;

/// A minimal layer written against the Layer contract: y = x * gamma + beta over the last
/// axis, with gamma trainable and beta a non-trainable weight. `broken` selects a variant whose
/// op has a wrong gradient rule, to show that the gradient helper catches it.
template <class T>
class Scale : public Layer<T> {
 public:
  enum class Broken { none, input, weight };
  explicit Scale(Broken broken = Broken::none, std::string name = "")
      : Layer<T>(std::move(name), Shape{}), broken_(broken) {}
  std::string type() const override { return "Scale"; }
  Shape seen_input_shape;

 protected:
  Shape build_impl(const Shape& input_shape, Generator& gen) override {
    seen_input_shape = input_shape;
    const index_t n = input_shape[input_shape.rank() - 1];
    gamma_ = this->add_weight("gamma", Tensor<T>::uniform({n}, T(0.5), T(1.5), gen));
    beta_ = this->add_weight("beta", Tensor<T>::full({n}, T(0.25)), /*trainable=*/false);
    return input_shape;
  }
  Variable<T> forward(const Variable<T>& x) override {
    if (broken_ == Broken::none) return add(mul(x, gamma_), beta_);
    // x * gamma with a deliberately wrong rule for one of its inputs.
    const Tensor<T> xv = x.value(), gv = gamma_.value();
    Tensor<T> y = mul(Variable<T>(xv), Variable<T>(gv)).value();
    const Broken broken = broken_;
    return Variable<T>::from_op(
        "broken_mul", std::move(y), {x, gamma_},
        [xv, gv, broken](const Tensor<T>& g, autograd::Gradients<T>& grads) {
          const T wrong = T(1.01);  // 1% off: far above the 1e-6 tolerance
          Tensor<T> dx = mul(Variable<T>(g), Variable<T>(gv)).value();
          Tensor<T> dg = mul(Variable<T>(g), Variable<T>(xv)).value();
          if (broken == Broken::input) dx = mul(Variable<T>(dx), wrong).value();
          if (broken == Broken::weight) dg = mul(Variable<T>(dg), wrong).value();
          grads.add(0, std::move(dx));
          grads.add(1, std::move(dg));
        });
  }

 private:
  Broken broken_;
  Variable<T> gamma_, beta_;
};

TEST(Layer, KerasNamesAndShapeText) {
  EXPECT_EQ(snake_case("Dense"), "dense");
  EXPECT_EQ(snake_case("Conv2D"), "conv2d");
  EXPECT_EQ(snake_case("MaxPooling2D"), "max_pooling2d");
  EXPECT_EQ(snake_case("AveragePooling2D"), "average_pooling2d");
  EXPECT_EQ(snake_case("SimpleRNN"), "simple_rnn");
  EXPECT_EQ(batch_shape_str({28, 28, 1}), "[*, 28, 28, 1]");
  EXPECT_EQ(batch_shape_str({}), "[*]");

  Scale<double> unnamed;
  EXPECT_EQ(unnamed.name(), "");
  EXPECT_EQ(unnamed.label(), "Scale \"scale\"");
  unnamed.set_name("scale_3");
  EXPECT_EQ(unnamed.label(), "Scale \"scale_3\"");
  EXPECT_EQ(Scale<double>(Scale<double>::Broken::none, "mine").label(), "Scale \"mine\"");
}

TEST(Layer, BuildsFromThePerSampleShapeOnce) {
  Scale<double> layer;
  EXPECT_FALSE(layer.built());
  EXPECT_TRUE(layer.weights().empty());
  const Variable<double> y = layer(Variable<double>(Tensor<double>::ones({5, 3, 4})));
  EXPECT_TRUE(layer.built());
  EXPECT_EQ(layer.seen_input_shape, (Shape{3, 4}));  // no batch axis
  EXPECT_EQ(layer.input_shape(), (Shape{3, 4}));
  EXPECT_EQ(layer.output_shape(), (Shape{3, 4}));
  EXPECT_EQ(y.shape(), (Shape{5, 3, 4}));
  // Another batch size reuses the weights; the build does not run again.
  layer.seen_input_shape = Shape{};
  layer(Variable<double>(Tensor<double>::ones({2, 3, 4})));
  EXPECT_EQ(layer.seen_input_shape, Shape{});
  EXPECT_EQ(layer.weights().size(), 2u);
}

TEST(Layer, TrainableAndNonTrainableWeights) {
  Scale<double> layer;
  layer.build({4});
  ASSERT_EQ(layer.weights().size(), 2u);
  EXPECT_TRUE(layer.weights()[0].trainable);
  EXPECT_FALSE(layer.weights()[1].trainable);
  EXPECT_EQ(layer.count_params(), 8);
  EXPECT_EQ(layer.count_trainable_params(), 4);
  ASSERT_EQ(layer.trainable_variables().size(), 1u);
  EXPECT_TRUE(layer.trainable_variables()[0].requires_grad());
  EXPECT_FALSE(layer.weights()[1].variable.requires_grad());

  layer.set_trainable(false);
  EXPECT_TRUE(layer.trainable_variables().empty());
  EXPECT_FALSE(layer.weights()[0].variable.requires_grad());
  layer.set_trainable(true);
  EXPECT_TRUE(layer.weights()[0].variable.requires_grad());
  EXPECT_FALSE(layer.weights()[1].variable.requires_grad());  // stays frozen
}

TEST(Layer, SeedsMakeWeightsReproducible) {
  Scale<double> a, b, c;
  a.set_seed(5);
  b.set_seed(5);
  a.build({16});
  b.build({16});
  c.build({16});  // a default seed, distinct from other layers' defaults
  EXPECT_TRUE(c.has_seed());
  EXPECT_EQ(a.weights()[0].variable.value().to_vector(),
            b.weights()[0].variable.value().to_vector());
  EXPECT_NE(a.weights()[0].variable.value().to_vector(),
            c.weights()[0].variable.value().to_vector());
  Dense<double> d1(6), d2(6);
  d1.build({6});
  d2.build({6});
  EXPECT_NE(d1.kernel().value().to_vector(), d2.kernel().value().to_vector());
}

TEST(Layer, ModesAndConfig) {
  Scale<double> layer;
  EXPECT_FALSE(layer.training());
  layer.set_training(true);
  EXPECT_TRUE(layer.training());
  // The base config: the name and trainable flag (no input_shape or seed were given).
  EXPECT_EQ(layer.get_config(), (Json{{"name", ""}, {"trainable", true}}));
  EXPECT_EQ(layer.output_activation(), "linear");
  Dense<double> dense(3, {.activation = "relu", .use_bias = false, .name = "d"});
  EXPECT_EQ(dense.get_config(), (Json{{"name", "d"},
                                      {"trainable", true},
                                      {"units", 3},
                                      {"activation", "relu"},
                                      {"use_bias", false},
                                      {"kernel_initializer", "glorot_uniform"},
                                      {"bias_initializer", "zeros"}}));
  // call_pre_activation skips the final activation (what losses fuse with).
  dense.build({2});
  testing::set_weight(dense, "kernel", Tensor<double>({2, 3}, {1, -1, 0, 0, 1, -1}));
  const Variable<double> x(Tensor<double>({1, 2}, {1, 2}));
  EXPECT_EQ(dense.call_pre_activation(x).value().to_vector(), (std::vector<double>{1, 1, -2}));
  EXPECT_EQ(dense(x).value().to_vector(), (std::vector<double>{1, 1, 0}));
}

TEST(Layer, GradientHelperChecksInputAndWeights) {
  Scale<double> good;
  const testing::LayerGradcheckResult r = check_layer_gradients(good, random_tensor({3, 4}, 1));
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.checked, 12 + 4);  // the input and gamma; beta does not train
  expect_layer_gradients_match(good, random_tensor({2, 4}, 2));
}

TEST(Layer, GradientHelperCatchesAWrongRule) {
  Scale<double> bad_input(Scale<double>::Broken::input);
  const testing::LayerGradcheckResult a =
      check_layer_gradients(bad_input, random_tensor({3, 4}, 1));
  EXPECT_FALSE(a.ok);
  EXPECT_NE(a.message.find("input"), std::string::npos) << a.message;
  Scale<double> bad_weight(Scale<double>::Broken::weight);
  const testing::LayerGradcheckResult w =
      check_layer_gradients(bad_weight, random_tensor({3, 4}, 1));
  EXPECT_FALSE(w.ok);
  EXPECT_NE(w.message.find("gamma"), std::string::npos) << w.message;
  EXPECT_GT(w.max_error, 1e-4);
}

TEST(Layer, PublicGradcheckLayerChecksAUsersLayer) {
  // What a user writes for a layer of their own: lamina::gradcheck_layer, no test helpers.
  Scale<double> good;
  const LayerGradcheckResult r = gradcheck_layer(good, random_tensor({2, 4}, 3), {.seed = 7});
  EXPECT_TRUE(r) << r.message;
  EXPECT_EQ(r.checked, 8 + 4);
  Scale<double> bad(Scale<double>::Broken::weight);
  const LayerGradcheckResult w =
      gradcheck_layer(bad, random_tensor({2, 4}, 3), {.tolerance = 1e-3});
  EXPECT_FALSE(w);
  EXPECT_NE(w.message.find("exceeds tolerance"), std::string::npos) << w.message;
}

TEST(LayerErrors, ZeroDimensionalInput) {
  Scale<double> layer;
  expect_error<ShapeError>([&] { layer(Variable<double>(Tensor<double>::scalar(2))); },
                           {"Scale \"scale\"", "0-D"});
}

TEST(LayerErrors, WrongShapeAfterBuildAndRebuild) {
  Scale<double> layer(Scale<double>::Broken::none, "s");
  layer.build({1600});
  expect_error<ShapeError>(
      [&] {
        layer(Variable<double>(Tensor<double>({32, 1024})));
      },
      {"Scale \"s\": expected input [*, 1600], got [32, 1024]"});
  expect_error<ShapeError>([&] { layer.build({1024}); },
                           {"Scale \"s\": already built for input [*, 1600], cannot rebuild for "
                            "[*, 1024]"});
}

}  // namespace
}  // namespace lamina
