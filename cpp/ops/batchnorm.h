// Batch normalization (Ioffe & Szegedy 2015), Keras semantics.
//
// Training forward, per feature j over the batch (n rows):
//   mean_j   = (1/n) sum_i x_ij
//   var_j    = (1/n) sum_i (x_ij - mean_j)^2          biased, as Keras normalises
//   invstd_j = 1 / sqrt(var_j + eps)
//   xhat_ij  = (x_ij - mean_j) invstd_j
//   y_ij     = gamma_j xhat_ij + beta_j
//   moving_mean_j     = momentum moving_mean_j     + (1 - momentum) mean_j
//   moving_variance_j = momentum moving_variance_j + (1 - momentum) var_j
// caches save_mean = mean, save_invstd = invstd for backward.
//
// Inference forward: y = gamma (x - moving_mean) / sqrt(moving_variance + eps) + beta.
//
// Backward (training mode), with g = dy:
//   dbeta_j  = sum_i g_ij
//   dgamma_j = sum_i g_ij xhat_ij
//   dx_ij    = gamma_j invstd_j / n * (n g_ij - dbeta_j - xhat_ij dgamma_j)
// (d var / d mean = 0 because sum_i (x_ij - mean_j) = 0.)
//
// Statistics are summed in double, per feature, in row order: each thread
// owns whole features, so results do not depend on the thread count.
#pragma once

#include "common.h"

namespace vgp::ops {

template <typename T>
void batchnorm_forward_train(const T* x, const T* gamma, const T* beta, T* y, T* save_mean,
                             T* save_invstd, T* moving_mean, T* moving_variance, index_t batch,
                             index_t features, double eps, double momentum);

template <typename T>
void batchnorm_forward_infer(const T* x, const T* gamma, const T* beta, const T* moving_mean,
                             const T* moving_variance, T* y, index_t batch, index_t features,
                             double eps);

// dx may be null (input gradient not needed). dx may not alias dy.
template <typename T>
void batchnorm_backward(const T* x, const T* dy, const T* gamma, const T* save_mean,
                        const T* save_invstd, T* dx, T* dgamma, T* dbeta, index_t batch,
                        index_t features);

// Input gradient of inference-mode batch norm (a per-feature scale):
// dx = dy * gamma / sqrt(moving_variance + eps). Used for Jacobians at fixed statistics.
template <typename T>
void batchnorm_backward_infer(const T* dy, const T* gamma, const T* moving_variance, T* dx,
                              index_t batch, index_t features, double eps);

}  // namespace vgp::ops
