// Dense: y = act(x w + b), the kernel (in, out) in Keras' layout, with the
// activation fused into the GEMM's epilogue (ops/dense.h). Forward keeps the
// pre-activation z for backward and for a loss fused with the output
// activation (which then hands backward dL/dz directly: `preact`). Its kernel
// feeds one statistics row (spec.kernel_row) and may carry an L2 penalty
// (spec.l2, network/penalty.h).
#include <memory>
#include <stdexcept>

#include "network/layers/kinds.h"
#include "ops/dense.h"

namespace vgp::layers {
namespace {

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
    kernel_.l2 = spec.l2;
    kernel_.l2_per_sample = spec.l2_per_sample;
    if (use_bias_) init_param(bias_, "bias", {spec.units}, T(0), true);
    this->set_probe(spec);
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
  bool dense_view(DenseView<T>& v) override {
    v.in = this->in_features;
    v.out = this->out_features;
    v.act = act_;
    v.kernel = kernel_.value.data();
    v.kernel_grad = kernel_.grad.data();
    v.bias = use_bias_ ? bias_.value.data() : nullptr;
    v.bias_grad = use_bias_ ? bias_.grad.data() : nullptr;
    v.z = z_.data();
    v.y = act_ == ops::Act::linear ? z_.data() : y_.data();
    return true;
  }
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

}  // namespace

template <typename T>
std::unique_ptr<Layer<T>> make_dense(const LayerSpec& spec, index_t in, std::uint64_t&) {
  if (spec.units < 1) throw std::invalid_argument("Dense: units must be >= 1");
  return std::make_unique<DenseLayer<T>>(spec, in);
}

VGP_INSTANTIATE_LAYER_FACTORY(make_dense)

}  // namespace vgp::layers
