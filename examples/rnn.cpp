// A SimpleRNN reads each Fashion-MNIST image row by row (28 timesteps of 28 features):
//   SimpleRNN(32, relu) -> Dense(10, softmax); Adam, sparse categorical cross-entropy.
// Prints Keras-style logs and the test accuracy; writes out/rnn/model.safetensors (the trained
// model), out/rnn/history.csv, out/rnn/curves.svg (training curves) and out/rnn/predictions.png
// (test images with predicted and true classes, wrong ones framed red). --load evaluates a saved
// model instead of training.
//   build/release/examples/rnn [--epochs 10] [--batch-size 32] [--data DIR] [--load FILE] [--help]

#include <iostream>

#include <lamina/lamina.hpp>

#include "common/data.hpp"
#include "common/report.hpp"

int main(int argc, char** argv) try {
  using namespace lamina;
  examples::ExampleCli cli("A SimpleRNN over the rows of Fashion-MNIST images",
                           {.name = "rnn", .epochs = 10, .batch_size = 32});
  const examples::ExampleOptions options = cli.parse(argc, argv);
  const auto [images_train, y_train, images_test, y_test] =
      examples::load_data<ByteTensor>(options);
  // Images [n, 28, 28, 1] as sequences [n, 28, 28]: 28 timesteps (rows) of 28 features, kept as
  // bytes that fit scales by 1/255 batch by batch.
  const ByteTensor x_train = images_train.reshape({-1, 28, 28});
  const ByteTensor x_test = images_test.reshape({-1, 28, 28});

  if (!options.load.empty()) {  // evaluate a saved model instead of training one
    const auto saved = load_model<float>(options.load);
    examples::report_classifier(*saved, options, x_test, y_test, images_test);
    return 0;
  }

  Sequential<float> model({.seed = options.seed});
  model.add(SimpleRNN(32, {.activation = "relu", .input_shape = {28, 28}}));
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  model.summary();

  examples::EpochTimer timer;
  const History history = model.fit(x_train, y_train, examples::fit_options(options, timer));

  model.save(options.out + "/model.safetensors");
  examples::report_classifier(model, options, x_test, y_test, images_test);
  return examples::finish(options, history, timer);
} catch (...) {
  return lamina::examples::report_error("rnn");
}
