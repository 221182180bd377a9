#include "network/penalty.h"

#include "ops/flowstats.h"
#include "ops/optimizer.h"

namespace vgp {

namespace {

// The factor of sum(w^2) in the batch's mean loss: Keras adds l2 * sum(w^2)
// once per batch; per sample it is divided by the batch's rows.
template <typename T>
double coefficient(const Param<T>& p, index_t batch) {
  return p.l2_per_sample ? p.l2 / static_cast<double>(batch) : p.l2;
}

}  // namespace

template <typename T>
void WeightPenalty<T>::collect(const std::vector<Param<T>*>& params) {
  params_.clear();
  for (Param<T>* p : params) {
    if (p->l2 > 0.0) params_.push_back(p);
  }
}

template <typename T>
double WeightPenalty<T>::forward(index_t batch) const {
  double sum = 0.0;
  for (const Param<T>* p : params_) {
    const double sumsq = ops::buffer_norm<T>(p->value.data(), p->size()).sumsq;
    sum += coefficient(*p, batch) * sumsq * static_cast<double>(batch);
  }
  return sum;
}

template <typename T>
void WeightPenalty<T>::backward(index_t batch) const {
  for (Param<T>* p : params_) {
    ops::l2_penalty_backward<T>(p->value.data(), p->grad.data(), p->size(),
                                2.0 * coefficient(*p, batch));
  }
}

template class WeightPenalty<float>;
template class WeightPenalty<double>;

}  // namespace vgp
