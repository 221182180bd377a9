// Gradient-flow statistics over a buffer, computed in one pass so that the
// training loop can record them for nearly nothing.
//
// buffer_stats (weight gradients, backpropagated signals, weights; buffer_norm
// computes its l2 and nonfinite alone):
//   l2       = sqrt(sum x^2)      (NaN if any element is NaN or Inf)
//   mean_abs = (1/n) sum |x|,  max_abs = max |x|
//   nonfinite = number of NaN/Inf elements
//   sumsq    = sum x^2 (for combining buffers)
// activation_stats over a (batch, features) activation output y:
//   mean, std (population) over all elements
//   saturated: fraction of elements within 1e-2 of the activation's bounds
//              (sigmoid: y < 0.01 or y > 0.99; tanh: |y| > 0.99; 0 for others)
//   dead:      fraction of units (columns) that are off for every row of the
//              batch (relu: y <= 0; leaky_relu, elu, selu: y < 0; 0 for others)
//   nonfinite: number of NaN/Inf elements
//   hist:      counts over nbins equal bins of [lo, hi]; values outside fall
//              into the end bins, NaN/Inf are not counted.
//
// Sums run over fixed chunks (independent of the thread count) combined in
// order, in double, so results are bitwise stable across thread counts.
#pragma once

#include "common.h"
#include "ops/activation.h"

namespace vgp::ops {

constexpr double kSaturationMargin = 1e-2;

struct BufferStats {
  double l2 = 0.0;
  double sumsq = 0.0;
  double mean_abs = 0.0;
  double max_abs = 0.0;
  index_t nonfinite = 0;
};

struct ActivationStats {
  double mean = 0.0;
  double std = 0.0;
  double saturated = 0.0;
  double dead = 0.0;
  index_t nonfinite = 0;
};

template <typename T>
BufferStats buffer_stats(const T* x, index_t n);

// The norm alone: buffer_stats' l2, sumsq and nonfinite (the same values, bit
// for bit) without the magnitude sums, for buffers whose mean and max |x| are
// not reported (weights, bias gradients, backpropagated signals).
struct NormStats {
  double l2 = 0.0;
  double sumsq = 0.0;
  index_t nonfinite = 0;
};

template <typename T>
NormStats buffer_norm(const T* x, index_t n);

// hist may be null (nbins ignored then); otherwise it receives nbins counts
// (overwritten).
template <typename T>
ActivationStats activation_stats(const T* y, index_t batch, index_t features, Act act,
                                 index_t* hist, index_t nbins, double lo, double hi);

}  // namespace vgp::ops
