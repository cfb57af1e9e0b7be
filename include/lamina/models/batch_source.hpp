#pragma once

#include <algorithm>
#include <numeric>
#include <span>
#include <utility>
#include <variant>
#include <vector>

#include "lamina/core/random.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/data/byte_tensor.hpp"

namespace lamina {

/// What Model::fit, evaluate and predict accept as x: a Tensor<T>, or a ByteTensor whose batches
/// they convert to T one at a time.
template <class T>
using ModelInput = std::variant<Tensor<T>, ByteTensor>;

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

/// Fills `order` with 0..n-1, shuffled (Fisher-Yates) with `gen` when `shuffle`.
inline void epoch_order(std::vector<index_t>& order, bool shuffle, Generator& gen) {
  std::iota(order.begin(), order.end(), index_t(0));
  if (!shuffle) return;
  for (std::size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[static_cast<std::size_t>(gen.below(i))]);
}

/// The x of fit, evaluate or predict, handing out batches as Tensor<T> (Keras's data adapter):
/// a Tensor<T>'s batches are views or gathered copies of it, a ByteTensor's are converted from
/// its bytes batch by batch, so that its whole data never exists as T.
template <class T>
class BatchSource {
 public:
  BatchSource(ModelInput<T> x) : x_(std::move(x)) {}
  BatchSource(Tensor<T> x) : x_(std::move(x)) {}
  BatchSource(ByteTensor x) : x_(std::move(x)) {}

  /// [samples, ...]
  const Shape& shape() const {
    return std::visit([](const auto& x) -> const Shape& { return x.shape(); }, x_);
  }
  /// Samples [begin, end), sharing the data.
  BatchSource slice(index_t begin, index_t end) const {
    return std::visit([&](const auto& x) { return BatchSource(x.slice(begin, end)); }, x_);
  }
  /// Samples [begin, end) as one batch (a view of a Tensor<T>).
  Tensor<T> batch(index_t begin, index_t end) const {
    if (const Tensor<T>* t = std::get_if<Tensor<T>>(&x_)) return t->slice(begin, end);
    const ByteTensor& bytes = std::get<ByteTensor>(x_);
    return bytes.slice(begin, end).to_tensor<T>();
  }
  /// Samples order[begin, end), in that order, as one batch.
  Tensor<T> gather(const std::vector<index_t>& order, index_t begin, index_t end) const {
    if (const Tensor<T>* t = std::get_if<Tensor<T>>(&x_)) return gather_rows(*t, order, begin, end);
    const ByteTensor& bytes = std::get<ByteTensor>(x_);
    return bytes.take_rows<T>(std::span<const index_t>(order).subspan(
        static_cast<std::size_t>(begin), static_cast<std::size_t>(end - begin)));
  }

 private:
  ModelInput<T> x_;
};

}  // namespace detail
}  // namespace lamina
