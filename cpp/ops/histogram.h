// Histograms of the gradient-flow statistics (flowstats.cpp): counts over
// nbins equal bins of [lo, hi], the bin of a value as numpy.histogram computes
// it, values outside clamped into the end bins, NaN and Inf left out by the
// careful pass. Bins are computed in a vectorized loop into a stack block of
// kHistBlock numbers, then counted by a scalar loop; counts are integers, so
// their total never depends on the order or the thread count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "common.h"
#include "ops/parallel.h"
#include "ops/vecmath.h"

namespace vgp::ops::histogram_detail {

// Elements binned per block of a histogram: their bin numbers fit in a stack
// buffer, computed in the vectorized loop before a scalar counting loop.
constexpr index_t kHistBlock = 512;
// Histograms up to this many bins are counted in kSubHists interleaved copies.
constexpr index_t kMaxSubBins = 64;
constexpr index_t kSubHists = 4;
// Work of binning an element, in streams (parallel.h): its bin in the vector
// loop, then its count, about 8 (measured on Zen 4: the fused activation pass,
// four sums and the bin, 0.9 ns a float, 14 streams).
constexpr double kBinCost = 8.0;

// Histogram of nbins equal bins from lo, with norm = nbins / (hi - lo): bin
// position as numpy computes it, (v - lo) * nbins / (hi - lo), values outside
// clamped into the end bins.
struct Binning {
  index_t* hist = nullptr;
  index_t nbins = 0;
  double lo = 0.0;
  double norm = 0.0;
  double top() const { return static_cast<double>(nbins - 1); }
};

// Bin of a finite v; a NaN lands in bin 0 (both comparisons are false), which
// only the careful pass, run whenever a buffer holds a NaN or Inf, corrects.
inline std::int32_t bin_of(double v, double lo, double norm, double top) {
  double pos = (v - lo) * norm;
  pos = pos >= 0.0 ? pos : 0.0;
  pos = pos <= top ? pos : top;
  return static_cast<std::int32_t>(pos);
}

// Adds the counts of bins[0, n) (each in [0, nbins)) to hist. Neighbouring
// elements often share a bin (a saturated layer puts nearly all of them in
// one), and increments of one counter form a chain through memory; kSubHists
// interleaved copies break it.
inline void count_bins(const std::int32_t* bins, index_t n, index_t* hist, index_t nbins) {
  if (nbins > kMaxSubBins) {
    for (index_t k = 0; k < n; ++k) hist[bins[k]] += 1;
    return;
  }
  std::int32_t sub[kSubHists][kMaxSubBins];
  for (index_t s = 0; s < kSubHists; ++s) std::fill(sub[s], sub[s] + nbins, 0);
  const index_t whole = n - n % kSubHists;
  for (index_t k = 0; k < whole; k += kSubHists) {
    for (index_t s = 0; s < kSubHists; ++s) sub[s][bins[k + s]] += 1;
  }
  for (index_t k = whole; k < n; ++k) sub[0][bins[k]] += 1;
  for (index_t b = 0; b < nbins; ++b) {
    std::int32_t total = 0;
    for (index_t s = 0; s < kSubHists; ++s) total += sub[s][b];
    hist[b] += total;
  }
}

// Adds the bins of x[0, n) (n <= kHistBlock) to hist. kSkipNonfinite leaves
// NaN and Inf out (the careful pass); otherwise every element must be finite.
template <typename T, bool kSkipNonfinite>
VGP_MULTIVERSION void histogram_block(const T* x, index_t n, Binning bin) {
  std::int32_t bins[kHistBlock];
  const double top = bin.top();
  index_t kept = n;
  if constexpr (kSkipNonfinite) {
    kept = 0;
    for (index_t k = 0; k < n; ++k) {
      const double v = static_cast<double>(x[k]);
      if (std::isfinite(v)) bins[kept++] = bin_of(v, bin.lo, bin.norm, top);
    }
  } else {
    VGP_SIMD
    for (index_t k = 0; k < n; ++k) {
      bins[k] = bin_of(static_cast<double>(x[k]), bin.lo, bin.norm, top);
    }
  }
  count_bins(bins, kept, bin.hist, bin.nbins);
}

// The histogram of y[0, n), over threads in blocks when the buffer is large:
// integer counts, so the OpenMP array reduction is exact whatever order the
// threads' private histograms are added in.
template <typename T, bool kSkipNonfinite>
void histogram(const T* y, index_t n, Binning bin) {
  std::fill(bin.hist, bin.hist + bin.nbins, index_t{0});
  const index_t blocks = (n + kHistBlock - 1) / kHistBlock;
  const auto count_block = [&](index_t blk, index_t* into) {
    Binning b = bin;
    b.hist = into;
    const index_t begin = blk * kHistBlock;
    histogram_block<T, kSkipNonfinite>(y + begin, std::min(n, begin + kHistBlock) - begin, b);
  };
#ifdef _OPENMP
  const int threads = static_cast<int>(
      std::min<index_t>(threads_for(detail::work_ns<T>(n, 1 + kBinCost)), blocks));
  if (threads > 1) {
    index_t* hist = bin.hist;
    const index_t nbins = bin.nbins;
    count_parallel_region();
#pragma omp parallel for schedule(static) reduction(+ : hist[:nbins]) num_threads(threads)
    for (index_t blk = 0; blk < blocks; ++blk) count_block(blk, hist);
    return;
  }
#endif
  for (index_t blk = 0; blk < blocks; ++blk) count_block(blk, bin.hist);
}

}  // namespace vgp::ops::histogram_detail
