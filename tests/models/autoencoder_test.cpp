#include "lamina/models/autoencoder.hpp"

#include <gtest/gtest.h>

#include <lamina/lamina.hpp>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

/// 64 noisy samples of 16 pixels in [0, 1] built from 4 prototypes (compressible to a small code).
Tensor<float> prototypes_data(std::uint64_t seed) {
  Generator gen(seed);
  const Tensor<float> protos = Tensor<float>::uniform({4, 16}, 0.0f, 1.0f, gen);
  Tensor<float> x({64, 16});
  for (index_t i = 0; i < 64; ++i)
    for (index_t k = 0; k < 16; ++k)
      x.at({i, k}) = std::clamp(protos.at({i % 4, k}) + float(0.05 * gen.normal()), 0.0f, 1.0f);
  return x;
}

Autoencoder<float> small_autoencoder() {
  Sequential<float> encoder({.name = "encoder", .seed = 1}),
      decoder({.name = "decoder", .seed = 2});
  encoder.add(Dense(4, {.activation = "relu"}));
  decoder.add(Dense(16, {.activation = "sigmoid"}));
  return Autoencoder<float>(std::move(encoder), std::move(decoder));
}

TEST(Autoencoder, ReconstructionLossFalls) {
  const Tensor<float> x = prototypes_data(3);
  Autoencoder<float> ae = small_autoencoder();
  ae.compile(Adam({.learning_rate = 0.01}), "mse");
  const double before = [&] { return ae.evaluate(x).at("loss"); }();
  const History h = ae.fit(x, {.epochs = 40, .batch_size = 16, .verbose = 0, .seed = 5});
  EXPECT_LT(h["loss"].back(), 0.5 * h["loss"].front());
  EXPECT_LT(ae.evaluate(x).at("loss"), before);
  EXPECT_EQ(ae.trainable_variables().size(), 4u);
}

TEST(Autoencoder, EncodeDecodeAndPredictAgree) {
  const Tensor<float> x = prototypes_data(4);
  Autoencoder<float> ae = small_autoencoder();
  ae.build({16});
  const Tensor<float> code = ae.encode(x);
  ASSERT_EQ(code.shape(), (Shape{64, 4}));
  const Tensor<float> via_parts = ae.decode(code);
  const Tensor<float> whole = ae.predict(x);
  ASSERT_EQ(whole.shape(), (Shape{64, 16}));
  for (index_t i = 0; i < whole.size(); ++i) EXPECT_FLOAT_EQ(whole.data()[i], via_parts.data()[i]);
  std::ostringstream out;
  ae.summary(out);
  EXPECT_NE(out.str().find("Total params: 148"), std::string::npos) << out.str();
}

TEST(Autoencoder, BadInputs) {
  Autoencoder<float> ae = small_autoencoder();
  expect_error<Error>([&] { ae.fit(prototypes_data(5)); }, {"autoencoder", "compile"});
  ae.compile("adam", "mse");
  expect_error<ValueError>([&] { ae.fit(Tensor<float>({0, 16})); }, {"fit", "empty"});
  expect_error<ValueError>([&] { Autoencoder<float>(nullptr, nullptr); }, {"autoencoder", "null"});
}

}  // namespace
}  // namespace lamina
