#include "lamina/models/gan.hpp"

#include <gtest/gtest.h>

#include <lamina/lamina.hpp>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

GAN<float> small_gan(std::uint64_t seed = 1, double label_smoothing = 0.0) {
  Sequential<float> g({.name = "generator", .seed = seed}),
      d({.name = "discriminator", .seed = seed + 1});
  g.add(Dense(8, {.activation = "leaky_relu"}));
  g.add(Dense(2, {.activation = "tanh"}));
  d.add(Dense(8, {.activation = "leaky_relu"}));
  d.add(Dense(1, {.activation = "sigmoid"}));
  GAN<float> gan(std::move(g), std::move(d), 3, {.label_smoothing = label_smoothing});
  gan.compile(Adam({.learning_rate = 2e-3, .beta_1 = 0.5}),
              Adam({.learning_rate = 2e-3, .beta_1 = 0.5}));
  return gan;
}

/// Points on a small circle: the "real" distribution.
Tensor<float> circle(index_t n) {
  Generator gen(9);
  Tensor<float> x({n, 2});
  for (index_t i = 0; i < n; ++i) {
    const double a = gen.uniform(0.0, 6.283185307179586);
    x.at({i, 0}) = float(0.5 * std::cos(a));
    x.at({i, 1}) = float(0.5 * std::sin(a));
  }
  return x;
}

TEST(GAN, TrainsWithFiniteLossesAndRecordsHistory) {
  GAN<float> gan = small_gan(0, 0.1);
  const History h = gan.fit(circle(256), {.epochs = 5, .batch_size = 32, .verbose = 0});
  for (const char* key : {"d_loss", "g_loss", "d_real", "d_fake"}) {
    ASSERT_EQ(h[key].size(), 5u) << key;
    for (double v : h[key]) EXPECT_TRUE(std::isfinite(v)) << key;
  }
  for (double p : h["d_real"]) EXPECT_TRUE(p > 0.0 && p < 1.0);
}

TEST(GAN, SampleShapeAndSeedDeterminism) {
  GAN<float> gan = small_gan();
  gan.fit(circle(64), {.epochs = 1, .verbose = 0});
  const Tensor<float> a = gan.sample(10, 42), b = gan.sample(10, 42), c = gan.sample(10, 43);
  ASSERT_EQ(a.shape(), (Shape{10, 2}));
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_NE(a.to_vector(), c.to_vector());
}

TEST(GAN, SameSeedsGiveSameTraining) {
  GAN<float> g1 = small_gan(3), g2 = small_gan(3);
  const History h1 = g1.fit(circle(64), {.epochs = 2, .verbose = 0, .seed = 7});
  const History h2 = g2.fit(circle(64), {.epochs = 2, .verbose = 0, .seed = 7});
  EXPECT_EQ(h1["g_loss"], h2["g_loss"]);
  EXPECT_EQ(g1.sample(5, 1).to_vector(), g2.sample(5, 1).to_vector());
}

TEST(GAN, BadInputs) {
  Sequential<float> g, d;
  g.add(Dense(2));
  d.add(Dense(1));
  GAN<float> uncompiled(std::move(g), std::move(d), 3);
  expect_error<Error>([&] { uncompiled.fit(circle(8)); }, {"gan", "compile"});
  GAN<float> gan = small_gan();
  expect_error<ShapeError>([&] { gan.fit(Tensor<float>({8, 3})); }, {"GAN", "[*, 2]", "[*, 3]"});
  expect_error<ValueError>(
      [&] {
        Sequential<float> g2, d2;
        g2.add(Dense(2));
        d2.add(Dense(1));
        GAN<float>(std::move(g2), std::move(d2), 3, {.label_smoothing = 0.7});
      },
      {"label_smoothing", "0.7"});
  expect_error<ValueError>([&] { gan.sample(0); }, {"sample", "0"});
}

TEST(GAN, SavesAndLoadsAsAModel) {
  GAN<float> gan = small_gan(4, 0.1);
  gan.fit(circle(64), {.epochs = 1, .verbose = 0});
  const std::string path = ::testing::TempDir() + "/gan.safetensors";
  gan.save(path);
  const auto loaded = load_model_as<GAN<float>>(path);
  EXPECT_EQ(loaded->latent_dim(), 3);
  EXPECT_EQ(loaded->label_smoothing(), 0.1);
  EXPECT_EQ(loaded->sample(7, 5).to_vector(), gan.sample(7, 5).to_vector());
  const Tensor<float> x = circle(9);
  EXPECT_EQ(loaded->discriminator().predict(x).to_vector(),
            gan.discriminator().predict(x).to_vector());
  EXPECT_EQ(loaded->named_weights().front().first, "generator/dense/kernel");
}

}  // namespace
}  // namespace lamina
