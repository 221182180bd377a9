// The loop shapes every kernel family uses, written once so that the
// threading contract of common.h holds everywhere by construction:
//
//   parallel_rows        row-wise work (softmax, losses), rows split among threads;
//   parallel_row_spans   elementwise work over rows, as contiguous spans of rows;
//   parallel_blocks      elementwise work over a flat buffer, fixed-size blocks;
//   parallel_columns     per-feature reductions over the batch: each thread owns
//                        whole chunks of kColumnChunk columns and sums the rows
//                        of its columns serially, in row order;
//   ordered_reduce       a sum over a flat range: partial results of fixed-size
//                        chunks (the chunk size never depends on the thread
//                        count) combined serially in chunk order.
//
// Each takes the loop's work as an estimate of its single-core time (work_ns
// below) and runs on one thread when that is under parallel_min_ns() (common.h:
// 64 us, many times what waking a thread costs). The callables run inside
// parallel regions, so they must not throw, allocate or touch Python.
//
// Work estimates. Elementwise kernels are bound by the data they move, so a
// loop's time is estimated from it: `elements` values of T, each touching
// `streams` values read or written, at kBytesPerNs. That rate is what one core
// streams from its L1 and L2, where a training step's buffers live (16-32
// bytes a cycle at 2-4 GHz); data from L3 or memory moves 2-4 times slower, so
// the estimate errs on the short side and a region is entered only when it
// surely pays. Arithmetic that is not hidden behind the loads and stores
// counts as extra streams: kCostExp for each exp- or log-based function of
// vecmath.h (about 25 vector instructions per vector of results), kCostDouble
// for each value summed or transformed in double, kCostLibm for a scalar libm
// call in double (10-20 ns). Measured on Zen 4 (one core, 64k-1M floats),
// relu forward (2 streams, estimate 0.125 ns an element) takes 0.09 ns,
// sigmoid forward (2 + kCostExp) 0.35 ns against 0.375, Adam (9) 0.5-0.7 ns
// against 0.56, batch-norm forward (4 + 2 kCostDouble) 0.31-0.39 ns against
// 0.375.
#pragma once

#include <algorithm>

#include "common.h"

// Asserts that the next loop has no loop-carried dependence, so that it
// vectorizes (never used on a reduction: that would reorder the sum).
#if defined(_OPENMP)
#define VGP_SIMD VGP_PRAGMA(omp simd)
#elif defined(__clang__)
#define VGP_SIMD VGP_PRAGMA(clang loop vectorize(assume_safety))
#elif defined(__GNUC__)
#define VGP_SIMD VGP_PRAGMA(GCC ivdep)
#else
#define VGP_SIMD
#endif

namespace vgp::ops::detail {

// Elements per block or reduction chunk of a flat buffer: large enough to
// amortise the loop overhead, small enough to balance two threads on the
// buffers a small network has.
constexpr index_t kBlock = 4096;
// Columns per chunk of a per-feature reduction: the chunk's double
// accumulators (1 KiB) stay in L1 while its rows stream past, and a chunk of a
// few hundred rows stays in L2 between passes. Each column is summed in row
// order whatever the chunking, so this is a speed choice only.
constexpr index_t kColumnChunk = 128;
// Chunks per group of an ordered reduction: their partial results live on the
// stack (the kernels never allocate); groups run one after another.
constexpr index_t kChunksPerGroup = 64;

// Work estimate constants (see the top of the file), in streams of one value.
constexpr double kBytesPerNs = 64.0;
constexpr double kCostExp = 4.0;
constexpr double kCostDouble = 1.0;
constexpr double kCostLibm = 256.0;

// Single-core nanoseconds to move `streams` values of T for each of `elements`.
template <typename T>
constexpr double work_ns(index_t elements, double streams) {
  return static_cast<double>(elements) * streams * static_cast<double>(sizeof(T)) / kBytesPerNs;
}

// f(i) for i in [0, n), split statically among `threads` threads (at most n)
// when that is more than one. Otherwise the loop runs inline, without
// entering an OpenMP construct at all: even a one-thread parallel region
// allocates a team and signals a futex, which costs more than the whole loop
// on the small buffers of a small network.
template <typename F>
inline void for_each_index(index_t n, [[maybe_unused]] int threads, const F& f) {
#ifdef _OPENMP
  const int nt = static_cast<int>(std::min<index_t>(threads, n));
  if (nt > 1) {
    count_parallel_region();
#pragma omp parallel for schedule(static) num_threads(nt)
    for (index_t i = 0; i < n; ++i) f(i);
    return;
  }
#endif
  for (index_t i = 0; i < n; ++i) f(i);
}

// f(i) for every row i of `rows` rows.
template <typename F>
inline void parallel_rows(index_t rows, double work_ns, const F& f) {
  for_each_index(rows, threads_for(work_ns), f);
}

// f(begin, end) over the elements of whole rows of a (rows, row_len) buffer:
// rows are split among threads in blocks of about kBlock elements, and each
// block is one contiguous span, so short rows still give long vector loops.
template <typename F>
inline void parallel_row_spans(index_t rows, index_t row_len, double work_ns, const F& f) {
  const index_t per_block = std::max<index_t>(1, kBlock / std::max<index_t>(1, row_len));
  const index_t nblocks = (rows + per_block - 1) / per_block;
  for_each_index(nblocks, threads_for(work_ns), [&](index_t b) {
    f(b * per_block * row_len, std::min(rows, (b + 1) * per_block) * row_len);
  });
}

// f(begin, end) over fixed blocks of [0, n).
template <typename F>
inline void parallel_blocks(index_t n, double work_ns, const F& f) {
  const index_t nblocks = (n + kBlock - 1) / kBlock;
  for_each_index(nblocks, threads_for(work_ns),
                 [&](index_t b) { f(b * kBlock, std::min(n, (b + 1) * kBlock)); });
}

// f(j0, j1) for chunks of at most kColumnChunk columns of a (rows, cols) buffer.
template <typename F>
inline void parallel_columns(index_t cols, double work_ns, const F& f) {
  const index_t nchunks = (cols + kColumnChunk - 1) / kColumnChunk;
  for_each_index(nchunks, threads_for(work_ns), [&](index_t c) {
    f(c * kColumnChunk, std::min(cols, (c + 1) * kColumnChunk));
  });
}

// Returns acc combined, in chunk order, with partial(begin, end) of every chunk
// [c * chunk, (c + 1) * chunk) of [0, n); `work_ns` (the whole range's)
// decides whether threads pay, group by group. combine(acc, part) folds one
// chunk's result into acc.
template <typename P, typename Partial, typename Combine>
inline P ordered_reduce(index_t n, index_t chunk, double work_ns, P acc, const Partial& partial,
                        const Combine& combine) {
  const index_t nchunks = (n + chunk - 1) / chunk;
  if (nchunks <= 1) {  // the common small buffer: no partials array to set up
    if (n > 0) combine(acc, partial(0, n));
    return acc;
  }
  P parts[kChunksPerGroup];
  const double chunk_ns = work_ns / static_cast<double>(nchunks);
  for (index_t g0 = 0; g0 < nchunks; g0 += kChunksPerGroup) {
    const index_t g1 = std::min(nchunks, g0 + kChunksPerGroup);
    const int threads = threads_for(chunk_ns * static_cast<double>(g1 - g0));
    for_each_index(g1 - g0, threads, [&](index_t i) {
      const index_t c = g0 + i;
      parts[i] = partial(c * chunk, std::min(n, (c + 1) * chunk));
    });
    for (index_t c = g0; c < g1; ++c) combine(acc, parts[c - g0]);
  }
  return acc;
}

// Sum over [0, n) of partial(begin, end) (a double), in the fixed chunk order.
template <typename Partial>
inline double ordered_sum(index_t n, index_t chunk, double work_ns, const Partial& partial) {
  return ordered_reduce(n, chunk, work_ns, 0.0, partial,
                        [](double& acc, double part) { acc += part; });
}

// Rows per reduction chunk of a (rows, cols) buffer: about kBlock elements.
inline index_t rows_per_chunk(index_t cols) {
  return std::max<index_t>(1, kBlock / std::max<index_t>(1, cols));
}

}  // namespace vgp::ops::detail
