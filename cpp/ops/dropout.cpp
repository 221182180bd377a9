// Inverted dropout (see dropout.h). The keep decision of element i is a pure
// function of (seed, i), so the mask is the same for any thread count and any
// split of the work; kept elements are scaled by 1 / (1 - rate) so that the
// expected output equals the input and inference needs no rescaling.
#include "ops/dropout.h"

#include "ops/parallel.h"

namespace vgp::ops {
namespace {

// SplitMix64 finaliser (Steele, Lea & Flood 2014): a bijective 64-bit mix
// whose outputs pass BigCrush even for consecutive inputs.
inline std::uint64_t splitmix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

constexpr std::uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ULL;

// The two SplitMix64 rounds of an element's keep decision, scalar 64-bit
// multiplies and shifts: about 2-3 ns, counted as 40 streams (parallel.h).
constexpr double kCostHash = 40.0;

}  // namespace

double counter_uniform(std::uint64_t seed, std::uint64_t counter) {
  // mix(counter) spreads consecutive counters over the whole 64-bit range
  // before they meet the seed, so nearby seeds do not give shifted streams.
  const std::uint64_t bits = splitmix64(seed ^ splitmix64((counter + 1) * kGoldenGamma));
  return static_cast<double>(bits >> 11) * 0x1.0p-53;
}

template <typename T>
void dropout_forward(const T* x, T* y, std::uint8_t* mask, index_t n, double rate,
                     std::uint64_t seed) {
  const T scale = static_cast<T>(1.0 / (1.0 - rate));
  // Reads x, writes y and a byte of mask, hashes the counter.
  const double work = detail::work_ns<T>(n, 2.25 + kCostHash);
  detail::parallel_blocks(n, work, [=](index_t begin, index_t end) {
    for (index_t k = begin; k < end; ++k) {
      // P(u >= rate) = 1 - rate for u uniform on [0, 1).
      const bool keep = counter_uniform(seed, static_cast<std::uint64_t>(k)) >= rate;
      mask[k] = keep ? 1 : 0;
      y[k] = keep ? x[k] * scale : T(0);
    }
  });
}

template <typename T>
void dropout_backward(const T* dy, const std::uint8_t* mask, T* dx, index_t n, double rate) {
  const T scale = static_cast<T>(1.0 / (1.0 - rate));
  // Reads dy and a byte of mask, writes dx.
  detail::parallel_blocks(n, detail::work_ns<T>(n, 2.25), [=](index_t begin, index_t end) {
    VGP_SIMD
    for (index_t k = begin; k < end; ++k) dx[k] = mask[k] ? dy[k] * scale : T(0);
  });
}

template void dropout_forward<float>(const float*, float*, std::uint8_t*, index_t, double,
                                     std::uint64_t);
template void dropout_forward<double>(const double*, double*, std::uint8_t*, index_t, double,
                                      std::uint64_t);
template void dropout_backward<float>(const float*, const std::uint8_t*, float*, index_t, double);
template void dropout_backward<double>(const double*, const std::uint8_t*, double*, index_t,
                                       double);

}  // namespace vgp::ops
