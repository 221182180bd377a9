// Residual (He et al. 2016): y = act(skip(x) + f(x)), f the inner layers in
// order, skip the identity or, when f changes the width, a learned linear
// projection (kernel and bias, after the inner layers' weights in Keras
// order). The gradient at the sum reaches both branches unchanged: the path
// through the identity is why deep residual networks keep their gradient.
#include <memory>
#include <stdexcept>

#include "network/layers/kinds.h"
#include "ops/dense.h"
#include "ops/residual.h"

namespace vgp::layers {
namespace {

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
      children_.push_back(make_layer<T>(c, width, salt));
      width = children_.back()->out_features;
    }
    this->out_features = width;
    projection_ = width != in;
    if (projection_) {
      init_param(proj_kernel_, "kernel", {in, width}, T(0), true);
      init_param(proj_bias_, "bias", {width}, T(0), true);
    }
    child_inputs_.resize(children_.size());
    this->set_probe(spec);
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

}  // namespace

template <typename T>
std::unique_ptr<Layer<T>> make_residual(const LayerSpec& spec, index_t in, std::uint64_t& salt) {
  return std::make_unique<ResidualLayer<T>>(spec, in, salt);
}

VGP_INSTANTIATE_LAYER_FACTORY(make_residual)

}  // namespace vgp::layers
