#include "network/nonfinite_guard.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace vgp {
namespace {

// True when every element is finite: a sum of x * 0 is NaN iff some x is NaN
// or infinite, and the loop vectorizes.
template <typename T>
bool all_finite(const Slice<T>& v) {
  T sum = T(0);
  for (const T x : v) sum += x * T(0);
  return std::isfinite(sum);
}

}  // namespace

template <typename T>
bool NonfiniteGuard<T>::gradients_finite(const std::vector<Param<T>*>& params) {
  for (const Param<T>* p : params) {
    if (p->trainable && !all_finite(p->grad)) return false;
  }
  return true;
}

template <typename T>
bool NonfiniteGuard<T>::weights_finite(const std::vector<Param<T>*>& params) {
  for (const Param<T>* p : params) {
    if (!all_finite(p->value)) return false;
  }
  return true;
}

template <typename T>
std::uint64_t NonfiniteGuard<T>::weights_hash(const std::vector<Param<T>*>& params) {
  // FNV-1a over the values' bit patterns: tells whether the weights are
  // still bit for bit those an update produced.
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const Param<T>* p : params) {
    for (const T v : p->value) {
      Bits b;
      std::memcpy(&b, &v, sizeof b);
      h = (h ^ static_cast<std::uint64_t>(b)) * 0x100000001b3ull;
    }
  }
  return h;
}

template <typename T>
void NonfiniteGuard<T>::save(const std::vector<Param<T>*>& params) {
  if (backup_.size() != params.size()) backup_.resize(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    backup_[i].assign(params[i]->value.begin(), params[i]->value.end());
  }
}

template <typename T>
void NonfiniteGuard<T>::restore(const std::vector<Param<T>*>& params) const {
  // Copy back in place: Python holds views of these buffers.
  for (std::size_t i = 0; i < params.size(); ++i) {
    std::copy(backup_[i].begin(), backup_[i].end(), params[i]->value.begin());
  }
}

template class NonfiniteGuard<float>;
template class NonfiniteGuard<double>;

}  // namespace vgp
