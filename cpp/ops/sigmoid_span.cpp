// Which sigmoid span runs (sigmoid_span.h).
#include "ops/sigmoid_span.h"

#include <cstdlib>
#include <cstring>

namespace vgp::ops {

namespace {

SigmoidSpan detect_sigmoid_span() {
#if VGP_SIGMOID_X86
  const char* cap = std::getenv("VGP_GEMM_KERNEL");
  if (cap && std::strcmp(cap, "scalar") == 0) return SigmoidSpan::generic;
  __builtin_cpu_init();
  const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
  const bool v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                  __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512vl");
  if (v4 && !(cap && std::strcmp(cap, "avx2") == 0)) return SigmoidSpan::avx512;
  if (v3) return SigmoidSpan::avx2;
#endif
  return SigmoidSpan::generic;
}

template <typename T>
bool run_span(const T* x, T* y, index_t n) {
#if VGP_SIGMOID_X86
  switch (sigmoid_span_kind()) {
    case SigmoidSpan::avx512: sigmoid_span_avx512(x, y, n); return true;
    case SigmoidSpan::avx2: sigmoid_span_avx2(x, y, n); return true;
    case SigmoidSpan::generic: break;
  }
#else
  (void)x, (void)y, (void)n;
#endif
  return false;
}

}  // namespace

SigmoidSpan sigmoid_span_kind() {
  static const SigmoidSpan kind = detect_sigmoid_span();
  return kind;
}

bool sigmoid_span_simd(const float* x, float* y, index_t n) { return run_span(x, y, n); }
bool sigmoid_span_simd(const double* x, double* y, index_t n) { return run_span(x, y, n); }

}  // namespace vgp::ops
