// Unit conditions of the gradient-flow statistics (flowstats.cpp): which
// activations have units that can die (a flat side with zero derivative) or
// saturate (bounded outputs), and the dead-unit scan of a (batch, features)
// activation buffer. A new activation whose units can die or saturate adds
// itself here.
#pragma once

#include <algorithm>
#include <limits>

#include "common.h"
#include "ops/activation.h"
#include "ops/flowstats.h"
#include "ops/parallel.h"

namespace vgp::ops::unit_detail {

// Rows of a dead-unit scan between two checks for "every unit seen on".
constexpr index_t kDeadCheckRows = 4;

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

// Columns of a (batch, features) buffer that are off in every row; each
// thread owns whole chunks of columns.
template <typename T>
index_t dead_units(const T* y, index_t batch, index_t features, Act act) {
  const index_t nchunks = (features + detail::kColumnChunk - 1) / detail::kColumnChunk;
  const auto dead_in_chunk = [&](index_t c) {
    const index_t j0 = c * detail::kColumnChunk;
    const index_t width = std::min(features, j0 + detail::kColumnChunk) - j0;
    unsigned char alive[detail::kColumnChunk] = {};
    index_t dead = width;
    // Most units of a healthy layer are on in the first few rows: recount
    // every kDeadCheckRows rows and stop once every unit has been seen on.
    for (index_t i0 = 0; i0 < batch && dead > 0; i0 += kDeadCheckRows) {
      const index_t i1 = std::min(batch, i0 + kDeadCheckRows);
      for (index_t i = i0; i < i1; ++i) {
        const T* row = y + i * features + j0;
        if (act == Act::relu) {
          for (index_t j = 0; j < width; ++j) alive[j] |= row[j] <= T(0) ? 0 : 1;
        } else {
          for (index_t j = 0; j < width; ++j) alive[j] |= row[j] < T(0) ? 0 : 1;
        }
      }
      dead = 0;
      for (index_t j = 0; j < width; ++j) dead += alive[j] ? 0 : 1;
    }
    return dead;
  };
  index_t dead = 0;
  // Integer counts: the sum is exact in any order. Small buffers never
  // enter an OpenMP construct (see detail::for_each_index).
#ifdef _OPENMP
  const int threads = static_cast<int>(
      std::min<index_t>(threads_for(detail::work_ns<T>(batch * features, 1)), nchunks));
  if (threads > 1) {
    count_parallel_region();
#pragma omp parallel for schedule(static) reduction(+ : dead) num_threads(threads)
    for (index_t c = 0; c < nchunks; ++c) dead += dead_in_chunk(c);
    return dead;
  }
#endif
  for (index_t c = 0; c < nchunks; ++c) dead += dead_in_chunk(c);
  return dead;
}

}  // namespace vgp::ops::unit_detail
