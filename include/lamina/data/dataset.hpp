#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/data/byte_tensor.hpp"
#include "lamina/data/idx.hpp"

namespace lamina {

/// Training and test data, as Keras's `(x_train, y_train), (x_test, y_test)`. The inputs x are
/// Tensor<T> or, as Keras's uint8 arrays, a ByteTensor converted batch by batch (X = ByteTensor).
template <class T, class X = Tensor<T>>
struct Dataset {
  X x_train;
  Tensor<T> y_train;
  X x_test;
  Tensor<T> y_test;
};

/// The dataset with its byte inputs converted to T (scaled and offset as each ByteTensor says).
template <class T>
Dataset<T> to_tensor(const Dataset<T, ByteTensor>& d) {
  return {d.x_train.template to_tensor<T>(), d.y_train, d.x_test.template to_tensor<T>(), d.y_test};
}

/// x / divisor, e.g. raw pixels 0..255 into [0, 1] (Keras's Rescaling(1/255)). Any shape.
template <class T>
Tensor<T> scale(const Tensor<T>& x, double divisor = 255.0) {
  check<ValueError>(std::isfinite(divisor) && divisor != 0.0,
                    "scale: divisor must be finite and non-zero, got ", divisor);
  Tensor<T> out = Tensor<T>::empty(x.shape());
  const T factor = static_cast<T>(1.0 / divisor);
  for (index_t i = 0; i < x.size(); ++i) out.data()[i] = x.data()[i] * factor;
  return out;
}

/// Integer class labels [n] -> one-hot rows [n, classes] (Keras's to_categorical). Throws
/// ValueError naming the first label that is not an integer in [0, classes).
template <class T>
Tensor<T> one_hot(const Tensor<T>& labels, index_t classes) {
  check<ValueError>(classes > 0, "one_hot: classes must be positive, got ", classes);
  check<ShapeError>(labels.rank() == 1, "one_hot: expected labels [n], got ", labels.shape());
  const index_t n = labels.dim(0);
  Tensor<T> out(Shape{n, classes});
  for (index_t i = 0; i < n; ++i) {
    const T label = labels.data()[i];
    check<ValueError>(
        label >= T(0) && label < static_cast<T>(classes) && std::floor(label) == label,
        "one_hot: label ", label, " at index ", i, " is not an integer in [0, ", classes, ")");
    out.data()[i * classes + static_cast<index_t>(label)] = T(1);
  }
  return out;
}

/// The first rows of x and y for training and the rest for validation.
template <class T>
struct TrainValidationSplit {
  Tensor<T> x_train, y_train, x_val, y_val;
};

/// Splits x [n, ...] and y [n, ...] so that the last `validation_fraction` of the samples
/// (rounded down, as Keras's validation_split) become the validation set; both parts are views.
template <class T>
TrainValidationSplit<T> train_validation_split(const Tensor<T>& x, const Tensor<T>& y,
                                               double validation_fraction) {
  check<ShapeError>(x.rank() >= 1 && y.rank() >= 1 && x.dim(0) == y.dim(0),
                    "train_validation_split: x ", x.shape(), " and y ", y.shape(),
                    " must have the same number of samples");
  check<ValueError>(validation_fraction > 0.0 && validation_fraction < 1.0,
                    "train_validation_split: validation_fraction must be in (0, 1), got ",
                    validation_fraction);
  const index_t n = x.dim(0);
  const auto split = static_cast<index_t>(double(n) * (1.0 - validation_fraction));
  check<ValueError>(split > 0 && split < n, "train_validation_split: validation_fraction ",
                    validation_fraction, " of ", n,
                    " samples leaves no training or no validation samples");
  return {x.slice(0, split), y.slice(0, split), x.slice(split, n), y.slice(split, n)};
}

/// A uniformly random permutation of 0..n-1 (Fisher-Yates) drawn from a generator seeded with
/// `seed`, so that the same seed gives the same order.
inline std::vector<index_t> permutation(index_t n, std::uint64_t seed) {
  check<ValueError>(n >= 0, "permutation: n must be non-negative, got ", n);
  std::vector<index_t> order(static_cast<std::size_t>(n));
  for (index_t i = 0; i < n; ++i) order[static_cast<std::size_t>(i)] = i;
  Generator gen(seed);
  for (index_t i = n - 1; i > 0; --i)
    std::swap(order[static_cast<std::size_t>(i)],
              order[static_cast<std::size_t>(gen.below(std::uint64_t(i) + 1))]);
  return order;
}

/// Rows `order` of x [n, ...], copied in that order: [order.size(), ...].
template <class T>
Tensor<T> take_rows(const Tensor<T>& x, const std::vector<index_t>& order) {
  check<ShapeError>(x.rank() >= 1, "take_rows: expected x [n, ...], got ", x.shape());
  std::vector<index_t> dims(x.shape().begin(), x.shape().end());
  const index_t n = dims[0];
  dims[0] = static_cast<index_t>(order.size());
  Tensor<T> out = Tensor<T>::empty(Shape(std::move(dims)));
  const index_t row = n == 0 ? 0 : x.size() / n;
  for (std::size_t i = 0; i < order.size(); ++i) {
    check<ValueError>(order[i] >= 0 && order[i] < n, "take_rows: index ", order[i],
                      " is out of range for ", n, " rows");
    std::copy_n(x.data() + order[i] * row, row, out.data() + static_cast<index_t>(i) * row);
  }
  return out;
}

/// x [n, ...] with its rows in a random order given by `seed` (a copy).
template <class T>
Tensor<T> shuffle(const Tensor<T>& x, std::uint64_t seed) {
  check<ShapeError>(x.rank() >= 1, "shuffle: expected x [n, ...], got ", x.shape());
  return take_rows(x, permutation(x.dim(0), seed));
}

/// x [n, ...] and y [n, ...] shuffled together: row i of both moves to the same place.
template <class T>
std::pair<Tensor<T>, Tensor<T>> shuffle(const Tensor<T>& x, const Tensor<T>& y,
                                        std::uint64_t seed) {
  check<ShapeError>(x.rank() >= 1 && y.rank() >= 1 && x.dim(0) == y.dim(0), "shuffle: x ",
                    x.shape(), " and y ", y.shape(), " must have the same number of samples");
  const std::vector<index_t> order = permutation(x.dim(0), seed);
  return {take_rows(x, order), take_rows(y, order)};
}

/// Where Debian's dataset-fashion-mnist package installs Fashion-MNIST.
inline constexpr const char* kFashionMnistDebianDir = "/usr/share/datasets/fashion-mnist";

/// The ten Fashion-MNIST classes, by label.
inline const std::array<std::string, 10>& fashion_mnist_class_names() {
  static const std::array<std::string, 10> names = {
      "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

/// dir/name.gz, or dir/name when only the uncompressed file is there.
inline std::string mnist_file(const std::string& dir, const std::string& name) {
  const std::string gz = dir + "/" + name + ".gz", raw = dir + "/" + name;
  std::error_code ignored;
  return !std::filesystem::exists(gz, ignored) && std::filesystem::exists(raw, ignored) ? raw : gz;
}

/// Reads one MNIST-style split from dir: images [n, rows, cols, 1] as bytes (converted with
/// `options`) and labels [n] as T, checking that they fit together.
template <class T>
std::pair<ByteTensor, Tensor<T>> load_mnist_split(const std::string& dir, const std::string& images,
                                                  const std::string& labels, index_t classes,
                                                  ByteTensorOptions options = {}) {
  const std::string image_path = mnist_file(dir, images), label_path = mnist_file(dir, labels);
  ByteTensor x = read_idx_bytes(image_path, {.rank = 3}, options);
  Tensor<T> y = read_idx_labels<T>(label_path);
  check<IoError>(x.dim(0) == y.dim(0), image_path, " holds ", x.dim(0), " images but ", label_path,
                 " holds ", y.dim(0), " labels");
  for (index_t i = 0; i < y.size(); ++i) {
    const T label = y.data()[i];
    check<IoError>(label >= T(0) && label < static_cast<T>(classes) && std::floor(label) == label,
                   label_path, ": label ", label, " at index ", i, " is not an integer in [0, ",
                   classes, ")");
  }
  return {x.reshape({x.dim(0), x.dim(1), x.dim(2), 1}), std::move(y)};
}

/// Fashion-MNIST (Xiao, Rasul and Vollgraf 2017) from `dir`, which holds the four standard
/// files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz,
/// t10k-labels-idx1-ubyte.gz; also read without the .gz suffix when only such files are there).
/// x_train [n, 28, 28, 1] and x_test are scaled into [0, 1]; y_train [n] and y_test hold the labels
/// 0..9. The full set has 60,000 training and 10,000 test images; lamina's source tree bundles a
/// slice in data/fashion-mnist-slice.
///
/// X = Tensor<T> gives the images as T; X = ByteTensor keeps them as bytes, a quarter of the
/// memory, scaled by 1/255 as fit, evaluate and predict convert each batch:
/// `load_fashion_mnist<float, ByteTensor>()`.
template <class T, class X = Tensor<T>>
Dataset<T, X> load_fashion_mnist(const std::string& dir = kFashionMnistDebianDir) {
  static_assert(std::is_same_v<X, Tensor<T>> || std::is_same_v<X, ByteTensor>,
                "load_fashion_mnist<T, X>: X must be Tensor<T> or ByteTensor");
  const ByteTensorOptions pixels{.scale = 1.0 / 255.0};
  auto [x_train, y_train] =
      load_mnist_split<T>(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 10, pixels);
  auto [x_test, y_test] =
      load_mnist_split<T>(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10, pixels);
  Dataset<T, ByteTensor> bytes{std::move(x_train), std::move(y_train), std::move(x_test),
                               std::move(y_test)};
  if constexpr (std::is_same_v<X, ByteTensor>) {
    return bytes;
  } else {
    return to_tensor(bytes);
  }
}

}  // namespace lamina
