// The non-finite guard of a training step (halt_on_nonfinite, Keras'
// TerminateOnNaN): a step whose loss or gradients are not finite is not
// applied, nor is an update that leaves a weight or a moving variance beyond
// the dtype's range. Either way the network keeps the last weights whose
// forward and backward pass were finite.
//
// In an exploding network the step before the first non-finite pass is
// itself the blow-up (finite, but huge): its update made the weights that
// now overflow. So the guard keeps the weights from before each update it
// applies and, when the next step's passes are not finite, goes back to them,
// provided the weights are still bit for bit what that update produced
// (Python may have set others since: then it keeps those). A hash of the
// weights' bit patterns tells.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "network/param.h"

namespace vgp {

template <typename T>
class NonfiniteGuard {
 public:
  // Applies `update` (the optimizer step and the commit of the layers'
  // state) when the step's loss (`loss_sum`) and every gradient are finite,
  // and keeps it when the weights it leaves are finite too. Returns false
  // when the step was not applied: the weights are then those from before
  // this step, or from before the previous one (see above).
  template <typename Update>
  bool apply(const std::vector<Param<T>*>& params, double loss_sum, Update&& update) {
    if (!std::isfinite(loss_sum) || !gradients_finite(params)) {
      if (backup_valid_ && weights_hash(params) == updated_hash_) restore(params);
      backup_valid_ = false;
      return false;
    }
    save(params);
    update();
    if (!weights_finite(params)) {
      restore(params);
      backup_valid_ = false;
      return false;
    }
    updated_hash_ = weights_hash(params);
    backup_valid_ = true;
    return true;
  }
  // Drops the backup (a new optimizer starts a new history).
  void forget() { backup_valid_ = false; }

 private:
  static bool gradients_finite(const std::vector<Param<T>*>& params);
  static bool weights_finite(const std::vector<Param<T>*>& params);
  static std::uint64_t weights_hash(const std::vector<Param<T>*>& params);
  void save(const std::vector<Param<T>*>& params);
  void restore(const std::vector<Param<T>*>& params) const;

  std::vector<std::vector<T>> backup_;  // every parameter's values before the last update
  bool backup_valid_ = false;           // backup_ is what the weights were before updated_hash_
  std::uint64_t updated_hash_ = 0;      // hash of the weights the last update produced
};

}  // namespace vgp
