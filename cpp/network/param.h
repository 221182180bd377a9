// A parameter of the network: its values, its gradient and the optimizer
// state kept for it. They live in contiguous blocks (ParamBlocks, owned by the
// network; the optimizer's state blocks by the optimizer) that never move once
// built: Python holds numpy views of the values and copies into them in place,
// and the optimizer updates every trainable parameter in one pass over each
// block instead of one pass per tensor.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common.h"

namespace vgp {

// n contiguous values of T in a block owned elsewhere (empty: none).
template <typename T>
class Slice {
 public:
  Slice() = default;
  Slice(T* data, index_t n) : data_(data), n_(static_cast<std::size_t>(n)) {}
  T* data() const { return data_; }
  std::size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  T* begin() const { return data_; }
  T* end() const { return data_ + n_; }
  T& operator[](std::size_t i) const { return data_[i]; }

 private:
  T* data_ = nullptr;
  std::size_t n_ = 0;
};

template <typename T>
struct Param {
  std::string name;
  std::vector<index_t> shape;
  index_t count = 0;  // elements: the product of shape
  T fill = T(0);      // the initial value of every element
  Slice<T> value;
  Slice<T> grad;                       // empty when not trainable
  Slice<T> slot1, slot2, slot3;        // optimizer state (set by the optimizer)
  bool trainable = true;
  int kernel_row = -1;  // set for kernels: where the update norm is recorded
  // L2 penalty (Keras' kernel_regularizer, network/penalty.h): l2 * sum(value^2)
  // joins each batch's loss, divided by the batch's rows when l2_per_sample.
  double l2 = 0.0;
  bool l2_per_sample = false;
  index_t size() const { return count; }
};

// Names and shapes p and sets its fill value; the values themselves are laid
// out by ParamBlocks once the network has collected every parameter. A shape
// whose element count overflows int64 is a std::length_error (a ValueError),
// not a wrapped-around size.
template <typename T>
void init_param(Param<T>& p, const char* name, std::vector<index_t> shape, T fill,
                bool trainable);

// The values and gradients of a network's parameters, each in one block: the
// trainable parameters first, in the network's order, then the others, so the
// values and the gradients of all trainable parameters are each one
// contiguous range.
template <typename T>
class ParamBlocks {
 public:
  // Lays out `params` here: values set to each one's fill, gradients to zero.
  void assign(const std::vector<Param<T>*>& params);

 private:
  std::vector<T> values_, grads_;
};

}  // namespace vgp
