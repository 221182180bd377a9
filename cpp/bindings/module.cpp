// The extension module vgp_native._core: threads, version, and the op,
// network, code-table and row-order bindings registered by the other binding files.
#include "bindings/bind.h"

namespace py = pybind11;

#ifndef VGP_VERSION
#define VGP_VERSION "0.0.0"
#endif

PYBIND11_MODULE(_core, m) {
  m.doc() = "Native C++/OpenMP kernels and network executor of vgp_native.";
  m.attr("__version__") = VGP_VERSION;
  m.def("openmp_enabled", &vgp::openmp_enabled, "True when the extension was built with OpenMP.");
  m.def("get_num_threads", &vgp::get_num_threads,
        "Number of threads the native kernels use (OMP_NUM_THREADS at import by default).");
  m.def(
      "set_num_threads",
      [](int n) {
        if (n < 1) throw std::invalid_argument("set_num_threads: expected n >= 1, received " +
                                               std::to_string(n));
        vgp::set_num_threads(n);
      },
      py::arg("n"), "Set the number of threads the native kernels use.");
  m.def("get_parallel_min_ns", &vgp::parallel_min_ns,
        "Single-core work (ns) below which a native loop runs on one thread.");
  m.def(
      "set_parallel_min_ns",
      [](double ns) {
        if (!(ns >= 0.0)) {
          throw std::invalid_argument("set_parallel_min_ns: expected ns >= 0, received " +
                                      std::to_string(ns));
        }
        vgp::set_parallel_min_ns(ns);
      },
      py::arg("ns"),
      "Set that threshold (0: every loop of more than one block uses threads; for tests).");
  m.def("parallel_regions", &vgp::parallel_regions,
        "Parallel regions the kernels' loops have entered so far (the GEMM's not counted).");
  vgp::bind::bind_ops_gemm(m);
  vgp::bind::bind_ops_core(m);
  vgp::bind::bind_ops_batchnorm(m);
  vgp::bind::bind_ops_train(m);
  vgp::bind::bind_network(m);
  vgp::bind::bind_codes(m);
  vgp::bind::bind_random(m);
}
