#include "network/objective.h"

#include <stdexcept>
#include <string>

#include "ops/loss.h"

namespace vgp {

void Objective::set(LossKind loss, MetricKind metric, ops::Act last) {
  loss_ = loss;
  metric_ = metric;
  // Fuse the output activation into the loss where the pair has a stable
  // closed form (Keras does the same through the logits it keeps).
  fused_ = (loss == LossKind::binary_crossentropy && last == ops::Act::sigmoid) ||
           ((loss == LossKind::categorical_crossentropy ||
             loss == LossKind::sparse_categorical_crossentropy) &&
            last == ops::Act::softmax);
}

void Objective::check_target_width(index_t y_width, index_t out_features) const {
  const index_t want = loss_ == LossKind::sparse_categorical_crossentropy ? 1 : out_features;
  if (y_width != want) {
    throw std::invalid_argument("Network: targets have width " + std::to_string(y_width) +
                                ", the loss expects " + std::to_string(want));
  }
}

template <typename T>
LossValue Objective::compute(const T* out, const T* logits, const T* target, index_t batch,
                             index_t k, T* g) const {
  const double scale = 1.0 / static_cast<double>(batch);
  LossValue v;
  switch (loss_) {
    case LossKind::binary_crossentropy:
      if (fused_ && g) {
        v.loss = ops::sigmoid_bce_forward_backward<T>(logits, target, g, batch, k, scale);
      } else if (fused_) {
        v.loss = ops::sigmoid_bce_forward<T>(logits, target, batch, k);
      } else {
        v.loss = ops::bce_forward<T>(out, target, batch, k);
        if (g) ops::bce_backward<T>(out, target, g, batch, k, scale);
      }
      break;
    case LossKind::mse:
      v.loss = ops::mse_forward<T>(out, target, batch, k);
      if (g) ops::mse_backward<T>(out, target, g, batch, k, scale);
      break;
    case LossKind::categorical_crossentropy:
      if (fused_) {
        v.loss = ops::softmax_cce_forward<T>(logits, target, batch, k);
        if (g) ops::softmax_cce_backward<T>(logits, target, g, batch, k, scale);
      } else {
        v.loss = ops::cce_forward<T>(out, target, batch, k);
        if (g) ops::cce_backward<T>(out, target, g, batch, k, scale);
      }
      break;
    case LossKind::sparse_categorical_crossentropy:
      if (fused_) {
        v.loss = ops::softmax_sparse_cce_forward<T>(logits, target, batch, k);
        if (g) ops::softmax_sparse_cce_backward<T>(logits, target, g, batch, k, scale);
      } else {
        v.loss = ops::sparse_cce_forward<T>(out, target, batch, k);
        if (g) ops::sparse_cce_backward<T>(out, target, g, batch, k, scale);
      }
      break;
  }
  switch (metric_) {
    case MetricKind::none:
      break;
    case MetricKind::binary_accuracy:
      v.metric = ops::binary_accuracy_sum<T>(out, target, batch, k);
      break;
    case MetricKind::categorical_accuracy:
      v.metric = ops::categorical_accuracy_sum<T>(out, target, batch, k);
      break;
    case MetricKind::sparse_categorical_accuracy:
      v.metric = ops::sparse_categorical_accuracy_sum<T>(out, target, batch, k);
      break;
  }
  return v;
}

template LossValue Objective::compute<float>(const float*, const float*, const float*, index_t,
                                             index_t, float*) const;
template LossValue Objective::compute<double>(const double*, const double*, const double*,
                                              index_t, index_t, double*) const;

}  // namespace vgp
