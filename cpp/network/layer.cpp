// What every layer shares: its probe point, and make_layer, which builds a
// layer of any kind from its spec.
#include "network/layer.h"

#include <stdexcept>
#include <string>

#include "network/layers/kinds.h"

namespace vgp {

template <typename T>
void Layer<T>::set_probe(const LayerSpec& spec) {
  probe_row = spec.probe_row;
  probe_act = static_cast<ops::Act>(spec.probe_act);
  hist_lo = spec.hist_lo;
  hist_hi = spec.hist_hi;
}

template <typename T>
void Layer<T>::record_probe_forward(const T* y, index_t batch, const Context<T>& ctx) {
  if (!ctx.stats || probe_row < 0) return;
  record_activation<T>(*ctx.stats, probe_row, y, batch, out_features, probe_act, hist_lo, hist_hi);
}

template <typename T>
void Layer<T>::record_probe_backward(const T* dy, index_t batch, const Context<T>& ctx) {
  if (!ctx.stats || probe_row < 0) return;
  record_signal<T>(*ctx.stats, probe_row, dy, batch, out_features);
}

template <typename T>
std::unique_ptr<Layer<T>> make_layer(const LayerSpec& spec, index_t in_features,
                                     std::uint64_t& salt) {
  if (in_features < 1) throw std::invalid_argument("layer input width must be >= 1");
  if (!find_code(ops::kActivationNames, spec.act)) {
    throw std::invalid_argument("unknown activation code " + std::to_string(spec.act));
  }
  const EnumName<LayerKind>* kind = find_name(kLayerKindNames, spec.kind);
  if (!kind) throw std::invalid_argument("unknown layer kind '" + spec.kind + "'");
  switch (kind->value) {
    case LayerKind::dense:
      return layers::make_dense<T>(spec, in_features, salt);
    case LayerKind::activation:
      return layers::make_activation<T>(spec, in_features, salt);
    case LayerKind::batchnorm:
      return layers::make_batchnorm<T>(spec, in_features, salt);
    case LayerKind::dropout:
      return layers::make_dropout<T>(spec, in_features, salt);
    case LayerKind::residual:
      return layers::make_residual<T>(spec, in_features, salt);
  }
  throw std::logic_error("make_layer: a kind of kLayerKindNames without a factory");
}

template class Layer<float>;
template class Layer<double>;
template std::unique_ptr<Layer<float>> make_layer<float>(const LayerSpec&, index_t,
                                                         std::uint64_t&);
template std::unique_ptr<Layer<double>> make_layer<double>(const LayerSpec&, index_t,
                                                           std::uint64_t&);

}  // namespace vgp
