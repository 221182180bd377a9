// _core.permutations: many row orders at once (bindings/bitgen.h).
#include "bindings/bitgen.h"

namespace vgp::bind {

void bind_random(py::module_& m) {
  m.def(
      "permutations",
      [](const py::capsule& bitgen, index_t n, index_t k) {
        if (n < 0) throw std::invalid_argument("permutations: n must be >= 0");
        if (k < 0) throw std::invalid_argument("permutations: k must be >= 0");
        const NumpyBitGen g = numpy_bitgen(bitgen, "permutations");
        carray<std::int64_t> out({k, n});
        std::int64_t* p = out.mutable_data();
        py::gil_scoped_release nogil;
        for (index_t r = 0; r < k; ++r) draw_order(g, p + r * n, n);
        return out;
      },
      py::arg("bitgen"), py::arg("n"), py::arg("k"),
      "k orders of n rows, each what Generator.permutation(n) returns, drawn in turn from "
      "the bit generator behind `bitgen` (BitGenerator.capsule; hold BitGenerator.lock).");
}

}  // namespace vgp::bind
