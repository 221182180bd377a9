#include "bindings/bind.h"

namespace vgp::bind {
void bind_network(py::module_&) {}
}  // namespace vgp::bind
