#include "network/param.h"

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
  p.value.assign(static_cast<std::size_t>(n), fill);
  p.trainable = trainable;
  if (trainable) p.grad.assign(static_cast<std::size_t>(n), T(0));
}

template void init_param<float>(Param<float>&, const char*, std::vector<index_t>, float, bool);
template void init_param<double>(Param<double>&, const char*, std::vector<index_t>, double, bool);

}  // namespace vgp
