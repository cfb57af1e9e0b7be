// The embedding op (ops/embedding.hpp) and the Embedding layer: PyTorch parity
// (tests/layers/reference/gen_recurrent_reference.py), gradients, Keras's defaults and
// parameter count, save/load, errors.
#include "lamina/layers/embedding.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "support/layer_check.hpp"
#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_layer_matches_reference;
using testing::expect_tensor_near;
using testing::random_tensor;

template <class T>
class EmbeddingTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(EmbeddingTyped, Scalars);

TYPED_TEST(EmbeddingTyped, PicksRowsAndScatterAddsTheGradient) {
  using T = TypeParam;
  const Variable<T> indices(Tensor<T>({2, 3}, {2, 0, 2, 1, 1, 2}));
  Variable<T> table(Tensor<T>({3, 2}, {0, 1, 10, 11, 20, 21}), true);
  Variable<T> y = embedding(indices, table);
  expect_tensor_near(y.value(), {2, 3, 2}, {20, 21, 0, 1, 20, 21, 10, 11, 10, 11, 20, 21}, 0.0);
  // Upstream k + 1 at position k: row 0 gets position 1, row 1 positions 3 and 4, row 2
  // positions 0, 2 and 5.
  Tensor<T> up({2, 3, 2});
  for (index_t k = 0; k < 6; ++k) up.data()[2 * k] = up.data()[2 * k + 1] = T(k + 1);
  y.backward(up);
  expect_tensor_near(table.grad(), {3, 2}, {2, 2, 9, 9, 10, 10}, 0.0);
}

TEST(EmbeddingGrad, MatchesFiniteDifferences) {
  const Variable<double> indices(Tensor<double>({3, 4}, {0, 4, 4, 1, 2, 3, 0, 0, 4, 1, 1, 3}));
  expect_gradients_match(
      [&](const std::vector<Variable<double>>& v) { return embedding(indices, v[0]); },
      {random_tensor({5, 3}, 1)});
}

TEST(EmbeddingReference, MatchesPyTorch) {
  const testing::Reference ref("layers/reference/recurrent.txt");
  for (const std::string name : {"emb_a", "emb_b"}) {
    SCOPED_TRACE(name);
    const Tensor<double> o = ref.tensor(name + ".options");
    Embedding<double> layer(static_cast<index_t>(o.data()[0]), static_cast<index_t>(o.data()[1]));
    expect_layer_matches_reference(layer, ref, name);
  }
}

TYPED_TEST(EmbeddingTyped, KerasDefaultsAndParameterCount) {
  using T = TypeParam;
  Sequential<T> model;
  model.add(Embedding<T>(10000, 64, {.input_shape = {20}}));
  model.build({20});
  std::ostringstream summary;
  model.summary(summary);
  EXPECT_NE(summary.str().find("640,000"), std::string::npos) << summary.str();
  EXPECT_NE(summary.str().find("(None, 20, 64)"), std::string::npos) << summary.str();
  const auto& layer = dynamic_cast<const Embedding<T>&>(*model.layers()[0]);
  ASSERT_EQ(layer.weights().size(), 1u);
  EXPECT_EQ(layer.weights()[0].name, "embeddings");
  EXPECT_EQ(layer.embeddings().shape(), (Shape{10000, 64}));
  // "uniform": U(-0.05, 0.05), the whole range used.
  T lo = 1, hi = -1;
  for (T v : layer.embeddings().value()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_GE(lo, T(-0.05));
  EXPECT_LT(hi, T(0.05));
  EXPECT_LT(lo, T(-0.0499));
  EXPECT_GT(hi, T(0.0499));
  // A batch of single indices [batch] gives [batch, output_dim].
  Embedding<T> flat(4, 3);
  EXPECT_EQ(flat(Variable<T>(Tensor<T>({5}, {0, 1, 2, 3, 0}))).shape(), (Shape{5, 3}));
  EXPECT_EQ(flat.output_shape(), (Shape{3}));
}

TYPED_TEST(EmbeddingTyped, SaveLoadRoundTripsBitForBit) {
  using T = TypeParam;
  Tensor<T> x({6, 4});
  for (index_t k = 0; k < x.size(); ++k) x.data()[k] = T((k * 7) % 9);
  Tensor<T> y({6});
  for (index_t i = 0; i < 6; ++i) y.data()[i] = T(i % 2);
  Sequential<T> model({.seed = 5});
  model.add(Embedding<T>(9, 3, {.embeddings_initializer = "glorot_uniform", .input_shape = {4}}));
  model.add(LSTM<T>(4));
  model.add(Dense<T>(2, {.activation = "softmax"}));
  model.compile("adam", "sparse_categorical_crossentropy");
  model.fit(x, y, {.epochs = 1, .batch_size = 3, .verbose = 0});
  const std::string path =
      (std::filesystem::path(::testing::TempDir()) / "embedding.safetensors").string();
  model.save(path);
  const std::shared_ptr<Model<T>> loaded = load_model<T>(path);
  EXPECT_EQ(loaded->spec(), model.spec());
  EXPECT_EQ(loaded->predict(x).to_vector(), model.predict(x).to_vector());
}

TEST(EmbeddingErrors, BadIndicesNameIndexPositionAndInputDim) {
  Embedding<double> layer(10, 4, {.name = "words"});
  expect_error<ValueError>(
      [&] {
        layer(Variable<double>(Tensor<double>({2, 3}, {0, 1, 2, 3, 12, 5})));
      },
      {"Embedding \"words\": index 12 at [1, 1] is out of range for input_dim 10", "0 to 9"});
  expect_error<ValueError>(
      [&] {
        layer(Variable<double>(Tensor<double>({2, 3}, {0, -1, 2, 3, 4, 5})));
      },
      {"Embedding \"words\": index -1 at [0, 1] is out of range"});
  expect_error<ValueError>(
      [&] {
        layer(Variable<double>(Tensor<double>({2, 3}, {0, 1, 2.5, 3, 4, 5})));
      },
      {"Embedding \"words\": index 2.5 at [0, 2] is not an integer", "input_dim 10"});
  expect_error<ValueError>(
      [] {
        embedding(Variable<double>(Tensor<double>({1}, {NAN})),
                  Variable<double>(Tensor<double>({3, 2})));
      },
      {"embedding: index nan at [0] is not an integer"});
  expect_error<ShapeError>(
      [] {
        embedding(Variable<double>(Tensor<double>({1}, {0})),
                  Variable<double>(Tensor<double>({3})));
      },
      {"embedding", "[input_dim, output_dim]", "[3]"});
}

TEST(EmbeddingErrors, BadOptions) {
  expect_error<ValueError>([] { Embedding<double>(0, 4); }, {"Embedding", "input_dim", "0"});
  expect_error<ValueError>([] { Embedding<double>(5, -1); }, {"Embedding", "output_dim", "-1"});
  expect_error<ValueError>(
      [] { Embedding<double>(5, 4, {.embeddings_initializer = "unifrom"}); },
      {"Embedding option embeddings_initializer: unknown initializer 'unifrom'", "uniform"});
}

}  // namespace
}  // namespace lamina
