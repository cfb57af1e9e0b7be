// PyTorch interop: models converted by tools/torch_to_lamina.py and tools/lamina_to_torch.py
// predict as in PyTorch, and a safetensors file written by tools/lamina_format.py loads in lamina.
// The fixtures come from tests/io/reference/gen_interop_fixtures.py (see its docstring); these
// tests never run Python.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "lamina/lamina.hpp"

namespace lamina {
namespace {

std::string fixture(const std::string& name) {
  return std::string(LAMINA_TEST_DATA_DIR) + "/io/fixtures/" + name;
}

/// The fixtures' 1,000 images, [1000, 28, 28, 1] pixels / 255: the slice's 500 test images, then
/// its first 500 training images (as gen_interop_fixtures.py feeds them to PyTorch).
template <class T>
Tensor<T> fixed_images() {
  const std::string slice = std::string(LAMINA_TEST_DATA_DIR) + "/../data/fashion-mnist-slice/";
  const Tensor<float> test = read_idx_images<float>(slice + "t10k-images-idx3-ubyte.gz");
  const Tensor<float> train = read_idx_images<float>(slice + "train-images-idx3-ubyte.gz");
  EXPECT_EQ(test.shape(), Shape({500, 28, 28}));
  EXPECT_GE(train.dim(0), 500);
  constexpr index_t per_image = 28 * 28, half = 500 * per_image;
  Tensor<T> x = Tensor<T>::empty({1000, 28, 28, 1});
  // Divided in float, as numpy's float32 pixels / 255 in the generator.
  for (index_t i = 0; i < half; ++i) {
    x.data()[i] = static_cast<T>(test.data()[i] / 255.0f);
    x.data()[half + i] = static_cast<T>(train.data()[i] / 255.0f);
  }
  return x;
}

/// Largest |a - b| over two tensors of one shape, and where (as "[row, column]").
template <class A, class B>
std::pair<double, std::string> max_difference(const Tensor<A>& a, const Tensor<B>& b) {
  EXPECT_EQ(a.shape(), b.shape());
  double worst = 0;
  index_t at = 0;
  for (index_t i = 0; i < a.size() && a.shape() == b.shape(); ++i) {
    const double d = std::abs(static_cast<double>(a.data()[i]) - static_cast<double>(b.data()[i]));
    if (!(d <= worst)) {  // NaN counts as the worst
      worst = d;
      at = i;
    }
  }
  const index_t cols = a.rank() == 2 ? a.dim(1) : 1;
  std::ostringstream where;
  where << "[" << at / cols << ", " << at % cols << "]";
  return {worst, where.str()};
}

/// Expects lamina's outputs `predicted` of `model_file` within `tolerance` of PyTorch's
/// `expected` from `predictions_file`; the largest difference goes into the XML report
/// (--gtest_output=xml) as max_abs_difference, the figure docs/INTEROP.md quotes.
template <class A, class B>
void expect_close(const Tensor<A>& predicted, const Tensor<B>& expected, double tolerance,
                  const std::string& model_file, const std::string& predictions_file) {
  const auto [worst, where] = max_difference(predicted, expected);
  std::ostringstream figure;
  figure.precision(3);
  figure << worst;
  ::testing::Test::RecordProperty("max_abs_difference", figure.str());
  EXPECT_LE(worst, tolerance) << model_file << " in lamina vs " << predictions_file
                              << ": max |difference| " << worst << " at " << where;
}

/// load_model<T>(model_file) predicts the fixed images as `predictions_file` says, within 1e-5.
template <class T>
void expect_predictions_match(const std::string& model_file, const std::string& predictions_file) {
  const auto model = load_model<T>(fixture(model_file));
  const Tensor<T> predicted = model->predict(fixed_images<T>(), {.batch_size = 100});
  const Tensor<float> expected =
      SafetensorsFile::read(fixture(predictions_file)).tensor<float>("predictions");
  ASSERT_EQ(expected.shape(), Shape({1000, 10}));
  expect_close(predicted, expected, 1e-5, model_file, predictions_file);
  // The comparison means something only if the outputs are a trained classifier's probabilities.
  index_t confident = 0;
  for (index_t i = 0; i < 1000; ++i) {
    float row_max = 0, row_sum = 0;
    for (index_t j = 0; j < 10; ++j) {
      row_max = std::max(row_max, expected.data()[i * 10 + j]);
      row_sum += expected.data()[i * 10 + j];
    }
    EXPECT_NEAR(row_sum, 1.0, 1e-5) << predictions_file << " row " << i;
    confident += row_max > 0.5f;
  }
  EXPECT_GT(confident, 500) << predictions_file << ": the predictions look untrained";
}

template <class T>
class InteropTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(InteropTyped, Scalars);

// The Keras tutorial CNN trained in PyTorch, converted by torch_to_lamina.py (permuted conv
// kernels, the first Dense's rows reordered from NCHW to NHWC flattening).
TYPED_TEST(InteropTyped, TorchTrainedCnnPredictsAsInPyTorch) {
  expect_predictions_match<TypeParam>("torch_cnn.safetensors", "torch_cnn_predictions.safetensors");
}

// The reverse: a lamina-trained CNN, converted by lamina_to_torch.py, predicted by PyTorch.
TYPED_TEST(InteropTyped, LaminaTrainedCnnPredictsInPyTorchAsInLamina) {
  expect_predictions_match<TypeParam>("lamina_cnn.safetensors",
                                      "lamina_cnn_torch_predictions.safetensors");
}

/// load_model<T>(model_file) maps the "inputs" of `predictions_file` to its "predictions".
template <class T>
void expect_outputs_match(const std::string& model_file, const std::string& predictions_file,
                          double tolerance) {
  const auto model = load_model<T>(fixture(model_file));
  const SafetensorsFile f = SafetensorsFile::read(fixture(predictions_file));
  const Tensor<T> predicted = model->predict(f.tensor<T>("inputs"));
  expect_close(predicted, f.tensor<double>("predictions"), tolerance, model_file, predictions_file);
}

/// The tolerance for a model stored in F64 and run in T: rounding of double for double, of
/// float else.
template <class T>
constexpr double f64_tolerance = sizeof(T) == 8 ? 1e-12 : 1e-5;

// 'same' padding, average pooling, a standalone activation, a stride-2 conv, sigmoid, elu and
// softmax, dropout, a flatten of 5 channels; stored as F64.
TYPED_TEST(InteropTyped, TorchLayersPredictAsInPyTorch) {
  expect_outputs_match<TypeParam>("torch_layers.safetensors",
                                  "torch_layers_predictions.safetensors", f64_tolerance<TypeParam>);
}

// Two SimpleRNNs (PyTorch's two biases summed into lamina's one) and a Dense; stored as F32.
TYPED_TEST(InteropTyped, TorchRnnPredictsAsInPyTorch) {
  expect_outputs_match<TypeParam>("torch_rnn.safetensors", "torch_rnn_predictions.safetensors",
                                  1e-5);
}

// The newer layers on images, in eval mode: BatchNorm2d and BatchNorm1d with non-trivial running
// statistics, LeakyReLU(0.1), uneven zero padding, ConvTranspose2d 'same' (k4 s2 p1) and
// 'valid', nearest upsampling, ELU(0.5), softmax over the channels and over time, global max
// pooling, Hardtanh(0, 2) as ReLU(max_value), Unflatten as Reshape, LayerNorm; stored as F64.
TYPED_TEST(InteropTyped, TorchNewLayersPredictAsInPyTorch) {
  expect_outputs_match<TypeParam>("torch_new_layers.safetensors",
                                  "torch_new_layers_predictions.safetensors",
                                  f64_tolerance<TypeParam>);
}

// A small generator: Dense, Reshape to an image (channels_last order), ConvTranspose2d 'same'
// with k > s and with k < s (output_padding), BatchNorm2d, a strided 'same' Conv2D, global
// average pooling; stored as F64.
TYPED_TEST(InteropTyped, TorchGeneratorPredictsAsInPyTorch) {
  expect_outputs_match<TypeParam>("torch_new_generator.safetensors",
                                  "torch_new_generator_predictions.safetensors",
                                  f64_tolerance<TypeParam>);
}

// Embedding, LSTM and GRU (PyTorch's two biases, GRU's gates reordered r, z, n -> z, r, h),
// LayerNorm over a sequence's features, a last-step LSTM; stored as F32.
TYPED_TEST(InteropTyped, TorchEmbeddingLstmGruPredictAsInPyTorch) {
  expect_outputs_match<TypeParam>("torch_new_rnn.safetensors",
                                  "torch_new_rnn_predictions.safetensors", 1e-5);
}

TEST(Interop, TorchNewLayersConvertToTheirLaminaLayers) {
  const auto model = load_model_as<Sequential<float>>(fixture("torch_new_layers.safetensors"));
  const char* types[] = {"Conv2D",
                         "BatchNormalization",
                         "LeakyReLU",
                         "ZeroPadding2D",
                         "Conv2DTranspose",
                         "MaxPooling2D",
                         "UpSampling2D",
                         "ELU",
                         "Conv2DTranspose",
                         "GlobalMaxPooling2D",
                         "Flatten",
                         "BatchNormalization",
                         "ReLU",
                         "Dense",
                         "Reshape",
                         "LayerNormalization",
                         "Softmax"};
  ASSERT_EQ(model->size(), std::size(types));
  for (std::size_t i = 0; i < model->size(); ++i) EXPECT_EQ(model->layer(i).type(), types[i]);
  EXPECT_EQ(model->layer(4).get_config()["padding"], "same");
  EXPECT_EQ(model->layer(4).get_config()["activation"], "relu");
  EXPECT_EQ(model->layer(8).get_config()["padding"], "valid");
  EXPECT_EQ(model->layer(8).get_config()["activation"], "tanh");
  EXPECT_EQ(model->layer(1).get_config()["momentum"], 0.9);
  EXPECT_EQ(model->layer(2).get_config()["negative_slope"], 0.1);
  EXPECT_EQ(model->layer(12).get_config()["max_value"], 2.0);
  EXPECT_EQ(model->layer(16).get_config()["axis"], 1);  // over time, not the features
}

TEST(Interop, TorchTrainedCnnIsTheTutorialCnn) {
  const auto model = load_model_as<Sequential<float>>(fixture("torch_cnn.safetensors"));
  ASSERT_EQ(model->size(), 7u);
  const char* types[] = {"Conv2D",  "MaxPooling2D", "Conv2D", "MaxPooling2D",
                         "Flatten", "Dense",        "Dense"};
  for (std::size_t i = 0; i < model->size(); ++i) EXPECT_EQ(model->layer(i).type(), types[i]);
  EXPECT_EQ(model->layer(0).get_config()["activation"], "relu");
  EXPECT_EQ(model->layer(6).get_config()["activation"], "softmax");
  const double accuracy = SafetensorsFile::read(fixture("torch_cnn_predictions.safetensors"))
                              .tensor<double>("accuracy")
                              .data()[0];
  EXPECT_GT(accuracy, 0.8) << "PyTorch's test accuracy after one epoch";
}

// A file written by Python's safetensors writer (tools/lamina_format.py), with its tensors in
// another order and another header layout, holds exactly what the lamina-written file holds.
TEST(Interop, PythonWrittenFileEqualsLaminaWritten) {
  const SafetensorsFile lamina = SafetensorsFile::read(fixture("lamina_cnn.safetensors"));
  const SafetensorsFile python = SafetensorsFile::read(fixture("python_written.safetensors"));
  EXPECT_EQ(python.metadata(), lamina.metadata());
  ASSERT_EQ(python.entries().size(), lamina.entries().size());
  ASSERT_FALSE(lamina.entries().empty());
  // The data sections are laid out differently, so the test exercises the reader's offsets.
  EXPECT_NE(python.entries().front().name, lamina.entries().front().name);
  for (const auto& e : lamina.entries()) {
    ASSERT_TRUE(python.contains(e.name)) << e.name;
    const auto& p = python.entry(e.name);
    EXPECT_EQ(p.dtype, e.dtype) << e.name;
    EXPECT_EQ(p.shape, e.shape) << e.name;
    const Tensor<float> a = lamina.tensor<float>(e.name), b = python.tensor<float>(e.name);
    ASSERT_EQ(a.size(), b.size()) << e.name;
    EXPECT_EQ(std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.size())), 0)
        << e.name << " differs";
  }
}

TEST(Interop, PythonWrittenFileLoadsAsTheSameModel) {
  const auto lamina = load_model<float>(fixture("lamina_cnn.safetensors"));
  const auto python = load_model<float>(fixture("python_written.safetensors"));
  EXPECT_EQ(python->spec(), lamina->spec());
  const Tensor<float> x = fixed_images<float>();
  const Tensor<float> a = lamina->predict(x, {.batch_size = 100});
  const Tensor<float> b = python->predict(x, {.batch_size = 100});
  ASSERT_EQ(a.shape(), b.shape());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), sizeof(float) * std::size_t(a.size())), 0);
}

}  // namespace
}  // namespace lamina
