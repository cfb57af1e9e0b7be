// Fuzz target: the IDX reader (lamina/data/idx.hpp) on arbitrary bytes, raw or gzip. Any input
// must either read or throw lamina::Error; anything else (a crash, a sanitizer report, another
// exception such as std::bad_alloc, a leak) is a finding. Seeds: tests/fuzz/corpus/idx/.
// Run: scripts/fuzz.sh [--time SECONDS] idx (libFuzzer); CTest replays the corpus and
// tests/fuzz/regressions/idx/ through tests/fuzz/replay_main.cpp.
#include <cstddef>
#include <cstdint>
#include <span>

#include "lamina/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  try {
    const lamina::Tensor<float> t = lamina::read_idx<float>(bytes);
    // Touch every element, so that a size that disagrees with the buffer shows up.
    volatile float sum = 0.0f;
    for (float v : t) sum = sum + v;
  } catch (const lamina::Error&) {
  }
  try {
    const lamina::ByteTensor b = lamina::read_idx_bytes(bytes, {.rank = 3});
    volatile unsigned sum = 0;
    for (std::uint8_t v : b) sum = sum + v;
  } catch (const lamina::Error&) {
  }
  return 0;
}
