#include "network/gradient_buffers.h"

#include <algorithm>

namespace vgp {

template <typename T>
void GradientBuffers<T>::reserve(index_t elements) {
  elements_ = std::max(elements_, elements);
  for (std::vector<T>& b : buffers_) {
    if (static_cast<index_t>(b.size()) < elements_) b.resize(static_cast<std::size_t>(elements_));
  }
}

template <typename T>
int GradientBuffers<T>::index_of(const T* p) const {
  for (std::size_t i = 0; i < buffers_.size(); ++i) {
    if (buffers_[i].data() == p) return static_cast<int>(i);
  }
  return -1;
}

template <typename T>
T* GradientBuffers<T>::take(const T* a, const T* b) {
  for (std::size_t i = 0; i < buffers_.size(); ++i) {
    T* p = buffers_[i].data();
    if (holds_[i] == 0 && p != a && p != b) return p;
  }
  buffers_.emplace_back(static_cast<std::size_t>(elements_));
  holds_.push_back(0);
  return buffers_.back().data();
}

template <typename T>
void GradientBuffers<T>::hold(const T* p) {
  const int i = index_of(p);
  if (i >= 0) ++holds_[static_cast<std::size_t>(i)];
}

template <typename T>
void GradientBuffers<T>::release(const T* p) {
  const int i = index_of(p);
  if (i >= 0) --holds_[static_cast<std::size_t>(i)];
}

template <typename T>
void GradientBuffers<T>::release_all() {
  std::fill(holds_.begin(), holds_.end(), 0);
}

template class GradientBuffers<float>;
template class GradientBuffers<double>;

}  // namespace vgp
