// The buffers a backward pass hands gradients through. Each layer writes its
// input gradient into one and the layer below reads it once, so a few
// buffers taken in turn serve the whole pass and stay in cache: with a buffer
// per layer each would be cold by the time the pass reaches it, and the first
// write to a cold line reads it from memory (28 MB a step for 8 residual
// blocks of width 512 at batch 256).
#pragma once

#include <vector>

#include "common.h"

namespace vgp {

template <typename T>
class GradientBuffers {
 public:
  // Every buffer holds at least `elements` values from now on (buffers move:
  // call between passes only).
  void reserve(index_t elements);
  // A buffer that is neither `a` nor `b` nor held, the lowest such one (the
  // same few buffers again and again). Adds one when all are busy: the first
  // pass through each depth of nested residual blocks.
  T* take(const T* a = nullptr, const T* b = nullptr);
  // A held buffer is not handed out until released (a residual block's
  // gradient at its sum, read again after its inner layers). Pointers that
  // are not one of these buffers are ignored; holds nest.
  void hold(const T* p);
  void release(const T* p);
  // Releases every hold (a pass that was interrupted left its own).
  void release_all();

 private:
  int index_of(const T* p) const;
  std::vector<std::vector<T>> buffers_;
  std::vector<int> holds_;
  index_t elements_ = 0;
};

}  // namespace vgp
