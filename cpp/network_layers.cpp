// The executor's layers: Dense, Activation, BatchNormalization, Dropout and
// Residual, each a thin owner of parameters and buffers around the op
// kernels in cpp/ops. Forward returns a pointer to the layer's own output
// buffer (or to its input for a pass-through), which backward needs again;
// backward returns a pointer to the input gradient it wrote into one of the
// pass's shared gradient buffers (ctx.grads), so a step moves no data between
// layers and the gradients stay in cache.
#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "network.h"
#include "ops/batchnorm.h"
#include "ops/dense.h"
#include "ops/dropout.h"
#include "ops/flowstats.h"
#include "ops/residual.h"

namespace vgp {

template <typename T>
void Layer<T>::record_probe_forward(const T* y, index_t batch, const Context<T>& ctx) {
  if (!ctx.stats || probe_row < 0) return;
  index_t hist[kHistBins];
  const ops::ActivationStats s = ops::activation_stats<T>(y, batch, out_features, probe_act, hist,
                                                         kHistBins, hist_lo, hist_hi);
  double* r = ctx.stats->row(probe_row);
  r[kActMean] = s.mean;
  r[kActStd] = s.std;
  r[kActSaturated] = s.saturated;
  r[kActDead] = s.dead;
  r[kActNonfinite] = static_cast<double>(s.nonfinite);
  for (int b = 0; b < kHistBins; ++b) r[kNumStatFields + b] = static_cast<double>(hist[b]);
}

template <typename T>
void Layer<T>::record_probe_backward(const T* dy, index_t batch, const Context<T>& ctx) {
  if (!ctx.stats || probe_row < 0) return;
  const ops::NormStats s = ops::buffer_norm<T>(dy, batch * out_features);
  double* r = ctx.stats->row(probe_row);
  r[kSignalL2] = s.l2;
  r[kSignalNonfinite] = static_cast<double>(s.nonfinite);
}

namespace {

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

template <typename T>
void grow(std::vector<T>& buf, index_t elements) {
  if (static_cast<index_t>(buf.size()) < elements) buf.resize(static_cast<std::size_t>(elements));
}

template <typename T>
void set_probe(Layer<T>& layer, const LayerSpec& spec) {
  layer.probe_row = spec.probe_row;
  layer.probe_act = static_cast<ops::Act>(spec.probe_act);
  layer.hist_lo = spec.hist_lo;
  layer.hist_hi = spec.hist_hi;
}

// Kernel-gradient, weight and bias-gradient statistics of one row.
template <typename T>
void record_kernel(StatsRecorder& stats, int row, const Param<T>& kernel, const Param<T>* bias) {
  if (row < 0) return;
  double* r = stats.row(row);
  const ops::BufferStats g = ops::buffer_stats<T>(kernel.grad.data(), kernel.size());
  r[kGradL2] = g.l2;
  r[kGradMeanAbs] = g.mean_abs;
  r[kGradMaxAbs] = g.max_abs;
  r[kGradNonfinite] = static_cast<double>(g.nonfinite);
  r[kWeightL2] = ops::buffer_norm<T>(kernel.value.data(), kernel.size()).l2;
  r[kBiasGradL2] = bias ? ops::buffer_norm<T>(bias->grad.data(), bias->size()).l2 : 0.0;
}

template <typename T>
class DenseLayer final : public Layer<T> {
 public:
  DenseLayer(const LayerSpec& spec, index_t in) : act_(static_cast<ops::Act>(spec.act)) {
    this->in_features = in;
    this->out_features = spec.units;
    use_bias_ = spec.use_bias;
    kernel_row_ = spec.kernel_row;
    init_param(kernel_, "kernel", {in, spec.units}, T(0), true);
    kernel_.kernel_row = spec.kernel_row;
    if (use_bias_) init_param(bias_, "bias", {spec.units}, T(0), true);
    set_probe(*this, spec);
  }
  void reserve(index_t batch) override {
    grow(z_, batch * this->out_features);
    if (act_ != ops::Act::linear) grow(y_, batch * this->out_features);
  }
  const T* forward(const T* x, index_t batch, const Context<T>& ctx) override {
    const bool linear = act_ == ops::Act::linear;
    ops::dense_forward<T>(x, kernel_.value.data(), use_bias_ ? bias_.value.data() : nullptr,
                          z_.data(), linear ? nullptr : y_.data(), batch, this->in_features,
                          this->out_features, act_);
    const T* out = linear ? z_.data() : y_.data();
    this->record_probe_forward(out, batch, ctx);
    return out;
  }
  const T* backward(const T* x, const T* dy, index_t batch, bool need_dx, bool preact,
                    const Context<T>& ctx) override {
    this->record_probe_backward(dy, batch, ctx);
    const T* dz = dy;
    if (!preact && act_ != ops::Act::linear) {
      T* buf = ctx.grads->take(dy);
      ops::activation_backward<T>(z_.data(), y_.data(), dy, buf, batch, this->out_features, act_);
      dz = buf;
    }
    T* dx = need_dx ? ctx.grads->take(dz) : nullptr;
    ops::dense_backward<T>(x, kernel_.value.data(), dz, dx, kernel_.grad.data(),
                           use_bias_ ? bias_.grad.data() : nullptr, batch, this->in_features,
                           this->out_features);
    return dx;
  }
  void collect_params(std::vector<Param<T>*>& out) override {
    out.push_back(&kernel_);
    if (use_bias_) out.push_back(&bias_);
  }
  ops::Act output_activation() const override { return act_; }
  const T* preactivation() const override { return z_.data(); }
  void record_kernel_stats(StatsRecorder& stats) override {
    record_kernel(stats, kernel_row_, kernel_, use_bias_ ? &bias_ : nullptr);
  }

 private:
  ops::Act act_;
  bool use_bias_ = true;
  int kernel_row_ = -1;
  Param<T> kernel_, bias_;
  std::vector<T> z_, y_;
};

template <typename T>
class ActivationLayer final : public Layer<T> {
 public:
  ActivationLayer(const LayerSpec& spec, index_t in) : act_(static_cast<ops::Act>(spec.act)) {
    this->in_features = in;
    this->out_features = in;
    set_probe(*this, spec);
  }
  void reserve(index_t batch) override { grow(y_, batch * this->out_features); }
  const T* forward(const T* x, index_t batch, const Context<T>& ctx) override {
    x_ = x;
    ops::activation_forward<T>(x, y_.data(), batch, this->in_features, act_);
    this->record_probe_forward(y_.data(), batch, ctx);
    return y_.data();
  }
  const T* backward(const T* x, const T* dy, index_t batch, bool need_dx, bool preact,
                    const Context<T>& ctx) override {
    this->record_probe_backward(dy, batch, ctx);
    if (!need_dx) return nullptr;
    // With `preact` the loss already gave the gradient at this layer's input.
    if (preact) return dy;
    T* dx = ctx.grads->take(dy);
    ops::activation_backward<T>(x, y_.data(), dy, dx, batch, this->in_features, act_);
    return dx;
  }
  void collect_params(std::vector<Param<T>*>&) override {}
  ops::Act output_activation() const override { return act_; }
  const T* preactivation() const override { return x_; }

 private:
  ops::Act act_;
  const T* x_ = nullptr;
  std::vector<T> y_;
};

template <typename T>
class BatchNormLayer final : public Layer<T> {
 public:
  BatchNormLayer(const LayerSpec& spec, index_t in) : eps_(spec.epsilon), momentum_(spec.momentum) {
    this->in_features = in;
    this->out_features = in;
    init_param(gamma_, "gamma", {in}, T(1), true);
    init_param(beta_, "beta", {in}, T(0), true);
    init_param(moving_mean_, "moving_mean", {in}, T(0), false);
    init_param(moving_variance_, "moving_variance", {in}, T(1), false);
    save_mean_.assign(static_cast<std::size_t>(in), T(0));
    save_invstd_.assign(static_cast<std::size_t>(in), T(0));
    scratch_mean_.assign(static_cast<std::size_t>(in), T(0));
    scratch_variance_.assign(static_cast<std::size_t>(in), T(0));
    set_probe(*this, spec);
  }
  void reserve(index_t batch) override { grow(y_, batch * this->out_features); }
  const T* forward(const T* x, index_t batch, const Context<T>& ctx) override {
    const index_t f = this->in_features;
    if (ctx.mode == Mode::infer) {
      ops::batchnorm_forward_infer<T>(x, gamma_.value.data(), beta_.value.data(),
                                      moving_mean_.value.data(), moving_variance_.value.data(),
                                      y_.data(), batch, f, eps_);
    } else {
      // Training and probe mode normalise with batch statistics and update a
      // scratch copy of the moving averages. Probe mode must leave them alone;
      // training makes the copy its own in commit_state() once the step is
      // accepted, so a step that TerminateOnNaN undoes or Ctrl-C abandons
      // leaves the moving averages as they were before it.
      std::copy(moving_mean_.value.begin(), moving_mean_.value.end(), scratch_mean_.begin());
      std::copy(moving_variance_.value.begin(), moving_variance_.value.end(),
                scratch_variance_.begin());
      ops::batchnorm_forward_train<T>(x, gamma_.value.data(), beta_.value.data(), y_.data(),
                                      save_mean_.data(), save_invstd_.data(),
                                      scratch_mean_.data(), scratch_variance_.data(), batch, f,
                                      eps_, momentum_);
      pending_ = ctx.mode == Mode::train;
    }
    this->record_probe_forward(y_.data(), batch, ctx);
    return y_.data();
  }
  const T* backward(const T* x, const T* dy, index_t batch, bool need_dx, bool,
                    const Context<T>& ctx) override {
    this->record_probe_backward(dy, batch, ctx);
    const index_t f = this->in_features;
    if (ctx.mode == Mode::infer) {
      // Fixed statistics: a per-feature scale (Jacobians at inference).
      std::fill(gamma_.grad.begin(), gamma_.grad.end(), T(0));
      std::fill(beta_.grad.begin(), beta_.grad.end(), T(0));
      if (!need_dx) return nullptr;
      T* dx = ctx.grads->take(dy);
      ops::batchnorm_backward_infer<T>(dy, gamma_.value.data(), moving_variance_.value.data(), dx,
                                       batch, f, eps_);
      return dx;
    }
    T* dx = need_dx ? ctx.grads->take(dy) : nullptr;
    ops::batchnorm_backward<T>(x, dy, gamma_.value.data(), save_mean_.data(), save_invstd_.data(),
                               dx, gamma_.grad.data(), beta_.grad.data(), batch, f);
    return dx;
  }
  void collect_params(std::vector<Param<T>*>& out) override {
    out.push_back(&gamma_);
    out.push_back(&beta_);
    out.push_back(&moving_mean_);
    out.push_back(&moving_variance_);
  }
  void commit_state() override {
    if (!pending_) return;
    // Copy in place: Python holds views of these buffers.
    std::copy(scratch_mean_.begin(), scratch_mean_.end(), moving_mean_.value.begin());
    std::copy(scratch_variance_.begin(), scratch_variance_.end(), moving_variance_.value.begin());
    pending_ = false;
  }

 private:
  double eps_, momentum_;
  bool pending_ = false;  // scratch_* hold moving averages a training forward computed
  Param<T> gamma_, beta_, moving_mean_, moving_variance_;
  std::vector<T> save_mean_, save_invstd_, scratch_mean_, scratch_variance_, y_;
};

template <typename T>
class DropoutLayer final : public Layer<T> {
 public:
  DropoutLayer(const LayerSpec& spec, index_t in, std::uint64_t salt) : rate_(spec.rate), salt_(salt) {
    this->in_features = in;
    this->out_features = in;
    set_probe(*this, spec);
  }
  void reserve(index_t batch) override {
    if (rate_ <= 0.0) return;
    grow(y_, batch * this->in_features);
    grow(mask_, batch * this->in_features);
  }
  const T* forward(const T* x, index_t batch, const Context<T>& ctx) override {
    active_ = ctx.mode == Mode::train && rate_ > 0.0;
    const T* out = x;
    if (active_) {
      // Each dropout layer draws from its own stream: the batch seed mixed
      // with the layer's position.
      ops::dropout_forward<T>(x, y_.data(), mask_.data(), batch * this->in_features, rate_,
                              ctx.seed ^ salt_);
      out = y_.data();
    }
    this->record_probe_forward(out, batch, ctx);
    return out;
  }
  const T* backward(const T*, const T* dy, index_t batch, bool need_dx, bool,
                    const Context<T>& ctx) override {
    this->record_probe_backward(dy, batch, ctx);
    if (!need_dx) return nullptr;
    if (!active_) return dy;
    T* dx = ctx.grads->take(dy);
    ops::dropout_backward<T>(dy, mask_.data(), dx, batch * this->in_features, rate_);
    return dx;
  }
  void collect_params(std::vector<Param<T>*>&) override {}

 private:
  double rate_;
  std::uint64_t salt_;
  bool active_ = false;
  std::vector<T> y_;
  std::vector<std::uint8_t> mask_;
};

template <typename T>
std::unique_ptr<Layer<T>> build_layer(const LayerSpec& spec, index_t in, std::uint64_t& salt);

template <typename T>
class ResidualLayer final : public Layer<T> {
 public:
  ResidualLayer(const LayerSpec& spec, index_t in, std::uint64_t& salt)
      : act_(static_cast<ops::Act>(spec.act)) {
    this->in_features = in;
    if (spec.children.empty()) {
      throw std::invalid_argument("Residual: needs at least one inner layer");
    }
    index_t width = in;
    for (const LayerSpec& c : spec.children) {
      children_.push_back(build_layer<T>(c, width, salt));
      width = children_.back()->out_features;
    }
    this->out_features = width;
    projection_ = width != in;
    if (projection_) {
      init_param(proj_kernel_, "kernel", {in, width}, T(0), true);
      init_param(proj_bias_, "bias", {width}, T(0), true);
    }
    child_inputs_.resize(children_.size());
    set_probe(*this, spec);
  }
  void reserve(index_t batch) override {
    for (auto& c : children_) c->reserve(batch);
    const index_t out = batch * this->out_features;
    grow(z_, out);
    if (act_ != ops::Act::linear) grow(y_, out);
    if (projection_) grow(skip_, out);
  }
  const T* forward(const T* x, index_t batch, const Context<T>& ctx) override {
    const T* h = x;
    for (std::size_t i = 0; i < children_.size(); ++i) {
      child_inputs_[i] = h;
      h = children_[i]->forward(h, batch, ctx);
    }
    const T* skip = x;
    if (projection_) {
      ops::dense_forward<T>(x, proj_kernel_.value.data(), proj_bias_.value.data(), skip_.data(),
                            nullptr, batch, this->in_features, this->out_features,
                            ops::Act::linear);
      skip = skip_.data();
    }
    const index_t n = batch * this->out_features;
    ops::residual_add_forward<T>(skip, h, z_.data(), n);
    const T* out = z_.data();
    if (act_ != ops::Act::linear) {
      ops::activation_forward<T>(z_.data(), y_.data(), batch, this->out_features, act_);
      out = y_.data();
    }
    this->record_probe_forward(out, batch, ctx);
    return out;
  }
  const T* backward(const T* x, const T* dy, index_t batch, bool need_dx, bool,
                    const Context<T>& ctx) override {
    this->record_probe_backward(dy, batch, ctx);
    // dz: the gradient at the sum, fanned out unchanged to both branches; it
    // is held while the inner layers reuse the other gradient buffers.
    const T* dz = dy;
    if (act_ != ops::Act::linear) {
      T* buf = ctx.grads->take(dy);
      ops::activation_backward<T>(z_.data(), y_.data(), dy, buf, batch, this->out_features, act_);
      dz = buf;
    }
    ctx.grads->hold(dz);
    const T* d_inner = dz;
    for (std::size_t i = children_.size(); i-- > 0;) {
      d_inner = children_[i]->backward(child_inputs_[i], d_inner, batch, need_dx || i > 0, false,
                                       ctx);
    }
    const T* d_skip = dz;
    if (projection_) {
      T* dskip = need_dx ? ctx.grads->take(d_inner) : nullptr;
      ops::dense_backward<T>(x, proj_kernel_.value.data(), dz, dskip, proj_kernel_.grad.data(),
                             proj_bias_.grad.data(), batch, this->in_features,
                             this->out_features);
      d_skip = dskip;
    }
    ctx.grads->release(dz);
    if (!need_dx) return nullptr;
    T* dx = ctx.grads->take(d_skip, d_inner);
    ops::residual_add_backward<T>(d_skip, d_inner, dx, batch * this->in_features);
    return dx;
  }
  void collect_params(std::vector<Param<T>*>& out) override {
    for (auto& c : children_) c->collect_params(out);
    if (projection_) {
      out.push_back(&proj_kernel_);
      out.push_back(&proj_bias_);
    }
  }
  std::vector<Layer<T>*> children() override {
    std::vector<Layer<T>*> out;
    for (auto& c : children_) out.push_back(c.get());
    return out;
  }
  void record_kernel_stats(StatsRecorder& stats) override {
    for (auto& c : children_) c->record_kernel_stats(stats);
  }
  void commit_state() override {
    for (auto& c : children_) c->commit_state();
  }

 private:
  ops::Act act_;
  bool projection_ = false;
  std::vector<std::unique_ptr<Layer<T>>> children_;
  std::vector<const T*> child_inputs_;
  Param<T> proj_kernel_, proj_bias_;
  std::vector<T> z_, y_, skip_;
};

template <typename T>
std::unique_ptr<Layer<T>> build_layer(const LayerSpec& spec, index_t in, std::uint64_t& salt) {
  if (in < 1) throw std::invalid_argument("layer input width must be >= 1");
  if (spec.act < 0 || spec.act >= ops::kNumActivations) {
    throw std::invalid_argument("unknown activation code " + std::to_string(spec.act));
  }
  if (spec.kind == "dense") {
    if (spec.units < 1) throw std::invalid_argument("Dense: units must be >= 1");
    return std::make_unique<DenseLayer<T>>(spec, in);
  }
  if (spec.kind == "activation") return std::make_unique<ActivationLayer<T>>(spec, in);
  if (spec.kind == "batchnorm") return std::make_unique<BatchNormLayer<T>>(spec, in);
  if (spec.kind == "dropout") {
    if (!(spec.rate >= 0.0 && spec.rate < 1.0)) {
      throw std::invalid_argument("Dropout: rate must be in [0, 1)");
    }
    // A distinct, fixed salt per dropout layer (golden-ratio increments).
    salt += 0x9E3779B97F4A7C15ull;
    return std::make_unique<DropoutLayer<T>>(spec, in, salt);
  }
  if (spec.kind == "residual") return std::make_unique<ResidualLayer<T>>(spec, in, salt);
  throw std::invalid_argument("unknown layer kind '" + spec.kind + "'");
}

}  // namespace

template <typename T>
std::unique_ptr<Layer<T>> make_layer(const LayerSpec& spec, index_t in_features,
                                     std::uint64_t& salt) {
  return build_layer<T>(spec, in_features, salt);
}

template class Layer<float>;
template class Layer<double>;
template std::unique_ptr<Layer<float>> make_layer<float>(const LayerSpec&, index_t,
                                                         std::uint64_t&);
template std::unique_ptr<Layer<double>> make_layer<double>(const LayerSpec&, index_t,
                                                           std::uint64_t&);

}  // namespace vgp
