#pragma once

/// Data-parallel training over MPI (Horovod's and PyTorch DDP's scheme) as a fit strategy:
///
///   lamina::distributed::Environment env(argc, argv);
///   model.fit(x, y, {.epochs = 5, .strategy = lamina::distributed::data_parallel<float>()});
///
/// Every process holds the whole data set and a replica of the model. fit's batch_size stays the
/// global batch; every process shuffles alike and trains on its contiguous shard of each global
/// batch. Needs MPI (CMake target lamina::mpi); lamina.hpp does not include it.

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/distributed/environment.hpp"  // <mpi.h>
#include "lamina/models/model.hpp"
#include "lamina/models/strategy.hpp"

namespace lamina::distributed {

namespace detail {

template <class T>
MPI_Datatype mpi_type();
template <>
inline MPI_Datatype mpi_type<float>() {
  return MPI_FLOAT;
}
template <>
inline MPI_Datatype mpi_type<double>() {
  return MPI_DOUBLE;
}

/// A running hash (boost's hash_combine step, 64-bit), to compare models across processes.
inline std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  return h ^ (v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2));
}
inline std::uint64_t mix(std::uint64_t h, const std::string& s) {
  for (const unsigned char c : s) h = mix(h, c);
  return mix(h, s.size());
}

/// The message of an exception.
inline std::string what(std::exception_ptr error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace detail

/// Options of DataParallel.
struct DataParallelOptions {
  /// Gradients travel in buckets of about this many bytes (the last layers' first), each
  /// summed by one non-blocking allreduce, launched as soon as it is packed.
  std::size_t bucket_bytes = std::size_t(4) << 20;
  /// The processes that train together.
  MPI_Comm comm = MPI_COMM_WORLD;
};

/// Synchronous data parallelism across the processes of an MPI communicator.
///
/// What it guarantees: at fit's start rank 0's weights (all of them, trainable or not) and
/// optimizer state (slots and step count) are copied to every process, after checking that every
/// process has the same model (weight names and shapes), optimizer state and data sizes and fit
/// settings. Each step, process r trains on samples [b + m r / P, b + m (r + 1) / P) of the global
/// batch [b, b + m) (P processes; a process whose part is empty still takes part), and the
/// gradients become sum_r m_r g_r / m (g_r the gradient of process r's mean loss over its m_r
/// samples), which is the gradient of the mean loss over the global batch: the weights follow a
/// single process's to round-off, and stay bitwise equal across processes. The logs (loss,
/// metrics, validation) are sample-weighted means over the processes, the same on every one:
/// exact for the loss and mean metrics such as accuracy, an approximation for ratio metrics
/// (precision, recall, AUC). Only rank 0 prints progress and runs callbacks that write files.
/// An exception on one process makes every process's fit throw at its next step (this one's
/// error there, RankFailedError naming it elsewhere).
///
/// Not supported: models with their own train_step that does not call the strategy (GAN: fit
/// stops with a ValueError); BatchNormalization's batch statistics are per process (not
/// synchronised); Dropout masks are drawn per process.
template <class T>
class DataParallel final : public FitStrategy<T> {
 public:
  explicit DataParallel(DataParallelOptions options = {}) : options_(options) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    check(initialized != 0,
          "DataParallel: MPI is not initialised; create a lamina::distributed::Environment first");
    check<ValueError>(options_.bucket_bytes >= sizeof(T),
                      "DataParallel: bucket_bytes must hold at least one value, got ",
                      options_.bucket_bytes);
    MPI_Comm_rank(options_.comm, &rank_);
    MPI_Comm_size(options_.comm, &size_);
  }

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool chief() const override { return rank_ == 0; }

  void begin(Model<T>& model,
             const std::vector<std::pair<std::string, std::int64_t>>& settings) override {
    agree();
    step_open_ = false;
    // Everything that must be equal on every process, gathered from all of them.
    std::vector<std::pair<std::string, std::int64_t>> all = settings;
    std::uint64_t weights_hash = 0, state_hash = 0;
    std::int64_t values = 0;
    const auto weights = model.named_weights();
    for (const auto& [path, v] : weights) {
      weights_hash = detail::mix(weights_hash, path);
      for (const index_t d : v.shape()) weights_hash = detail::mix(weights_hash, std::uint64_t(d));
      values += v.size();
    }
    Optimizer<T>& optimizer = model.optimizer();
    std::vector<Tensor<T>> tensors;  // what rank 0 sends: weights, then optimizer state
    for (const auto& [path, v] : weights) tensors.push_back(v.value());
    for (std::size_t i = 0; i < optimizer.parameters().size(); ++i)
      for (const auto& [slot, t] : optimizer.state_tensors(i)) {
        state_hash = detail::mix(state_hash, slot);
        for (const index_t d : t.shape()) state_hash = detail::mix(state_hash, std::uint64_t(d));
        tensors.push_back(t);
      }
    all.emplace_back("weights", static_cast<std::int64_t>(weights.size()));
    all.emplace_back("weight values", values);
    all.emplace_back("weight names and shapes (hash)", static_cast<std::int64_t>(weights_hash));
    all.emplace_back("trainable variables",
                     static_cast<std::int64_t>(optimizer.parameters().size()));
    all.emplace_back("optimizer state (hash)", static_cast<std::int64_t>(state_hash));
    const int k = static_cast<int>(all.size());
    std::vector<std::int64_t> mine, every(all.size() * std::size_t(size_));
    for (const auto& [name, value] : all) mine.push_back(value);
    MPI_Allgather(mine.data(), k, MPI_INT64_T, every.data(), k, MPI_INT64_T, options_.comm);
    for (int j = 0; j < k; ++j)
      for (int r = 1; r < size_; ++r)
        check<ValueError>(every[std::size_t(r * k + j)] == every[std::size_t(j)],
                          "DataParallel: the processes differ in ", all[std::size_t(j)].first,
                          ": rank 0 has ", every[std::size_t(j)], ", rank ", r, " has ",
                          every[std::size_t(r * k + j)],
                          "; every process must build the same model and fit it on data of the "
                          "same size with the same options");
    broadcast(tensors);
    std::int64_t iterations = optimizer.iterations();
    MPI_Bcast(&iterations, 1, MPI_INT64_T, 0, options_.comm);
    optimizer.set_iterations(iterations);
  }

  std::pair<index_t, index_t> shard(index_t begin, index_t end) override {
    check<ValueError>(!step_open_ || reduced_,
                      "DataParallel: the model's train_step did not reduce its gradients (a "
                      "model with its own train_step, such as GAN, cannot train data-parallel)");
    const index_t m = end - begin;
    const index_t lo = begin + m * rank_ / size_, hi = begin + m * (rank_ + 1) / size_;
    local_ = hi - lo;
    global_ = m;
    step_open_ = true;
    reduced_ = false;
    return {lo, hi};
  }

  std::pair<index_t, index_t> validation_part(index_t n) const override {
    if (n < size_) return {0, n};
    return {n * rank_ / size_, n * (rank_ + 1) / size_};
  }

  void reduce_gradients(const std::vector<Variable<T>>& variables) override {
    agree();
    check(step_open_, "DataParallel: reduce_gradients outside a training step");
    const std::size_t n = variables.size();
    const std::size_t bucket = std::max<std::size_t>(1, options_.bucket_bytes / sizeof(T));
    // Buckets of whole variables, the last variables (whose gradients backward makes first)
    // first; one more bucket holds a flag per variable: whether any process has a gradient.
    buckets_used_ = 0;
    std::vector<MPI_Request> requests;
    std::size_t i = n;
    while (i > 0) {
      std::size_t first = i, count = 0;
      while (first > 0 &&
             (count == 0 || count + std::size_t(variables[first - 1].size()) <= bucket))
        count += std::size_t(variables[--first].size());
      Bucket& b = next_bucket(count);
      b.first = first;
      b.last = i;
      T* out = b.data.data();
      for (std::size_t v = first; v < i; ++v) {
        const std::size_t size = std::size_t(variables[v].size());
        if (local_ > 0 && variables[v].has_grad()) {
          const Tensor<T> g = variables[v].grad();
          const T scale = static_cast<T>(local_);
          for (std::size_t e = 0; e < size; ++e) out[e] = scale * g.data()[e];
        } else {
          std::fill_n(out, size, T(0));
        }
        out += size;
      }
      requests.push_back(launch(b.data));
      i = first;
    }
    Bucket& flags = next_bucket(n);
    for (std::size_t v = 0; v < n; ++v)
      flags.data[v] = local_ > 0 && variables[v].has_grad() ? T(1) : T(0);
    requests.push_back(launch(flags.data));
    MPI_Waitall(static_cast<int>(requests.size()), requests.data(), MPI_STATUSES_IGNORE);
    for (std::size_t b = 0; b + 1 < buckets_used_; ++b) {
      const T* in = buckets_[b].data.data();
      for (std::size_t v = buckets_[b].first; v < buckets_[b].last; ++v) {
        Variable<T> var = variables[v];
        const std::size_t size = std::size_t(var.size());
        if (flags.data[v] > T(0)) {
          Tensor<T> g = Tensor<T>::empty(var.shape());
          // sum_r m_r g_r / m: a division, so that one process (m_r = m) gets its own gradient.
          for (std::size_t e = 0; e < size; ++e) g.data()[e] = in[e] / static_cast<T>(global_);
          var.zero_grad();
          var.backward(g);  // a leaf: its gradient becomes g
        }
        in += size;
      }
    }
    reduced_ = true;
  }

  void reduce_logs(Logs& logs, index_t samples) override {
    agree();
    std::vector<double> sums{double(samples)};
    for (const auto& [key, value] : logs) sums.push_back(samples > 0 ? value * double(samples) : 0);
    MPI_Allreduce(MPI_IN_PLACE, sums.data(), static_cast<int>(sums.size()), MPI_DOUBLE, MPI_SUM,
                  options_.comm);
    std::size_t j = 1;
    for (auto& [key, value] : logs) value = sums[j++] / sums[0];
  }

  void end() override {
    check<ValueError>(!step_open_ || reduced_,
                      "DataParallel: the model's train_step did not reduce its gradients (a "
                      "model with its own train_step, such as GAN, cannot train data-parallel)");
    step_open_ = false;
    agree();
  }

  void fail(std::exception_ptr error) override {
    step_open_ = false;
    agreement(rank_, detail::what(error));
  }

 private:
  struct Bucket {
    std::vector<T> data;
    std::size_t first = 0, last = 0;  // the variables it holds, [first, last)
  };

  /// A bucket of `count` values, reusing the buffers of earlier steps.
  Bucket& next_bucket(std::size_t count) {
    if (buckets_used_ == buckets_.size()) buckets_.emplace_back();
    Bucket& b = buckets_[buckets_used_++];
    b.data.resize(count);
    return b;
  }
  MPI_Request launch(std::vector<T>& data) {
    check(data.size() <= std::size_t(INT_MAX), "DataParallel: a variable of ", data.size(),
          " values is too large for one allreduce");
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), detail::mpi_type<T>(),
                   MPI_SUM, options_.comm, &request);
    return request;
  }

  /// Rank 0's values of `tensors` copied into every process's.
  void broadcast(std::vector<Tensor<T>>& tensors) {
    std::size_t total = 0;
    for (const Tensor<T>& t : tensors) total += std::size_t(t.size());
    std::vector<T> buffer(total);
    if (rank_ == 0) {
      T* out = buffer.data();
      for (const Tensor<T>& t : tensors) out = std::copy(t.begin(), t.end(), out);
    }
    for (std::size_t at = 0; at < total; at += std::size_t(INT_MAX)) {
      const int count = static_cast<int>(std::min(total - at, std::size_t(INT_MAX)));
      MPI_Bcast(buffer.data() + at, count, detail::mpi_type<T>(), 0, options_.comm);
    }
    const T* in = buffer.data();
    for (Tensor<T>& t : tensors) {
      std::copy(in, in + t.size(), t.data());
      in += t.size();
    }
  }

  /// Every process's collective call starts here: the lowest rank that failed (size() when none)
  /// and its message, broadcast to all. A process that failed calls it with its own rank.
  int agreement(int mine, const std::string& message) {
    int first = mine;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, options_.comm);
    if (first == size_) return first;
    std::string text = rank_ == first ? message : std::string();
    long long length = static_cast<long long>(text.size());
    MPI_Bcast(&length, 1, MPI_LONG_LONG, first, options_.comm);
    text.resize(static_cast<std::size_t>(length));
    MPI_Bcast(text.data(), static_cast<int>(length), MPI_CHAR, first, options_.comm);
    failure_ = std::move(text);
    return first;
  }
  /// The agreement of a healthy process: throws RankFailedError when another one failed.
  void agree() {
    const int first = agreement(size_, {});
    if (first < size_) {
      step_open_ = false;
      throw RankFailedError(
          lamina::detail::cat("DataParallel: rank ", first, " of ", size_, " failed: ", failure_));
    }
  }

  DataParallelOptions options_;
  int rank_ = 0, size_ = 1;
  index_t local_ = 0, global_ = 0;  // the shard's and the global batch's sample counts
  bool step_open_ = false, reduced_ = false;
  std::vector<Bucket> buckets_;
  std::size_t buckets_used_ = 0;
  std::string failure_;
};

/// A DataParallel strategy for FitOptions::strategy: `{.strategy = data_parallel<float>()}`.
template <class T>
std::shared_ptr<FitStrategy<T>> data_parallel(DataParallelOptions options = {}) {
  return std::make_shared<DataParallel<T>>(options);
}

}  // namespace lamina::distributed
