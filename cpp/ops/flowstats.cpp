// Gradient-flow statistics (see flowstats.h).
//
// One pass over each buffer computes everything a healthy network needs:
//   buffer_stats      sum |x|, sum x^2 and max |x|;
//   activation_stats  sum y, and the shifted sums S1 = sum (y - c) and
//                     S2 = sum (y - c)^2 with c = y[0], the saturated count and
//                     every element's histogram bin, all in the same loop.
// The variance is (S2 - S1^2 / n) / n. Shifting by c, one of the values, keeps
// the cancellation bounded: (c - mean)^2 <= n var, so S2 <= (n + 1) n var and
// the relative error of the variance is at most about (n + 1) ulp (in double;
// a few ulp for typical data), where the unshifted sum of squares would lose
// everything for activations far from 0 with a small spread.
//
// NaN and Inf need no per-element test: any of them makes the sum of squares
// non-finite (Inf^2 = Inf, NaN propagates), so one check after the pass
// decides whether a second, careful pass runs: it counts the non-finite
// elements, re-bins the histogram without them and takes max |x| as numpy
// does. A network that has blown up pays for that pass, a healthy one never.
//
// Sums run over fixed chunks of kBlock elements whose partial results are
// combined in chunk order (ordered_reduce); inside a chunk, kLanes interleaved
// partial sums are added in lane order at the end. Both orders depend on n
// only, so every value is bitwise the same for any thread count. The
// histogram and the counts are integers: their sum does not depend on the
// order at all.
//
// max_abs propagates NaN as numpy's max does; l2 is NaN whenever the buffer
// holds a NaN or Inf, so a non-finite gradient never looks merely "large".
#include "ops/flowstats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ops/histogram.h"
#include "ops/parallel.h"
#include "ops/unit_conditions.h"
#include "ops/vecmath.h"

namespace vgp::ops {
namespace {

using histogram_detail::Binning;
using histogram_detail::bin_of;
using histogram_detail::count_bins;
using histogram_detail::histogram;
using histogram_detail::kBinCost;
using histogram_detail::kHistBlock;
using unit_detail::can_die;
using unit_detail::dead_units;
using unit_detail::saturation_bounds;

// Interleaved partial sums per chunk: a fixed association (independent of the
// vector width and of the thread count) that lets the compiler vectorize the
// loops. Every test inside them is a branch-free select so that it vectorizes
// as well.
constexpr index_t kLanes = 8;
// Work of an element, in streams (parallel.h): each sum in double costs
// kCostDouble; binning an element costs kBinCost (histogram.h).
constexpr double kMagnitudeCost = 1 + 2 * detail::kCostDouble;
constexpr double kSumsqCost = 1 + detail::kCostDouble;
constexpr double kLevelCost = 1 + 4 * detail::kCostDouble + kBinCost;

// The total of a chunk's lane sums, added as a fixed tree (lanes l and l + 4,
// then l and l + 2, then the two halves): three dependent additions instead
// of eight, which on small buffers is a good part of the whole call.
inline double lane_total(const double (&lane)[kLanes]) {
  static_assert(kLanes == 8, "lane_total adds eight lanes");
  const double a0 = lane[0] + lane[4], a1 = lane[1] + lane[5];
  const double a2 = lane[2] + lane[6], a3 = lane[3] + lane[7];
  return (a0 + a2) + (a1 + a3);
}

// Partial sums of one chunk of buffer_stats. max_abs skips NaN here (a NaN
// makes sumsq NaN, and the careful pass then sets max_abs).
struct Magnitude {
  double sum_abs = 0.0;
  double sumsq = 0.0;
  double max_abs = 0.0;
};

// Partial sums of one chunk of activation_stats (see the top of the file).
struct Level {
  double sum = 0.0;
  double dsum = 0.0;
  double dsq = 0.0;
  index_t saturated = 0;
};

template <typename T>
VGP_MULTIVERSION Magnitude magnitude_chunk(const T* x, index_t n) {
  double sum[kLanes] = {}, sumsq[kLanes] = {}, mx[kLanes] = {};
  const index_t whole = n - n % kLanes;
  for (index_t k = 0; k < whole; k += kLanes) {
    VGP_SIMD
    for (index_t l = 0; l < kLanes; ++l) {
      const double v = static_cast<double>(x[k + l]);
      const double a = std::fabs(v);
      sum[l] += a;
      sumsq[l] += v * v;
      mx[l] = a > mx[l] ? a : mx[l];
    }
  }
  Magnitude m;
  m.sum_abs = lane_total(sum);
  m.sumsq = lane_total(sumsq);
  for (index_t l = 0; l < kLanes; ++l) m.max_abs = mx[l] > m.max_abs ? mx[l] : m.max_abs;
  for (index_t k = whole; k < n; ++k) {
    const double v = static_cast<double>(x[k]);
    const double a = std::fabs(v);
    m.sum_abs += a;
    m.sumsq += v * v;
    m.max_abs = a > m.max_abs ? a : m.max_abs;
  }
  return m;
}

// Sum of x^2 over x[0, n), in magnitude_chunk's order (so the same sum).
template <typename T>
VGP_MULTIVERSION double sumsq_chunk(const T* x, index_t n) {
  if (n < kLanes) {
    // The same sum as below (the lanes add up to 0), on a path that touches
    // no vector register: GCC 12 set up a 256-bit register before testing n
    // and returned from this path without a vzeroupper, and the dirty upper
    // state slowed the SSE code that ran after it (3 us per recorded batch
    // on the seed network, through one call on its 1-element output bias).
    double total = 0.0;
    for (index_t k = 0; k < n; ++k) {
      const double v = static_cast<double>(x[k]);
      total += v * v;
    }
    return total;
  }
  double sumsq[kLanes] = {};
  const index_t whole = n - n % kLanes;
  for (index_t k = 0; k < whole; k += kLanes) {
    VGP_SIMD
    for (index_t l = 0; l < kLanes; ++l) {
      const double v = static_cast<double>(x[k + l]);
      sumsq[l] += v * v;
    }
  }
  double total = lane_total(sumsq);
  for (index_t k = whole; k < n; ++k) {
    const double v = static_cast<double>(x[k]);
    total += v * v;
  }
  return total;
}

// The fused activation pass over y[0, n); with kHist, also adds every
// element's bin to bin.hist.
template <typename T, bool kHist>
VGP_MULTIVERSION Level level_chunk(const T* y, index_t n, double c, double sat_lo,
                                   double sat_hi, Binning bin) {
  double sum[kLanes] = {}, dsum[kLanes] = {}, dsq[kLanes] = {}, sat[kLanes] = {};
  // The saturated count accumulates in doubles (exact below 2^53): a masked
  // add keeps the loop in vector registers where an integer count would not.
  std::int32_t bins[kHistBlock];
  const double top = bin.top();
  const index_t whole = n - n % kLanes;
  for (index_t b0 = 0; b0 < whole; b0 += kHistBlock) {
    const index_t b1 = std::min(whole, b0 + kHistBlock);
    for (index_t k = b0; k < b1; k += kLanes) {
      VGP_SIMD
      for (index_t l = 0; l < kLanes; ++l) {
        const double v = static_cast<double>(y[k + l]);
        const double d = v - c;
        sum[l] += v;
        dsum[l] += d;
        dsq[l] += d * d;
        sat[l] += (v < sat_lo) | (v > sat_hi) ? 1.0 : 0.0;
        if constexpr (kHist) bins[k - b0 + l] = bin_of(v, bin.lo, bin.norm, top);
      }
    }
    if constexpr (kHist) count_bins(bins, b1 - b0, bin.hist, bin.nbins);
  }
  Level p;
  p.sum = lane_total(sum);
  p.dsum = lane_total(dsum);
  p.dsq = lane_total(dsq);
  double saturated = lane_total(sat);
  for (index_t k = whole; k < n; ++k) {
    const double v = static_cast<double>(y[k]);
    const double d = v - c;
    p.sum += v;
    p.dsum += d;
    p.dsq += d * d;
    saturated += (v < sat_lo) | (v > sat_hi) ? 1.0 : 0.0;
    if constexpr (kHist) bins[k - whole] = bin_of(v, bin.lo, bin.norm, top);
  }
  if constexpr (kHist) count_bins(bins, n - whole, bin.hist, bin.nbins);
  p.saturated = static_cast<index_t>(saturated);
  return p;
}

// Sum of (y - mean)^2 over y[0, n): the careful pass's variance, used only
// when the shifted sums overflowed although every element is finite.
template <typename T>
double spread_chunk(const T* y, index_t n, double mean) {
  double sq[kLanes] = {};
  const index_t whole = n - n % kLanes;
  for (index_t k = 0; k < whole; k += kLanes) {
    for (index_t l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(y[k + l]) - mean;
      sq[l] += d * d;
    }
  }
  double total = lane_total(sq);
  for (index_t k = whole; k < n; ++k) {
    const double d = static_cast<double>(y[k]) - mean;
    total += d * d;
  }
  return total;
}

// Non-finite elements of x[0, n), and how many of them are NaN.
template <typename T>
void count_nonfinite(const T* x, index_t n, index_t& nonfinite, index_t& nans) {
  nonfinite = 0;
  nans = 0;
  for (index_t k = 0; k < n; ++k) {
    const double v = static_cast<double>(x[k]);
    nonfinite += std::isfinite(v) ? 0 : 1;
    nans += v != v ? 1 : 0;
  }
}

}  // namespace

template <typename T>
BufferStats buffer_stats(const T* x, index_t n) {
  BufferStats s;
  if (n <= 0) return s;
  const Magnitude m = detail::ordered_reduce(
      n, detail::kBlock, detail::work_ns<T>(n, kMagnitudeCost), Magnitude{},
      [=](index_t begin, index_t end) { return magnitude_chunk(x + begin, end - begin); },
      [](Magnitude& acc, const Magnitude& part) {
        acc.sum_abs += part.sum_abs;
        acc.sumsq += part.sumsq;
        acc.max_abs = part.max_abs > acc.max_abs ? part.max_abs : acc.max_abs;
      });
  s.sumsq = m.sumsq;
  s.l2 = std::sqrt(m.sumsq);
  s.mean_abs = m.sum_abs / static_cast<double>(n);
  s.max_abs = m.max_abs;
  if (!std::isfinite(m.sumsq)) {  // a NaN or Inf, or squares beyond double's range
    index_t nans = 0;
    count_nonfinite(x, n, s.nonfinite, nans);
    if (s.nonfinite > 0) s.l2 = std::numeric_limits<double>::quiet_NaN();
    if (nans > 0) s.max_abs = std::numeric_limits<double>::quiet_NaN();
  }
  return s;
}

template <typename T>
NormStats buffer_norm(const T* x, index_t n) {
  NormStats s;
  if (n <= 0) return s;
  const double work = detail::work_ns<T>(n, kSumsqCost);
  s.sumsq = detail::ordered_sum(n, detail::kBlock, work, [=](index_t begin, index_t end) {
    return sumsq_chunk(x + begin, end - begin);
  });
  s.l2 = std::sqrt(s.sumsq);
  if (!std::isfinite(s.sumsq)) {  // as buffer_stats
    index_t nans = 0;
    count_nonfinite(x, n, s.nonfinite, nans);
    if (s.nonfinite > 0) s.l2 = std::numeric_limits<double>::quiet_NaN();
  }
  return s;
}

template <typename T>
ActivationStats activation_stats(const T* y, index_t batch, index_t features, Act act,
                                 index_t* hist, index_t nbins, double lo, double hi) {
  ActivationStats s;
  const index_t n = batch * features;
  if (n <= 0) return s;
  const double inv_n = 1.0 / static_cast<double>(n);
  double sat_lo = 0.0, sat_hi = 0.0;
  saturation_bounds(act, sat_lo, sat_hi);
  Binning bin;
  if (hist != nullptr && nbins > 0) {
    bin.hist = hist;
    bin.nbins = nbins;
    bin.lo = lo;
    bin.norm = hi > lo ? static_cast<double>(nbins) / (hi - lo) : 0.0;
    std::fill(hist, hist + nbins, index_t{0});
  }
  // A buffer of one chunk (every buffer of a small network) is binned in the
  // same pass, serially; larger ones sum over threads and bin afterwards.
  const bool one_chunk = n <= detail::kBlock;
  const double c = static_cast<double>(y[0]);
  const Level total = detail::ordered_reduce(
      n, detail::kBlock, detail::work_ns<T>(n, kLevelCost), Level{},
      [=](index_t begin, index_t end) {
        return one_chunk && bin.hist
                   ? level_chunk<T, true>(y + begin, end - begin, c, sat_lo, sat_hi, bin)
                   : level_chunk<T, false>(y + begin, end - begin, c, sat_lo, sat_hi, bin);
      },
      [](Level& acc, const Level& part) {
        acc.sum += part.sum;
        acc.dsum += part.dsum;
        acc.dsq += part.dsq;
        acc.saturated += part.saturated;
      });
  s.mean = total.sum * inv_n;
  s.saturated = static_cast<double>(total.saturated) * inv_n;
  // Population variance from the shifted sums; rounding can leave it a hair
  // below zero for constant data.
  const double var = (total.dsq - total.dsum * total.dsum * inv_n) * inv_n;
  s.std = std::sqrt(var > 0.0 ? var : 0.0);
  bool binned = one_chunk, all_finite = true;
  if (!std::isfinite(total.dsq)) {
    index_t nans = 0;
    count_nonfinite(y, n, s.nonfinite, nans);
    if (s.nonfinite > 0) {
      // The deviations from a non-finite mean are NaN, as numpy's std says.
      s.std = std::numeric_limits<double>::quiet_NaN();
      binned = false;  // NaN and Inf were binned: count again without them
      all_finite = false;
    } else {
      // Finite values whose shifted squares overflow (float64 near 1e154):
      // deviations from the mean itself, in a second pass.
      const double mean = s.mean;
      const double sq =
          detail::ordered_sum(n, detail::kBlock, detail::work_ns<T>(n, kSumsqCost),
                              [=](index_t b, index_t e) { return spread_chunk(y + b, e - b, mean); });
      s.std = std::sqrt(sq * inv_n);
    }
  }
  if (bin.hist && !binned) {
    if (all_finite) {
      histogram<T, false>(y, n, bin);
    } else {
      histogram<T, true>(y, n, bin);
    }
  }
  if (can_die(act)) {
    s.dead = static_cast<double>(dead_units(y, batch, features, act)) /
             static_cast<double>(features);
  }
  return s;
}

template BufferStats buffer_stats<float>(const float*, index_t);
template BufferStats buffer_stats<double>(const double*, index_t);
template NormStats buffer_norm<float>(const float*, index_t);
template NormStats buffer_norm<double>(const double*, index_t);
template ActivationStats activation_stats<float>(const float*, index_t, index_t, Act, index_t*,
                                                 index_t, double, double);
template ActivationStats activation_stats<double>(const double*, index_t, index_t, Act, index_t*,
                                                  index_t, double, double);

}  // namespace vgp::ops
