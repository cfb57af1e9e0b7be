#pragma once

#include <algorithm>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "lamina/core/random.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/data/byte_tensor.hpp"

namespace lamina {

namespace detail {

/// Rows order[begin, end) of t: [samples, ...], copied into one batch [end - begin, ...].
template <class T>
Tensor<T> gather_rows(const Tensor<T>& t, const std::vector<index_t>& order, index_t begin,
                      index_t end) {
  std::vector<index_t> dims(t.shape().begin(), t.shape().end());
  dims[0] = end - begin;
  Tensor<T> out = Tensor<T>::empty(Shape(std::move(dims)));
  const index_t row = t.size() / t.dim(0);
  for (index_t i = begin; i < end; ++i)
    std::copy_n(t.data() + order[static_cast<std::size_t>(i)] * row, row,
                out.data() + (i - begin) * row);
  return out;
}

/// The seed of epoch `epoch`'s shuffle: the fit seed and the epoch mixed by splitmix64's
/// finaliser, so that each epoch's order depends on nothing but the two.
inline std::uint64_t epoch_seed(std::uint64_t seed, int epoch) {
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (static_cast<std::uint64_t>(epoch) + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// Fills `order` with 0..n-1, shuffled (Fisher-Yates) with `gen` when `shuffle`.
inline void epoch_order(std::vector<index_t>& order, bool shuffle, Generator& gen) {
  std::iota(order.begin(), order.end(), index_t(0));
  if (!shuffle) return;
  for (std::size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[static_cast<std::size_t>(gen.below(i))]);
}

/// Arrays of the same number of samples side by side, [n, a...] and [n, b...] -> [n, |a| + |b|]:
/// how fit carries the several inputs (or targets) of a functional model through its batching.
template <class T>
Tensor<T> pack_columns(const std::vector<Tensor<T>>& parts) {
  const index_t n = parts.front().dim(0);
  index_t width = 0;
  for (const Tensor<T>& p : parts) width += p.size() / n;
  Tensor<T> out = Tensor<T>::empty(Shape({n, width}));
  index_t at = 0;
  for (const Tensor<T>& p : parts) {
    const index_t row = p.size() / n;
    for (index_t i = 0; i < n; ++i)
      std::copy_n(p.data() + i * row, row, out.data() + i * width + at);
    at += row;
  }
  return out;
}

/// The arrays pack_columns joined: packed [n, width] split into [n, ...shapes[k]].
template <class T>
std::vector<Tensor<T>> unpack_columns(const Tensor<T>& packed, const std::vector<Shape>& shapes) {
  const index_t n = packed.dim(0), width = packed.size() / n;
  std::vector<Tensor<T>> out;
  index_t at = 0;
  for (const Shape& shape : shapes) {
    std::vector<index_t> dims{n};
    dims.insert(dims.end(), shape.begin(), shape.end());
    Tensor<T> part = Tensor<T>::empty(Shape(std::move(dims)));
    const index_t row = shape.numel();
    for (index_t i = 0; i < n; ++i)
      std::copy_n(packed.data() + i * width + at, row, part.data() + i * row);
    at += row;
    out.push_back(std::move(part));
  }
  return out;
}

}  // namespace detail

/// What Model::fit, evaluate and predict accept as x: a Tensor<T>, or a ByteTensor, converted
/// implicitly from either. It hands out batches as Tensor<T> (Keras's data adapter): a
/// Tensor<T>'s batches are views or gathered copies of it, a ByteTensor's are converted from its
/// bytes batch by batch, so that its whole data never exists as T.
template <class T>
class ModelInput {
 public:
  ModelInput(Tensor<T> x) : tensor_(std::move(x)) {}
  ModelInput(ByteTensor x) : bytes_(std::move(x)), is_bytes_(true) {}

  /// [samples, ...]
  const Shape& shape() const { return is_bytes_ ? bytes_.shape() : tensor_.shape(); }
  /// Samples [begin, end), sharing the data.
  ModelInput slice(index_t begin, index_t end) const {
    return is_bytes_ ? ModelInput(bytes_.slice(begin, end)) : ModelInput(tensor_.slice(begin, end));
  }
  /// Samples [begin, end) as one batch (a view of a Tensor<T>).
  Tensor<T> batch(index_t begin, index_t end) const {
    return is_bytes_ ? bytes_.slice(begin, end).template to_tensor<T>() : tensor_.slice(begin, end);
  }
  /// Samples order[begin, end), in that order, as one batch.
  Tensor<T> gather(const std::vector<index_t>& order, index_t begin, index_t end) const {
    if (!is_bytes_) return detail::gather_rows(tensor_, order, begin, end);
    return bytes_.template take_rows<T>(std::span<const index_t>(order).subspan(
        static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin)));
  }

 private:
  // A class of its own rather than a std::variant: std::visit costs every program that
  // includes lamina seconds of compile time.
  Tensor<T> tensor_;
  ByteTensor bytes_;
  bool is_bytes_ = false;
};

}  // namespace lamina
