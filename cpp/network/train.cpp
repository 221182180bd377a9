// Network's training step (gather, forward, fused loss, backward,
// optimizer, statistics) and the loops over batches built on it. The epoch
// loop and the single-batch entry point both go through step(), so a
// callback that asks for per-batch control gets bit-for-bit the same
// training as a whole native epoch.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "network/network.h"

namespace vgp {

template <typename T>
StepResult Network<T>::step(const T* xb, const T* yb, index_t batch, std::uint64_t seed,
                            int record_mode, bool halt_on_nonfinite, StopPoller* poll) {
  const bool can_record = stats_.rows > 0;
  bool record = can_record && record_mode == kRecordOn;
  StepResult r = train_passes(xb, yb, batch, seed, record, poll);
  if (can_record && record_mode == kRecordIfNonfinite && !std::isfinite(r.loss_sum)) {
    // Same weights, same batch, same dropout seed, moving averages not yet
    // committed: the second pass reproduces the first, measuring.
    record = true;
    r = train_passes(xb, yb, batch, seed, true, poll);
  }
  if (record) record_kernel_stats();
  if (halt_on_nonfinite) {
    r.halted = !guard_.apply(params_, r.loss_sum, [&] { apply_update(record); });
  } else {
    apply_update(record);
  }
  if (record) stats_.append(r.loss_sum / static_cast<double>(batch), batch_id_);
  return r;
}

template <typename T>
StepResult Network<T>::train_passes(const T* xb, const T* yb, index_t batch, std::uint64_t seed,
                                    bool measure, StopPoller* poll) {
  // Interruptible up to the end of backward; from there on nothing throws
  // Interrupted, so an update is never half applied.
  Context<T> ctx;
  ctx.mode = Mode::train;
  ctx.seed = seed;
  ctx.stats = measure ? &stats_ : nullptr;
  ctx.poll = layer_poll(poll, batch);
  if (measure) stats_.begin_batch();
  if (!measure && !ctx.poll && narrow_ && narrow_->fits(batch)) {
    // The narrow pass: the same bits without the layer-by-layer dispatch
    // (narrow.h); statistics and polling between layers need the layers.
    StepResult r;
    outputs_.back() = narrow_->forward(xb, batch);
    loss_forward_backward(yb, batch, true, r);
    narrow_->backward(dout_.data(), batch, objective_.fused());
    penalty_.backward(batch);
    return r;
  }
  return forward_backward(xb, yb, batch, ctx);
}

template <typename T>
void Network<T>::apply_update(bool record) {
  // The moving averages the forward pass computed are committed together with
  // the update, so a step that is not applied changes no state at all.
  optimizer_.update(record ? &stats_ : nullptr);
  for (auto& l : layers_) l->commit_state();
}

template <typename T>
void Network<T>::gather(const T* src, index_t width, const std::int64_t* idx, index_t count,
                        T* dst) const {
  if (width <= 4) {
    // A few values per row (the seed's 2 inputs, 1 target): copied in place
    // rather than through a memcpy call per row.
    for (index_t i = 0; i < count; ++i) {
      const T* row = src + idx[i] * width;
      for (index_t j = 0; j < width; ++j) dst[i * width + j] = row[j];
    }
    return;
  }
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
  return step(xb, yb, count, seed, record, halt_on_nonfinite, poll);
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
  if (stopped) *stopped = false;
  return epoch_loop(x, y, n, y_width, perm, batch_size, seeds, record_every, halt_on_nonfinite,
                    poll, stopped);
}

template <typename T>
index_t Network<T>::train_epochs(const T* x, const T* y, index_t n, index_t y_width,
                                 const std::int64_t* perms, index_t epochs, index_t batch_size,
                                 const std::uint64_t* seeds,
                                 const std::function<bool()>& should_stop, bool* stopped,
                                 StepResult* results,
                                 const std::function<void(std::int64_t*)>& draw_order) {
  if (batch_size < 1) throw std::invalid_argument("train_epochs: batch_size must be >= 1");
  if (epochs < 0) throw std::invalid_argument("train_epochs: epochs must be >= 0");
  check_target_width(y_width);
  StopPoller poll(should_stop);
  if (stopped) *stopped = false;
  if (draw_order) order_.resize(static_cast<std::size_t>(n));
  const index_t steps = (n + batch_size - 1) / batch_size;
  for (index_t e = 0; e < epochs; ++e) {
    const std::int64_t* perm = perms ? perms + e * n : nullptr;
    if (draw_order) {
      draw_order(order_.data());
      perm = order_.data();
    }
    bool interrupted = e > 0 && poll();
    if (!interrupted) {
      results[e] = epoch_loop(x, y, n, y_width, perm, batch_size,
                              seeds ? seeds + e * steps : nullptr, 0, false, poll, &interrupted);
    }
    if (interrupted) {
      if (stopped) *stopped = true;
      return e;
    }
  }
  return epochs;
}

template <typename T>
StepResult Network<T>::epoch_loop(const T* x, const T* y, index_t n, index_t y_width,
                                  const std::int64_t* perm, index_t batch_size,
                                  const std::uint64_t* seeds, index_t record_every,
                                  bool halt_on_nonfinite, StopPoller& poll, bool* stopped) {
  StepResult total;
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
  template index_t Network<T>::train_epochs(const T*, const T*, index_t, index_t,             \
                                            const std::int64_t*, index_t, index_t,            \
                                            const std::uint64_t*, const std::function<bool()>&, \
                                            bool*, StepResult*,                                \
                                            const std::function<void(std::int64_t*)>&);        \
  template StepResult Network<T>::train_batch(const T*, const T*, index_t, const std::int64_t*, \
                                              index_t, std::uint64_t, int, bool,               \
                                              const std::function<bool()>&, bool*, index_t);
VGP_INSTANTIATE_TRAINING(float)
VGP_INSTANTIATE_TRAINING(double)
#undef VGP_INSTANTIATE_TRAINING

}  // namespace vgp
