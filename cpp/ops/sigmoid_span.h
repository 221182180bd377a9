// The logistic sigmoid over a contiguous span with AVX-512 or AVX2
// intrinsics (sigmoid_impl.h), used by the activation loops in place of the
// generic one: the same bits as that loop's clone for the same ISA (on every
// float input, and the AVX2 clone's equal the AVX-512 clone's), in about 70 %
// of its time on short spans, where the generic loop's one chain per iteration
// leaves the FMA units idle.
#pragma once

#include "common.h"
#include "ops/vecmath.h"

// Built where the generic loops are multiversioned (VGP_MULTIVERSION), so that
// each span replaces exactly the clone whose bits it reproduces.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(VGP_NO_MULTIVERSION)
#define VGP_SIGMOID_X86 1
#else
#define VGP_SIGMOID_X86 0
#endif

namespace vgp::ops {

enum class SigmoidSpan : int { generic = 0, avx2 = 1, avx512 = 2 };

// The span that runs, settled once: avx512 where the CPU runs the generic
// loops' x86-64-v4 clones (AVX-512 F, BW, CD, DQ, VL), avx2 where it runs
// their x86-64-v3 clones (AVX2, FMA, BMI1, BMI2), generic elsewhere and in
// builds without the spans. VGP_GEMM_KERNEL=avx2 caps it at avx2, =scalar at
// generic (ops/gemm/config.h).
SigmoidSpan sigmoid_span_kind();

// The span of sigmoid_span_kind() for T: span(x, y, n) sets y[j] =
// vm::vsigmoid(x[j]) for j < n (y may equal x); null where that is generic.
template <typename T>
using SigmoidSpanFn = void (*)(const T* x, T* y, index_t n);
template <typename T>
SigmoidSpanFn<T> sigmoid_span_simd();

// The spans themselves (sigmoid_avx512.cpp, sigmoid_avx2.cpp), defined in
// builds with VGP_SIGMOID_X86, for CPUs with their instructions.
void sigmoid_span_avx512(const float* x, float* y, index_t n);
void sigmoid_span_avx512(const double* x, double* y, index_t n);
void sigmoid_span_avx2(const float* x, float* y, index_t n);
void sigmoid_span_avx2(const double* x, double* y, index_t n);

}  // namespace vgp::ops
