// The Keras tutorial CNN on Fashion-MNIST, line for line:
//   Conv2D(32, 3x3, relu) -> MaxPooling2D(2x2) -> Conv2D(64, 3x3, relu) -> MaxPooling2D(2x2)
//   -> Flatten -> Dense(64, relu) -> Dense(10, softmax); Adam, sparse categorical cross-entropy.
// Prints Keras-style logs and the test accuracy; writes out/cnn/model.safetensors (the trained
// model), out/cnn/history.csv, out/cnn/curves.svg and out/cnn/predictions.png (test images with
// predicted and true classes, wrong ones framed red). --load evaluates a saved model instead of
// training.
// --early-stopping and --reduce-lr hold out the last 10 % of the training images for validation
// and steer training by their loss with Keras's EarlyStopping / ReduceLROnPlateau.
//   build/release/examples/cnn [--epochs 5] [--batch-size 32] [--data DIR] [--load FILE]
//                              [--early-stopping] [--reduce-lr] [--help]

#include <iostream>

#include <lamina/lamina.hpp>

#include "common/data.hpp"
#include "common/report.hpp"

int main(int argc, char** argv) try {
  using namespace lamina;
  examples::ExampleCli cli("The Keras tutorial CNN on Fashion-MNIST",
                           {.name = "cnn", .epochs = 5, .batch_size = 32});
  bool early_stopping = false, reduce_lr = false;
  cli.add_flag("--early-stopping", early_stopping,
               "Stop when the validation loss has not improved for 3 epochs and restore the best "
               "epoch's weights (validates on the last 10 % of the training images)");
  cli.add_flag("--reduce-lr", reduce_lr,
               "Halve the learning rate when the validation loss has not improved for 2 epochs "
               "(validates on the last 10 % of the training images)");
  const examples::ExampleOptions options = cli.parse(argc, argv);
  // Images [n, 28, 28, 1] kept as bytes; fit scales each batch by 1/255 (Keras's uint8 arrays).
  const auto [x_train, y_train, x_test, y_test] = examples::load_data<ByteTensor>(options);

  if (!options.load.empty()) {  // evaluate a saved model instead of training one
    const auto saved = load_model<float>(options.load);
    examples::report_classifier(*saved, options, x_test, y_test, x_test);
    return 0;
  }

  Sequential<float> model({.seed = options.seed});
  model.add(Conv2D(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}));
  model.add(MaxPooling2D({2, 2}));
  model.add(Conv2D(64, {3, 3}, {.activation = "relu"}));
  model.add(MaxPooling2D({2, 2}));
  model.add(Flatten());
  model.add(Dense(64, {.activation = "relu"}));
  model.add(Dense(10, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  model.summary();

  examples::EpochTimer timer;
  FitOptions<float> fit = examples::fit_options(options, timer);
  if (early_stopping || reduce_lr) fit.validation_split = 0.1;
  if (early_stopping)
    fit.callbacks.push_back(EarlyStopping<float>(
        {.monitor = "val_loss", .patience = 3, .verbose = 1, .restore_best_weights = true}));
  if (reduce_lr)
    fit.callbacks.push_back(ReduceLROnPlateau<float>(
        {.monitor = "val_loss", .factor = 0.5, .patience = 2, .verbose = 1, .min_lr = 1e-5}));
  const History history = model.fit(x_train, y_train, fit);

  model.save(options.out + "/model.safetensors");
  examples::report_classifier(model, options, x_test, y_test, x_test);
  return examples::finish(options, history, timer);
} catch (...) {
  return lamina::examples::report_error("cnn");
}
