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
// Weight penalty (Keras' L2 regularizer, l2 * sum w^2 added to the loss): its
// gradient joins the weight's before clipping and the update:
//   l2_penalty_backward: g += coef w      (coef = 2 l2, over the batch's rows
//                                          for scikit-learn's per-sample alpha)
// The penalty itself is a sum of squares (flowstats' buffer_norm).
//
// Each update returns sum_i (w_new_i - w_old_i)^2 in double: the squared norm
// of the step actually taken, for the update/weight ratio of the flow report.
//
// The *_many forms update a list of tensors (a network's parameters) in one
// pass: the tensors' elements are split among threads as one flat range, so a
// network with dozens of small and large tensors pays for one parallel region
// instead of one per tensor. They compute the step norms only when asked
// (step_sq non-null): measuring them means keeping the old weights of each
// block and a reduction in double, which an unrecorded training step does not
// need. Weights and state come out bit for bit the same either way, and the
// single-tensor functions are the same code with one tensor.
#pragma once

#include "common.h"

namespace vgp::ops {

// One tensor of a multi-tensor update: n weights, their gradient, and the
// optimizer state the kind uses (null where unused).
template <typename T>
struct UpdateTensor {
  T* w = nullptr;
  const T* g = nullptr;
  T* slot1 = nullptr;  // sgd: velocity; adam: m; rmsprop: v
  T* slot2 = nullptr;  // adam: v; rmsprop: mom
  T* slot3 = nullptr;  // rmsprop: avg
  index_t n = 0;
};

// step_sq: null, or `count` doubles that receive each tensor's squared step norm.
template <typename T>
void sgd_update_many(const UpdateTensor<T>* tensors, index_t count, double lr, double momentum,
                     bool nesterov, double* step_sq);

template <typename T>
void adam_update_many(const UpdateTensor<T>* tensors, index_t count, double lr, double beta_1,
                      double beta_2, double epsilon, index_t step, double* step_sq);

template <typename T>
void rmsprop_update_many(const UpdateTensor<T>* tensors, index_t count, double lr, double rho,
                         double momentum, double epsilon, bool centered, double* step_sq);

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

template <typename T>
void l2_penalty_backward(const T* w, T* g, index_t n, double coef);

}  // namespace vgp::ops
