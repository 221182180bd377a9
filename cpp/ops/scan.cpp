#include "ops/scan.h"

#include <algorithm>
#include <cmath>

#include "ops/parallel.h"
#include "ops/vecmath.h"

namespace vgp::ops {
namespace {

// Elements per chunk: the chunks' results are combined serially.
constexpr index_t kScanChunk = 16 * detail::kBlock;

// |v| <= max is false for NaN and +-Inf alone; the minimum and maximum take
// +inf and -inf in their place, so they see the finite values only. One
// vector compare, two selects, a min, a max and a masked count per vector.
template <typename T>
VGP_MULTIVERSION ValueScan scan_span(const T* x, index_t n) {
  constexpr T kMax = std::numeric_limits<T>::max();
  constexpr T kInf = std::numeric_limits<T>::infinity();
  T lo = kInf, hi = -kInf;
  std::int64_t bad = 0;
#pragma omp simd reduction(min : lo) reduction(max : hi) reduction(+ : bad)
  for (index_t i = 0; i < n; ++i) {
    const T v = x[i];
    const bool finite = std::fabs(v) <= kMax;
    bad += finite ? 0 : 1;
    const T low = finite ? v : kInf;
    const T high = finite ? v : -kInf;
    lo = low < lo ? low : lo;
    hi = high > hi ? high : hi;
  }
  return {bad, static_cast<double>(lo), static_cast<double>(hi)};
}

}  // namespace

template <typename T>
ValueScan scan_values(const T* x, index_t n) {
  // Reads each value once; the compare and selects hide behind the loads.
  const double work = detail::work_ns<T>(n, 1.0);
  return detail::ordered_reduce(
      n, kScanChunk, work, ValueScan{}, [&](index_t b, index_t e) { return scan_span(x + b, e - b); },
      [](ValueScan& acc, const ValueScan& part) {
        acc.nonfinite += part.nonfinite;
        acc.lo = std::min(acc.lo, part.lo);
        acc.hi = std::max(acc.hi, part.hi);
      });
}

template ValueScan scan_values<float>(const float*, index_t);
template ValueScan scan_values<double>(const double*, index_t);

}  // namespace vgp::ops
