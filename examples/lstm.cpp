// An LSTM reads each Fashion-MNIST image row by row (28 timesteps of 28 features), as Keras's
// LSTM classifier tutorials do:
//   LSTM(128) -> Dense(10, softmax); Adam, sparse categorical cross-entropy;
//   with --bidirectional, Bidirectional(LSTM(64)) -> Dense(10, softmax) instead.
// Prints Keras-style logs and the test accuracy; writes out/lstm/model.safetensors (the trained
// model), out/lstm/history.csv, out/lstm/curves.svg (training curves) and
// out/lstm/predictions.png (test images with predicted and true classes, wrong ones framed red).
// --load evaluates a saved model instead of training.
//   build/release/examples/lstm [--epochs 5] [--batch-size 32] [--bidirectional] [--data DIR]
//                               [--load FILE] [--help]

#include <iostream>

#include <lamina/lamina.hpp>

#include "common/data.hpp"
#include "common/report.hpp"

int main(int argc, char** argv) try {
  using namespace lamina;
  examples::ExampleCli cli("An LSTM over the rows of Fashion-MNIST images",
                           {.name = "lstm", .epochs = 5, .batch_size = 32});
  bool bidirectional = false;
  cli.add_flag("--bidirectional", bidirectional,
               "Bidirectional(LSTM(64)) in place of LSTM(128) (about as many weights)");
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
  if (bidirectional)
    model.add(Bidirectional(LSTM(64), {.input_shape = {28, 28}}));
  else
    model.add(LSTM(128, {.input_shape = {28, 28}}));
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  model.summary();

  examples::EpochTimer timer;
  const History history = model.fit(x_train, y_train, examples::fit_options(options, timer));

  model.save(options.out + "/model.safetensors");
  examples::report_classifier(model, options, x_test, y_test, images_test);
  return examples::finish(options, history, timer);
} catch (...) {
  return lamina::examples::report_error("lstm");
}
