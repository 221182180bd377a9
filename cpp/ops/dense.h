// Dense (fully connected) layer, Keras layout: w is (in_features, out_features).
//
// Forward:   z = x · w + b                       x (batch, in), z (batch, out)
//            y = act(z)                          fused into the GEMM epilogue
// Backward:  dz = dy ⊙ act'(z)                   (activation_backward, by the caller)
//            dw = x^T · dz                       (in, out)
//            db = sum over rows of dz            (out,), summed in double, fixed order
//            dx = dz · w^T                       (batch, in), skipped when dx is null
//
// Forward caches nothing beyond z and y; backward needs x (the layer's input).
#pragma once

#include "common.h"
#include "ops/activation.h"

namespace vgp::ops {

// z = x·w + b (b may be null). When act is not linear, y = act(z) as well
// (y must then be a separate buffer); when act is linear, y may be null or z.
template <typename T>
void dense_forward(const T* x, const T* w, const T* b, T* z, T* y, index_t batch,
                   index_t in_features, index_t out_features, Act act = Act::linear);

// Given dz (the gradient at the pre-activation), writes dw, db (if not null)
// and dx (if not null). dw and db are overwritten, not accumulated.
template <typename T>
void dense_backward(const T* x, const T* w, const T* dz, T* dx, T* dw, T* db, index_t batch,
                    index_t in_features, index_t out_features);

// db[j] = sum_i dz[i, j] in double, the same order for any thread count.
template <typename T>
void column_sums(const T* dz, T* db, index_t batch, index_t features);

}  // namespace vgp::ops
