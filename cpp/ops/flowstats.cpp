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
};

inline bool is_finite(double v) { return std::isfinite(v); }

// NaN wins, as in numpy.max.
inline double nan_max(double a, double b) { return (b > a || b != b) ? b : a; }

// True when y is within kSaturationMargin of the activation's bounds.
inline bool saturated(Act act, double y) {
  switch (act) {
    case Act::sigmoid: return y < kSaturationMargin || y > 1.0 - kSaturationMargin;
    case Act::tanh: return std::fabs(y) > 1.0 - kSaturationMargin;
    default: return false;
  }
}

// True when a unit with output y is off (its gradient is zero or constant).
inline bool off(Act act, double y) {
  switch (act) {
    case Act::relu: return y <= 0.0;
    case Act::leaky_relu:
    case Act::elu:
    case Act::selu: return y < 0.0;
    default: return false;
  }
}

inline bool can_die(Act act) {
  return act == Act::relu || act == Act::leaky_relu || act == Act::elu || act == Act::selu;
}

void combine(Partial& acc, const Partial& part) {
  acc.sum += part.sum;
  acc.sumsq += part.sumsq;
  acc.max_abs = nan_max(acc.max_abs, part.max_abs);
  acc.nonfinite += part.nonfinite;
  acc.saturated += part.saturated;
}

}  // namespace

template <typename T>
BufferStats buffer_stats(const T* x, index_t n) {
  BufferStats s;
  if (n <= 0) return s;
  const Partial m = detail::ordered_reduce(
      n, detail::kBlock, n, Partial{},
      [=](index_t begin, index_t end) {
        Partial p;
        for (index_t k = begin; k < end; ++k) {
          const double v = static_cast<double>(x[k]);
          const double a = std::fabs(v);
          p.sum += a;
          p.sumsq += v * v;
          p.max_abs = nan_max(p.max_abs, a);
          p.nonfinite += is_finite(v) ? 0 : 1;
        }
        return p;
      },
      combine);
  s.sumsq = m.sumsq;
  s.l2 = m.nonfinite > 0 ? std::numeric_limits<double>::quiet_NaN() : std::sqrt(m.sumsq);
  s.mean_abs = m.sum / static_cast<double>(n);
  s.max_abs = m.max_abs;
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
  const Partial first = detail::ordered_reduce(
      n, detail::kBlock, n, Partial{},
      [=](index_t begin, index_t end) {
        Partial p;
        for (index_t k = begin; k < end; ++k) {
          const double v = static_cast<double>(y[k]);
          p.sum += v;
          p.nonfinite += is_finite(v) ? 0 : 1;
          p.saturated += saturated(act, v) ? 1 : 0;
        }
        return p;
      },
      combine);
  s.mean = first.sum * inv_n;
  s.nonfinite = first.nonfinite;
  s.saturated = static_cast<double>(first.saturated) * inv_n;

  // Pass 2: squared deviations from the mean (two passes avoid cancellation).
  const double mean = s.mean;
  const double sq = detail::ordered_sum(n, detail::kBlock, n, [=](index_t begin, index_t end) {
    double p = 0.0;
    for (index_t k = begin; k < end; ++k) {
      const double d = static_cast<double>(y[k]) - mean;
      p += d * d;
    }
    return p;
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
        for (index_t j = 0; j < width; ++j) alive[j] = alive[j] || !off(act, row[j]);
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
    const auto bin = [&](index_t k) -> index_t {
      const double v = static_cast<double>(y[k]);
      if (!is_finite(v)) return -1;
      const double pos = (v - lo) * norm;
      return pos <= 0.0 ? 0
             : pos >= static_cast<double>(nbins) ? nbins - 1
                                                 : static_cast<index_t>(pos);
    };
#ifdef _OPENMP
    if (detail::worth_threads(n) && ::vgp::get_num_threads() > 1) {
#pragma omp parallel for schedule(static) reduction(+ : hist[:nbins]) \
    num_threads(::vgp::get_num_threads())
      for (index_t k = 0; k < n; ++k) {
        const index_t b = bin(k);
        if (b >= 0) hist[b] += 1;
      }
    } else
#endif
    {
      for (index_t k = 0; k < n; ++k) {
        const index_t b = bin(k);
        if (b >= 0) hist[b] += 1;
      }
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
