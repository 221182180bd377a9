// Activation: y = act(x), elementwise or softmax per row (ops/activation.h).
// It keeps no pre-activation of its own: its input is the previous layer's
// output, which stays valid through the step, and is the logits a fused loss
// reads.
#include <memory>

#include "network/layers/kinds.h"

namespace vgp::layers {
namespace {

template <typename T>
class ActivationLayer final : public Layer<T> {
 public:
  ActivationLayer(const LayerSpec& spec, index_t in) : act_(static_cast<ops::Act>(spec.act)) {
    this->in_features = in;
    this->out_features = in;
    this->set_probe(spec);
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

}  // namespace

template <typename T>
std::unique_ptr<Layer<T>> make_activation(const LayerSpec& spec, index_t in, std::uint64_t&) {
  return std::make_unique<ActivationLayer<T>>(spec, in);
}

VGP_INSTANTIATE_LAYER_FACTORY(make_activation)

}  // namespace vgp::layers
