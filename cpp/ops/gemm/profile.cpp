// GEMM instrumentation (profile.h).
#include "ops/gemm/profile.h"

#include <mutex>

namespace vgp::ops {
namespace {

std::mutex& profile_mutex() {
  static std::mutex mu;
  return mu;
}

GemmProfile& profile_state() {
  static GemmProfile state;
  return state;
}

}  // namespace

namespace gemm_detail {

std::atomic<bool> profile_on{false};

void profile_record(index_t m, index_t n, index_t k, bool trans_a, bool trans_b,
                    index_t elem_bytes, std::int64_t ns) {
  const std::lock_guard<std::mutex> lock(profile_mutex());
  GemmProfile& p = profile_state();
  ++p.calls;
  p.flops += 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  p.ns += ns;
  for (GemmShapeProfile& s : p.shapes) {
    if (s.m == m && s.n == n && s.k == k && s.trans_a == trans_a && s.trans_b == trans_b &&
        s.elem_bytes == elem_bytes) {
      ++s.calls;
      s.ns += ns;
      return;
    }
  }
  p.shapes.push_back(GemmShapeProfile{m, n, k, trans_a, trans_b, elem_bytes, 1, ns});
}

}  // namespace gemm_detail

void gemm_profile_enable(bool on) {
  const std::lock_guard<std::mutex> lock(profile_mutex());
  if (on) profile_state() = GemmProfile{};
  profile_state().enabled = on;
  gemm_detail::profile_on.store(on, std::memory_order_relaxed);
}

GemmProfile gemm_profile_read() {
  const std::lock_guard<std::mutex> lock(profile_mutex());
  return profile_state();
}

}  // namespace vgp::ops
