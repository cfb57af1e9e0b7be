// Data-parallel fit under mpirun (2 and 3 processes, see tests/CMakeLists.txt): the same weights
// and History as one process on the same global batches, an uneven last batch (and, with 3
// processes, an idle one), errors on one process stopping all of them, mismatches found at the
// start. Every process computes the single-process reference itself.

#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <lamina/distributed/data_parallel.hpp>
#include <lamina/distributed/environment.hpp>
#include <lamina/lamina.hpp>

#include "support/op_check.hpp"

using namespace lamina;
using lamina::testing::expect_error;

namespace {

int world_rank() {
  int r = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &r);
  return r;
}
int world_size() {
  int s = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &s);
  return s;
}

/// x [n, 4] and integer labels y [n] of three classes, the same on every process.
template <class T>
std::pair<Tensor<T>, Tensor<T>> blobs(index_t n) {
  Generator gen(11);
  Tensor<T> x(Shape({n, 4})), y(Shape({n}));
  for (index_t i = 0; i < n; ++i) {
    const index_t c = i % 3;
    y.data()[i] = T(c);
    for (index_t k = 0; k < 4; ++k)
      x.data()[i * 4 + k] = static_cast<T>(gen.normal(k == c ? 1.5 : 0.0, 1.0));
  }
  return {x, y};
}

template <class T>
Sequential<T> make_model(index_t hidden = 8) {
  Sequential<T> m;
  m.add(Dense<T>(hidden, {.activation = "relu", .input_shape = {4}}));
  m.add(Dense<T>(3, {.activation = "softmax"}));
  m.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  return m;
}

template <class T>
double max_relative_difference(const std::vector<Tensor<T>>& a, const std::vector<Tensor<T>>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    for (index_t k = 0; k < a[i].size(); ++k) {
      const double x = a[i].data()[k], y = b[i].data()[k];
      worst = std::max(worst, std::abs(x - y) / std::max(1.0, std::abs(y)));
    }
  return worst;
}

/// Whether every process holds bitwise the same weights.
template <class T>
bool same_on_every_process(const std::vector<Tensor<T>>& weights) {
  std::vector<T> mine;
  for (const Tensor<T>& w : weights) mine.insert(mine.end(), w.begin(), w.end());
  std::vector<T> first = mine;
  MPI_Bcast(first.data(), static_cast<int>(first.size() * sizeof(T)), MPI_BYTE, 0, MPI_COMM_WORLD);
  int same = std::memcmp(first.data(), mine.data(), mine.size() * sizeof(T)) == 0;
  int all = 0;
  MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  return all == 1;
}

/// Fits `reference` in this process alone and `model` with `strategy` on the same data and
/// settings, and expects the same weights (within 1e-5 relative in float, 1e-12 in double),
/// bitwise equal on every process, and the same History (within `history_factor` times that).
template <class T, class X>
void expect_trains_as_one_process(Sequential<T>& reference, Sequential<T>& model, const X& x,
                                  const Tensor<T>& y, const FitOptions<T>& base,
                                  std::shared_ptr<FitStrategy<T>> strategy,
                                  double history_factor = 1) {
  const History expected = reference.fit(x, y, base);
  FitOptions<T> options = base;
  options.strategy = std::move(strategy);
  const History got = model.fit(x, y, options);
  const double tol = std::is_same_v<T, float> ? 1e-5 : 1e-12;
  EXPECT_LE(max_relative_difference(model.get_weights(), reference.get_weights()), tol);
  EXPECT_TRUE(same_on_every_process(model.get_weights()));
  ASSERT_EQ(got.history.size(), expected.history.size());
  for (const auto& [key, values] : expected.history) {
    ASSERT_EQ(got.history.at(key).size(), values.size()) << key;
    for (std::size_t e = 0; e < values.size(); ++e)
      EXPECT_NEAR(got.history.at(key)[e], values[e],
                  history_factor * tol * std::max(1.0, std::abs(values[e])))
          << key << " epoch " << e;
  }
}

template <class T>
class DataParallelTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(DataParallelTyped, Scalars);

// 50 samples, 10 held out, batches of 16: 16, 16, 8 per epoch, so the last batch splits
// unevenly (4/4 on 2 processes, 2/3/3 on 3); rank 0's weights win over the others'.
TYPED_TEST(DataParallelTyped, EqualsOneProcess) {
  using T = TypeParam;
  const auto [x, y] = blobs<T>(50);
  Sequential<T> reference = make_model<T>();
  Sequential<T> model = make_model<T>();
  if (world_rank() != 0) {  // different starting weights: the broadcast must replace them
    std::vector<Tensor<T>> w = model.get_weights();
    for (Tensor<T>& t : w)
      for (T& v : t) v += T(0.25);
    model.set_weights(w);
  }
  expect_trains_as_one_process<T>(
      reference, model, x, y,
      {.epochs = 3, .batch_size = 16, .validation_split = 0.2, .verbose = 0, .seed = 5},
      distributed::data_parallel<T>(), 10);
}

// The acceptance case: the tutorial CNN (no Dropout) on the bundled Fashion-MNIST slice, two
// epochs with validation, an uneven last batch (300 samples, 30 held out, batches of 32: the
// last of 14).
TYPED_TEST(DataParallelTyped, TutorialCnnEqualsOneProcess) {
  using T = TypeParam;
  const std::string dir = std::string(LAMINA_TEST_DATA_DIR) + "/../data/fashion-mnist-slice";
  const auto data = load_fashion_mnist<T, ByteTensor>(dir);
  const ByteTensor x = data.x_train.slice(0, 300);
  const Tensor<T> y = data.y_train.slice(0, 300);
  auto cnn = [] {
    Sequential<T> model({.seed = 4});
    model.add(Conv2D<T>(32, {3, 3}, {.activation = "relu", .input_shape = {28, 28, 1}}));
    model.add(MaxPooling2D<T>({2, 2}));
    model.add(Conv2D<T>(64, {3, 3}, {.activation = "relu"}));
    model.add(MaxPooling2D<T>({2, 2}));
    model.add(Flatten<T>());
    model.add(Dense<T>(64, {.activation = "relu"}));
    model.add(Dense<T>(10, {.activation = "softmax"}));
    model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
    return model;
  };
  Sequential<T> reference = cnn();
  Sequential<T> model = cnn();
  // Small buckets, so that several of them travel while backward runs.
  auto strategy = std::make_shared<distributed::DataParallel<T>>(
      distributed::DataParallelOptions{.bucket_bytes = 64 * 1024});
  expect_trains_as_one_process<T>(
      reference, model, x, y,
      {.epochs = 2, .batch_size = 32, .validation_split = 0.1, .verbose = 0, .seed = 8}, strategy);
  EXPECT_GE(strategy->buckets(), 3U);
  // Every bucket holds weights the backward pass reaches: all of them left before it ended.
  EXPECT_EQ(strategy->buckets_launched_during_backward(), strategy->buckets());
}

// BatchNormalization takes the global batch's statistics: the weights, moving statistics
// included, equal one process's (uneven last batch of 8). The Dense before it has no bias, as
// usual: BatchNormalization cancels a bias, whose gradient is zero but for round-off, which Adam
// would scale up to steps of the learning rate's size that no two summation orders share.
TYPED_TEST(DataParallelTyped, BatchNormalizationEqualsOneProcess) {
  using T = TypeParam;
  const auto [x, y] = blobs<T>(50);
  auto model_with_norm = [] {
    Sequential<T> m({.seed = 6});
    m.add(Dense<T>(8, {.use_bias = false, .input_shape = {4}}));
    m.add(BatchNormalization<T>());
    m.add(Activation<T>("relu"));
    m.add(Dense<T>(3, {.activation = "softmax"}));
    m.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
    return m;
  };
  const FitOptions<T> base{
      .epochs = 3, .batch_size = 16, .validation_split = 0.2, .verbose = 0, .seed = 2};
  Sequential<T> reference = model_with_norm();
  Sequential<T> model = model_with_norm();
  expect_trains_as_one_process<T>(reference, model, x, y, base, distributed::data_parallel<T>(),
                                  10);

  // Per-process statistics (Keras's synchronized=False) train too, but differently.
  Sequential<T> local = model_with_norm();
  FitOptions<T> options = base;
  options.strategy = distributed::data_parallel<T>({.sync_batch_norm = false});
  local.fit(x, y, options);
  std::vector<Tensor<T>> trainable;  // the moving statistics are each process's own
  for (const Variable<T>& v : local.trainable_variables()) trainable.push_back(v.value());
  EXPECT_TRUE(same_on_every_process(trainable));
  EXPECT_GT(max_relative_difference(local.get_weights(), reference.get_weights()), 1e-3);
}

// With synchronised statistics an idle process cannot take part: refused before training.
TEST(DataParallel, BatchNormalizationNeedsASampleOnEveryProcess) {
  const auto [x, y] = blobs<float>(8);
  Sequential<float> m;
  m.add(Dense<float>(8, {.input_shape = {4}}));
  m.add(BatchNormalization<float>());
  m.add(Dense<float>(3, {.activation = "softmax"}));
  m.compile("adam", "sparse_categorical_crossentropy");
  const index_t p = world_size();
  FitOptions<float> options{.epochs = 1, .batch_size = p - 1, .verbose = 0};
  options.strategy = distributed::data_parallel<float>();
  expect_error<ValueError>([&] { m.fit(x, y, options); },
                           {"BatchNormalization ('batch_normalization')",
                            "a global batch of size " + std::to_string(p - 1) + " leaves"});
}

// A global batch smaller than the number of processes: some take part with no samples.
TEST(DataParallel, BatchSmallerThanProcessesStillEqualsOneProcess) {
  const auto [x, y] = blobs<double>(7);
  Sequential<double> reference = make_model<double>();
  Sequential<double> model = make_model<double>();
  expect_trains_as_one_process<double>(reference, model, x, y,
                                       {.epochs = 2, .batch_size = 2, .verbose = 0, .seed = 3},
                                       distributed::data_parallel<double>(), 10);
}

// Rank 1 fails in its third step: every process's fit throws, rank 1 its own error, the
// others RankFailedError naming rank 1 and repeating the message. A fit afterwards still works.
TEST(DataParallel, ErrorOnOneProcessStopsEveryProcess) {
  const auto [x, y] = blobs<float>(64);
  Sequential<float> model = make_model<float>();
  const int rank = world_rank();
  LambdaCallback<float> bad({.on_train_batch_begin = [rank](index_t batch, Logs&) {
    if (rank == 1 && batch == 2) throw IoError("could not read batch 2 on rank 1");
  }});
  FitOptions<float> options{.epochs = 2, .batch_size = 8, .verbose = 0};
  options.callbacks = {bad};
  // Small buckets: the others have sent some when rank 1 fails.
  options.strategy = distributed::data_parallel<float>({.bucket_bytes = 64});
  if (rank == 1) {
    EXPECT_THROW(
        {
          try {
            model.fit(x, y, options);
          } catch (const IoError& e) {
            EXPECT_NE(std::string(e.what()).find("could not read batch 2"), std::string::npos);
            throw;
          }
        },
        IoError);
  } else {
    EXPECT_THROW(
        {
          try {
            model.fit(x, y, options);
          } catch (const RankFailedError& e) {
            const std::string m = e.what();
            EXPECT_NE(m.find("rank 1 of"), std::string::npos) << m;
            EXPECT_NE(m.find("could not read batch 2 on rank 1"), std::string::npos) << m;
            throw;
          }
        },
        RankFailedError);
  }
  // The processes are still in step: a fit without the failure runs everywhere.
  FitOptions<float> again{.epochs = 1, .batch_size = 8, .verbose = 0};
  again.strategy = distributed::data_parallel<float>();
  EXPECT_NO_THROW(model.fit(x, y, again));
}

// A non-finite loss on rank 1 (a NaN in its shard of the third batch) stops it before its
// backward pass, while the others have already sent their gradients: every process stops, and
// the next fit starts clean.
TEST(DataParallel, NonFiniteLossOnOneProcessStopsEveryProcess) {
  auto [x, y] = blobs<float>(64);
  // Batch 3 of 8 samples (no shuffle) is samples 16..23; rank 1 of P trains on 16 + 8 / P...
  const index_t p = world_size();
  const index_t first_of_rank1 = 16 + 8 / p;
  x.data()[first_of_rank1 * 4] = std::numeric_limits<float>::quiet_NaN();
  Sequential<float> model = make_model<float>();
  FitOptions<float> options{.epochs = 1, .batch_size = 8, .shuffle = false, .verbose = 0};
  options.strategy = distributed::data_parallel<float>({.bucket_bytes = 64});
  if (world_rank() == 1)
    EXPECT_THROW(model.fit(x, y, options), NonFiniteError);
  else
    EXPECT_THROW(model.fit(x, y, options), RankFailedError);
  x.data()[first_of_rank1 * 4] = 0.0f;
  FitOptions<float> again{.epochs = 1, .batch_size = 8, .verbose = 0};
  again.strategy = distributed::data_parallel<float>({.bucket_bytes = 64});
  EXPECT_NO_THROW(model.fit(x, y, again));
  EXPECT_TRUE(same_on_every_process(model.get_weights()));
}

// A failure after the last step (a callback at the end of training, on rank 0 only) reaches
// the others too.
TEST(DataParallel, ErrorAfterTheLastStepStopsEveryProcess) {
  const auto [x, y] = blobs<float>(32);
  Sequential<float> model = make_model<float>();
  const int rank = world_rank();
  LambdaCallback<float> bad({.on_train_end = [rank](Logs&) {
    if (rank == 0) throw IoError("disk full");
  }});
  FitOptions<float> options{.epochs = 1, .batch_size = 8, .verbose = 0};
  options.callbacks = {bad};
  options.strategy = distributed::data_parallel<float>();
  if (rank == 0)
    EXPECT_THROW(model.fit(x, y, options), IoError);
  else
    EXPECT_THROW(model.fit(x, y, options), RankFailedError);
}

// Data of different sizes, or different models, are found before the first step.
TEST(DataParallel, DifferentDataSizesAreReported) {
  const int rank = world_rank();
  const auto [x, y] = blobs<float>(rank == 1 ? 31 : 32);
  Sequential<float> model = make_model<float>();
  FitOptions<float> options{.epochs = 1, .batch_size = 8, .verbose = 0};
  options.strategy = distributed::data_parallel<float>();
  expect_error<ValueError>([&] { model.fit(x, y, options); },
                           {"training samples: rank 0 has 32, rank 1 has 31"});
}

TEST(DataParallel, DifferentModelsAreReported) {
  const auto [x, y] = blobs<float>(32);
  Sequential<float> model = make_model<float>(world_rank() == 1 ? 9 : 8);
  FitOptions<float> options{.epochs = 1, .batch_size = 8, .verbose = 0};
  options.strategy = distributed::data_parallel<float>();
  expect_error<ValueError>(
      [&] { model.fit(x, y, options); },
      {"DataParallel: the processes differ in weight values: rank 0 has 67, rank 1 has 75"});
}

// Only rank 0 prints progress and runs the callbacks that write files.
TEST(DataParallel, OnlyRankZeroPrintsAndWritesFiles) {
  const auto [x, y] = blobs<float>(32);
  Sequential<float> model = make_model<float>();
  const std::string path =
      ::testing::TempDir() + "lamina_data_parallel_rank" + std::to_string(world_rank()) + ".csv";
  std::filesystem::remove(path);
  std::ostringstream progress;
  FitOptions<float> options{.epochs = 1, .batch_size = 8, .verbose = 2, .output = &progress};
  options.callbacks = {CSVLogger<float>(path)};
  options.strategy = distributed::data_parallel<float>();
  model.fit(x, y, options);
  EXPECT_EQ(std::filesystem::exists(path), world_rank() == 0);
  EXPECT_EQ(progress.str().find("Epoch 1/1") != std::string::npos, world_rank() == 0)
      << progress.str();
  std::filesystem::remove(path);
}

TEST(DataParallel, ShardsCoverTheBatchInOrder) {
  distributed::DataParallel<float> s;
  const auto [lo, hi] = s.shard(10, 17);
  const index_t p = world_size(), r = world_rank();
  EXPECT_EQ(lo, 10 + 7 * r / p);
  EXPECT_EQ(hi, 10 + 7 * (r + 1) / p);
}

}  // namespace

int main(int argc, char** argv) {
  distributed::Environment env(argc, argv);
  ::testing::InitGoogleTest(&argc, argv);
  int failed = RUN_ALL_TESTS();
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any;
}
