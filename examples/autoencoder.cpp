// The Keras tutorial autoencoder ("Building Autoencoders in Keras", the simplest one) on
// Fashion-MNIST: each image flattened to 784 pixels in [0, 1],
//   encoder Dense(32, relu) -> decoder Dense(784, sigmoid); binary cross-entropy, Adam,
// 50 epochs at batch 256 by default, through lamina's Autoencoder template.
// Prints Keras-style logs and the test reconstruction binary cross-entropy; writes
// out/autoencoder/model.safetensors (the trained model), out/autoencoder/history.csv,
// out/autoencoder/curves.svg (training curves) and
// out/autoencoder/reconstructions.png (the first test images in the top row, their
// reconstructions below them). --load evaluates a saved model instead of training.
//   build/release/examples/autoencoder [--epochs 50] [--batch-size 256] [--data DIR] [--load FILE]

#include <algorithm>
#include <iostream>

#include <lamina/lamina.hpp>

#include "common/data.hpp"
#include "common/report.hpp"

namespace {

using lamina::index_t;
using lamina::Tensor;

/// Writes `originals` [n, 28, 28, 1] in the top row and `reconstructions` (same shape) in the
/// row below, pair by pair, as a PNG.
void save_reconstructions(const std::string& path, const Tensor<float>& originals,
                          const Tensor<float>& reconstructions) {
  const index_t n = originals.dim(0), pixels = originals.size() / n;
  Tensor<float> both = Tensor<float>::empty({2 * n, 28, 28, 1});
  std::copy(originals.begin(), originals.end(), both.data());
  std::copy(reconstructions.begin(), reconstructions.end(), both.data() + n * pixels);
  lamina::save_image_grid(path, both, {.cols = int(n), .rows = 2, .padding = 3, .scale = 2});
  std::cout << "Wrote " << path << ": " << n << " test images (top) above their reconstructions "
            << "(bottom)\n";
}

/// Prints the test reconstruction loss and writes the reconstructions of the first test images
/// `images_test` [n, 28, 28, 1] (x_test is the same flattened).
void report(lamina::Autoencoder<float>& autoencoder, const Tensor<float>& x_test,
            const Tensor<float>& images_test, const std::string& out) {
  const lamina::Logs test = autoencoder.evaluate(x_test, {.batch_size = 256});
  std::cout << "Test reconstruction binary cross-entropy: " << test.at("loss") << "\n";
  const index_t shown = std::min<index_t>(10, x_test.dim(0));
  const Tensor<float> codes = autoencoder.encode(x_test.slice(0, shown));
  const Tensor<float> decoded = autoencoder.decode(codes);
  save_reconstructions(out + "/reconstructions.png", images_test.slice(0, shown),
                       decoded.reshape({-1, 28, 28, 1}));
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace lamina;
  examples::ExampleCli cli("The Keras tutorial autoencoder (784 -> 32 -> 784) on Fashion-MNIST",
                           {.name = "autoencoder", .epochs = 50, .batch_size = 256});
  const examples::ExampleOptions options = cli.parse(argc, argv);
  const Dataset<float> data = examples::load_data(options);
  // Images [n, 28, 28, 1] in [0, 1] flattened to [n, 784], as x_train.reshape((len(x_train), 784)).
  const Tensor<float> x_train = data.x_train.reshape({-1, 784});
  const Tensor<float> x_test = data.x_test.reshape({-1, 784});

  if (!options.load.empty()) {  // evaluate a saved model instead of training one
    const auto saved = load_model_as<Autoencoder<float>>(options.load);
    report(*saved, x_test, data.x_test, options.out);
    return 0;
  }

  Sequential<float> encoder({.name = "encoder", .seed = options.seed});
  encoder.add(Dense(32, {.activation = "relu", .input_shape = {784}, .name = "encoded"}));
  Sequential<float> decoder({.name = "decoder", .seed = options.seed + 1});
  decoder.add(Dense(784, {.activation = "sigmoid", .input_shape = {32}, .name = "decoded"}));
  Autoencoder<float> autoencoder(std::move(encoder), std::move(decoder));
  autoencoder.compile("adam", "binary_crossentropy");
  autoencoder.summary();

  examples::EpochTimer timer;
  const History history = autoencoder.fit(x_train, examples::fit_options(options, timer));

  autoencoder.save(options.out + "/model.safetensors");
  report(autoencoder, x_test, data.x_test, options.out);
  return examples::finish(options, history, timer);
} catch (...) {
  return lamina::examples::report_error("autoencoder");
}
