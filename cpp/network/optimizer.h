// The optimizer of a network: its state for each trainable parameter and
// the update of a training step (formulas in ops/optimizer.h, Keras 3).
#pragma once

#include <vector>

#include "common.h"
#include "network/param.h"
#include "network/spec.h"
#include "network/stats.h"
#include "ops/optimizer.h"

namespace vgp {

template <typename T>
class Optimizer {
 public:
  // Starts afresh with `spec` over the trainable parameters among `params`:
  // their state zeroed (each Param's slots view this optimizer's blocks), the
  // step count back to 0.
  void reset(const OptimizerSpec& spec, const std::vector<Param<T>*>& params);
  // One step from the parameters' gradients, each clipped first when the
  // spec asks. With `stats`, the L2 norm of each kernel's step goes into its
  // row (kUpdateL2).
  void update(StatsRecorder* stats);
  index_t steps() const { return step_; }
  // The learning rate of the next steps; the state and the step count stay.
  void set_learning_rate(double learning_rate) { spec_.learning_rate = learning_rate; }

 private:
  OptimizerSpec spec_;
  index_t step_ = 0;
  // The trainable parameters as the update sees them, the Param of each, and
  // their squared step norms when recorded.
  std::vector<ops::UpdateTensor<T>> tensors_;
  std::vector<Param<T>*> params_;
  std::vector<double> step_sq_;
  // All of them as one tensor, when their values, gradients and state are
  // each one contiguous range (ParamBlocks lays them out so): the update of
  // an unrecorded step is then one pass, however many tensors there are.
  ops::UpdateTensor<T> whole_;
  bool contiguous_ = false;
  // The state slots, one block each over the trainable parameters.
  std::vector<T> slots_[3];
};

}  // namespace vgp
