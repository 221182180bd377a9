// Gradient-flow statistics (see flowstats.h).
//
// Sums run over fixed chunks of kBlock elements whose partial results are
// combined in chunk order (ordered_reduce), so every value is bitwise the same
// for any thread count. The histogram and the counts are integers: their sum
// does not depend on the order at all.
//
// max_abs propagates NaN as numpy's max does; l2 is NaN whenever the buffer
// holds a NaN or Inf, so a non-finite gradient never looks merely "large".
#include "ops/flowstats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ops/parallel.h"

namespace vgp::ops {
namespace {

// Partial results of one chunk; each pass fills the fields it needs.
struct Partial {
  double sum = 0.0;    // sum of |x| (buffer_stats) or of x (activation_stats)
  double sumsq = 0.0;  // sum of x^2
  double max_abs = 0.0;
  index_t nonfinite = 0;
  index_t saturated = 0;
  index_t nans = 0;    // NaN elements (buffer_stats: max_abs is NaN when any)
};

inline bool is_finite(double v) { return std::isfinite(v); }

// NaN wins, as in numpy.max.
inline double nan_max(double a, double b) { return (b > a || b != b) ? b : a; }

// A unit is off when its output is on the flat side of its activation:
// relu y <= 0; leaky_relu, elu, selu y < 0 (NaN counts as on, so a NaN never
// hides behind a "dead" unit).
inline bool can_die(Act act) {
  return act == Act::relu || act == Act::leaky_relu || act == Act::elu || act == Act::selu;
}

// Saturation bounds: y is saturated when y < sat_lo or y > sat_hi.
inline void saturation_bounds(Act act, double& sat_lo, double& sat_hi) {
  const double inf = std::numeric_limits<double>::infinity();
  sat_lo = -inf;
  sat_hi = inf;
  if (act == Act::sigmoid) {
    sat_lo = kSaturationMargin;
    sat_hi = 1.0 - kSaturationMargin;
  } else if (act == Act::tanh) {
    sat_lo = -(1.0 - kSaturationMargin);
    sat_hi = 1.0 - kSaturationMargin;
  }
}

// The chunk loops below keep kLanes interleaved partial sums, added in lane
// order at the end: a fixed association (independent of the vector width and
// of the thread count) that lets the compiler vectorize the loop. Every test
// inside is branch-free so that it vectorizes as well.
constexpr index_t kLanes = 8;

// |x| sum, x^2 sum, max |x| (NaN-free), NaN count and non-finite count of x[begin, end).
template <typename T>
VGP_MULTIVERSION Partial magnitude_chunk(const T* x, index_t begin, index_t end) {
  // Counts accumulate in doubles too (exact below 2^53): a masked add keeps
  // the loop in vector registers where an integer count would not.
  double sum[kLanes] = {}, sumsq[kLanes] = {}, mx[kLanes] = {}, bad[kLanes] = {},
         nans[kLanes] = {};
  const double big = std::numeric_limits<double>::max();
  const index_t n = end - begin;
  const index_t whole = n - n % kLanes;
  for (index_t k = 0; k < whole; k += kLanes) {
    for (index_t l = 0; l < kLanes; ++l) {
      const double v = static_cast<double>(x[begin + k + l]);
      const double a = std::fabs(v);
      sum[l] += a;
      sumsq[l] += v * v;
      mx[l] = a > mx[l] ? a : mx[l];  // NaN compares false: skipped here, counted below
      bad[l] += a <= big ? 0.0 : 1.0;
      nans[l] += v != v ? 1.0 : 0.0;
    }
  }
  Partial p;
  for (index_t l = 0; l < kLanes; ++l) {
    p.sum += sum[l];
    p.sumsq += sumsq[l];
    p.max_abs = std::max(p.max_abs, mx[l]);
    p.nonfinite += static_cast<index_t>(bad[l]);
    p.nans += static_cast<index_t>(nans[l]);
  }
  for (index_t k = whole; k < n; ++k) {
    const double v = static_cast<double>(x[begin + k]);
    const double a = std::fabs(v);
    p.sum += a;
    p.sumsq += v * v;
    p.max_abs = a > p.max_abs ? a : p.max_abs;
    p.nonfinite += a <= big ? 0 : 1;
    p.nans += v != v ? 1 : 0;
  }
  return p;
}

// Sum, non-finite count and saturated count of y[begin, end).
template <typename T>
VGP_MULTIVERSION Partial level_chunk(const T* y, index_t begin, index_t end, double sat_lo,
                                     double sat_hi) {
  double sum[kLanes] = {}, bad[kLanes] = {}, sat[kLanes] = {};
  const double big = std::numeric_limits<double>::max();
  const index_t n = end - begin;
  const index_t whole = n - n % kLanes;
  for (index_t k = 0; k < whole; k += kLanes) {
    for (index_t l = 0; l < kLanes; ++l) {
      const double v = static_cast<double>(y[begin + k + l]);
      sum[l] += v;
      bad[l] += std::fabs(v) <= big ? 0.0 : 1.0;
      sat[l] += (v < sat_lo) | (v > sat_hi) ? 1.0 : 0.0;
    }
  }
  Partial p;
  for (index_t l = 0; l < kLanes; ++l) {
    p.sum += sum[l];
    p.nonfinite += static_cast<index_t>(bad[l]);
    p.saturated += static_cast<index_t>(sat[l]);
  }
  for (index_t k = whole; k < n; ++k) {
    const double v = static_cast<double>(y[begin + k]);
    p.sum += v;
    p.nonfinite += std::fabs(v) <= big ? 0 : 1;
    p.saturated += (v < sat_lo) | (v > sat_hi) ? 1 : 0;
  }
  return p;
}

// Sum of (y - mean)^2 over y[begin, end).
template <typename T>
VGP_MULTIVERSION double spread_chunk(const T* y, index_t begin, index_t end, double mean) {
  double sq[kLanes] = {};
  const index_t n = end - begin;
  const index_t whole = n - n % kLanes;
  for (index_t k = 0; k < whole; k += kLanes) {
    for (index_t l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(y[begin + k + l]) - mean;
      sq[l] += d * d;
    }
  }
  double total = 0.0;
  for (index_t l = 0; l < kLanes; ++l) total += sq[l];
  for (index_t k = whole; k < n; ++k) {
    const double d = static_cast<double>(y[begin + k]) - mean;
    total += d * d;
  }
  return total;
}

// Elements binned per block of the histogram: their bin numbers fit in a
// stack buffer, computed in one vectorized loop before the counting loop.
constexpr index_t kHistBlock = 512;

// Adds the counts of x[0, n) (n <= kHistBlock) over nbins equal bins of
// [lo, lo + nbins / norm] to hist; values outside fall into the end bins,
// NaN and Inf are not counted. Bin position as numpy: (v - lo) * nbins / (hi - lo).
template <typename T>
VGP_MULTIVERSION void histogram_block(const T* x, index_t n, index_t* hist, index_t nbins,
                                      double lo, double norm) {
  std::int32_t bins[kHistBlock];
  const double top = static_cast<double>(nbins - 1);
  const double big = std::numeric_limits<double>::max();
  for (index_t k = 0; k < n; ++k) {
    const double v = static_cast<double>(x[k]);
    double pos = (v - lo) * norm;
    pos = pos < 0.0 ? 0.0 : pos;
    pos = pos > top ? top : pos;
    // Non-finite values get the out-of-range bin nbins, skipped below.
    bins[k] = std::fabs(v) <= big ? static_cast<std::int32_t>(pos)
                                  : static_cast<std::int32_t>(nbins);
  }
  for (index_t k = 0; k < n; ++k) {
    const std::int32_t b = bins[k];
    if (b < nbins) hist[b] += 1;
  }
}

void combine(Partial& acc, const Partial& part) {
  acc.sum += part.sum;
  acc.sumsq += part.sumsq;
  acc.max_abs = nan_max(acc.max_abs, part.max_abs);
  acc.nonfinite += part.nonfinite;
  acc.saturated += part.saturated;
  acc.nans += part.nans;
}

}  // namespace

template <typename T>
BufferStats buffer_stats(const T* x, index_t n) {
  BufferStats s;
  if (n <= 0) return s;
  const Partial m = detail::ordered_reduce(
      n, detail::kBlock, n, Partial{},
      [=](index_t begin, index_t end) { return magnitude_chunk(x, begin, end); }, combine);
  s.sumsq = m.sumsq;
  s.l2 = m.nonfinite > 0 ? std::numeric_limits<double>::quiet_NaN() : std::sqrt(m.sumsq);
  s.mean_abs = m.sum / static_cast<double>(n);
  s.max_abs = m.nans > 0 ? std::numeric_limits<double>::quiet_NaN() : m.max_abs;
  s.nonfinite = m.nonfinite;
  return s;
}

template <typename T>
ActivationStats activation_stats(const T* y, index_t batch, index_t features, Act act,
                                 index_t* hist, index_t nbins, double lo, double hi) {
  ActivationStats s;
  const index_t n = batch * features;
  if (n <= 0) return s;
  const double inv_n = 1.0 / static_cast<double>(n);

  // Pass 1: sum, non-finite count and saturated count.
  double sat_lo = 0.0, sat_hi = 0.0;
  saturation_bounds(act, sat_lo, sat_hi);
  const Partial first = detail::ordered_reduce(
      n, detail::kBlock, n, Partial{},
      [=](index_t begin, index_t end) { return level_chunk(y, begin, end, sat_lo, sat_hi); },
      combine);
  s.mean = first.sum * inv_n;
  s.nonfinite = first.nonfinite;
  s.saturated = static_cast<double>(first.saturated) * inv_n;

  // Pass 2: squared deviations from the mean (two passes avoid cancellation).
  const double mean = s.mean;
  const double sq = detail::ordered_sum(n, detail::kBlock, n, [=](index_t begin, index_t end) {
    return spread_chunk(y, begin, end, mean);
  });
  s.std = std::sqrt(sq * inv_n);

  // Dead units: columns that are off in every row; each thread owns whole columns.
  if (can_die(act)) {
    index_t dead = 0;
    const index_t nchunks = (features + detail::kColumnChunk - 1) / detail::kColumnChunk;
    const auto dead_in_chunk = [&](index_t c) {
      const index_t j0 = c * detail::kColumnChunk;
      const index_t width = std::min(features, j0 + detail::kColumnChunk) - j0;
      bool alive[detail::kColumnChunk] = {};
      for (index_t i = 0; i < batch; ++i) {
        const T* row = y + i * features + j0;
        if (act == Act::relu) {
          for (index_t j = 0; j < width; ++j) alive[j] = alive[j] | !(row[j] <= T(0));
        } else {
          for (index_t j = 0; j < width; ++j) alive[j] = alive[j] | !(row[j] < T(0));
        }
      }
      index_t count = 0;
      for (index_t j = 0; j < width; ++j) count += alive[j] ? 0 : 1;
      return count;
    };
    // Integer counts: the sum is exact in any order. Small buffers never
    // enter an OpenMP construct (see detail::for_each_index).
#ifdef _OPENMP
    if (detail::worth_threads(n) && nchunks > 1 && ::vgp::get_num_threads() > 1) {
#pragma omp parallel for schedule(static) reduction(+ : dead) num_threads(::vgp::get_num_threads())
      for (index_t c = 0; c < nchunks; ++c) dead += dead_in_chunk(c);
    } else
#endif
    {
      for (index_t c = 0; c < nchunks; ++c) dead += dead_in_chunk(c);
    }
    s.dead = static_cast<double>(dead) / static_cast<double>(features);
  }

  // Histogram over [lo, hi]: integer counts, so the OpenMP array reduction is
  // exact whatever order the threads' private histograms are added in.
  if (hist != nullptr && nbins > 0) {
    for (index_t b = 0; b < nbins; ++b) hist[b] = 0;
    // Bin position as numpy computes it: (v - lo) * nbins / (hi - lo).
    const double norm = hi > lo ? static_cast<double>(nbins) / (hi - lo) : 0.0;
    const index_t blocks = (n + kHistBlock - 1) / kHistBlock;
    const auto count_block = [&](index_t blk, index_t* into) {
      const index_t begin = blk * kHistBlock, end = std::min(n, begin + kHistBlock);
      histogram_block(y + begin, end - begin, into, nbins, lo, norm);
    };
#ifdef _OPENMP
    if (detail::worth_threads(n) && blocks > 1 && ::vgp::get_num_threads() > 1) {
#pragma omp parallel for schedule(static) reduction(+ : hist[:nbins]) \
    num_threads(::vgp::get_num_threads())
      for (index_t blk = 0; blk < blocks; ++blk) count_block(blk, hist);
    } else
#endif
    {
      for (index_t blk = 0; blk < blocks; ++blk) count_block(blk, hist);
    }
  }
  return s;
}

template BufferStats buffer_stats<float>(const float*, index_t);
template BufferStats buffer_stats<double>(const double*, index_t);
template ActivationStats activation_stats<float>(const float*, index_t, index_t, Act, index_t*,
                                                 index_t, double, double);
template ActivationStats activation_stats<double>(const double*, index_t, index_t, Act, index_t*,
                                                  index_t, double, double);

}  // namespace vgp::ops
