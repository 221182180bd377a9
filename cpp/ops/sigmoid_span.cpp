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

}  // namespace

SigmoidSpan sigmoid_span_kind() {
  static const SigmoidSpan kind = detect_sigmoid_span();
  return kind;
}

template <typename T>
SigmoidSpanFn<T> sigmoid_span_simd() {
#if VGP_SIGMOID_X86
  switch (sigmoid_span_kind()) {
    case SigmoidSpan::avx512: return static_cast<SigmoidSpanFn<T>>(&sigmoid_span_avx512);
    case SigmoidSpan::avx2: return static_cast<SigmoidSpanFn<T>>(&sigmoid_span_avx2);
    case SigmoidSpan::generic: break;
  }
#endif
  return nullptr;
}

template SigmoidSpanFn<float> sigmoid_span_simd<float>();
template SigmoidSpanFn<double> sigmoid_span_simd<double>();

}  // namespace vgp::ops
