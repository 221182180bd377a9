// The logistic sigmoid over a contiguous span with AVX-512 intrinsics
// (sigmoid_avx512.cpp), used by the activation loops in place of the generic
// one where the CPU has x86-64-v4 (AVX-512 F, BW, CD, DQ, VL): the same bits
// as the x86-64-v4 clone of that loop, in about 70 % of its time on short
// spans.
#pragma once

#include "common.h"
#include "ops/vecmath.h"

// Built where the generic loops are multiversioned (VGP_MULTIVERSION), so that
// the AVX-512 span replaces exactly the clone whose bits it reproduces.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(VGP_NO_MULTIVERSION)
#define VGP_SIGMOID_X86 1
#else
#define VGP_SIGMOID_X86 0
#endif

namespace vgp::ops {

// Whether the AVX-512 span runs: the CPU runs the x86-64-v4 clones (AVX-512
// F, BW, CD, DQ, VL with AVX2 and FMA) and VGP_GEMM_KERNEL does not cap the
// hand-written kernels below AVX-512 (ops/gemm/config.h). Settled once.
bool sigmoid_avx512_available();

// y[j] = vm::vsigmoid(x[j]) for j < n (y may equal x); false, with nothing
// written, where the CPU lacks x86-64-v4 or the build has no AVX-512 span.
bool sigmoid_span_avx512(const float* x, float* y, index_t n);
bool sigmoid_span_avx512(const double* x, double* y, index_t n);

}  // namespace vgp::ops
