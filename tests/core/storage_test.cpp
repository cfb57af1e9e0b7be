#include "lamina/core/storage.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "lamina/core/tensor.hpp"

namespace lamina {
namespace {

using detail::BufferCache;
using detail::Storage;

constexpr index_t kLarge = index_t{1} << 20;  // floats: 4 MB, cached
constexpr index_t kSmall = 1000;              // floats: 4 KB, never cached

bool cache_in_use() { return detail::cached(static_cast<std::size_t>(kLarge) * sizeof(float)); }

TEST(Storage, BuffersAreAlignedForAvx512) {
  for (const index_t n : {index_t{1}, kSmall, kLarge}) {
    Storage<float> s(n);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(s.data()) % detail::kAlignment, 0u) << n;
    s.data()[n - 1] = 1.0f;  // the whole buffer is writable
  }
  EXPECT_EQ(Storage<float>(0).data(), nullptr);
}

// The cache's own tests skip themselves in sanitizer builds, where freed buffers go straight back
// to the system so that use-after-free stays detectable; this checks that mode in both builds.
TEST(Storage, SanitizerBuildsBypassTheCache) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  ASSERT_FALSE(cache_in_use());
  // A freed large buffer is not kept.
  const std::size_t before = BufferCache::instance().held_bytes();
  { Storage<float> large(kLarge); }
  EXPECT_EQ(BufferCache::instance().held_bytes(), before);
#else
  EXPECT_TRUE(cache_in_use());
#endif
}

TEST(Storage, LargeBuffersAreReusedBySize) {
  if (!cache_in_use()) GTEST_SKIP() << "sanitizer build: checked by SanitizerBuildsBypassTheCache";
  const float* first = nullptr;
  {
    Storage<float> a(kLarge);
    first = a.data();
  }
  // The same size, rounded up to whole pages, takes the freed buffer back.
  Storage<float> b(kLarge - 3);
  EXPECT_EQ(b.data(), first);
  // Another size does not.
  Storage<float> c(kLarge);
  EXPECT_NE(c.data(), first);
}

TEST(Storage, MostRecentlyFreedIsReusedFirst) {
  if (!cache_in_use()) GTEST_SKIP() << "sanitizer build: checked by SanitizerBuildsBypassTheCache";
  const float* later = nullptr;
  {
    Storage<float> a(2 * kLarge), b(2 * kLarge);
    // a is freed after b (reverse order of construction), so a is the most recent.
    later = a.data();
  }
  Storage<float> c(2 * kLarge);
  EXPECT_EQ(c.data(), later);
}

TEST(Storage, CacheHoldsAtMostItsLimitReleasingTheOldest) {
  if (!cache_in_use()) GTEST_SKIP() << "sanitizer build: checked by SanitizerBuildsBypassTheCache";
  // Eight buffers of a quarter of the limit each: once all are freed, the cache holds the last
  // four (exactly the limit), everything older having been released.
  const std::size_t quarter = detail::kCacheBytes / 4;
  const index_t n = static_cast<index_t>(quarter / sizeof(float));
  std::vector<std::unique_ptr<Storage<float>>> held;
  std::vector<const float*> freed;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<Storage<float>>(n));
    freed.push_back(held.back()->data());
  }
  for (auto& s : held) s.reset();  // freed in order 0..7
  EXPECT_EQ(BufferCache::instance().held_bytes(), detail::kCacheBytes);
  // The most recently freed comes back first.
  Storage<float> again(n);
  EXPECT_EQ(again.data(), freed.back());
  EXPECT_EQ(BufferCache::instance().held_bytes(), 3 * quarter);
}

TEST(Storage, ReusedBuffersBehaveAsNewTensors) {
  { Tensor<float> a = Tensor<float>::full({kLarge}, 7.0f); }
  const Tensor<float> zeros({kLarge});
  for (const float v : zeros) ASSERT_EQ(v, 0.0f);
  const Tensor<float> ones = Tensor<float>::ones({kLarge});
  for (const float v : ones) ASSERT_EQ(v, 1.0f);
}

TEST(Storage, ThreadsAllocateAndFreeConcurrently) {
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &ok] {
      bool good = true;
      for (int i = 0; i < 50; ++i) {
        Storage<float> s(kLarge / 4 + (i % 3) * 1024);
        const float mark = static_cast<float>(t * 1000 + i);
        for (index_t k = 0; k < s.size(); k += 4096) s.data()[k] = mark;
        for (index_t k = 0; k < s.size(); k += 4096) good = good && s.data()[k] == mark;
      }
      ok[static_cast<std::size_t>(t)] = good ? 1 : 0;
    });
  }
  for (std::thread& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[static_cast<std::size_t>(t)], 1) << "thread " << t;
}

TEST(Storage, RoundedSizesAreWholePages) {
  EXPECT_EQ(BufferCache::rounded(1), 4096u);
  EXPECT_EQ(BufferCache::rounded(4096), 4096u);
  EXPECT_EQ(BufferCache::rounded(4097), 8192u);
}

}  // namespace
}  // namespace lamina
