// The three loop shapes every kernel family uses, written once so that the
// threading contract of common.h holds everywhere by construction:
//
//   parallel_rows        elementwise work, rows split among threads;
//   parallel_blocks      elementwise work over a flat buffer, fixed-size blocks;
//   parallel_columns     per-feature reductions over the batch: each thread owns
//                        whole chunks of kColumnChunk columns and sums the rows
//                        of its columns serially, in row order;
//   ordered_reduce       a sum over a flat range: partial results of fixed-size
//                        chunks (the chunk size never depends on the thread
//                        count) combined serially in chunk order.
//
// Each one runs on one thread when the work is below kParMinElementwise. The
// callables run inside parallel regions, so they must not throw, allocate or
// touch Python.
#pragma once

#include <algorithm>

#include "common.h"

#ifdef _OPENMP
#define VGP_SIMD VGP_PRAGMA(omp simd)
#else
#define VGP_SIMD VGP_PRAGMA(GCC ivdep)
#endif

namespace vgp::ops::detail {

// Elements per block or reduction chunk of a flat buffer: large enough to
// amortise the loop overhead, small enough to balance two threads on the
// buffers a small network has.
constexpr index_t kBlock = 4096;
// Columns per chunk of a per-feature reduction: 64 doubles of accumulators
// stay in registers/L1 while the rows stream past.
constexpr index_t kColumnChunk = 64;
// Chunks per group of an ordered reduction: their partial results live on the
// stack (the kernels never allocate); groups run one after another.
constexpr index_t kChunksPerGroup = 64;

inline bool worth_threads(index_t work) { return work > kParMinElementwise; }

// f(i) for every row i of a (rows, row_len) buffer.
template <typename F>
inline void parallel_rows(index_t rows, index_t row_len, const F& f) {
  [[maybe_unused]] const bool threads = worth_threads(rows * row_len);
  VGP_OMP_FOR(threads)
  for (index_t i = 0; i < rows; ++i) f(i);
}

// f(begin, end) over fixed blocks of [0, n).
template <typename F>
inline void parallel_blocks(index_t n, const F& f) {
  const index_t nblocks = (n + kBlock - 1) / kBlock;
  [[maybe_unused]] const bool threads = worth_threads(n);
  VGP_OMP_FOR(threads)
  for (index_t b = 0; b < nblocks; ++b) f(b * kBlock, std::min(n, (b + 1) * kBlock));
}

// f(j0, j1) for chunks of at most kColumnChunk columns of a (rows, cols) buffer.
template <typename F>
inline void parallel_columns(index_t rows, index_t cols, const F& f) {
  const index_t nchunks = (cols + kColumnChunk - 1) / kColumnChunk;
  [[maybe_unused]] const bool threads = worth_threads(rows * cols);
  VGP_OMP_FOR(threads)
  for (index_t c = 0; c < nchunks; ++c) f(c * kColumnChunk, std::min(cols, (c + 1) * kColumnChunk));
}

// Returns acc combined, in chunk order, with partial(begin, end) of every chunk
// [c * chunk, (c + 1) * chunk) of [0, n); `work` decides whether threads pay.
// combine(acc, part) folds one chunk's result into acc.
template <typename P, typename Partial, typename Combine>
inline P ordered_reduce(index_t n, index_t chunk, index_t work, P acc, const Partial& partial,
                        const Combine& combine) {
  P parts[kChunksPerGroup];
  const index_t nchunks = (n + chunk - 1) / chunk;
  [[maybe_unused]] const bool threads = worth_threads(work);
  for (index_t g0 = 0; g0 < nchunks; g0 += kChunksPerGroup) {
    const index_t g1 = std::min(nchunks, g0 + kChunksPerGroup);
    VGP_OMP_FOR(threads)
    for (index_t c = g0; c < g1; ++c) parts[c - g0] = partial(c * chunk, std::min(n, (c + 1) * chunk));
    for (index_t c = g0; c < g1; ++c) combine(acc, parts[c - g0]);
  }
  return acc;
}

// Sum over [0, n) of partial(begin, end) (a double), in the fixed chunk order.
template <typename Partial>
inline double ordered_sum(index_t n, index_t chunk, index_t work, const Partial& partial) {
  return ordered_reduce(n, chunk, work, 0.0, partial,
                        [](double& acc, double part) { acc += part; });
}

// Rows per reduction chunk of a (rows, cols) buffer: about kBlock elements.
inline index_t rows_per_chunk(index_t cols) { return std::max<index_t>(1, kBlock / std::max<index_t>(1, cols)); }

}  // namespace vgp::ops::detail
