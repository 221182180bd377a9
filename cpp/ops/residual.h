// Residual (skip) connection, He et al. 2016: out = act(x + f(x)).
//
// Forward:   y = x + fx                     (then the activation, if any, by activation_forward)
// Backward:  the gradient at the sum, dy, fans out unchanged to both branches:
//            d fx = dy (fed to the inner layers' backward), d skip = dy.
//            The input gradient is the sum of what comes back along each path:
//            dx = d_skip + J_f^T dy   ->  residual_add_backward(d_skip, d_inner, dx).
// With a projection (widths differ) the skip is x·P + c, and d_skip = dy·P^T
// is computed by dense_backward before the merge.
//
// The identity path is why gradients survive depth: dx contains dy itself,
// however small J_f becomes.
#pragma once

#include "common.h"

namespace vgp::ops {

// y = x + fx over n elements. y may alias x or fx.
template <typename T>
void residual_add_forward(const T* x, const T* fx, T* y, index_t n);

// dx = d_skip + d_inner over n elements. dx may alias either input.
template <typename T>
void residual_add_backward(const T* d_skip, const T* d_inner, T* dx, index_t n);

}  // namespace vgp::ops
