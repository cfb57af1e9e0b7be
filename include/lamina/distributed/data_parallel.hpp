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
#include <unordered_map>
#include <utility>
#include <vector>

#include "lamina/autograd/engine.hpp"
#include "lamina/core/error.hpp"
#include "lamina/distributed/environment.hpp"  // <mpi.h>
#include "lamina/models/model.hpp"
#include "lamina/models/strategy.hpp"
#include "lamina/ops/normalization.hpp"

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
  /// summed by one non-blocking allreduce, launched during the backward pass as soon as every
  /// gradient in it is complete (and the buckets before it are launched).
  /// The default, 256 KB, splits even a small model such as the tutorial CNN (476 KB of
  /// gradients) so that its largest gradient travels while the convolutions' backward runs.
  std::size_t bucket_bytes = std::size_t(256) << 10;
  /// BatchNormalization takes its batch statistics over the global batch (PyTorch's
  /// SyncBatchNorm: two allreduces of the per-feature sums in its forward pass, one in its
  /// backward pass), so that training equals one process's. false: each process normalises
  /// its own shard, as Keras's default `synchronized=False` does, saving those allreduces.
  bool sync_batch_norm = true;
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
/// Overlap: the backward pass tells the strategy (an autograd::GradientHook) when each weight's
/// gradient is complete; a bucket's allreduce starts as soon as its gradients are, while the
/// backward pass goes on through the earlier layers, and each later hook call lets MPI progress
/// the allreduces in flight. The buckets travel on a communicator of their own (a duplicate of
/// `comm`), in the same order on every process.
///
/// BatchNormalization normalises with the global batch's statistics (sync_batch_norm), so its
/// moving statistics, too, stay equal on every process and equal one process's; a global batch
/// with fewer samples than processes (an idle process) is then refused at fit's start.
///
/// Not supported: models with their own train_step that does not call the strategy (GAN: fit
/// stops with a ValueError); Dropout masks are drawn per process.
template <class T>
class DataParallel final : public FitStrategy<T> {
 public:
  explicit DataParallel(DataParallelOptions options = {})
      : options_(options), hook_(*this), statistics_(*this) {
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
  ~DataParallel() override {
    install_hook(false);
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (bucket_comm_ != MPI_COMM_NULL && finalized == 0) MPI_Comm_free(&bucket_comm_);
  }
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  /// The gradient buckets of this fit (planned at its start), and how many of them the last
  /// step's backward pass launched before it ended (the rest start after it).
  std::size_t buckets() const { return buckets_.size(); }
  std::size_t buckets_launched_during_backward() const { return launched_during_backward_; }
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
    all.emplace_back("sync_batch_norm", options_.sync_batch_norm ? 1 : 0);
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
    if (bucket_comm_ == MPI_COMM_NULL) MPI_Comm_dup(options_.comm, &bucket_comm_);
    plan_buckets(optimizer.parameters());
    check_batch_norm_batches(model, settings);
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
    // The backward pass of this step launches the buckets (gradient_ready).
    for (std::size_t b = 0; b < buckets_.size(); ++b)
      missing_[b] = buckets_[b].last - buckets_[b].first;
    std::fill(ready_.begin(), ready_.end(), false);
    launched_ = 0;
    requests_.clear();
    install_hook(true);
    return {lo, hi};
  }

  std::pair<index_t, index_t> validation_part(index_t n) const override {
    if (n < size_) return {0, n};
    return {n * rank_ / size_, n * (rank_ + 1) / size_};
  }

  void reduce_gradients(const std::vector<Variable<T>>& variables) override {
    install_hook(false);
    launched_during_backward_ = launched_;
    agree();
    check(step_open_, "DataParallel: reduce_gradients outside a training step");
    check(variables.size() == variables_.size() &&
              std::equal(
                  variables.begin(), variables.end(), variables_.begin(),
                  [](const Variable<T>& a, const Variable<T>& b) { return a.node() == b.node(); }),
          "DataParallel: the trainable variables changed during fit (", variables.size(), " now, ",
          variables_.size(), " at its start)");
    // The buckets backward did not complete (weights it did not reach; all of them for an
    // empty shard), then one of a flag per variable: whether any process has a gradient.
    while (launched_ < buckets_.size()) launch_bucket(launched_);
    for (std::size_t v = 0; v < variables_.size(); ++v)
      flags_[v] = local_ > 0 && variables_[v].has_grad() ? T(1) : T(0);
    requests_.push_back(launch(flags_));
    MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE);
    requests_.clear();
    for (const Bucket& bucket : buckets_) {
      const T* in = bucket.data.data();
      for (std::size_t v = bucket.first; v < bucket.last; ++v) {
        Variable<T>& var = variables_[v];
        const std::size_t size = std::size_t(var.size());
        if (flags_[v] > T(0)) {
          Tensor<T> g = Tensor<T>::empty(var.shape());
          // sum_r m_r g_r / m: a division, so that one process (m_r = m) gets its own gradient.
          for (std::size_t e = 0; e < size; ++e) g.data()[e] = in[e] / static_cast<T>(global_);
          var.set_grad(std::move(g));
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
    install_hook(false);
    check<ValueError>(!step_open_ || reduced_,
                      "DataParallel: the model's train_step did not reduce its gradients (a "
                      "model with its own train_step, such as GAN, cannot train data-parallel)");
    step_open_ = false;
    agree();
  }

  void fail(std::exception_ptr error) override {
    install_hook(false);
    step_open_ = false;
    agreement(rank_, detail::what(error));
  }

 private:
  struct Bucket {
    std::vector<T> data;
    std::size_t first = 0, last = 0;  // the variables it holds, [first, last)
  };

  /// What the backward pass calls: a weight's gradient is complete.
  class Hook final : public autograd::GradientHook<T> {
   public:
    explicit Hook(DataParallel& owner) : owner_(owner) {}
    void gradient_ready(const autograd::Node<T>& leaf) override { owner_.gradient_ready(leaf); }

   private:
    DataParallel& owner_;
  };

  /// Buckets of whole variables, the last variables (whose gradients backward makes first)
  /// first, each of about options_.bucket_bytes.
  void plan_buckets(const std::vector<Variable<T>>& variables) {
    variables_ = variables;
    index_.clear();
    for (std::size_t v = 0; v < variables_.size(); ++v) index_[variables_[v].node().get()] = v;
    const std::size_t per_bucket = std::max<std::size_t>(1, options_.bucket_bytes / sizeof(T));
    buckets_.clear();
    bucket_of_.assign(variables_.size(), 0);
    for (std::size_t i = variables_.size(); i > 0;) {
      Bucket b;
      b.last = i;
      std::size_t count = 0;
      while (i > 0 && (count == 0 || count + std::size_t(variables_[i - 1].size()) <= per_bucket)) {
        count += std::size_t(variables_[--i].size());
        bucket_of_[i] = buckets_.size();
      }
      b.first = i;
      b.data.resize(count);
      buckets_.push_back(std::move(b));
    }
    missing_.assign(buckets_.size(), 0);
    ready_.assign(variables_.size(), false);
    flags_.assign(variables_.size(), T(0));
    launched_ = 0;
  }

  /// The gradient hook, and with sync_batch_norm the batch statistics, on this thread for a
  /// step (on) or not (off).
  void install_hook(bool on) {
    if (on == hook_installed_) return;
    if (on) {
      previous_hook_ = std::exchange(autograd::detail::gradient_hook<T>(), &hook_);
      if (options_.sync_batch_norm)
        previous_statistics_ =
            std::exchange(lamina::detail::batch_norm_statistics<T>(), &statistics_);
    } else {
      autograd::detail::gradient_hook<T>() = previous_hook_;
      if (options_.sync_batch_norm)
        lamina::detail::batch_norm_statistics<T>() = previous_statistics_;
    }
    hook_installed_ = on;
  }

  /// What batch_norm calls in a step: the global batch's statistics.
  class Statistics final : public BatchNormStatistics<T> {
   public:
    explicit Statistics(DataParallel& owner) : owner_(owner) {}
    index_t local_samples() const override { return owner_.local_; }
    index_t global_samples() const override { return owner_.global_; }
    void sum(T* values, std::size_t count) override {
      owner_.agree();
      check(count <= std::size_t(INT_MAX), "DataParallel: ", count,
            " batch statistics are too many for one allreduce");
      MPI_Allreduce(MPI_IN_PLACE, values, static_cast<int>(count), detail::mpi_type<T>(), MPI_SUM,
                    owner_.options_.comm);
    }

   private:
    DataParallel& owner_;
  };

  /// With synchronised batch normalisation every process must run every step's forward pass:
  /// a global batch smaller than the number of processes would leave one out.
  void check_batch_norm_batches(Model<T>& model,
                                const std::vector<std::pair<std::string, std::int64_t>>& settings) {
    if (!options_.sync_batch_norm || size_ == 1) return;
    const std::vector<Layer<T>*> layers = model.layers();
    const auto norm = std::find_if(layers.begin(), layers.end(), [](const Layer<T>* l) {
      return l->type() == "BatchNormalization";
    });
    if (norm == layers.end()) return;
    std::int64_t n = 0, batch = 0;
    for (const auto& [name, value] : settings) {
      if (name == "training samples") n = value;
      if (name == "batch_size") batch = value;
    }
    const std::int64_t last = batch > 0 ? n % batch : 0;
    const std::int64_t smallest = n < batch ? n : (last > 0 ? last : batch);
    check<ValueError>(smallest >= size_, "DataParallel: the model has BatchNormalization ('",
                      (*norm)->name(),
                      "'), whose statistics every process computes together, "
                      "but a global batch of size ",
                      smallest, " leaves a process of ", size_, " without a sample (", n,
                      " training samples, batch_size ", batch,
                      "); choose a batch_size that gives every process a sample, or "
                      "sync_batch_norm = false");
  }

  void gradient_ready(const autograd::Node<T>& leaf) {
    const auto it = index_.find(&leaf);
    if (it == index_.end()) return;  // a leaf that is not a trainable weight
    const std::size_t v = it->second, b = bucket_of_[v];
    check(!ready_[v] || b >= launched_, "DataParallel: the gradient of trainable variable ", v,
          " changed after its bucket was sent (a train_step must run one backward pass per "
          "step)");
    if (!ready_[v]) {
      ready_[v] = true;
      --missing_[b];
    }
    while (launched_ < buckets_.size() && missing_[launched_] == 0) launch_bucket(launched_);
    // Lets MPI move the allreduces in flight along (it progresses them only inside its calls).
    if (!requests_.empty()) {
      int done = 0;
      MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE);
    }
  }

  /// Packs bucket b (this process's gradients times its sample count) and starts its allreduce.
  void launch_bucket(std::size_t b) {
    Bucket& bucket = buckets_[b];
    T* out = bucket.data.data();
    const T scale = static_cast<T>(local_);
    for (std::size_t v = bucket.first; v < bucket.last; ++v) {
      const std::size_t size = std::size_t(variables_[v].size());
      if (local_ > 0 && variables_[v].has_grad()) {
        const Tensor<T> g = variables_[v].grad();
        for (std::size_t e = 0; e < size; ++e) out[e] = scale * g.data()[e];
      } else {
        std::fill_n(out, size, T(0));
      }
      out += size;
    }
    requests_.push_back(launch(bucket.data));
    ++launched_;
  }

  /// Starts the allreduce of `data` on the buckets' communicator.
  MPI_Request launch(std::vector<T>& data) {
    check(data.size() <= std::size_t(INT_MAX), "DataParallel: a variable of ", data.size(),
          " values is too large for one allreduce");
    MPI_Request request;
    MPI_Iallreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), detail::mpi_type<T>(),
                   MPI_SUM, bucket_comm_, &request);
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
    abandon_buckets();
    return first;
  }
  /// After a failure the processes may have launched different numbers of buckets, which can
  /// never match: every process leaves them (and their buffers, which MPI may still write) and
  /// continues on a fresh duplicate of the communicator.
  void abandon_buckets() {
    if (bucket_comm_ == MPI_COMM_NULL) return;  // before the first begin(): nothing launched
    for (Bucket& b : buckets_) {
      std::vector<T> fresh(b.data.size());
      abandoned_.push_back(std::exchange(b.data, std::move(fresh)));
    }
    abandoned_.push_back(std::exchange(flags_, std::vector<T>(flags_.size())));
    requests_.clear();
    launched_ = 0;
    MPI_Comm_free(&bucket_comm_);
    MPI_Comm_dup(options_.comm, &bucket_comm_);
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
  std::string failure_;
  // Gradient buckets, planned at begin(): the trainable variables, where each one's node is
  // among them, its bucket, each bucket's count of gradients not complete yet in this step.
  std::vector<Variable<T>> variables_;
  std::unordered_map<const autograd::Node<T>*, std::size_t> index_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_, missing_;
  std::vector<bool> ready_;
  std::vector<T> flags_;
  std::size_t launched_ = 0;  // buckets launched in this step, in order
  std::size_t launched_during_backward_ = 0;
  std::vector<MPI_Request> requests_;
  MPI_Comm bucket_comm_ = MPI_COMM_NULL;
  std::vector<std::vector<T>> abandoned_;  // buffers of allreduces left after a failure
  Hook hook_;
  Statistics statistics_;
  autograd::GradientHook<T>* previous_hook_ = nullptr;
  BatchNormStatistics<T>* previous_statistics_ = nullptr;
  bool hook_installed_ = false;
};

/// A DataParallel strategy for FitOptions::strategy: `{.strategy = data_parallel<float>()}`.
template <class T>
std::shared_ptr<FitStrategy<T>> data_parallel(DataParallelOptions options = {}) {
  return std::make_shared<DataParallel<T>>(options);
}

}  // namespace lamina::distributed
