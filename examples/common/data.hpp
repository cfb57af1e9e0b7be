#pragma once

// Loads Fashion-MNIST for an example from --data, applies --limit, and says which data it used.

#include <array>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <type_traits>

#include <lamina/lamina.hpp>

#include "common/cli.hpp"

namespace lamina::examples {

/// Fashion-MNIST's class names, short enough for a label under a 56-pixel tile (9 characters).
inline const std::array<std::string, 10>& fashion_mnist_short_names() {
  static const std::array<std::string, 10> names = {"T-SHIRT", "TROUSER", "PULLOVER", "DRESS",
                                                    "COAT",    "SANDAL",  "SHIRT",    "SNEAKER",
                                                    "BAG",     "BOOT"};
  return names;
}

/// Fashion-MNIST from options.data: x [n, 28, 28, 1] in [0, 1], y [n] labels. Keeps the first
/// options.limit training samples when a limit is given, and prints which data this is. The
/// images are read as bytes; X = ByteTensor keeps them so (fit converts each batch), X =
/// Tensor<float> converts them all.
template <class X = Tensor<float>>
Dataset<float, X> load_data(const ExampleOptions& options, std::ostream& out = std::cout) {
  Dataset<float, ByteTensor> d = load_fashion_mnist<float, ByteTensor>(options.data);
  const index_t train = d.x_train.dim(0), test = d.x_test.dim(0);
  std::error_code ignored;
  const bool full = train == 60000 && test == 10000;
  const bool slice = std::filesystem::equivalent(options.data, kSliceDir, ignored);
  out << "Data: "
      << (full    ? "the full Fashion-MNIST"
          : slice ? "the bundled Fashion-MNIST slice"
                  : "a subset of Fashion-MNIST")
      << " from " << options.data << ": " << train << " training and " << test << " test images\n";
  if (!full) {
    out << "      (results on this data are not comparable with those on the full data set; "
           "install Debian's dataset-fashion-mnist or pass --data DIR)\n";
  }
  if (options.limit > 0 && options.limit < train) {
    d.x_train = d.x_train.slice(0, options.limit);
    d.y_train = d.y_train.slice(0, options.limit);
    out << "      training on the first " << options.limit << " of them (--limit)\n";
  }
  if constexpr (std::is_same_v<X, ByteTensor>) {
    return d;
  } else {
    return to_tensor(d);
  }
}

}  // namespace lamina::examples
