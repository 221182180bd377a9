#include "bindings/bind.h"

namespace vgp::bind {
void bind_ops_core(py::module_&) {}
}  // namespace vgp::bind
