#include "bindings/network_args.h"

#include <cmath>
#include <type_traits>

namespace vgp::bind {

LayerSpec parse_spec(const py::dict& d) {
  LayerSpec s;
  s.kind = py::cast<std::string>(d["kind"]);
  auto get = [&](const char* key, auto& field) {
    if (d.contains(key)) field = py::cast<std::decay_t<decltype(field)>>(d[key]);
  };
  get("units", s.units);
  get("act", s.act);
  get("use_bias", s.use_bias);
  get("epsilon", s.epsilon);
  get("momentum", s.momentum);
  get("rate", s.rate);
  get("kernel_row", s.kernel_row);
  get("probe_row", s.probe_row);
  get("probe_act", s.probe_act);
  get("hist_lo", s.hist_lo);
  get("hist_hi", s.hist_hi);
  get("l2", s.l2);
  get("l2_per_sample", s.l2_per_sample);
  if (!(s.l2 >= 0.0) || !std::isfinite(s.l2)) {
    throw std::invalid_argument("Network: a kernel's l2 must be finite and >= 0, received " +
                                std::to_string(s.l2));
  }
  if (d.contains("children")) {
    for (const py::handle& c : py::cast<py::list>(d["children"])) {
      s.children.push_back(parse_spec(py::cast<py::dict>(c)));
    }
  }
  return s;
}

OptimizerSpec parse_optimizer(const py::dict& d) {
  OptimizerSpec o;
  const std::string kind = py::cast<std::string>(d["kind"]);
  const EnumName<OptimizerKind>* known = find_name(kOptimizerNames, kind);
  if (!known) throw std::invalid_argument("set_optimizer: unknown kind '" + kind + "'");
  o.kind = known->value;
  auto get = [&](const char* key, auto& field) {
    if (d.contains(key) && !d[key].is_none()) {
      field = py::cast<std::decay_t<decltype(field)>>(d[key]);
    }
  };
  get("learning_rate", o.learning_rate);
  get("beta_1", o.beta_1);
  get("beta_2", o.beta_2);
  get("epsilon", o.epsilon);
  get("momentum", o.momentum);
  get("nesterov", o.nesterov);
  get("rho", o.rho);
  get("centered", o.centered);
  get("clipnorm", o.clipnorm);
  get("clipvalue", o.clipvalue);
  return o;
}

double check_learning_rate(double learning_rate) {
  if (!(learning_rate >= 0.0) || !std::isfinite(learning_rate)) {
    throw std::invalid_argument(
        "set_learning_rate: learning_rate must be finite and >= 0, received " +
        std::to_string(learning_rate));
  }
  return learning_rate;
}

Mode parse_mode(const std::string& mode) {
  if (mode == "train") return Mode::train;
  if (mode == "probe") return Mode::probe;
  if (mode == "infer") return Mode::infer;
  throw std::invalid_argument("mode must be 'train', 'probe' or 'infer', received '" + mode + "'");
}

LossKind parse_loss(int code) {
  const EnumName<LossKind>* known = find_code(kLossNames, code);
  if (!known) throw std::invalid_argument("set_loss: unknown loss code " + std::to_string(code));
  return known->value;
}

MetricKind parse_metric(int code) {
  if (code == static_cast<int>(MetricKind::none)) return MetricKind::none;
  const EnumName<MetricKind>* known = find_code(kMetricNames, code);
  if (!known) throw std::invalid_argument("set_loss: unknown metric code " + std::to_string(code));
  return known->value;
}

void check_indices(const char* op, const carray<std::int64_t>& idx, index_t n) {
  require_ndim(op, "indices", idx, 1);
  check_index_values(op, idx, n);
}

void check_index_values(const char* op, const carray<std::int64_t>& idx, index_t n) {
  const std::int64_t* p = idx.data();
  for (py::ssize_t i = 0; i < idx.size(); ++i) {
    if (p[i] < 0 || p[i] >= n) {
      throw std::invalid_argument(std::string(op) + ": index " + std::to_string(p[i]) +
                                  " out of range for " + std::to_string(n) + " rows");
    }
  }
}

}  // namespace vgp::bind
