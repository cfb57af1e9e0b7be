// A small residual CNN on Fashion-MNIST, built with the functional API (Keras's "toy ResNet"
// from the functional API guide, sized for 28x28 images):
//   Input(28, 28, 1) -> Conv2D(32, 3, relu) -> MaxPooling2D(2)
//   -> residual block: Conv2D(32, 3, relu, same) -> Conv2D(32, 3, same), Add with the block's
//      input, relu -> MaxPooling2D(2) -> the same residual block again
//   -> Flatten -> Dense(64, relu) -> Dense(10, softmax); Adam, sparse categorical cross-entropy.
// Prints the summary (with Keras's "Connected to" column), Keras-style logs and the test
// accuracy; writes out/resnet/model.safetensors, history.csv, curves.svg and predictions.png.
//   build/release/examples/resnet [--epochs 5] [--batch-size 32] [--data DIR] [--load FILE]
//                                 [--help]

#include <iostream>

#include <lamina/lamina.hpp>

#include "common/data.hpp"
#include "common/report.hpp"

namespace {

using lamina::KerasTensor;

/// Two 3x3 convolutions whose output is added to the block's input, then relu (He et al. 2016).
KerasTensor<float> residual_block(const KerasTensor<float>& x, lamina::index_t filters) {
  using namespace lamina;
  auto y = Conv2D(filters, 3, {.padding = "same", .activation = "relu"})(x);
  y = Conv2D(filters, 3, {.padding = "same"})(y);
  return Activation("relu")(Add()({y, x}));
}

}  // namespace

int main(int argc, char** argv) try {
  using namespace lamina;
  examples::ExampleCli cli("A residual CNN on Fashion-MNIST (the functional API)",
                           {.name = "resnet", .epochs = 5, .batch_size = 32});
  const examples::ExampleOptions options = cli.parse(argc, argv);
  const auto [x_train, y_train, x_test, y_test] = examples::load_data<ByteTensor>(options);

  if (!options.load.empty()) {  // evaluate a saved model instead of training one
    const auto saved = load_model<float>(options.load);
    examples::report_classifier(*saved, options, x_test, y_test, x_test);
    return 0;
  }

  set_random_seed(options.seed);  // the layers are built as they are called
  auto inputs = Input<float>({28, 28, 1}, {.name = "img"});
  auto x = Conv2D(32, 3, {.activation = "relu"})(inputs);
  x = MaxPooling2D(2)(x);
  x = residual_block(x, 32);
  x = MaxPooling2D(2)(x);
  x = residual_block(x, 32);
  x = Dense(64, {.activation = "relu"})(Flatten()(x));
  auto outputs = Dense(10, {.activation = "softmax"})(x);
  Model<float> model(inputs, outputs, {.name = "resnet"});
  model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  model.summary();

  examples::EpochTimer timer;
  const History history = model.fit(x_train, y_train, examples::fit_options(options, timer));

  model.save(options.out + "/model.safetensors");
  examples::report_classifier(model, options, x_test, y_test, x_test);
  return examples::finish(options, history, timer);
} catch (...) {
  return lamina::examples::report_error("resnet");
}
