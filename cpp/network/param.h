// A parameter of the network: its values, its gradient and the optimizer
// state kept for it, in buffers that never move once built (Python holds
// numpy views of them and copies into them in place).
#pragma once

#include <string>
#include <vector>

#include "common.h"

namespace vgp {

template <typename T>
struct Param {
  std::string name;
  std::vector<index_t> shape;
  std::vector<T> value;
  std::vector<T> grad;
  std::vector<T> slot1, slot2, slot3;  // optimizer state (allocated by the optimizer)
  bool trainable = true;
  int kernel_row = -1;  // set for kernels: where the update norm is recorded
  // L2 penalty (Keras' kernel_regularizer, network/penalty.h): l2 * sum(value^2)
  // joins each batch's loss, divided by the batch's rows when l2_per_sample.
  double l2 = 0.0;
  bool l2_per_sample = false;
  index_t size() const { return static_cast<index_t>(value.size()); }
};

// Names and shapes p, fills its values with `fill` and, when trainable, gives
// it a zero gradient. A shape whose element count overflows int64 is a
// std::length_error (a ValueError), not a wrapped-around size.
template <typename T>
void init_param(Param<T>& p, const char* name, std::vector<index_t> shape, T fill,
                bool trainable);

}  // namespace vgp
