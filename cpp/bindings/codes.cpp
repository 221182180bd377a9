// The integer codes Python passes to the native side, exported from the C++
// tables that define them (common.h EnumName), so that Python reads them and
// never types them again:
//   ACTIVATION_CODES  activation name -> ops::Act
//   LOSS_CODES        loss name -> LossKind
//   METRIC_CODES      metric name -> MetricKind (0, no metric, has no name)
//   OPTIMIZER_CODES   optimizer name -> OptimizerKind (set_optimizer takes the name)
//   LAYER_KINDS       the layer kinds a network spec may name
//   STAT_FIELDS       the fields of a flow-statistics row, in order
//   HIST_BINS         the activation histogram's bins that follow them
#include "bindings/bind.h"
#include "network/spec.h"
#include "network/stats.h"

namespace vgp::bind {
namespace {

template <typename E, std::size_t N>
py::dict codes_of(const EnumName<E> (&table)[N]) {
  py::dict d;
  for (const EnumName<E>& e : table) d[e.name] = static_cast<int>(e.value);
  return d;
}

template <typename E, std::size_t N>
py::tuple names_of(const EnumName<E> (&table)[N]) {
  py::tuple t(N);
  for (std::size_t i = 0; i < N; ++i) t[i] = table[i].name;
  return t;
}

template <std::size_t N>
py::tuple names_of(const char* const (&names)[N]) {
  py::tuple t(N);
  for (std::size_t i = 0; i < N; ++i) t[i] = names[i];
  return t;
}

}  // namespace

void bind_codes(py::module_& m) {
  m.attr("ACTIVATION_CODES") = codes_of(ops::kActivationNames);
  m.attr("LOSS_CODES") = codes_of(kLossNames);
  m.attr("METRIC_CODES") = codes_of(kMetricNames);
  m.attr("OPTIMIZER_CODES") = codes_of(kOptimizerNames);
  m.attr("LAYER_KINDS") = names_of(kLayerKindNames);
  m.attr("STAT_FIELDS") = names_of(kStatFieldNames);
  m.attr("HIST_BINS") = kHistBins;
}

}  // namespace vgp::bind
