#include "network/param.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <utility>

namespace vgp {

template <typename T>
void init_param(Param<T>& p, const char* name, std::vector<index_t> shape, T fill,
                bool trainable) {
  p.name = name;
  p.shape = std::move(shape);
  // Checked product: a shape whose element count overflows int64 is a
  // ValueError, not undefined behaviour followed by a wrapped-around size.
  index_t n = 1;
  for (index_t d : p.shape) {
    if (d < 0 || (d > 0 && n > std::numeric_limits<index_t>::max() / d)) {
      std::string dims;
      for (index_t e : p.shape) dims += (dims.empty() ? "" : ", ") + std::to_string(e);
      throw std::length_error(std::string("weight '") + name + "' of shape (" + dims +
                              ") has more elements than any memory can hold");
    }
    n *= d;
  }
  p.count = n;
  p.fill = fill;
  p.trainable = trainable;
}

template <typename T>
void ParamBlocks<T>::assign(const std::vector<Param<T>*>& params) {
  index_t trainable = 0, total = 0;
  for (const Param<T>* p : params) {
    if (total > std::numeric_limits<index_t>::max() - p->count) {
      throw std::length_error("the network's weights have more elements than any memory can hold");
    }
    total += p->count;
    if (p->trainable) trainable += p->count;
  }
  values_.assign(static_cast<std::size_t>(total), T(0));
  grads_.assign(static_cast<std::size_t>(trainable), T(0));
  index_t at = 0, frozen_at = trainable;
  for (Param<T>* p : params) {
    index_t& offset = p->trainable ? at : frozen_at;
    p->value = Slice<T>(values_.data() + offset, p->count);
    std::fill(p->value.begin(), p->value.end(), p->fill);
    p->grad = p->trainable ? Slice<T>(grads_.data() + offset, p->count) : Slice<T>();
    offset += p->count;
  }
}

template void init_param<float>(Param<float>&, const char*, std::vector<index_t>, float, bool);
template void init_param<double>(Param<double>&, const char*, std::vector<index_t>, double, bool);
template class ParamBlocks<float>;
template class ParamBlocks<double>;

}  // namespace vgp
