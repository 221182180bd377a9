// Optimizer updates, in place, Keras 3 formulas (g = gradient, w = weight).
//
//   SGD:      momentum == 0:  w -= lr g
//             otherwise:      v = momentum v - lr g
//                             w += v                      (nesterov: w += momentum v - lr g)
//   Adam (Kingma & Ba 2015), step t = 1, 2, ...:
//             m += (g - m)(1 - beta_1);  v += (g^2 - v)(1 - beta_2)
//             alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
//             w -= alpha m / (sqrt(v) + epsilon)
//   RMSprop (Hinton 2012):
//             v = rho v + (1 - rho) g^2
//             centered: a = rho a + (1 - rho) g;  den = v - a^2 + epsilon;  else den = v + epsilon
//             inc = lr g / sqrt(den)
//             momentum > 0: mom = momentum mom + inc;  w -= mom;   else w -= inc
//
// Clipping, applied to each gradient before the update (Keras: at most one of
// clipnorm / clipvalue per optimizer):
//   clip_by_norm:  g *= clipnorm / max(||g||_2, clipnorm)
//   clip_by_value: g = min(max(g, -clipvalue), clipvalue)
//
// Each update returns sum_i (w_new_i - w_old_i)^2 in double: the squared norm
// of the step actually taken, for the update/weight ratio of the flow report.
#pragma once

#include "common.h"

namespace vgp::ops {

// velocity may be null when momentum == 0.
template <typename T>
double sgd_update(T* w, const T* g, T* velocity, index_t n, double lr, double momentum,
                  bool nesterov);

template <typename T>
double adam_update(T* w, const T* g, T* m, T* v, index_t n, double lr, double beta_1,
                   double beta_2, double epsilon, index_t step);

// mom may be null when momentum == 0; avg may be null when !centered.
template <typename T>
double rmsprop_update(T* w, const T* g, T* v, T* mom, T* avg, index_t n, double lr, double rho,
                      double momentum, double epsilon, bool centered);

template <typename T>
void clip_by_norm(T* g, index_t n, double clipnorm);

template <typename T>
void clip_by_value(T* g, index_t n, double clipvalue);

}  // namespace vgp::ops
