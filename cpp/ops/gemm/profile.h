// Optional instrumentation of the GEMM: calls, floating-point operations
// (2 m n k per call) and wall time, in total and per distinct shape, so that
// a benchmark can tell how much of a training step is matrix products and
// at what rate they run inside it.
//
// Off by default: every gemm() call then pays one relaxed atomic load and a
// branch. When on, each call also reads the steady clock twice and updates
// the counters under a mutex (calls come from the thread driving the
// network, so it is not contended).
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

#include "common.h"

namespace vgp::ops {

struct GemmShapeProfile {
  index_t m = 0, n = 0, k = 0;
  bool trans_a = false, trans_b = false;
  index_t elem_bytes = 0;
  std::int64_t calls = 0, ns = 0;
};

struct GemmProfile {
  bool enabled = false;
  std::int64_t calls = 0;
  double flops = 0.0;
  std::int64_t ns = 0;
  std::vector<GemmShapeProfile> shapes;  // in order of first appearance
};

// Switches the instrumentation on (counters reset) or off (counters kept).
void gemm_profile_enable(bool on);
GemmProfile gemm_profile_read();

namespace gemm_detail {

extern std::atomic<bool> profile_on;

inline bool profiling() { return profile_on.load(std::memory_order_relaxed); }

void profile_record(index_t m, index_t n, index_t k, bool trans_a, bool trans_b,
                    index_t elem_bytes, std::int64_t ns);

}  // namespace gemm_detail
}  // namespace vgp::ops
