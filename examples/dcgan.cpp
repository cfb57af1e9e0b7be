// A deep convolutional GAN (Radford et al. 2016) on Fashion-MNIST through lamina's GAN
// template, sized for 28 x 28 images as TensorFlow's DCGAN tutorial is:
//   generator      z [100] ~ N(0, 1) -> Dense(7*7*128, no bias) -> BatchNormalization ->
//                  LeakyReLU(0.2) -> Reshape(7, 7, 128) -> Conv2DTranspose(64, 4, strides 2,
//                  same, no bias) -> BatchNormalization -> LeakyReLU(0.2) ->
//                  Conv2DTranspose(1, 4, strides 2, same, tanh)                 [28, 28, 1]
//   discriminator  x [28, 28, 1] -> Conv2D(64, 4, strides 2, same, LeakyReLU(0.2)) ->
//                  Conv2D(128, 4, strides 2, same, no bias) -> BatchNormalization ->
//                  LeakyReLU(0.2) -> Flatten -> Dense(1, sigmoid)
// Adam(learning_rate 2e-4, beta_1 0.5) for both, batch 128 (the paper's settings); 5 epochs by
// default. The training images are scaled to [-1, 1] to match the generator's tanh.
// Prints Keras-style logs (d_loss, g_loss, d_real = mean D(x), d_fake = mean D(G(z))); writes
// out/dcgan/epoch_001.png, ... (the same 64 latent vectors after each epoch), history.csv,
// curves.svg and model.safetensors (--load FILE writes samples.png from a saved one instead).
// With --classifier FILE (a model saved by the cnn example, out/cnn/model.safetensors) it
// prints the classifier score of 10,000 generated images beside the real test set's (see
// common/score.hpp).
//   build/release/examples/dcgan [--epochs 5] [--batch-size 128] [--classifier FILE]
//
// --expect-loss-decrease (the CI check): every History value is finite and the
// discriminator's loss fell from the first epoch to the last (D learned faster than G could
// fool it; a frozen D lets G push d_loss up instead).

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

#include <lamina/lamina.hpp>

#include "common/data.hpp"
#include "common/dcgan_models.hpp"
#include "common/report.hpp"
#include "common/score.hpp"

namespace {

using lamina::index_t;
using lamina::Tensor;

constexpr index_t kLatentDim = lamina::examples::kDcganLatentDim;

/// x in [0, 1] -> 2x - 1 in [-1, 1], as a new tensor of the same shape.
Tensor<float> to_tanh_range(const Tensor<float>& x) {
  Tensor<float> out = Tensor<float>::empty(x.shape());
  for (index_t i = 0; i < x.size(); ++i) out.data()[i] = 2.0f * x.data()[i] - 1.0f;
  return out;
}

/// Writes samples [64, 28, 28, 1] in [-1, 1] as an 8 x 8 grid.
void save_samples(const std::string& path, const Tensor<float>& samples) {
  lamina::save_image_grid(path, samples,
                          {.cols = 8, .padding = 2, .scale = 2, .value_range = {-1.0, 1.0}});
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace lamina;
  examples::ExampleCli cli("A DCGAN on Fashion-MNIST",
                           {.name = "dcgan", .epochs = 5, .batch_size = 128});
  std::string classifier;
  cli.add_option("--classifier", classifier,
                 "A classifier saved by the cnn example: print the classifier score of 10,000 "
                 "samples");
  const examples::ExampleOptions options = cli.parse(argc, argv);
  const std::uint64_t sample_seed = options.seed + 1000;
  if (!options.load.empty()) {  // sample from a saved GAN instead of training one
    const auto saved = load_model_as<GAN<float>>(options.load);
    save_samples(options.out + "/samples.png", saved->sample(64, sample_seed));
    std::cout << "Wrote " << options.out << "/samples.png: 64 samples\n";
    if (!classifier.empty())
      examples::report_classifier_score(
          classifier, [&](index_t n) { return saved->sample(n, sample_seed + 1); },
          examples::load_data(options));
    return 0;
  }
  const Dataset<float> data = examples::load_data(options);
  const Tensor<float> x_train = to_tanh_range(data.x_train);  // [n, 28, 28, 1] in [-1, 1]

  GAN<float> gan(examples::dcgan_generator(options.seed),
                 examples::dcgan_discriminator(options.seed + 1), kLatentDim);
  gan.compile(Adam({.learning_rate = 2e-4, .beta_1 = 0.5}),
              Adam({.learning_rate = 2e-4, .beta_1 = 0.5}));
  gan.generator().summary();
  gan.discriminator().summary();

  examples::EpochTimer timer;
  const auto time_epoch = timer.callback();
  const History history =
      gan.fit(x_train, {.epochs = options.epochs,
                        .batch_size = options.batch_size,
                        .seed = options.seed,
                        .on_epoch_end = [&](int epoch, const Logs& logs) {
                          time_epoch(epoch, logs);  // the epoch's time leaves out the picture
                          char name[32];
                          std::snprintf(name, sizeof name, "/epoch_%03d.png", epoch + 1);
                          save_samples(options.out + name, gan.sample(64, sample_seed));
                          std::cout << "Wrote " << options.out << name << ": 64 samples\n";
                          timer.start();  // nor does the next epoch's
                        }});
  gan.save(options.out + "/model.safetensors");
  if (!classifier.empty())
    examples::report_classifier_score(
        classifier, [&](index_t n) { return gan.sample(n, sample_seed + 1); }, data);

  // "The loss fell" is checked on d_loss (see the top of this file), after finiteness.
  bool finite = history.epochs > 0;
  for (const char* key : {"d_loss", "g_loss", "d_real", "d_fake"})
    for (double v : history[key]) finite = finite && std::isfinite(v);
  examples::ExampleOptions finish_options = options;
  finish_options.expect_loss_decrease = false;
  const int status = examples::finish(finish_options, history, timer);
  if (status != 0 || !options.expect_loss_decrease) return status;
  std::cout << "expect-loss-decrease: " << (finite ? "ok" : "FAILED")
            << ": all History values finite\n";
  return finite && examples::loss_decreased(history, "d_loss") ? 0 : 1;
} catch (...) {
  return lamina::examples::report_error("dcgan");
}
