#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/layers/initializers.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/ops/embedding.hpp"

namespace lamina {

/// Options of Embedding (Keras's keyword arguments and defaults).
struct EmbeddingOptions {
  /// Keras's default "uniform" is U(-0.05, 0.05).
  std::string embeddings_initializer = "uniform";
  /// Per-sample input shape, e.g. {100} for sequences of 100 indices; empty when inferred.
  Shape input_shape{};
  std::string name{};
};

/// Turns integer indices into dense vectors: row i of the weight "embeddings" [input_dim,
/// output_dim] for each index i. input: [batch, ...] of integer values in [0, input_dim), given
/// as T; output: [batch, ..., output_dim]. An index out of range or not an integer is a
/// ValueError naming it, its position and input_dim.
template <class T = float>
class Embedding : public Layer<T> {
 public:
  Embedding(index_t input_dim, index_t output_dim, EmbeddingOptions options = {})
      : Layer<T>(options.name, options.input_shape),
        input_dim_(input_dim),
        output_dim_(output_dim),
        options_(std::move(options)) {
    check<ValueError>(input_dim > 0 && output_dim > 0,
                      "Embedding: input_dim and output_dim must be positive, got ", input_dim,
                      " and ", output_dim);
    Generator probe(0);
    detail::in_option("Embedding", "embeddings_initializer", [&] {
      return initialize<T>(options_.embeddings_initializer, Shape{1, 1}, probe);
    });
  }

  std::string type() const override { return "Embedding"; }
  index_t input_dim() const { return input_dim_; }
  index_t output_dim() const { return output_dim_; }
  /// The table [input_dim, output_dim] (valid once built).
  const Variable<T>& embeddings() const { return embeddings_; }

  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["input_dim"] = input_dim_;
    c["output_dim"] = output_dim_;
    c["embeddings_initializer"] = options_.embeddings_initializer;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<Embedding> from_config(const Json& config) {
    ConfigReader r(config, "Embedding");
    EmbeddingOptions o;
    detail::read_common_options(r, o);
    o.embeddings_initializer = r.get("embeddings_initializer", o.embeddings_initializer);
    const auto input_dim = r.get<index_t>("input_dim");
    const auto output_dim = r.get<index_t>("output_dim");
    return detail::finish_from_config(r, Embedding(input_dim, output_dim, std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator& gen) override {
    embeddings_ = this->add_weight("embeddings", initialize<T>(options_.embeddings_initializer,
                                                               {input_dim_, output_dim_}, gen));
    std::vector<index_t> out = input_shape.dims();
    out.push_back(output_dim_);
    return Shape(std::move(out));
  }
  Variable<T> forward(const Variable<T>& x) override {
    return detail::embedding(x, embeddings_, this->label());
  }

 private:
  index_t input_dim_, output_dim_;
  EmbeddingOptions options_;
  Variable<T> embeddings_;
};

}  // namespace lamina
