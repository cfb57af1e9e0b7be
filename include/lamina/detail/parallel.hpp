#pragma once

#include <algorithm>
#include <array>
#include <memory>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "lamina/core/shape.hpp"
#include "lamina/core/storage.hpp"
#include "lamina/detail/gemm.hpp"

// Threads for the kernels. Compiled with OpenMP (-fopenmp), kernels split their work into
// independent pieces (images of a batch, row blocks of a product) and run them on all of
// OpenMP's threads; compiled without it, the same code runs serially. Eigen's own threading
// is not used: its parallel GEMM makes the threads wait for each other inside every product,
// which gains nothing on a CNN's small products and loses badly when the machine is busy
// (one delayed thread stalls the other). Each piece is a serial Eigen product instead.

namespace lamina::detail {

/// How many threads a kernel may use: OpenMP's thread count, or 1 without OpenMP or inside a
/// parallel region the caller already opened (kernels never nest).
inline int max_threads() {
#ifdef _OPENMP
  return omp_in_parallel() ? 1 : omp_get_max_threads();
#else
  return 1;
#endif
}

/// Work (in multiply-adds, or comparable units) below which a kernel stays on one thread:
/// about 50-100 us of arithmetic. Opening a parallel region costs a few microseconds on an idle
/// machine, but on a busy one the join waits until the other thread gets a core (milliseconds),
/// so only work that gains clearly is split.
inline constexpr double kMinParallelWork = 1 << 22;

/// The work of one elementwise operation on one value (an activation's derivative, a column
/// sum), in the units of kMinParallelWork: memory-bound passes gain from a second thread only
/// on large tensors.
inline constexpr double kElementwiseWork = 16;

/// The threads a kernel doing `work` uses: 1 below kMinParallelWork, else max_threads().
inline int threads_for(double work) { return work < kMinParallelWork ? 1 : max_threads(); }

/// The number of threads parallel_for(n, grain, threads, f) runs f on: one per piece, at most
/// `threads` and max_threads(). Kernels size per-thread accumulators with it.
inline int parallel_threads(index_t n, index_t grain, int threads) {
  grain = std::max<index_t>(grain, 1);
  const index_t pieces = n <= 0 ? 0 : (n + grain - 1) / grain;
  const index_t most = std::min<index_t>(threads, max_threads());
  return static_cast<int>(std::max<index_t>(1, std::min<index_t>(most, pieces)));
}

/// While alive, Eigen's products on this thread run serially (through the calling thread's own
/// OpenMP thread-count setting, which Eigen reads and which is restored on exit).
class SerialEigen {
 public:
#ifdef _OPENMP
  SerialEigen() : saved_(omp_get_max_threads()) { omp_set_num_threads(1); }
  ~SerialEigen() { omp_set_num_threads(saved_); }
#else
  SerialEigen() = default;
#endif
  SerialEigen(const SerialEigen&) = delete;
  SerialEigen& operator=(const SerialEigen&) = delete;

 private:
#ifdef _OPENMP
  int saved_;
#endif
};

/// Calls f(begin, end, thread) for consecutive pieces [begin, end) of [0, n), each at most
/// `grain` long, on up to `threads` threads (from threads_for), where `thread` in
/// [0, parallel_threads(n, grain, threads)) is the calling thread's index. Pieces are handed
/// out one at a time, so a thread the OS delays does not hold up the others; which pieces a
/// thread gets therefore changes from run to run, so per-thread partial sums would make results
/// irreproducible: reductions use parallel_for_parts. f runs concurrently on disjoint pieces and
/// must not throw (an exception cannot leave an OpenMP region). Eigen runs serially inside f.
template <class F>
void parallel_for(index_t n, index_t grain, int threads, F&& f) {
  if (n <= 0) return;
  grain = std::max<index_t>(grain, 1);
  const index_t pieces = (n + grain - 1) / grain;
  threads = parallel_threads(n, grain, threads);
  if (threads == 1) {
    [[maybe_unused]] const SerialEigen serial;
    for (index_t p = 0; p < pieces; ++p) f(p * grain, std::min(n, (p + 1) * grain), 0);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (index_t p = 0; p < pieces; ++p)
    f(p * grain, std::min(n, (p + 1) * grain), omp_get_thread_num());
#endif
}

/// A per-thread buffer of at least n values of T, one per `slot` (0 to 3) so that a kernel can
/// hold several at once. It is reused by later calls on the same thread (growing when needed),
/// so a kernel must be done with it before it calls another kernel that uses the same slot.
template <class T>
T* scratch(int slot, index_t n) {
  thread_local std::array<std::unique_ptr<Storage<T>>, 4> buffers;
  std::unique_ptr<Storage<T>>& b = buffers[static_cast<std::size_t>(slot)];
  if (!b || b->size() < n) {
    b.reset();
    b = std::make_unique<Storage<T>>(n);
  }
  return b->data();
}

/// Pieces of `extent` rows (or images, ...) for `threads` threads: `per_thread` per thread (four
/// by default, to even out a thread the OS delays), each a multiple of `multiple`; the whole
/// extent for one thread.
inline index_t split_grain(index_t extent, int threads, index_t multiple = 16,
                           index_t per_thread = 4) {
  if (threads <= 1) return std::max<index_t>(extent, 1);
  const index_t pieces = per_thread * static_cast<index_t>(threads);
  return ((extent + pieces - 1) / pieces + multiple - 1) / multiple * multiple;
}

/// Calls f(begin, end, part) on consecutive pieces [begin, end) of [0, n), each at most `grain`
/// long, grouped into parts of `part_size` items: part p is [p * part_size, (p + 1) * part_size)
/// (the last one shorter), there are ceil(n / part_size) of them, and the pieces of one part run
/// on one thread, in order. A reduction that accumulates each part into its own partial sum and
/// then combines the partials in part order (sum_parts) gets the same bits whichever thread runs
/// which part: the split depends on n, part_size and grain only, never on scheduling. Parts are
/// handed out one at a time, as in parallel_for. `threads` as in parallel_for.
template <class F>
void parallel_for_parts(index_t n, index_t part_size, index_t grain, int threads, F&& f) {
  part_size = std::max<index_t>(part_size, 1);
  grain = std::max<index_t>(grain, 1);
  parallel_for(n, part_size, threads, [&](index_t begin, index_t end, int) {
    const index_t part = begin / part_size;
    for (index_t b = begin; b < end; b += grain) f(b, std::min(end, b + grain), part);
  });
}

/// The number of parts parallel_for_parts(n, part_size, ...) uses.
inline index_t part_count(index_t n, index_t part_size) {
  part_size = std::max<index_t>(part_size, 1);
  return n <= 0 ? 0 : n / part_size + (n % part_size != 0);
}

/// parts[0, len) = the sum of the `count` partials parts[p * len, (p + 1) * len), added in part
/// order (so that the result does not depend on which thread computed which partial).
template <class T>
void sum_parts(T* parts, index_t count, index_t len) {
  for (index_t p = 1; p < count; ++p) {
    const T* src = parts + p * len;
    for (index_t i = 0; i < len; ++i) parts[i] += src[i];
  }
}

/// Pieces per thread of a split GEMM: every piece packs the whole of the operand that is not
/// split, so a GEMM is cut into one piece per thread (Dense 128x784x128 forward + backward on 2
/// threads, interleaved medians: 613 us with one piece per thread, 709 with two, 730 with four).
inline constexpr index_t kGemmPiecesPerThread = 1;

/// dst = lhs * rhs for Eigen views over row-major buffers (maps, their blocks and transposes;
/// see gemm_operand), split into row blocks of dst (column blocks when dst is wide and short)
/// that the threads compute independently, each with one call of gemm<T>.
template <class Dst, class Lhs, class Rhs>
void gemm(Dst&& dst, const Lhs& lhs, const Rhs& rhs) {
  const auto c = gemm_operand(dst);
  const auto a = gemm_operand(lhs);
  const auto b = gemm_operand(rhs);
  using T = std::remove_const_t<std::remove_pointer_t<decltype(c.data)>>;
  check(!c.trans && a.rows == c.rows && b.cols == c.cols && a.cols == b.rows, "gemm: internal: [",
        a.rows, ", ", a.cols, "] x [", b.rows, ", ", b.cols, "] into [", c.rows, ", ", c.cols, "]");
  const index_t rows = c.rows, cols = c.cols, depth = a.cols;
  const int threads = threads_for(static_cast<double>(rows) * static_cast<double>(cols) *
                                  static_cast<double>(depth));
  if (rows >= cols) {
    parallel_for(rows, split_grain(rows, threads, 16, kGemmPiecesPerThread), threads,
                 [&](index_t begin, index_t end, int) {
                   // Rows [begin, end) of op(a): rows of a, or columns of a when transposed.
                   const T* ap = a.data + (a.trans ? begin : begin * a.ld);
                   gemm<T>(a.trans, b.trans, end - begin, cols, depth, ap, a.ld, b.data, b.ld,
                           c.data + begin * c.ld, c.ld, false);
                 });
  } else {
    parallel_for(cols, split_grain(cols, threads, 16, kGemmPiecesPerThread), threads,
                 [&](index_t begin, index_t end, int) {
                   const T* bp = b.data + (b.trans ? begin * b.ld : begin);
                   gemm<T>(a.trans, b.trans, rows, end - begin, depth, a.data, a.ld, bp, b.ld,
                           c.data + begin, c.ld, false);
                 });
  }
}

}  // namespace lamina::detail
