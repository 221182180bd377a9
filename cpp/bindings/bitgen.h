// numpy's bit generators through their C interface (bitgen_t,
// numpy/random/bitgen.h, reached through BitGenerator.capsule), and row
// orders drawn from them exactly as numpy.random.Generator.permutation
// draws them, without its per-element overhead (fit shuffles every epoch;
// for the seed's 200 rows numpy's Generator.permuted spends about 9 ns an
// element, mostly in three memcpy calls of a runtime size per swap).
//
// numpy's Generator.shuffle of a 1-D array, which permutation(n) applies to
// arange(n), is the Fisher-Yates loop
//     for i = n - 1 down to 1: j = random_interval(bitgen, i); swap(a[i], a[j])
// with random_interval (numpy/random/src/distributions/distributions.c): the
// smallest all-ones mask >= i, then next_uint32 & mask (next_uint64 & mask
// when i >= 2^32) until the value is <= i. The same calls through bitgen_t
// give the same orders and leave the generator in the same state;
// tests/test_training_order.py checks both against numpy. The caller holds
// the generator's BitGenerator.lock while drawing.
#pragma once

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "bindings/bind.h"

namespace vgp::bind {

// numpy's bitgen_t: the C interface every numpy BitGenerator exposes.
struct NumpyBitGen {
  void* state;
  std::uint64_t (*next_uint64)(void* state);
  std::uint32_t (*next_uint32)(void* state);
  double (*next_double)(void* state);
  std::uint64_t (*next_raw)(void* state);
};

// The bit generator behind a BitGenerator.capsule; anything else is a ValueError.
inline NumpyBitGen numpy_bitgen(const py::capsule& capsule, const char* op) {
  if (capsule.name() == nullptr || std::strcmp(capsule.name(), "BitGenerator") != 0) {
    throw std::invalid_argument(std::string(op) +
                                ": bitgen must be a numpy BitGenerator's capsule");
  }
  return *capsule.get_pointer<NumpyBitGen>();
}

// numpy's random_interval: a uniform value in [0, max] by masked rejection.
inline std::uint64_t random_interval(const NumpyBitGen& g, std::uint64_t max) {
  if (max == 0) return 0;
#if defined(__GNUC__) || defined(__clang__)
  const std::uint64_t mask = ~std::uint64_t{0} >> __builtin_clzll(max);
#else
  std::uint64_t mask = max;
  for (int shift = 1; shift < 64; shift *= 2) mask |= mask >> shift;
#endif
  std::uint64_t value;
  if (max <= 0xffffffffULL) {
    do {
      value = g.next_uint32(g.state) & mask;
    } while (value > max);
  } else {
    do {
      value = g.next_uint64(g.state) & mask;
    } while (value > max);
  }
  return value;
}

// row = Generator.permutation(n), drawn from g.
inline void draw_order(const NumpyBitGen& g, std::int64_t* row, index_t n) {
  for (index_t i = 0; i < n; ++i) row[i] = i;
  for (index_t i = n - 1; i >= 1; --i) {
    const auto j = static_cast<index_t>(random_interval(g, static_cast<std::uint64_t>(i)));
    const std::int64_t t = row[i];
    row[i] = row[j];
    row[j] = t;
  }
}

}  // namespace vgp::bind
