// Dropout: in training, y = x * mask / (1 - rate) with a counter-based mask
// (ops/dropout.h), so a batch's mask depends only on its seed and the layer's
// salt; a pass-through otherwise (and at rate 0).
#include <memory>
#include <stdexcept>

#include "network/layers/kinds.h"
#include "ops/dropout.h"

namespace vgp::layers {
namespace {

template <typename T>
class DropoutLayer final : public Layer<T> {
 public:
  DropoutLayer(const LayerSpec& spec, index_t in, std::uint64_t salt)
      : rate_(spec.rate), salt_(salt) {
    this->in_features = in;
    this->out_features = in;
    this->set_probe(spec);
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

}  // namespace

template <typename T>
std::unique_ptr<Layer<T>> make_dropout(const LayerSpec& spec, index_t in, std::uint64_t& salt) {
  if (!(spec.rate >= 0.0 && spec.rate < 1.0)) {
    throw std::invalid_argument("Dropout: rate must be in [0, 1)");
  }
  // A distinct, fixed salt per dropout layer (golden-ratio increments).
  salt += 0x9E3779B97F4A7C15ull;
  return std::make_unique<DropoutLayer<T>>(spec, in, salt);
}

VGP_INSTANTIATE_LAYER_FACTORY(make_dropout)

}  // namespace vgp::layers
