#include "lamina/metrics/metrics.hpp"

#include <gtest/gtest.h>

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;

template <class T>
class MetricsTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(MetricsTyped, Scalars);

TYPED_TEST(MetricsTyped, AccuracyResolvesLikeKeras) {
  using T = TypeParam;
  const Tensor<T> probs({3, 3}, {0.1, 0.7, 0.2, 0.5, 0.3, 0.2, 0.2, 0.3, 0.5});
  // Sparse labels [batch]: argmax 1, 0, 2 against 1, 2, 2.
  auto sparse = make_metric<T>("accuracy", "sparse_categorical_crossentropy");
  sparse->update(probs, Tensor<T>({3}, {1, 2, 2}));
  EXPECT_NEAR(sparse->result(), 2.0 / 3.0, 1e-12);
  // One-hot targets: categorical.
  auto categorical = make_metric<T>("acc", "categorical_crossentropy");
  categorical->update(probs, Tensor<T>({3, 3}, {0, 1, 0, 1, 0, 0, 1, 0, 0}));
  EXPECT_NEAR(categorical->result(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(categorical->name(), "acc");
  // One column: binary with threshold 0.5, also averaged over batches.
  auto binary = make_metric<T>("accuracy", "mse");
  binary->update(Tensor<T>({4, 1}, {0.9, 0.4, 0.6, 0.1}), Tensor<T>({4, 1}, {1, 1, 0, 0}));
  binary->update(Tensor<T>({2, 1}, {0.8, 0.2}), Tensor<T>({2, 1}, {1, 0}));
  EXPECT_NEAR(binary->result(), 4.0 / 6.0, 1e-12);
  binary->reset();
  EXPECT_EQ(binary->result(), 0.0);
  // Binary cross-entropy with several outputs: elementwise binary accuracy.
  auto multi = make_metric<T>("accuracy", "binary_crossentropy");
  multi->update(Tensor<T>({1, 4}, {0.9, 0.4, 0.6, 0.1}), Tensor<T>({1, 4}, {1, 1, 1, 0}));
  EXPECT_NEAR(multi->result(), 0.75, 1e-12);
}

TYPED_TEST(MetricsTyped, AccuracyOnSequenceOutputs) {
  using T = TypeParam;
  // [batch 2, steps 3, classes 2]; argmax per position: 0, 1, 0 and 1, 0, 1.
  const Tensor<T> probs({2, 3, 2}, {0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.3, 0.7, 0.5, 0.4, 0.1, 0.9});
  // Labels [batch, steps]: sample 0 has 3 of 3 right, sample 1 2 of 3; Keras's mean over all
  // six positions is 5/6.
  const Tensor<T> labels({2, 3}, {0, 1, 0, 1, 1, 1});
  auto sparse = make_metric<T>("accuracy", "sparse_categorical_crossentropy");
  sparse->update(probs, labels);
  EXPECT_NEAR(sparse->result(), 5.0 / 6.0, 1e-12);
  sparse->reset();
  sparse->update(probs, labels.reshape({2, 3, 1}));
  EXPECT_NEAR(sparse->result(), 5.0 / 6.0, 1e-12);
  // Sample weights broadcast over the steps, as Keras: (1 * 3 + 3 * 2) / (1 * 3 + 3 * 3).
  sparse->reset();
  const Tensor<T> weights({2}, {1, 3});
  sparse->update(probs, labels, &weights);
  EXPECT_NEAR(sparse->result(), 0.75, 1e-12);
  // One-hot targets [batch, steps, classes]: categorical accuracy per position.
  auto categorical = make_metric<T>("accuracy", "categorical_crossentropy");
  categorical->update(probs, Tensor<T>({2, 3, 2}, {1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1}));
  EXPECT_NEAR(categorical->result(), 5.0 / 6.0, 1e-12);
  // One output per step [batch, steps, 1]: binary per position.
  auto binary = make_metric<T>("accuracy", "binary_crossentropy");
  binary->update(Tensor<T>({2, 2, 1}, {0.9, 0.2, 0.4, 0.7}), Tensor<T>({2, 2}, {1, 1, 0, 1}));
  EXPECT_NEAR(binary->result(), 0.75, 1e-12);
  // Labels that fit no reading of the shapes.
  expect_error<ShapeError>(
      [&] {
        sparse->update(probs, Tensor<T>({2, 2}));
      },
      {"accuracy", "[2, 2]", "[2, 3, 2]"});
}

TYPED_TEST(MetricsTyped, MeanErrors) {
  using T = TypeParam;
  auto mae = make_metric<T>("mae", "mse"), mse = make_metric<T>("mean_squared_error", "mse");
  const Tensor<T> pred({2, 2}, {1, 2, 3, 4}), truth({2, 2}, {1, 0, 5, 4});
  mae->update(pred, truth);
  mse->update(pred, truth);
  EXPECT_NEAR(mae->result(), 1.0, 1e-12);  // (0 + 2 + 2 + 0) / 4
  EXPECT_NEAR(mse->result(), 2.0, 1e-12);  // (0 + 4 + 4 + 0) / 4
  EXPECT_EQ(mae->name(), "mae");
  EXPECT_EQ(mse->name(), "mse");
}

TEST(MetricsErrors, NamesAndShapes) {
  expect_error<ValueError>([] { make_metric<float>("f1", "mse"); },
                           {"unknown metric 'f1'", "accuracy", "mae"});
  auto acc = make_metric<float>("accuracy", "categorical_crossentropy");
  expect_error<ShapeError>(
      [&] {
        acc->update(Tensor<float>({2, 3}), Tensor<float>({3, 3}));
      },
      {"accuracy", "[2, 3]", "[3, 3]"});
  expect_error<ShapeError>(
      [&] {
        acc->update(Tensor<float>({2, 3}), Tensor<float>({2, 4}));
      },
      {"accuracy", "[2, 4]", "[2, 3]"});
  auto mae = make_metric<float>("mae", "mse");
  expect_error<ShapeError>(
      [&] {
        mae->update(Tensor<float>({2, 3}), Tensor<float>({2, 2}));
      },
      {"mae", "[2, 3]", "[2, 2]"});
}

}  // namespace
}  // namespace lamina
