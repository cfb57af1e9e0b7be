#pragma once

#include <type_traits>

#include "lamina/core/error.hpp"
#include "lamina/detail/eigen.hpp"

/// lamina's one matrix-product entry point. Every product of the kernels goes through
/// gemm<T>(...) below, on pointers and leading dimensions, so that Eigen's product code (the
/// packing and micro-kernels, about a quarter of a test file's compiled code before) is compiled
/// once per scalar: in the translation unit that instantiates it (lamina/instantiate.hpp), or,
/// without extern_templates.hpp, once per program file that multiplies.
namespace lamina::detail {

/// c = op(a) op(b), or c += op(a) op(b) when `accumulate`, for row-major matrices: op(a) is
/// [m, k] (a itself when !trans_a, else a is [k, m] and op(a) its transpose), op(b) is [k, n],
/// c is [m, n]. lda, ldb, ldc are the distances between rows of a, b and c as stored. Runs on
/// the calling thread (Eigen's own threading as configured; lamina's kernels split the work
/// themselves, see detail/parallel.hpp).
template <class T>
void gemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, const T* a, index_t lda,
          const T* b, index_t ldb, T* c, index_t ldc, bool accumulate) {
  using Stride = Eigen::OuterStride<>;
  using In = Eigen::Map<const RowMatrix<T>, 0, Stride>;
  Eigen::Map<RowMatrix<T>, 0, Stride> out(c, m, n, Stride(ldc));
  const In a_rows(a, trans_a ? k : m, trans_a ? m : k, Stride(lda));
  const In b_rows(b, trans_b ? n : k, trans_b ? k : n, Stride(ldb));
  const auto run = [&](const auto& lhs, const auto& rhs) {
    if (accumulate)
      out.noalias() += lhs * rhs;
    else
      out.noalias() = lhs * rhs;
  };
  if (!trans_a && !trans_b) run(a_rows, b_rows);
  if (!trans_a && trans_b) run(a_rows, b_rows.transpose());
  if (trans_a && !trans_b) run(a_rows.transpose(), b_rows);
  if (trans_a && trans_b) run(a_rows.transpose(), b_rows.transpose());
}

/// A row-major matrix in memory as a product operand: its first element, the distance between
/// its rows as stored, and whether the product uses its transpose (then rows and cols are the
/// transpose's).
template <class T>
struct GemmOperand {
  T* data;
  index_t ld;
  bool trans;
  index_t rows, cols;
};

template <class E>
struct IsEigenTranspose : std::false_type {};
template <class E>
struct IsEigenTranspose<Eigen::Transpose<E>> : std::true_type {};

/// The operand behind an Eigen view over lamina's row-major buffers: a Map (strided or not), a
/// block of one (leftCols, middleRows, ...), or the transpose of either.
template <class E>
auto gemm_operand(const E& e) {
  if constexpr (IsEigenTranspose<std::remove_cv_t<E>>::value) {
    auto inner = gemm_operand(e.nestedExpression());
    inner.trans = !inner.trans;
    std::swap(inner.rows, inner.cols);
    return inner;
  } else {
    static_assert(E::IsRowMajor, "gemm: operands are row-major views");
    check(e.innerStride() == 1, "gemm: internal: an operand's elements are not contiguous");
    // A view of writable memory (a destination) reached through a const reference still
    // allows writes: Eigen's LvalueBit says whether the memory is.
    using Scalar = typename E::Scalar;
    constexpr bool writable = (Eigen::internal::traits<E>::Flags & Eigen::LvalueBit) != 0;
    using Element = std::conditional_t<writable, Scalar, const Scalar>;
    return GemmOperand<Element>{const_cast<Element*>(e.data()), e.outerStride(), false, e.rows(),
                                e.cols()};
  }
}

/// dst = lhs * rhs (or dst += lhs * rhs when `accumulate`) for Eigen views over row-major
/// buffers (see gemm_operand), on the calling thread.
template <class Dst, class Lhs, class Rhs>
void gemm_views(Dst&& dst, const Lhs& lhs, const Rhs& rhs, bool accumulate = false) {
  const auto c = gemm_operand(dst);
  const auto a = gemm_operand(lhs);
  const auto b = gemm_operand(rhs);
  static_assert(!std::is_const_v<std::remove_pointer_t<decltype(c.data)>>,
                "gemm: the destination must be writable");
  check(!c.trans && a.rows == c.rows && b.cols == c.cols && a.cols == b.rows, "gemm: internal: [",
        a.rows, ", ", a.cols, "] x [", b.rows, ", ", b.cols, "] into [", c.rows, ", ", c.cols, "]");
  using T = std::remove_const_t<std::remove_pointer_t<decltype(c.data)>>;
  gemm<T>(a.trans, b.trans, c.rows, c.cols, a.cols, a.data, a.ld, b.data, b.ld, c.data, c.ld,
          accumulate);
}

}  // namespace lamina::detail
