#include "bindings/bind.h"

namespace vgp::bind {
void bind_ops_train(py::module_&) {}
}  // namespace vgp::bind
