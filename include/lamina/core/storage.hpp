#pragma once

#include <cstddef>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#include "lamina/core/shape.hpp"

namespace lamina::detail {

/// Alignment of every tensor buffer: one cache line, enough for AVX-512 loads.
inline constexpr std::size_t kAlignment = 64;

/// Large buffers are recycled: a training step allocates the same sizes step after step, and
/// handing each large buffer back to the system only to fault its pages in again on the next
/// step cost up to half of a convolution's forward + backward. Buffers of at least kMinCachedBytes
/// (rounded up to whole pages) go back to a process-wide cache when freed, holding at most
/// kCacheBytes (the oldest are released first), and an allocation of the same rounded size takes
/// one from it. Smaller buffers go straight to the system allocator. Sanitizer builds bypass the
/// cache so that use-after-free stays detectable.
inline constexpr std::size_t kMinCachedBytes = std::size_t{64} << 10;
inline constexpr std::size_t kCacheBytes = std::size_t{64} << 20;

class BufferCache {
 public:
  /// The rounded size of a cached buffer of `bytes`.
  static std::size_t rounded(std::size_t bytes) { return (bytes + 4095) / 4096 * 4096; }

  /// A buffer of rounded(bytes) bytes: a cached one of that size if any, else a new one.
  void* allocate(std::size_t bytes) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      for (std::size_t i = free_.size(); i-- > 0;) {
        if (free_[i].bytes == bytes) {
          void* p = free_[i].data;
          free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
          held_ -= bytes;
          return p;
        }
      }
    }
    return ::operator new (bytes, std::align_val_t{kAlignment});
  }

  /// Takes back a buffer from allocate(bytes), releasing the oldest ones beyond kCacheBytes.
  void release(void* p, std::size_t bytes) {
    std::vector<Entry> evicted;
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      free_.push_back({p, bytes});
      held_ += bytes;
      std::size_t n = 0;
      while (held_ > kCacheBytes) {
        held_ -= free_[n].bytes;
        evicted.push_back(free_[n++]);
      }
      free_.erase(free_.begin(), free_.begin() + static_cast<std::ptrdiff_t>(n));
    }
    for (const Entry& e : evicted) ::operator delete (e.data, std::align_val_t{kAlignment});
  }

  /// Bytes of free buffers held.
  std::size_t held_bytes() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return held_;
  }

  /// The one cache. Never destroyed, so that tensors with static storage duration can still
  /// free their buffers at exit.
  ///
  /// Created, it frees one 8 MB block through the system allocator. glibc serves blocks above
  /// its mmap threshold (128 KB at first) with fresh pages that are faulted in on every use, and
  /// raises that threshold only when it sees such a block freed; with the large buffers kept
  /// here, it might never see one, and the workspace Eigen's GEMM allocates for each product
  /// (a few hundred KB) would then be faulted in on every product (+40% on a 128x784x128
  /// product). The one free moves glibc to the state any process that freed an 8 MB buffer is
  /// in; other allocators ignore it.
  static BufferCache& instance() {
    static BufferCache* cache = [] {
      ::operator delete(::operator new (std::size_t{8} << 20));
      return new BufferCache;
    }();
    return *cache;
  }

 private:
  struct Entry {
    void* data;
    std::size_t bytes;
  };
  std::mutex mutex_;
  std::vector<Entry> free_;  // oldest first
  std::size_t held_ = 0;
};

/// Whether buffers of `bytes` go through the BufferCache.
inline bool cached(std::size_t bytes) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  (void)bytes;
  return false;
#else
  return bytes >= kMinCachedBytes;
#endif
}

/// While alive, caps what the current thread may allocate through Storage: any buffer that would
/// take the thread's allocations since the limit was set past `max_bytes` throws a lamina::Error
/// naming the sizes instead. The model loader sets one, so that a file describing a layer of
/// 2^40 units fails cleanly instead of exhausting memory. Limits nest; the inner one rules.
class AllocationLimit {
 public:
  explicit AllocationLimit(std::size_t max_bytes) : previous_(state()) {
    state() = {max_bytes, 0, true};
  }
  ~AllocationLimit() { state() = previous_; }
  AllocationLimit(const AllocationLimit&) = delete;
  AllocationLimit& operator=(const AllocationLimit&) = delete;

  /// Counts `bytes` against the limit in force on this thread, if any; throws when over it.
  static void charge(std::size_t bytes) {
    State& s = state();
    if (!s.active) return;
    if (bytes > s.max_bytes - s.used)
      detail::fail<Error>("allocation of ", bytes, " bytes refused: it would exceed the limit of ",
                          s.max_bytes, " bytes in force (", s.used, " already allocated)");
    s.used += bytes;
  }

 private:
  struct State {
    std::size_t max_bytes = 0, used = 0;
    bool active = false;
  };
  static State& state() {
    static thread_local State s;
    return s;
  }
  State previous_;
};

/// An owning, 64-byte aligned, uninitialised buffer of `n` values of T.
template <class T>
class Storage {
 public:
  explicit Storage(index_t n) : size_(n) {
    if (n > 0) {
      // Rounded up to 4096 below: leave room for it, so that the byte count cannot wrap.
      check<ValueError>(static_cast<std::size_t>(n) <=
                            (std::numeric_limits<std::size_t>::max() - 4096) / sizeof(T),
                        "Storage: ", n, " values of ", sizeof(T),
                        " bytes are more than the address space can hold");
      const std::size_t bytes = static_cast<std::size_t>(n) * sizeof(T);
      AllocationLimit::charge(bytes);
      data_ = static_cast<T*>(cached(bytes)
                                  ? BufferCache::instance().allocate(BufferCache::rounded(bytes))
                                  : ::operator new (bytes, std::align_val_t{kAlignment}));
    }
  }
  ~Storage() {
    if (!data_) return;
    const std::size_t bytes = static_cast<std::size_t>(size_) * sizeof(T);
    if (cached(bytes))
      BufferCache::instance().release(data_, BufferCache::rounded(bytes));
    else
      ::operator delete (data_, std::align_val_t{kAlignment});
  }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  T* data() { return data_; }
  const T* data() const { return data_; }
  index_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  index_t size_ = 0;
};

}  // namespace lamina::detail
