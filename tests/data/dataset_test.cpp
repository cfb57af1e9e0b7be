#include <zlib.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "lamina/data/dataset.hpp"

#include "support/op_check.hpp"

#ifndef LAMINA_TEST_DATA_DIR
#define LAMINA_TEST_DATA_DIR "tests"
#endif

namespace lamina {
namespace {

using testing::expect_error;

const std::string kSlice = std::string(LAMINA_TEST_DATA_DIR) + "/../data/fashion-mnist-slice";

template <class T>
class DatasetTest : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(DatasetTest, Scalars);

TYPED_TEST(DatasetTest, ScaleDividesBy255ByDefault) {
  using T = TypeParam;
  const Tensor<T> x(Shape{1, 3}, {0, 51, 255});
  const Tensor<T> y = scale(x);
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_EQ(y.to_vector(), (std::vector<T>{0, T(51) * T(1.0 / 255.0), T(255) * T(1.0 / 255.0)}));
  EXPECT_NEAR(double(y.data()[2]), 1.0, 1e-7);
  EXPECT_EQ(scale(x, 51.0).to_vector(), (std::vector<T>{0, 1, T(255) * T(1.0 / 51.0)}));
  EXPECT_EQ(x.data()[1], T(51));  // the input is left alone
  expect_error<ValueError>([&] { scale(x, 0.0); }, {"scale", "divisor", "0"});
}

TYPED_TEST(DatasetTest, OneHotEncodesLabels) {
  using T = TypeParam;
  const Tensor<T> y = one_hot(Tensor<T>(Shape{3}, {2, 0, 1}), 3);
  EXPECT_EQ(y.shape(), (Shape{3, 3}));
  EXPECT_EQ(y.to_vector(), (std::vector<T>{0, 0, 1, 1, 0, 0, 0, 1, 0}));
}

TYPED_TEST(DatasetTest, OneHotRejectsLabelsOutOfRange) {
  using T = TypeParam;
  expect_error<ValueError>(
      [] {
        one_hot(Tensor<T>(Shape{2}, {1, 3}), 3);
      },
      {"one_hot", "label 3", "index 1", "[0, 3)"});
  expect_error<ValueError>(
      [] {
        one_hot(Tensor<T>(Shape{2}, {-1, 0}), 3);
      },
      {"one_hot", "label -1", "index 0"});
  expect_error<ValueError>([] { one_hot(Tensor<T>(Shape{1}, {0.5}), 3); },
                           {"one_hot", "label 0.5", "not an integer"});
  expect_error<ValueError>([] { one_hot(Tensor<T>(Shape{1}, {0}), 0); },
                           {"one_hot", "classes must be positive", "0"});
  expect_error<ShapeError>(
      [] {
        one_hot(Tensor<T>(Shape{1, 2}, {0, 1}), 3);
      },
      {"one_hot", "[n]", "[1, 2]"});
}

TYPED_TEST(DatasetTest, TrainValidationSplitKeepsTheLastFractionForValidation) {
  using T = TypeParam;
  const Tensor<T> x = Tensor<T>::arange(T(20)).reshape({10, 2});
  const Tensor<T> y = Tensor<T>::arange(T(10));
  const auto s = train_validation_split(x, y, 0.25);  // 7.5 -> 7 training samples, as Keras
  EXPECT_EQ(s.x_train.shape(), (Shape{7, 2}));
  EXPECT_EQ(s.x_val.shape(), (Shape{3, 2}));
  EXPECT_EQ(s.y_val.to_vector(), (std::vector<T>{7, 8, 9}));
  EXPECT_EQ(s.x_val.at({0, 1}), T(15));
  expect_error<ValueError>([&] { train_validation_split(x, y, 1.0); },
                           {"train_validation_split", "(0, 1)", "1"});
  expect_error<ValueError>(
      [&] { train_validation_split(x, y, 0.95); },
      {"train_validation_split", "0.95", "of 10", "no training or no validation"});
  expect_error<ShapeError>([&] { train_validation_split(x, y.slice(0, 9), 0.5); },
                           {"train_validation_split", "[10, 2]", "[9]"});
}

TYPED_TEST(DatasetTest, ShuffleMovesRowsOfXAndYTogether) {
  using T = TypeParam;
  const index_t n = 50;
  Tensor<T> x(Shape{n, 3});
  Tensor<T> y(Shape{n});
  for (index_t i = 0; i < n; ++i) {
    for (index_t j = 0; j < 3; ++j) x.at({i, j}) = T(10 * i + j);
    y.data()[i] = T(i);
  }
  const auto [xs, ys] = shuffle(x, y, 7);
  ASSERT_EQ(xs.shape(), x.shape());
  ASSERT_EQ(ys.shape(), y.shape());
  std::set<index_t> seen;
  index_t moved = 0;
  for (index_t i = 0; i < n; ++i) {
    const auto k = static_cast<index_t>(ys.data()[i]);
    seen.insert(k);
    moved += k != i;
    for (index_t j = 0; j < 3; ++j) EXPECT_EQ(xs.at({i, j}), T(10 * k + j));
  }
  EXPECT_EQ(seen.size(), std::size_t(n));  // a permutation
  EXPECT_GT(moved, n / 2);
  // The same seed gives the same order, another seed another one.
  EXPECT_EQ(shuffle(x, y, 7).second.to_vector(), ys.to_vector());
  EXPECT_NE(shuffle(x, y, 8).second.to_vector(), ys.to_vector());
  EXPECT_EQ(shuffle(y, 7).to_vector(), ys.to_vector());
  EXPECT_EQ(y.data()[3], T(3));  // inputs untouched
  expect_error<ShapeError>([&] { shuffle(x, y.slice(0, 4), 1); }, {"shuffle", "[50, 3]", "[4]"});
}

TYPED_TEST(DatasetTest, LoadsTheBundledFashionMnistSlice) {
  using T = TypeParam;
  const Dataset<T> d = load_fashion_mnist<T>(kSlice);
  EXPECT_EQ(d.x_train.shape(), (Shape{2000, 28, 28, 1}));
  EXPECT_EQ(d.y_train.shape(), (Shape{2000}));
  EXPECT_EQ(d.x_test.shape(), (Shape{500, 28, 28, 1}));
  EXPECT_EQ(d.y_test.shape(), (Shape{500}));
  EXPECT_EQ(*std::max_element(d.x_train.begin(), d.x_train.end()), T(1));
  EXPECT_EQ(*std::min_element(d.x_test.begin(), d.x_test.end()), T(0));
  EXPECT_EQ(d.x_train.at({0, 14, 12, 0}), T(237) * T(1.0 / 255.0));
  EXPECT_EQ(d.y_train.data()[0], T(9));
  EXPECT_EQ(d.y_test.data()[2], T(1));
  EXPECT_EQ(fashion_mnist_class_names()[9], "Ankle boot");
}

TYPED_TEST(DatasetTest, LoadsFashionMnistImagesAsBytesScaledBy1Over255) {
  using T = TypeParam;
  const Dataset<T, ByteTensor> bytes = load_fashion_mnist<T, ByteTensor>(kSlice);
  const Dataset<T> floats = load_fashion_mnist<T>(kSlice);
  EXPECT_EQ(bytes.x_train.shape(), (Shape{2000, 28, 28, 1}));
  EXPECT_EQ(bytes.x_test.shape(), (Shape{500, 28, 28, 1}));
  EXPECT_EQ(bytes.x_train.scale(), 1.0 / 255.0);
  EXPECT_EQ(bytes.x_train.data()[14 * 28 + 12], 237);  // the raw pixel, see ReadIdx
  EXPECT_EQ(bytes.y_train.to_vector(), floats.y_train.to_vector());
  EXPECT_EQ(bytes.y_test.to_vector(), floats.y_test.to_vector());
  // Converted, the bytes are exactly the float data set.
  EXPECT_EQ(bytes.x_train.template to_tensor<T>().to_vector(), floats.x_train.to_vector());
  const Dataset<T> converted = to_tensor(bytes);
  EXPECT_EQ(converted.x_test.shape(), floats.x_test.shape());
  EXPECT_EQ(converted.x_test.to_vector(), floats.x_test.to_vector());
  EXPECT_EQ(converted.y_test.to_vector(), floats.y_test.to_vector());
}

TEST(LoadFashionMnist, NamesTheMissingOrMismatchedFile) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "lamina_fashion_mnist_bad";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  expect_error<IoError>([&] { load_fashion_mnist<float>(dir.string()); },
                        {dir.string() + "/train-images-idx3-ubyte.gz", "cannot open"});
  // Training images with the test labels: 2000 images, 500 labels.
  const auto copy = [&](const char* from, const char* to) {
    std::filesystem::copy_file(kSlice + "/" + from, dir / to);
  };
  copy("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz");
  copy("t10k-labels-idx1-ubyte.gz", "train-labels-idx1-ubyte.gz");
  expect_error<IoError>([&] { load_fashion_mnist<float>(dir.string()); },
                        {"train-images-idx3-ubyte.gz holds 2000 images",
                         "train-labels-idx1-ubyte.gz holds 500 labels"});
  expect_error<IoError>([&] { load_fashion_mnist<float, ByteTensor>(dir.string()); },
                        {"train-images-idx3-ubyte.gz holds 2000 images",
                         "train-labels-idx1-ubyte.gz holds 500 labels"});
}

TEST(LoadFashionMnist, RejectsLabelsThatAreNotClassIndices) {
  // Issue 15, finding 7: a float label file holding 2.5 (or 10) is an error naming the label.
  const auto dir = std::filesystem::path(::testing::TempDir()) / "lamina_fashion_mnist_labels";
  for (const float bad : {2.5f, 10.0f, -1.0f}) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    for (const char* name :
         {"train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
      std::filesystem::copy_file(kSlice + "/" + name, dir / name);
    // 2000 labels as 32-bit floats (IDX type 0x0D), label 17 bad.
    std::ofstream out(dir / "train-labels-idx1-ubyte", std::ios::binary);
    const unsigned char header[] = {0, 0, 0x0D, 1, 0, 0, 0x07, 0xD0};
    out.write(reinterpret_cast<const char*>(header), sizeof header);
    for (int i = 0; i < 2000; ++i) {
      const float v = i == 17 ? bad : float(i % 10);
      std::uint32_t bits;
      std::memcpy(&bits, &v, 4);
      for (int shift = 24; shift >= 0; shift -= 8) out.put(static_cast<char>(bits >> shift));
    }
    out.close();
    SCOPED_TRACE(bad);
    expect_error<IoError>(
        [&] { load_fashion_mnist<float>(dir.string()); },
        {"train-labels-idx1-ubyte: label", "at index 17", "is not an integer in [0, 10)"});
  }
}

TEST(LoadFashionMnist, ReadsUncompressedFilesWithoutTheGzSuffix) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "lamina_fashion_mnist_raw";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                           "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
    gzFile in = gzopen((kSlice + "/" + name + ".gz").c_str(), "rb");
    ASSERT_NE(in, nullptr);
    std::ofstream out(dir / name, std::ios::binary);
    char buffer[4096];
    for (int got; (got = gzread(in, buffer, sizeof buffer)) > 0;) out.write(buffer, got);
    gzclose(in);
  }
  const Dataset<float> d = load_fashion_mnist<float>(dir.string());
  const Dataset<float> packed = load_fashion_mnist<float>(kSlice);
  EXPECT_EQ(d.x_test.shape(), (Shape{500, 28, 28, 1}));
  EXPECT_EQ(d.x_train.to_vector(), packed.x_train.to_vector());
  EXPECT_EQ(d.y_test.to_vector(), packed.y_test.to_vector());
}

}  // namespace
}  // namespace lamina
