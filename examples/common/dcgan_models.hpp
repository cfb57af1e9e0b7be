#pragma once

// The dcgan example's two networks (examples/dcgan.cpp describes them), shared with the DCGAN
// training step of benchmarks/training_bench.cpp so that the benchmark times the same model.

#include <cstdint>

#include <lamina/lamina.hpp>

namespace lamina::examples {

/// The generator's input: latent vectors [kDcganLatentDim] drawn from N(0, 1).
constexpr index_t kDcganLatentDim = 100;

/// z [100] -> [28, 28, 1] in (-1, 1).
inline Sequential<float> dcgan_generator(std::uint64_t seed) {
  return Sequential<float>(
      {Dense(7 * 7 * 128, {.use_bias = false, .input_shape = {kDcganLatentDim}}),
       BatchNormalization(), LeakyReLU({.negative_slope = 0.2}), Reshape({7, 7, 128}),
       Conv2DTranspose(64, 4, {.strides = 2, .padding = "same", .use_bias = false}),
       BatchNormalization(), LeakyReLU({.negative_slope = 0.2}),
       Conv2DTranspose(1, 4, {.strides = 2, .padding = "same", .activation = "tanh"})},
      {.name = "generator", .seed = seed});
}

/// [28, 28, 1] -> the probability that the image is real, [1].
inline Sequential<float> dcgan_discriminator(std::uint64_t seed) {
  return Sequential<float>(
      {Conv2D(64, 4,
              {.strides = 2,
               .padding = "same",
               .activation = "leaky_relu",
               .input_shape = {28, 28, 1}}),
       Conv2D(128, 4, {.strides = 2, .padding = "same", .use_bias = false}), BatchNormalization(),
       LeakyReLU({.negative_slope = 0.2}), Flatten(), Dense(1, {.activation = "sigmoid"})},
      {.name = "discriminator", .seed = seed});
}

}  // namespace lamina::examples
