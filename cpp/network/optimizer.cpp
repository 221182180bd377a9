#include "network/optimizer.h"

#include <cmath>

namespace vgp {

namespace {

// Whether every tensor of `ts` starts where the previous one ends, in each of
// the buffers the update touches.
template <typename T>
bool one_range(const std::vector<ops::UpdateTensor<T>>& ts) {
  const auto follows = [](const T* next, const T* prev, index_t n) {
    return next == (prev ? prev + n : nullptr);
  };
  for (std::size_t i = 1; i < ts.size(); ++i) {
    const ops::UpdateTensor<T>& a = ts[i - 1];
    const ops::UpdateTensor<T>& b = ts[i];
    if (b.w != a.w + a.n || b.g != a.g + a.n || !follows(b.slot1, a.slot1, a.n) ||
        !follows(b.slot2, a.slot2, a.n) || !follows(b.slot3, a.slot3, a.n)) {
      return false;
    }
  }
  return true;
}

}  // namespace

template <typename T>
void Optimizer<T>::reset(const OptimizerSpec& spec, const std::vector<Param<T>*>& params) {
  spec_ = spec;
  step_ = 0;
  // Which slots the kind keeps.
  bool used[3] = {false, false, false};
  switch (spec.kind) {
    case OptimizerKind::sgd:
      used[0] = spec.momentum != 0.0;
      break;
    case OptimizerKind::adam:
      used[0] = used[1] = true;
      break;
    case OptimizerKind::rmsprop:
      used[0] = true;
      used[1] = spec.momentum != 0.0;
      used[2] = spec.centered;
      break;
  }
  index_t total = 0;
  for (const Param<T>* p : params) total += p->trainable ? p->size() : 0;
  for (int k = 0; k < 3; ++k) {
    slots_[k].assign(used[k] ? static_cast<std::size_t>(total) : 0, T(0));
  }
  // The update's view of the trainable parameters, each one's state at the
  // same offset in the slot blocks as its values and gradient in theirs.
  tensors_.clear();
  params_.clear();
  index_t at = 0;
  for (Param<T>* p : params) {
    Slice<T>* slots[3] = {&p->slot1, &p->slot2, &p->slot3};
    for (int k = 0; k < 3; ++k) {
      *slots[k] = p->trainable && used[k] ? Slice<T>(slots_[k].data() + at, p->size()) : Slice<T>();
    }
    if (!p->trainable) continue;
    const auto ptr = [](const Slice<T>& v) { return v.empty() ? nullptr : v.data(); };
    ops::UpdateTensor<T> t;
    t.w = p->value.data();
    t.g = p->grad.data();
    t.slot1 = ptr(p->slot1);
    t.slot2 = ptr(p->slot2);
    t.slot3 = ptr(p->slot3);
    t.n = p->size();
    tensors_.push_back(t);
    params_.push_back(p);
    at += p->size();
  }
  step_sq_.assign(tensors_.size(), 0.0);
  contiguous_ = !tensors_.empty() && one_range(tensors_);
  if (contiguous_) {
    whole_ = tensors_.front();
    whole_.n = total;
  }
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
  // All parameters in one pass; the step norms, when they are recorded, per
  // tensor. Unrecorded, the tensors are one contiguous range (ParamBlocks and
  // reset() lay them out so) and update as a single tensor.
  const bool whole = contiguous_ && !stats;
  const ops::UpdateTensor<T>* ts = whole ? &whole_ : tensors_.data();
  const index_t count = whole ? 1 : static_cast<index_t>(tensors_.size());
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
