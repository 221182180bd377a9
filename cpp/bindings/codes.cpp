// The integer codes Python passes to the native side, exported from the C++
// tables that define them (common.h EnumName), so that Python reads them and
// never types them again:
//   ACTIVATION_CODES  activation name -> ops::Act
//   LOSS_CODES        loss name -> LossKind
//   METRIC_CODES      metric name -> MetricKind (0, no metric, has no name)
//   OPTIMIZER_CODES   optimizer name -> OptimizerKind (set_optimizer takes the name)
//   LAYER_KINDS       the layer kinds a network spec may name
#include "bindings/bind.h"
#include "network.h"

namespace vgp::bind {
namespace {

template <typename E, std::size_t N>
py::dict codes_of(const EnumName<E> (&table)[N]) {
  py::dict d;
  for (const EnumName<E>& e : table) d[e.name] = static_cast<int>(e.value);
  return d;
}

}  // namespace

void bind_codes(py::module_& m) {
  m.attr("ACTIVATION_CODES") = codes_of(ops::kActivationNames);
  m.attr("LOSS_CODES") = codes_of(kLossNames);
  m.attr("METRIC_CODES") = codes_of(kMetricNames);
  m.attr("OPTIMIZER_CODES") = codes_of(kOptimizerNames);
  py::tuple kinds(std::size(kLayerKinds));
  for (std::size_t i = 0; i < std::size(kLayerKinds); ++i) kinds[i] = kLayerKinds[i];
  m.attr("LAYER_KINDS") = kinds;
}

}  // namespace vgp::bind
