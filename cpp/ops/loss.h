// Losses, value and gradient, Keras semantics. Each *_forward returns the SUM
// over rows of the per-row loss (in double); the caller divides by the number
// of rows for the batch mean. Each *_backward writes the gradient of
// `scale * (sum of per-row losses)`: pass scale = 1 / batch for the gradient
// of the batch mean, as training uses.
//
// Per-row losses (t = target, k features/classes):
//   sigmoid + binary cross-entropy, fused, from logits z:
//       l = (1/k) sum_j [max(z,0) - z t + log1p(e^-|z|)]     dl/dz = (sigmoid(z) - t) / k
//     exact when the unit saturates: at z = 300, sigmoid(z) - t is 1 - t, not NaN.
//   binary cross-entropy from probabilities p (Keras from_logits=False):
//       p' = clip(p, 1e-7, 1 - 1e-7),  l = -(1/k) sum_j [t log p' + (1 - t) log(1 - p')]
//       dl/dp = -(t/p' - (1-t)/(1-p')) / k inside the clip range, 0 outside.
//   softmax + categorical cross-entropy, fused, from logits (t one-hot or soft):
//       l = sum_j t_j (logsumexp(z) - z_j)                   dl/dz = softmax(z) sum_j t_j - t
//   softmax + sparse categorical cross-entropy (labels as class indices stored in T):
//       l = logsumexp(z) - z_label                            dl/dz = softmax(z) - onehot(label)
//   categorical cross-entropy from probabilities (Keras): p' = clip(p / sum p, 1e-7, 1 - 1e-7),
//       l = -sum_j t_j log p'_j (sparse: -log p'_label).
//   mean squared error: l = (1/k) sum_j (y_j - t_j)^2         dl/dy = 2 (y - t) / k
//
// Metrics (sums over rows, for the caller to average):
//   binary accuracy: (1/k) sum_j [ (p_j > 0.5) == t_j ]
//   categorical accuracy: [argmax p == argmax t] (first maximum wins, as numpy)
//   sparse categorical accuracy: [argmax p == label]
#pragma once

#include "common.h"

namespace vgp::ops {

constexpr double kLossEpsilon = 1e-7;  // Keras backend.epsilon()

template <typename T>
double sigmoid_bce_forward(const T* logits, const T* target, index_t batch, index_t features);
template <typename T>
void sigmoid_bce_backward(const T* logits, const T* target, T* dlogits, index_t batch,
                          index_t features, double scale);
// Both in one pass over the logits (the training step's): the forward's sum,
// and the backward's gradient written into dlogits, each with the bits of the
// separate call.
template <typename T>
double sigmoid_bce_forward_backward(const T* logits, const T* target, T* dlogits, index_t batch,
                                    index_t features, double scale);

template <typename T>
double bce_forward(const T* prob, const T* target, index_t batch, index_t features);
template <typename T>
void bce_backward(const T* prob, const T* target, T* dprob, index_t batch, index_t features,
                  double scale);

template <typename T>
double softmax_cce_forward(const T* logits, const T* target, index_t batch, index_t classes);
template <typename T>
void softmax_cce_backward(const T* logits, const T* target, T* dlogits, index_t batch,
                          index_t classes, double scale);

template <typename T>
double softmax_sparse_cce_forward(const T* logits, const T* labels, index_t batch,
                                  index_t classes);
template <typename T>
void softmax_sparse_cce_backward(const T* logits, const T* labels, T* dlogits, index_t batch,
                                 index_t classes, double scale);

template <typename T>
double cce_forward(const T* prob, const T* target, index_t batch, index_t classes);
template <typename T>
void cce_backward(const T* prob, const T* target, T* dprob, index_t batch, index_t classes,
                  double scale);

template <typename T>
double sparse_cce_forward(const T* prob, const T* labels, index_t batch, index_t classes);
template <typename T>
void sparse_cce_backward(const T* prob, const T* labels, T* dprob, index_t batch, index_t classes,
                         double scale);

template <typename T>
double mse_forward(const T* y, const T* target, index_t batch, index_t features);
template <typename T>
void mse_backward(const T* y, const T* target, T* dy, index_t batch, index_t features,
                  double scale);

template <typename T>
double binary_accuracy_sum(const T* prob, const T* target, index_t batch, index_t features);
template <typename T>
double categorical_accuracy_sum(const T* prob, const T* target, index_t batch, index_t classes);
template <typename T>
double sparse_categorical_accuracy_sum(const T* prob, const T* labels, index_t batch,
                                       index_t classes);

}  // namespace vgp::ops
