// A SimpleRNN reads each Fashion-MNIST image row by row (28 timesteps of 28 features):
//   SimpleRNN(32, relu) -> Dense(10, softmax); Adam, sparse categorical cross-entropy.
// Prints Keras-style logs and the test accuracy; writes out/rnn/history.csv and
// out/rnn/predictions.png (test images with predicted and true classes, wrong ones framed red).
//   build/release/examples/rnn [--epochs 10] [--batch-size 32] [--data DIR] [--help]
#define LAMINA_IMAGE_IMPLEMENTATION  // this file holds stb_image_write's implementation

#include <iostream>

#include <lamina/lamina.hpp>

#include "lamina/io/image.hpp"

#include "common/cli.hpp"
#include "common/data.hpp"
#include "common/report.hpp"

int main(int argc, char** argv) try {
  using namespace lamina;
  examples::ExampleCli cli("A SimpleRNN over the rows of Fashion-MNIST images",
                           {.name = "rnn", .epochs = 10, .batch_size = 32});
  const examples::ExampleOptions options = cli.parse(argc, argv);
  const auto [images_train, y_train, images_test, y_test] = examples::load_data(options);
  // [n, 28, 28, 1] images as [n, 28, 28] sequences: 28 timesteps (rows) of 28 features.
  const Tensor<float> x_train = images_train.reshape({-1, 28, 28});
  const Tensor<float> x_test = images_test.reshape({-1, 28, 28});

  Sequential<float> model({.seed = options.seed});
  model.add(SimpleRNN(32, {.activation = "relu", .input_shape = {28, 28}}));
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  model.summary();

  examples::EpochTimer timer;
  const History history = model.fit(x_train, y_train,
                                    {.epochs = options.epochs,
                                     .batch_size = options.batch_size,
                                     .seed = options.seed,
                                     .on_epoch_end = timer.callback()});

  const Logs test = model.evaluate(x_test, y_test, {.batch_size = 256});
  std::cout << "Test loss: " << test.at("loss") << ", test accuracy: " << test.at("accuracy")
            << "\n";

  const index_t shown = std::min<index_t>(64, x_test.dim(0));
  examples::save_prediction_grid(options.out + "/predictions.png", images_test.slice(0, shown),
                                 examples::argmax_rows(model.predict(x_test.slice(0, shown))),
                                 y_test, examples::fashion_mnist_short_names());
  return examples::finish(options, history, timer);
} catch (const lamina::Error& e) {
  std::cerr << "rnn: error: " << e.what() << "\n";
  return 1;
}
