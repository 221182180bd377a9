// Network's training step (gather, forward, fused loss, backward,
// optimizer, statistics) and the loops over batches built on it. The epoch
// loop and the single-batch entry point both go through step(), so a
// callback that asks for per-batch control gets bit-for-bit the same
// training as a whole native epoch.
#include "network.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace vgp {

namespace {

// True when every element is finite: a sum of x * 0 is NaN iff some x is NaN
// or infinite, and the loop vectorizes.
template <typename T>
bool all_finite(const std::vector<T>& v) {
  T sum = T(0);
  for (const T x : v) sum += x * T(0);
  return std::isfinite(sum);
}

}  // namespace

template <typename T>
void Network<T>::restore_backup() {
  // Copy back in place: Python holds views of these buffers.
  for (std::size_t i = 0; i < params_.size(); ++i) {
    std::copy(backup_[i].begin(), backup_[i].end(), params_[i]->value.begin());
  }
}

template <typename T>
std::uint64_t Network<T>::weights_hash() const {
  // FNV-1a over the values' bit patterns: tells whether the weights are
  // still bit for bit those an update produced.
  using Bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const Param<T>* p : params_) {
    for (const T v : p->value) {
      Bits b;
      std::memcpy(&b, &v, sizeof b);
      h = (h ^ static_cast<std::uint64_t>(b)) * 0x100000001b3ull;
    }
  }
  return h;
}

template <typename T>
void Network<T>::commit_state() {
  for (auto& l : layers_) l->commit_state();
}

template <typename T>
bool Network<T>::gradients_finite() const {
  for (const Param<T>* p : params_) {
    if (p->trainable && !all_finite(p->grad)) return false;
  }
  return true;
}

template <typename T>
bool Network<T>::weights_finite() const {
  for (const Param<T>* p : params_) {
    if (!all_finite(p->value)) return false;
  }
  return true;
}

template <typename T>
StepResult Network<T>::step(const T* xb, const T* yb, index_t batch, index_t y_width,
                            std::uint64_t seed, int record_mode, bool halt_on_nonfinite,
                            StopPoller* poll) {
  const bool can_record = stats_.rows > 0;
  bool record = can_record && record_mode == kRecordOn;
  Context<T> ctx;
  ctx.mode = Mode::train;
  ctx.seed = seed;
  StepResult r;
  // Interruptible up to the end of backward; from here on nothing throws
  // Interrupted, so an update is never half applied.
  const auto passes = [&](bool measure) {
    ctx.stats = measure ? &stats_ : nullptr;
    ctx.poll = poll;
    if (measure) std::fill(stats_.current.begin(), stats_.current.end(), 0.0);
    r = StepResult{};
    forward(xb, batch, ctx);
    loss_forward_backward(yb, batch, y_width, true, r);
    backward(dout_.data(), batch, false, fused_, ctx, nullptr);
    ctx.poll = nullptr;
  };
  passes(record);
  if (!record && can_record && record_mode == kRecordIfNonfinite && !std::isfinite(r.loss_sum)) {
    // Same weights, same batch, same dropout seed, moving averages not yet
    // committed: the second pass reproduces the first, measuring.
    record = true;
    passes(true);
  }
  if (record) {
    for (auto& l : layers_) l->record_kernel_stats(stats_);
  }
  // The moving averages the forward pass computed are committed together with
  // the update, so a halted step changes no state at all.
  if (!halt_on_nonfinite) {
    optimizer_update(record);
    commit_state();
  } else if (!std::isfinite(r.loss_sum) || !gradients_finite()) {
    // The weights this step started from already overflow the forward or
    // backward pass, although they came out of a finite update: in an
    // exploding network the previous step is the blow-up (finite, but huge).
    // Go back to the weights from before it, the last ones whose passes were
    // finite, when the current weights are still exactly what that step
    // produced (Python may have set others since: then keep them).
    if (backup_valid_ && weights_hash() == updated_hash_) restore_backup();
    backup_valid_ = false;
    r.halted = true;
  } else {
    // A finite gradient can still overflow the weights (a huge step), and a
    // finite loss can come with moving variances beyond the dtype's range:
    // keep the state from before the step and put it back if it does.
    if (backup_.size() != params_.size()) backup_.resize(params_.size());
    for (std::size_t i = 0; i < params_.size(); ++i) backup_[i] = params_[i]->value;
    optimizer_update(record);
    commit_state();
    if (!weights_finite()) {
      restore_backup();
      backup_valid_ = false;
      r.halted = true;
    } else {
      updated_hash_ = weights_hash();
      backup_valid_ = true;
    }
  }
  if (record) {
    stats_.record.insert(stats_.record.end(), stats_.current.begin(), stats_.current.end());
    stats_.losses.push_back(r.loss_sum / static_cast<double>(batch));
    stats_.batch_ids.push_back(batch_id_);
  }
  return r;
}

template <typename T>
void Network<T>::gather(const T* src, index_t width, const std::int64_t* idx, index_t count,
                        T* dst) const {
  const std::size_t bytes = static_cast<std::size_t>(width) * sizeof(T);
  for (index_t i = 0; i < count; ++i) {
    std::memcpy(dst + i * width, src + idx[i] * width, bytes);
  }
}

template <typename T>
StepResult Network<T>::gather_and_step(const T* x, const T* y, index_t y_width,
                                       const std::int64_t* idx, index_t count,
                                       std::uint64_t seed, int record, bool halt_on_nonfinite,
                                       StopPoller* poll) {
  reserve(count);
  const T* xb = x;
  const T* yb = y;
  if (idx) {
    if (static_cast<index_t>(ybuf_.size()) < count * y_width) {
      ybuf_.resize(static_cast<std::size_t>(count * y_width));
    }
    gather(x, in_features_, idx, count, xbuf_.data());
    gather(y, y_width, idx, count, ybuf_.data());
    xb = xbuf_.data();
    yb = ybuf_.data();
  }
  return step(xb, yb, count, y_width, seed, record, halt_on_nonfinite, poll);
}

template <typename T>
StepResult Network<T>::train_batch(const T* x, const T* y, index_t y_width,
                                   const std::int64_t* idx, index_t count, std::uint64_t seed,
                                   int record, bool halt_on_nonfinite,
                                   const std::function<bool()>& should_stop, bool* stopped,
                                   index_t batch_index) {
  check_target_width(y_width);
  batch_id_ = batch_index;
  StopPoller poll(should_stop);
  if (stopped) *stopped = false;
  try {
    return gather_and_step(x, y, y_width, idx, count, seed, record, halt_on_nonfinite, &poll);
  } catch (const Interrupted&) {
    if (stopped) *stopped = true;
    return StepResult{};
  }
}

template <typename T>
StepResult Network<T>::train_epoch(const T* x, const T* y, index_t n, index_t y_width,
                                   const std::int64_t* perm, index_t batch_size,
                                   const std::uint64_t* seeds, index_t record_every,
                                   bool halt_on_nonfinite,
                                   const std::function<bool()>& should_stop, bool* stopped) {
  if (batch_size < 1) throw std::invalid_argument("train_epoch: batch_size must be >= 1");
  if (record_every < 0) throw std::invalid_argument("train_epoch: record_every must be >= 0");
  check_target_width(y_width);
  StopPoller poll(should_stop);
  StepResult total;
  if (stopped) *stopped = false;
  index_t b = 0;
  // Sparse recording (record_every > 1) also measures the epoch's first batch
  // with a non-finite loss, so that the origin of a NaN is never skipped.
  bool nonfinite_seen = false;
  for (index_t start = 0; start < n; start += batch_size, ++b) {
    const index_t count = std::min(batch_size, n - start);
    const std::int64_t* idx = perm ? perm + start : nullptr;
    const T* xs = perm ? x : x + start * in_features_;
    const T* ys = perm ? y : y + start * y_width;
    StepResult r;
    try {
      int record = kRecordOff;
      if (record_every > 0 && b % record_every == 0) {
        record = kRecordOn;
      } else if (record_every > 1 && !nonfinite_seen) {
        record = kRecordIfNonfinite;
      }
      batch_id_ = b;
      r = gather_and_step(xs, ys, y_width, idx, count, seeds ? seeds[b] : 0, record,
                          halt_on_nonfinite, &poll);
    } catch (const Interrupted&) {
      if (stopped) *stopped = true;
      break;
    }
    total.loss_sum += r.loss_sum;
    total.metric_sum += r.metric_sum;
    total.rows += r.rows;
    nonfinite_seen = nonfinite_seen || !std::isfinite(r.loss_sum);
    if (r.halted) {
      total.halted = true;
      break;
    }
    if (start + count < n && poll()) {
      if (stopped) *stopped = true;
      break;
    }
  }
  return total;
}

// network.cpp instantiates the rest of Network; the members defined here are
// instantiated with the two entry points that use them.
#define VGP_INSTANTIATE_TRAINING(T)                                                           \
  template StepResult Network<T>::train_epoch(                                                \
      const T*, const T*, index_t, index_t, const std::int64_t*, index_t, const std::uint64_t*, \
      index_t, bool, const std::function<bool()>&, bool*);                                     \
  template StepResult Network<T>::train_batch(const T*, const T*, index_t, const std::int64_t*, \
                                              index_t, std::uint64_t, int, bool,               \
                                              const std::function<bool()>&, bool*, index_t);
VGP_INSTANTIATE_TRAINING(float)
VGP_INSTANTIATE_TRAINING(double)
#undef VGP_INSTANTIATE_TRAINING

}  // namespace vgp
