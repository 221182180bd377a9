#include "network/optimizer.h"

#include <cmath>

namespace vgp {

template <typename T>
void Optimizer<T>::reset(const OptimizerSpec& spec, const std::vector<Param<T>*>& params) {
  spec_ = spec;
  step_ = 0;
  for (Param<T>* p : params) {
    p->slot1.clear();
    p->slot2.clear();
    p->slot3.clear();
    if (!p->trainable) continue;
    const std::size_t n = p->value.size();
    switch (spec.kind) {
      case OptimizerKind::sgd:
        if (spec.momentum != 0.0) p->slot1.assign(n, T(0));
        break;
      case OptimizerKind::adam:
        p->slot1.assign(n, T(0));
        p->slot2.assign(n, T(0));
        break;
      case OptimizerKind::rmsprop:
        p->slot1.assign(n, T(0));
        if (spec.momentum != 0.0) p->slot2.assign(n, T(0));
        if (spec.centered) p->slot3.assign(n, T(0));
        break;
    }
  }
  // The update's view of the trainable parameters. The buffers never move
  // after this point (Python holds views of them and copies in place).
  tensors_.clear();
  params_.clear();
  for (Param<T>* p : params) {
    if (!p->trainable) continue;
    const auto ptr = [](std::vector<T>& v) { return v.empty() ? nullptr : v.data(); };
    ops::UpdateTensor<T> t;
    t.w = p->value.data();
    t.g = p->grad.data();
    t.slot1 = ptr(p->slot1);
    t.slot2 = ptr(p->slot2);
    t.slot3 = ptr(p->slot3);
    t.n = p->size();
    tensors_.push_back(t);
    params_.push_back(p);
  }
  step_sq_.assign(tensors_.size(), 0.0);
}

template <typename T>
void Optimizer<T>::update(StatsRecorder* stats) {
  ++step_;
  // Keras clips each variable's gradient on its own, before its update.
  if (spec_.clipnorm > 0.0 || spec_.clipvalue > 0.0) {
    for (Param<T>* p : params_) {
      if (spec_.clipnorm > 0.0) ops::clip_by_norm<T>(p->grad.data(), p->size(), spec_.clipnorm);
      if (spec_.clipvalue > 0.0) {
        ops::clip_by_value<T>(p->grad.data(), p->size(), spec_.clipvalue);
      }
    }
  }
  // All parameters in one pass; the step norms only when they are recorded.
  const ops::UpdateTensor<T>* ts = tensors_.data();
  const index_t count = static_cast<index_t>(tensors_.size());
  double* sq = stats ? step_sq_.data() : nullptr;
  const OptimizerSpec& o = spec_;
  switch (o.kind) {
    case OptimizerKind::sgd:
      ops::sgd_update_many<T>(ts, count, o.learning_rate, o.momentum, o.nesterov, sq);
      break;
    case OptimizerKind::adam:
      ops::adam_update_many<T>(ts, count, o.learning_rate, o.beta_1, o.beta_2, o.epsilon, step_,
                               sq);
      break;
    case OptimizerKind::rmsprop:
      ops::rmsprop_update_many<T>(ts, count, o.learning_rate, o.rho, o.momentum, o.epsilon,
                                  o.centered, sq);
      break;
  }
  if (!stats) return;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const int row = params_[i]->kernel_row;
    if (row >= 0) stats->row(row)[kUpdateL2] = std::sqrt(step_sq_[i]);
  }
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace vgp
