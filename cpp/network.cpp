// Network: construction, the forward and backward passes, the fused loss,
// the optimizer update, and the passes outside training (evaluate, predict,
// probes). The training step and the loops over batches are in
// network_train.cpp, the gradient buffers in gradient_buffers.cpp.
#include "network.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "ops/loss.h"
#include "ops/optimizer.h"

namespace vgp {

namespace {

// The widest input or output of `layer` and of the layers inside it.
template <typename T>
index_t widest(Layer<T>& layer) {
  index_t w = std::max(layer.in_features, layer.out_features);
  for (Layer<T>* c : layer.children()) w = std::max(w, widest(*c));
  return w;
}

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
  for (auto& l : layers_) max_width_ = std::max(max_width_, widest(*l));
  for (auto& l : layers_) l->collect_params(params_);
  for (Param<T>* p : params_) {
    if (p->kernel_row >= stat_rows) throw std::invalid_argument("Network: kernel row out of range");
  }
  inputs_.resize(layers_.size());
  outputs_.resize(layers_.size());
  stats_.rows = stat_rows;
  stats_.current.assign(static_cast<std::size_t>(stat_rows) * kRowWidth, 0.0);
  set_optimizer(opt_);
}

template <typename T>
std::vector<index_t> Network<T>::layer_widths() const {
  std::vector<index_t> w;
  for (const auto& l : layers_) w.push_back(l->out_features);
  return w;
}

template <typename T>
void Network<T>::set_loss(LossKind loss, MetricKind metric) {
  loss_ = loss;
  metric_ = metric;
  const ops::Act last = layers_.back()->output_activation();
  // Fuse the output activation into the loss where the pair has a stable
  // closed form (Keras does the same through the logits it keeps).
  fused_ = (loss == LossKind::binary_crossentropy && last == ops::Act::sigmoid) ||
           ((loss == LossKind::categorical_crossentropy ||
             loss == LossKind::sparse_categorical_crossentropy) &&
            last == ops::Act::softmax);
}

template <typename T>
void Network<T>::set_optimizer(const OptimizerSpec& spec) {
  opt_ = spec;
  step_ = 0;
  backup_valid_ = false;
  for (Param<T>* p : params_) {
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
  update_tensors_.clear();
  update_params_.clear();
  for (Param<T>* p : params_) {
    if (!p->trainable) continue;
    const auto ptr = [](std::vector<T>& v) { return v.empty() ? nullptr : v.data(); };
    ops::UpdateTensor<T> t;
    t.w = p->value.data();
    t.g = p->grad.data();
    t.slot1 = ptr(p->slot1);
    t.slot2 = ptr(p->slot2);
    t.slot3 = ptr(p->slot3);
    t.n = p->size();
    update_tensors_.push_back(t);
    update_params_.push_back(p);
  }
  update_sq_.assign(update_tensors_.size(), 0.0);
}

template <typename T>
void Network<T>::reserve(index_t batch) {
  if (batch <= capacity_) return;
  for (auto& l : layers_) l->reserve(batch);
  xbuf_.resize(static_cast<std::size_t>(batch * in_features_));
  dout_.resize(static_cast<std::size_t>(batch * out_features_));
  grads_.reserve(batch * max_width_);
  capacity_ = batch;
}

template <typename T>
void Network<T>::check_target_width(index_t y_width) const {
  const index_t want = loss_ == LossKind::sparse_categorical_crossentropy ? 1 : out_features_;
  if (y_width != want) {
    throw std::invalid_argument("Network: targets have width " + std::to_string(y_width) +
                                ", the loss expects " + std::to_string(want));
  }
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
void Network<T>::loss_forward_backward(const T* target, index_t batch, index_t y_width,
                                       bool want_grad, StepResult& r) {
  const T* out = outputs_.back();
  const T* logits = fused_ ? layers_.back()->preactivation() : nullptr;
  const index_t k = out_features_;
  const double scale = 1.0 / static_cast<double>(batch);
  T* g = want_grad ? dout_.data() : nullptr;
  double loss = 0.0;
  switch (loss_) {
    case LossKind::binary_crossentropy:
      if (fused_) {
        loss = ops::sigmoid_bce_forward<T>(logits, target, batch, k);
        if (g) ops::sigmoid_bce_backward<T>(logits, target, g, batch, k, scale);
      } else {
        loss = ops::bce_forward<T>(out, target, batch, k);
        if (g) ops::bce_backward<T>(out, target, g, batch, k, scale);
      }
      break;
    case LossKind::mse:
      loss = ops::mse_forward<T>(out, target, batch, k);
      if (g) ops::mse_backward<T>(out, target, g, batch, k, scale);
      break;
    case LossKind::categorical_crossentropy:
      if (fused_) {
        loss = ops::softmax_cce_forward<T>(logits, target, batch, k);
        if (g) ops::softmax_cce_backward<T>(logits, target, g, batch, k, scale);
      } else {
        loss = ops::cce_forward<T>(out, target, batch, k);
        if (g) ops::cce_backward<T>(out, target, g, batch, k, scale);
      }
      break;
    case LossKind::sparse_categorical_crossentropy:
      if (fused_) {
        loss = ops::softmax_sparse_cce_forward<T>(logits, target, batch, k);
        if (g) ops::softmax_sparse_cce_backward<T>(logits, target, g, batch, k, scale);
      } else {
        loss = ops::sparse_cce_forward<T>(out, target, batch, k);
        if (g) ops::sparse_cce_backward<T>(out, target, g, batch, k, scale);
      }
      break;
  }
  double metric = 0.0;
  switch (metric_) {
    case MetricKind::none:
      break;
    case MetricKind::binary_accuracy:
      metric = ops::binary_accuracy_sum<T>(out, target, batch, k);
      break;
    case MetricKind::categorical_accuracy:
      metric = ops::categorical_accuracy_sum<T>(out, target, batch, k);
      break;
    case MetricKind::sparse_categorical_accuracy:
      metric = ops::sparse_categorical_accuracy_sum<T>(out, target, batch, k);
      break;
  }
  (void)y_width;
  r.loss_sum += loss;
  r.metric_sum += metric;
  r.rows += batch;
}

template <typename T>
void Network<T>::optimizer_update(bool record) {
  ++step_;
  // Keras clips each variable's gradient on its own, before its update.
  if (opt_.clipnorm > 0.0 || opt_.clipvalue > 0.0) {
    for (Param<T>* p : update_params_) {
      if (opt_.clipnorm > 0.0) ops::clip_by_norm<T>(p->grad.data(), p->size(), opt_.clipnorm);
      if (opt_.clipvalue > 0.0) ops::clip_by_value<T>(p->grad.data(), p->size(), opt_.clipvalue);
    }
  }
  // All parameters in one pass; the step norms only when they are recorded.
  const ops::UpdateTensor<T>* ts = update_tensors_.data();
  const index_t count = static_cast<index_t>(update_tensors_.size());
  double* sq = record ? update_sq_.data() : nullptr;
  switch (opt_.kind) {
    case OptimizerKind::sgd:
      ops::sgd_update_many<T>(ts, count, opt_.learning_rate, opt_.momentum, opt_.nesterov, sq);
      break;
    case OptimizerKind::adam:
      ops::adam_update_many<T>(ts, count, opt_.learning_rate, opt_.beta_1, opt_.beta_2,
                               opt_.epsilon, step_, sq);
      break;
    case OptimizerKind::rmsprop:
      ops::rmsprop_update_many<T>(ts, count, opt_.learning_rate, opt_.rho, opt_.momentum,
                                  opt_.epsilon, opt_.centered, sq);
      break;
  }
  if (!record) return;
  for (std::size_t i = 0; i < update_params_.size(); ++i) {
    const int row = update_params_[i]->kernel_row;
    if (row >= 0) stats_.row(row)[kUpdateL2] = std::sqrt(update_sq_[i]);
  }
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
  ctx.poll = &poll;
  StepResult total;
  try {
    for (index_t start = 0; start < n; start += batch_size) {
      const index_t count = std::min(batch_size, n - start);
      forward(x + start * in_features_, count, ctx);
      loss_forward_backward(y + start * y_width, count, y_width, false, total);
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
  ctx.mode = mode == Mode::train ? Mode::probe : mode;
  ctx.poll = &poll;
  try {
    for (index_t start = 0; start < n; start += batch_size) {
      const index_t count = std::min(batch_size, n - start);
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
  ctx.mode = mode == Mode::train ? Mode::probe : mode;
  ctx.stats = record ? &stats_ : nullptr;
  if (record) std::fill(stats_.current.begin(), stats_.current.end(), 0.0);
  StepResult r;
  forward(x, n, ctx);
  loss_forward_backward(y, n, y_width, true, r);
  backward(dout_.data(), n, false, fused_, ctx, nullptr);
  if (record) {
    for (auto& l : layers_) l->record_kernel_stats(stats_);
    for (Param<T>* p : params_) {
      if (p->kernel_row >= 0) stats_.row(p->kernel_row)[kUpdateL2] = 0.0;
    }
    stats_.record.insert(stats_.record.end(), stats_.current.begin(), stats_.current.end());
    stats_.losses.push_back(r.loss_sum / static_cast<double>(n));
    stats_.batch_ids.push_back(batch_id_);
  }
  return r;
}

template <typename T>
void Network<T>::input_gradient(const T* x, const T* dy, index_t n, T* dx, Mode mode) {
  reserve(n);
  Context<T> ctx;
  ctx.mode = mode == Mode::train ? Mode::probe : mode;
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
  ctx.mode = mode == Mode::train ? Mode::probe : mode;
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
