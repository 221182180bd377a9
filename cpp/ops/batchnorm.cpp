// Batch normalization kernels (see batchnorm.h for the math).
//
// Parallel split (PyTorch's "parallel dim reduce on channel"): each thread owns
// whole chunks of kColumnChunk features and walks the batch rows of its chunk
// in order, so every per-feature sum (mean, variance, dgamma, dbeta) is formed
// in the same order whatever the thread count. A chunk (batch x kColumnChunk
// values) stays in cache across the passes over it (statistics, then the
// output). The chunk workers are VGP_MULTIVERSION functions: their per-column
// loops vectorize across features, which never reorders a sum.
//
// Output: y = (x - mean) * (gamma * invstd) + beta, the per-feature scale folded
// once per feature. Backward in the cancellation-friendly form
//   dx = gamma invstd (g - mean_i(g) - xhat mean_i(g xhat)),
// equal to the header's gamma invstd / n (n g - dbeta - xhat dgamma).
#include "ops/batchnorm.h"

#include <cmath>

#include "ops/parallel.h"
#include "ops/vecmath.h"

namespace vgp::ops {
namespace {

using detail::kColumnChunk;

// y[i, j0 + j] = (x[i, j0 + j] - center[j]) * scale[j] + shift[j] for j < width,
// with chunk-local per-feature constants.
template <typename T>
inline void affine_chunk(const T* x, T* y, index_t batch, index_t features, index_t j0,
                         index_t width, const T* center, const T* scale, const T* shift) {
  for (index_t i = 0; i < batch; ++i) {
    const T* xi = x + i * features + j0;
    T* yi = y + i * features + j0;
    VGP_SIMD
    for (index_t j = 0; j < width; ++j) yi[j] = (xi[j] - center[j]) * scale[j] + shift[j];
  }
}

// The inference-mode scale gamma / sqrt(moving_variance + eps) of one chunk.
template <typename T>
inline void inference_scale(const T* gamma, const T* moving_variance, double eps, index_t j0,
                     index_t width, T* scale) {
  for (index_t j = 0; j < width; ++j) {
    scale[j] = static_cast<T>(static_cast<double>(gamma[j0 + j]) /
                              std::sqrt(static_cast<double>(moving_variance[j0 + j]) + eps));
  }
}

// One chunk [j0, j0 + width) of features of the training forward pass.
template <typename T>
VGP_MULTIVERSION void train_chunk(const T* x, const T* gamma, const T* beta, T* y, T* save_mean,
                                  T* save_invstd, T* moving_mean, T* moving_variance,
                                  index_t batch, index_t features, index_t j0, index_t width,
                                  double eps, double momentum) {
  const acc_t inv_n = 1.0 / static_cast<acc_t>(batch);
  acc_t mean[kColumnChunk] = {};
  acc_t sq[kColumnChunk] = {};
  for (index_t i = 0; i < batch; ++i) {
    const T* xi = x + i * features + j0;
    VGP_SIMD
    for (index_t j = 0; j < width; ++j) mean[j] += static_cast<acc_t>(xi[j]);
  }
  for (index_t j = 0; j < width; ++j) mean[j] *= inv_n;
  // Two passes (mean, then squared deviations) avoid the cancellation of
  // E[x^2] - E[x]^2 when |mean| >> std.
  for (index_t i = 0; i < batch; ++i) {
    const T* xi = x + i * features + j0;
    VGP_SIMD
    for (index_t j = 0; j < width; ++j) {
      const acc_t d = static_cast<acc_t>(xi[j]) - mean[j];
      sq[j] += d * d;
    }
  }
  T center[kColumnChunk], scale[kColumnChunk], shift[kColumnChunk];
  for (index_t j = 0; j < width; ++j) {
    const index_t f = j0 + j;
    const acc_t var = sq[j] * inv_n;
    const acc_t invstd = 1.0 / std::sqrt(var + eps);
    save_mean[f] = static_cast<T>(mean[j]);
    save_invstd[f] = static_cast<T>(invstd);
    moving_mean[f] = static_cast<T>(momentum * static_cast<acc_t>(moving_mean[f]) +
                                    (1.0 - momentum) * mean[j]);
    moving_variance[f] = static_cast<T>(momentum * static_cast<acc_t>(moving_variance[f]) +
                                        (1.0 - momentum) * var);
    center[j] = save_mean[f];
    scale[j] = static_cast<T>(static_cast<acc_t>(gamma[f]) * invstd);
    shift[j] = beta[f];
  }
  affine_chunk(x, y, batch, features, j0, width, center, scale, shift);
}

// Inference scale of one chunk, then y = (x - center) * scale + shift.
template <typename T>
VGP_MULTIVERSION void infer_chunk(const T* x, const T* gamma, const T* center, const T* shift,
                                  const T* moving_variance, T* y, index_t batch,
                                  index_t features, index_t j0, index_t width, double eps) {
  T scale[kColumnChunk];
  inference_scale(gamma, moving_variance, eps, j0, width, scale);
  affine_chunk(x, y, batch, features, j0, width, center, scale, shift);
}

// One chunk of the training backward pass: the two per-feature sums, then dx.
template <typename T>
VGP_MULTIVERSION void backward_chunk(const T* x, const T* dy, const T* gamma, const T* save_mean,
                                     const T* save_invstd, T* dx, T* dgamma, T* dbeta,
                                     index_t batch, index_t features, index_t j0,
                                     index_t width) {
  const acc_t inv_n = batch > 0 ? 1.0 / static_cast<acc_t>(batch) : 0.0;
  acc_t sum_g[kColumnChunk] = {};
  acc_t sum_gx[kColumnChunk] = {};
  acc_t mean[kColumnChunk], invstd[kColumnChunk];
  for (index_t j = 0; j < width; ++j) {
    mean[j] = static_cast<acc_t>(save_mean[j0 + j]);
    invstd[j] = static_cast<acc_t>(save_invstd[j0 + j]);
  }
  for (index_t i = 0; i < batch; ++i) {
    const T* xi = x + i * features + j0;
    const T* gi = dy + i * features + j0;
    VGP_SIMD
    for (index_t j = 0; j < width; ++j) {
      const acc_t g = static_cast<acc_t>(gi[j]);
      sum_g[j] += g;
      sum_gx[j] += g * (static_cast<acc_t>(xi[j]) - mean[j]) * invstd[j];
    }
  }
  for (index_t j = 0; j < width; ++j) {
    dbeta[j0 + j] = static_cast<T>(sum_g[j]);
    dgamma[j0 + j] = static_cast<T>(sum_gx[j]);
  }
  if (dx == nullptr) return;
  // dx = a (g - b - xhat c) with xhat = (x - m) s.
  T a[kColumnChunk], b[kColumnChunk], c[kColumnChunk], m[kColumnChunk], s[kColumnChunk];
  for (index_t j = 0; j < width; ++j) {
    a[j] = static_cast<T>(static_cast<acc_t>(gamma[j0 + j]) * invstd[j]);
    b[j] = static_cast<T>(sum_g[j] * inv_n);
    c[j] = static_cast<T>(sum_gx[j] * inv_n);
    m[j] = save_mean[j0 + j];
    s[j] = save_invstd[j0 + j];
  }
  for (index_t i = 0; i < batch; ++i) {
    const T* xi = x + i * features + j0;
    const T* gi = dy + i * features + j0;
    T* dxi = dx + i * features + j0;
    VGP_SIMD
    for (index_t j = 0; j < width; ++j) {
      const T xhat = (xi[j] - m[j]) * s[j];
      dxi[j] = a[j] * (gi[j] - b[j] - xhat * c[j]);
    }
  }
}

}  // namespace

template <typename T>
void batchnorm_forward_train(const T* x, const T* gamma, const T* beta, T* y, T* save_mean,
                             T* save_invstd, T* moving_mean, T* moving_variance, index_t batch,
                             index_t features, double eps, double momentum) {
  if (batch <= 0 || features <= 0) return;
  // Reads x three times (mean, deviations, output) and writes y; two sums in double.
  const double work = detail::work_ns<T>(batch * features, 4 + 2 * detail::kCostDouble);
  detail::parallel_columns(features, work, [=](index_t j0, index_t j1) {
    train_chunk(x, gamma, beta, y, save_mean, save_invstd, moving_mean, moving_variance, batch,
                features, j0, j1 - j0, eps, momentum);
  });
}

template <typename T>
void batchnorm_forward_infer(const T* x, const T* gamma, const T* beta, const T* moving_mean,
                             const T* moving_variance, T* y, index_t batch, index_t features,
                             double eps) {
  if (batch <= 0 || features <= 0) return;
  detail::parallel_columns(features, detail::work_ns<T>(batch * features, 2),
                           [=](index_t j0, index_t j1) {
    infer_chunk(x, gamma, moving_mean + j0, beta + j0, moving_variance, y, batch, features, j0,
                j1 - j0, eps);
  });
}

template <typename T>
void batchnorm_backward(const T* x, const T* dy, const T* gamma, const T* save_mean,
                        const T* save_invstd, T* dx, T* dgamma, T* dbeta, index_t batch,
                        index_t features) {
  if (features <= 0) return;
  // Reads x and dy for the two sums in double, again for dx, and writes dx.
  const double work = detail::work_ns<T>(batch * features, 5 + 2 * detail::kCostDouble);
  detail::parallel_columns(features, work, [=](index_t j0, index_t j1) {
    backward_chunk(x, dy, gamma, save_mean, save_invstd, dx, dgamma, dbeta, batch, features, j0,
                   j1 - j0);
  });
}

template <typename T>
void batchnorm_backward_infer(const T* dy, const T* gamma, const T* moving_variance, T* dx,
                              index_t batch, index_t features, double eps) {
  if (batch <= 0 || features <= 0) return;
  static constexpr T kZero[kColumnChunk] = {};
  detail::parallel_columns(features, detail::work_ns<T>(batch * features, 2),
                           [=](index_t j0, index_t j1) {
    infer_chunk(dy, gamma, kZero, kZero, moving_variance, dx, batch, features, j0, j1 - j0, eps);
  });
}

#define VGP_INSTANTIATE(T)                                                                      \
  template void batchnorm_forward_train<T>(const T*, const T*, const T*, T*, T*, T*, T*, T*,    \
                                           index_t, index_t, double, double);                   \
  template void batchnorm_forward_infer<T>(const T*, const T*, const T*, const T*, const T*, T*, \
                                           index_t, index_t, double);                           \
  template void batchnorm_backward<T>(const T*, const T*, const T*, const T*, const T*, T*, T*, \
                                      T*, index_t, index_t);                                    \
  template void batchnorm_backward_infer<T>(const T*, const T*, const T*, T*, index_t, index_t, \
                                            double);
VGP_INSTANTIATE(float)
VGP_INSTANTIATE(double)
#undef VGP_INSTANTIATE

}  // namespace vgp::ops
