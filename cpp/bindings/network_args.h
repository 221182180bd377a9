// The Python arguments of the Network binding turned into the executor's own
// types (network/spec.h), checked on the way: a bad value is a ValueError
// naming what was expected, before any native work starts.
#pragma once

#include <cstdint>
#include <string>

#include "bindings/bind.h"
#include "network/spec.h"

namespace vgp::bind {

// One layer spec dict (and its "children", recursively) as compile() builds it.
LayerSpec parse_spec(const py::dict& d);
// {"kind": a name of _core.OPTIMIZER_CODES, hyperparameters...}; None values keep defaults.
OptimizerSpec parse_optimizer(const py::dict& d);
// A learning rate for set_learning_rate: finite and >= 0.
double check_learning_rate(double learning_rate);
// "train", "probe" or "infer".
Mode parse_mode(const std::string& mode);
// The loss and metric codes of set_loss (metric 0: none).
LossKind parse_loss(int code);
MetricKind parse_metric(int code);
// Every index of idx (1-D) in [0, n).
void check_indices(const char* op, const carray<std::int64_t>& idx, index_t n);
// Every value of idx (any shape) in [0, n).
void check_index_values(const char* op, const carray<std::int64_t>& idx, index_t n);

}  // namespace vgp::bind
