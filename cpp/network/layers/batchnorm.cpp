// BatchNormalization (Ioffe & Szegedy 2015): batch statistics in training
// and probe mode, moving ones at inference (ops/batchnorm.h). Weights in
// Keras order: gamma, beta, moving_mean, moving_variance (the last two not
// trainable). A training forward computes the new moving averages into a
// scratch copy, made the layer's own by commit_state() once the step is
// accepted.
#include <algorithm>
#include <memory>

#include "network/layers/kinds.h"
#include "ops/batchnorm.h"

namespace vgp::layers {
namespace {

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
    this->set_probe(spec);
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

}  // namespace

template <typename T>
std::unique_ptr<Layer<T>> make_batchnorm(const LayerSpec& spec, index_t in, std::uint64_t&) {
  return std::make_unique<BatchNormLayer<T>>(spec, in);
}

VGP_INSTANTIATE_LAYER_FACTORY(make_batchnorm)

}  // namespace vgp::layers
