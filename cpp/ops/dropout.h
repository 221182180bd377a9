// Inverted dropout (Srivastava et al. 2014), Keras semantics.
//
// Forward (training):  keep_i ~ Bernoulli(1 - rate),  y_i = keep_i x_i / (1 - rate)
// Backward:            dx_i = keep_i dy_i / (1 - rate)
// Inference:           y = x (the layer is skipped).
//
// The mask comes from a counter-based generator: keep_i is a pure function
// of (seed, i) (a SplitMix64 hash mapped to [0, 1)), so it does not depend on
// the thread count or on how the work is split. The caller draws `seed` from
// the model's seeded generator, once per batch.
#pragma once

#include <cstdint>

#include "common.h"

namespace vgp::ops {

// Uniform double in [0, 1) from (seed, counter): 53 bits of SplitMix64(seed ^ mix(counter)).
double counter_uniform(std::uint64_t seed, std::uint64_t counter);

// mask[i] = 1 if kept, 0 if dropped. y may alias x.
template <typename T>
void dropout_forward(const T* x, T* y, std::uint8_t* mask, index_t n, double rate,
                     std::uint64_t seed);

// dx may alias dy.
template <typename T>
void dropout_backward(const T* dy, const std::uint8_t* mask, T* dx, index_t n, double rate);

}  // namespace vgp::ops
