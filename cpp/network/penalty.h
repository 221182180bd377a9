// The weight penalty of a network: Keras' L2 kernel regularizer,
// l2 * sum(w^2) added to each batch's mean loss and its gradient 2 l2 w to
// the kernel's, in every pass that reports a loss (training steps,
// compute_gradients, evaluate). Per sample (scikit-learn's convention for
// alpha = 2 l2) both are divided by the batch's rows, the last, smaller batch
// of an epoch included. The gradient joins the kernel's before the
// optimizer clips and applies it, and before its statistics are recorded:
// the flow report shows the gradient the optimizer used.
#pragma once

#include <vector>

#include "common.h"
#include "network/param.h"

namespace vgp {

template <typename T>
class WeightPenalty {
 public:
  // The parameters among `params` that carry a penalty (Param::l2 > 0).
  void collect(const std::vector<Param<T>*>& params);
  bool empty() const { return params_.empty(); }
  // The penalty for a batch of `batch` rows as a sum over its rows, as the
  // data loss is kept (batch times what it adds to the batch's mean loss).
  double forward(index_t batch) const;
  // Adds its gradient to each penalized parameter's gradient (after the
  // backward pass has written them).
  void backward(index_t batch) const;

 private:
  std::vector<Param<T>*> params_;
};

}  // namespace vgp
