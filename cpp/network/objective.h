// What a network is trained on: the loss, the metric it reports, and whether
// the loss is fused with the output activation (sigmoid + binary
// cross-entropy, softmax + categorical cross-entropy: a stable closed form
// from the logits, as Keras does through the logits it keeps). The formulas
// are the kernels' (ops/loss.h).
#pragma once

#include "common.h"
#include "network/spec.h"
#include "ops/activation.h"

namespace vgp {

// Sums over the rows of a batch.
struct LossValue {
  double loss = 0.0;
  double metric = 0.0;
};

class Objective {
 public:
  // `last`: the activation of the network's output layer.
  void set(LossKind loss, MetricKind metric, ops::Act last);
  bool fused() const { return fused_; }
  // Throws std::invalid_argument unless targets of width y_width fit a
  // network with out_features outputs (sparse labels: one column).
  void check_target_width(index_t y_width, index_t out_features) const;
  // Loss and metric of the output `out` (batch, features) against `target`.
  // When fused, the loss reads `logits` (the output layer's pre-activation)
  // instead. With `grad` non-null, writes there the gradient of the batch's
  // mean loss with respect to out, or to the logits when fused.
  template <typename T>
  LossValue compute(const T* out, const T* logits, const T* target, index_t batch,
                    index_t features, T* grad) const;

 private:
  LossKind loss_ = LossKind::mse;
  MetricKind metric_ = MetricKind::none;
  bool fused_ = false;
};

}  // namespace vgp
