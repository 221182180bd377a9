// Network: construction, the forward and backward passes, the loss, and the
// passes outside training (evaluate, predict, probes). The training step and
// the loops over batches are in train.cpp.
#include "network/network.h"

#include <algorithm>
#include <stdexcept>

namespace vgp {

namespace {

// The widest input or output of `layer` and of the layers inside it.
template <typename T>
index_t widest(Layer<T>& layer) {
  index_t w = std::max(layer.in_features, layer.out_features);
  for (Layer<T>* c : layer.children()) w = std::max(w, widest(*c));
  return w;
}

// Outside training a pass asked for in train mode is a probe: the same
// batch statistics and gradient, no state changed.
Mode outside_training(Mode mode) { return mode == Mode::train ? Mode::probe : mode; }

}  // namespace

template <typename T>
Network<T>::Network(const std::vector<LayerSpec>& specs, index_t in_features, int stat_rows)
    : in_features_(in_features) {
  if (specs.empty()) throw std::invalid_argument("Network: needs at least one layer");
  if (in_features < 1) throw std::invalid_argument("Network: input width must be >= 1");
  if (stat_rows < 0) throw std::invalid_argument("Network: stat_rows must be >= 0");
  std::uint64_t salt = 0;
  index_t width = in_features;
  for (const LayerSpec& s : specs) {
    layers_.push_back(make_layer<T>(s, width, salt));
    width = layers_.back()->out_features;
  }
  out_features_ = width;
  narrow_ = NarrowStack<T>::make(layers_);
  for (auto& l : layers_) max_width_ = std::max(max_width_, widest(*l));
  for (auto& l : layers_) l->collect_params(params_);
  penalty_.collect(params_);
  for (Param<T>* p : params_) {
    if (p->kernel_row >= stat_rows) throw std::invalid_argument("Network: kernel row out of range");
    row_work_ += 3 * p->size();
  }
  for (auto& l : layers_) row_work_ += l->out_features;
  blocks_.assign(params_);
  inputs_.resize(layers_.size());
  outputs_.resize(layers_.size());
  stats_.rows = stat_rows;
  stats_.current.assign(static_cast<std::size_t>(stat_rows) * kRowWidth, 0.0);
  set_optimizer(OptimizerSpec{});
}

template <typename T>
std::vector<index_t> Network<T>::layer_widths() const {
  std::vector<index_t> w;
  for (const auto& l : layers_) w.push_back(l->out_features);
  return w;
}

template <typename T>
void Network<T>::set_loss(LossKind loss, MetricKind metric) {
  objective_.set(loss, metric, layers_.back()->output_activation());
}

template <typename T>
void Network<T>::set_optimizer(const OptimizerSpec& spec) {
  optimizer_.reset(spec, params_);
  guard_.forget();
}

template <typename T>
void Network<T>::reserve(index_t batch) {
  if (batch <= capacity_) return;
  for (auto& l : layers_) l->reserve(batch);
  if (narrow_) narrow_->buffers_moved();
  xbuf_.resize(static_cast<std::size_t>(batch * in_features_));
  dout_.resize(static_cast<std::size_t>(batch * out_features_));
  grads_.reserve(batch * max_width_);
  capacity_ = batch;
}

template <typename T>
StopPoller* Network<T>::layer_poll(StopPoller* poll, index_t batch) const {
  return batch * row_work_ >= kPollLayersWork ? poll : nullptr;
}

template <typename T>
void Network<T>::check_target_width(index_t y_width) const {
  objective_.check_target_width(y_width, out_features_);
}

template <typename T>
const T* Network<T>::forward(const T* x, index_t batch, const Context<T>& ctx) {
  const T* h = x;
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    if (ctx.poll && (*ctx.poll)()) throw Interrupted{};
    inputs_[i] = h;
    h = layers_[i]->forward(h, batch, ctx);
    outputs_[i] = h;
  }
  return h;
}

template <typename T>
void Network<T>::backward(const T* dy_out, index_t batch, bool need_dx, bool preact,
                          const Context<T>& ctx, const T** dx_out) {
  grads_.release_all();
  Context<T> c = ctx;
  c.grads = &grads_;
  const T* d = dy_out;
  const std::size_t last = layers_.size() - 1;
  for (std::size_t i = layers_.size(); i-- > 0;) {
    if (c.poll && (*c.poll)()) throw Interrupted{};
    d = layers_[i]->backward(inputs_[i], d, batch, need_dx || i > 0, preact && i == last, c);
  }
  if (dx_out) *dx_out = d;
}

template <typename T>
void Network<T>::loss_forward_backward(const T* target, index_t batch, bool want_grad,
                                       StepResult& r) {
  const T* logits = objective_.fused() ? layers_.back()->preactivation() : nullptr;
  const LossValue v = objective_.compute<T>(outputs_.back(), logits, target, batch, out_features_,
                                            want_grad ? dout_.data() : nullptr);
  r.loss_sum += v.loss + penalty_.forward(batch);
  r.metric_sum += v.metric;
  r.rows += batch;
}

template <typename T>
StepResult Network<T>::forward_backward(const T* x, const T* y, index_t batch,
                                        const Context<T>& ctx) {
  StepResult r;
  forward(x, batch, ctx);
  loss_forward_backward(y, batch, true, r);
  backward(dout_.data(), batch, false, objective_.fused(), ctx, nullptr);
  penalty_.backward(batch);
  return r;
}

template <typename T>
void Network<T>::record_kernel_stats() {
  for (auto& l : layers_) l->record_kernel_stats(stats_);
}

template <typename T>
StepResult Network<T>::evaluate(const T* x, const T* y, index_t n, index_t y_width,
                                index_t batch_size, const std::function<bool()>& should_stop,
                                bool* stopped, Mode mode) {
  if (batch_size < 1) throw std::invalid_argument("evaluate: batch_size must be >= 1");
  if (mode == Mode::train) throw std::invalid_argument("evaluate: mode must be infer or probe");
  check_target_width(y_width);
  StopPoller poll(should_stop);
  if (stopped) *stopped = false;
  reserve(std::min(batch_size, n));
  Context<T> ctx;
  ctx.mode = mode;
  ctx.poll = layer_poll(&poll, batch_size);
  StepResult total;
  try {
    for (index_t start = 0; start < n; start += batch_size) {
      const index_t count = std::min(batch_size, n - start);
      if (!ctx.poll && poll()) throw Interrupted{};  // layers not polled: between batches
      forward(x + start * in_features_, count, ctx);
      loss_forward_backward(y + start * y_width, count, false, total);
    }
  } catch (const Interrupted&) {
    if (stopped) *stopped = true;
  }
  return total;
}

template <typename T>
void Network<T>::predict(const T* x, index_t n, index_t batch_size, T* out, Mode mode,
                         const std::function<bool()>& should_stop, bool* stopped) {
  if (batch_size < 1) throw std::invalid_argument("predict: batch_size must be >= 1");
  reserve(std::min(batch_size, n));
  StopPoller poll(should_stop);
  if (stopped) *stopped = false;
  Context<T> ctx;
  ctx.mode = outside_training(mode);
  ctx.poll = layer_poll(&poll, batch_size);
  try {
    for (index_t start = 0; start < n; start += batch_size) {
      const index_t count = std::min(batch_size, n - start);
      if (!ctx.poll && poll()) throw Interrupted{};  // layers not polled: between batches
      const T* o = forward(x + start * in_features_, count, ctx);
      std::copy(o, o + count * out_features_, out + start * out_features_);
    }
  } catch (const Interrupted&) {
    if (stopped) *stopped = true;
  }
}

template <typename T>
StepResult Network<T>::compute_gradients(const T* x, const T* y, index_t n, index_t y_width,
                                         Mode mode, bool record) {
  batch_id_ = -1;
  check_target_width(y_width);
  record = record && stats_.rows > 0;
  reserve(n);
  Context<T> ctx;
  ctx.mode = outside_training(mode);
  ctx.stats = record ? &stats_ : nullptr;
  if (record) stats_.begin_batch();
  const StepResult r = forward_backward(x, y, n, ctx);
  if (record) {
    // No update: the update norms stay 0.
    record_kernel_stats();
    stats_.append(r.loss_sum / static_cast<double>(n), batch_id_);
  }
  return r;
}

template <typename T>
void Network<T>::input_gradient(const T* x, const T* dy, index_t n, T* dx, Mode mode) {
  reserve(n);
  Context<T> ctx;
  ctx.mode = outside_training(mode);
  forward(x, n, ctx);
  const T* d = nullptr;
  backward(dy, n, true, false, ctx, &d);
  std::copy(d, d + n * in_features_, dx);
}

template <typename T>
void Network<T>::layer_outputs(const T* x, index_t n, Mode mode,
                               std::vector<std::vector<T>>& out) {
  reserve(n);
  Context<T> ctx;
  ctx.mode = outside_training(mode);
  forward(x, n, ctx);
  out.resize(layers_.size());
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const index_t size = n * layers_[i]->out_features;
    out[i].assign(outputs_[i], outputs_[i] + size);
  }
}

template class Network<float>;
template class Network<double>;

}  // namespace vgp
