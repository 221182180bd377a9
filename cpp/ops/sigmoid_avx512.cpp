// The logistic sigmoid over a span with AVX-512 intrinsics (sigmoid_span.h):
// the operations of vm::vsigmoid (vecmath.h) in the same order and with the
// same roundings, so the bits are those of the x86-64-v4 clone of the generic
// loop, which it replaces where that clone would run (the same on all 2^32
// float inputs; tests/test_ops_activation.py compares a sample of both dtypes).
//
//   a = clamp(-x, kSigmoidMin, kExpHi),  k = rint(a / ln 2),  r = a - k ln2
//   y = 1 / (1 + (1 + expm1(r)) 2^k)
//
// Two differences in form, none in value:
// - 2^k is applied with vscalefps/pd, exact wherever (1 + expm1 r) 2^k is a
//   normal number, as the generic (1 + expm1 r) 2^(k-1) 2 is (its product by
//   2 is exact; both then add 1 with one rounding); at the top both overflow
//   to inf for the same a, where y is exactly 0. Four instructions fewer.
// - Four vectors go through each step before the next step starts. The
//   per-element chain (clamp, reduction, a degree-7 polynomial, the division)
//   is about 60 cycles long; GCC's loop holds one vector per iteration, and on
//   the short spans of a narrow layer (10 units x 32 rows: 20 vectors) the
//   out-of-order window did not keep the FMA units busy. On Zen 4: about 14
//   cycles a vector of 16 floats against 20 on 320-element spans.
#include "ops/sigmoid_span.h"

#include <cstdlib>
#include <cstring>

#if VGP_SIGMOID_X86
#include <immintrin.h>

#define VGP_AVX512_INLINE __attribute__((target("avx512f"), always_inline)) inline
#define VGP_AVX512 __attribute__((target("avx512f")))

namespace vgp::ops {
namespace {

// One vector type's operations; everything below is written once over V.
// min, max and scalef in their zero-masking forms with every lane kept: the
// plain intrinsics start from an undefined register, which GCC 12 reports as
// maybe uninitialized.
struct SigF32 {
  using T = float;
  using R = __m512;
  using M = __mmask16;
  static constexpr int W = 16;
  VGP_AVX512_INLINE static R set1(T v) { return _mm512_set1_ps(v); }
  VGP_AVX512_INLINE static R load(const T* p) { return _mm512_loadu_ps(p); }
  VGP_AVX512_INLINE static void store(T* p, R v) { _mm512_storeu_ps(p, v); }
  VGP_AVX512_INLINE static M mask(index_t count) {
    return count >= W ? M(0xFFFF) : static_cast<M>((1u << count) - 1u);
  }
  VGP_AVX512_INLINE static R load_n(const T* p, M m) { return _mm512_maskz_loadu_ps(m, p); }
  VGP_AVX512_INLINE static void store_n(T* p, M m, R v) { _mm512_mask_storeu_ps(p, m, v); }
  VGP_AVX512_INLINE static R neg(R v) { return _mm512_sub_ps(_mm512_setzero_ps(), v); }
  VGP_AVX512_INLINE static R min(R a, R b) { return _mm512_maskz_min_ps(M(0xFFFF), a, b); }
  VGP_AVX512_INLINE static R max(R a, R b) { return _mm512_maskz_max_ps(M(0xFFFF), a, b); }
  VGP_AVX512_INLINE static R add(R a, R b) { return _mm512_add_ps(a, b); }
  VGP_AVX512_INLINE static R sub(R a, R b) { return _mm512_sub_ps(a, b); }
  VGP_AVX512_INLINE static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  VGP_AVX512_INLINE static R div(R a, R b) { return _mm512_div_ps(a, b); }
  VGP_AVX512_INLINE static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  VGP_AVX512_INLINE static R fnma(R a, R b, R c) { return _mm512_fnmadd_ps(a, b, c); }
  VGP_AVX512_INLINE static R scalef(R a, R k) { return _mm512_maskz_scalef_ps(M(0xFFFF), a, k); }
  static constexpr const auto& kPoly = vm::kExpm1F;
};

struct SigF64 {
  using T = double;
  using R = __m512d;
  using M = __mmask8;
  static constexpr int W = 8;
  VGP_AVX512_INLINE static R set1(T v) { return _mm512_set1_pd(v); }
  VGP_AVX512_INLINE static R load(const T* p) { return _mm512_loadu_pd(p); }
  VGP_AVX512_INLINE static void store(T* p, R v) { _mm512_storeu_pd(p, v); }
  VGP_AVX512_INLINE static M mask(index_t count) {
    return count >= W ? M(0xFF) : static_cast<M>((1u << count) - 1u);
  }
  VGP_AVX512_INLINE static R load_n(const T* p, M m) { return _mm512_maskz_loadu_pd(m, p); }
  VGP_AVX512_INLINE static void store_n(T* p, M m, R v) { _mm512_mask_storeu_pd(p, m, v); }
  VGP_AVX512_INLINE static R neg(R v) { return _mm512_sub_pd(_mm512_setzero_pd(), v); }
  VGP_AVX512_INLINE static R min(R a, R b) { return _mm512_maskz_min_pd(M(0xFF), a, b); }
  VGP_AVX512_INLINE static R max(R a, R b) { return _mm512_maskz_max_pd(M(0xFF), a, b); }
  VGP_AVX512_INLINE static R add(R a, R b) { return _mm512_add_pd(a, b); }
  VGP_AVX512_INLINE static R sub(R a, R b) { return _mm512_sub_pd(a, b); }
  VGP_AVX512_INLINE static R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  VGP_AVX512_INLINE static R div(R a, R b) { return _mm512_div_pd(a, b); }
  VGP_AVX512_INLINE static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  VGP_AVX512_INLINE static R fnma(R a, R b, R c) { return _mm512_fnmadd_pd(a, b, c); }
  VGP_AVX512_INLINE static R scalef(R a, R k) { return _mm512_maskz_scalef_pd(M(0xFF), a, k); }
  static constexpr const auto& kPoly = vm::kExpm1D;
};

// vm::vsigmoid on N vectors in place, each step for all N before the next:
// GCC keeps that order on x86 (no scheduling pass before register
// allocation), so the N chains of about 60 cycles each reach the out-of-order
// core interleaved rather than one after the other. min(c, a) and max(c, a)
// return a when it is NaN (as the generic clamps do), and NaN carries through.
template <class V, int N>
VGP_AVX512_INLINE void sigmoid(typename V::R (&v)[N]) {
  using T = typename V::T;
  using B = vm::Bits<T>;
  using R = typename V::R;
  constexpr int kTerms = static_cast<int>(sizeof(V::kPoly) / sizeof(V::kPoly[0]));
  const R magic = V::set1(B::kMagic);
  const R one = V::set1(T(1));
  R k[N], r[N], p[N];
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) v[i] = V::min(V::set1(B::kExpHi), V::neg(v[i]));
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) v[i] = V::max(V::set1(B::kSigmoidMin), v[i]);  // a
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) {
    k[i] = V::sub(V::fma(v[i], V::set1(T(1.44269504088896340736)), magic), magic);
  }
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) r[i] = V::fnma(k[i], V::set1(B::kLn2Hi), v[i]);
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) r[i] = V::fnma(k[i], V::set1(B::kLn2Lo), r[i]);
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) p[i] = V::fma(V::set1(V::kPoly[0]), r[i], V::set1(V::kPoly[1]));
#pragma GCC unroll 16
  for (int t = 2; t < kTerms; ++t) {
#pragma GCC unroll 16
    for (int i = 0; i < N; ++i) p[i] = V::fma(p[i], r[i], V::set1(V::kPoly[t]));
  }
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) p[i] = V::fma(V::mul(r[i], r[i]), p[i], r[i]);  // expm1(r)
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) p[i] = V::add(V::scalef(V::add(one, p[i]), k[i]), one);
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) v[i] = V::div(one, p[i]);
}

// Four vectors a step while they last, then one, the last masked.
template <class V>
VGP_AVX512 void sigmoid_span(const typename V::T* x, typename V::T* y, index_t n) {
  using R = typename V::R;
  constexpr int W = V::W;
  index_t j = 0;
  for (; j + 4 * W <= n; j += 4 * W) {
    R v[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) v[i] = V::load(x + j + i * W);
    sigmoid<V>(v);
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) V::store(y + j + i * W, v[i]);
  }
  for (; j < n; j += W) {
    const auto m = V::mask(n - j);
    R v[1] = {V::load_n(x + j, m)};
    sigmoid<V>(v);
    V::store_n(y + j, m, v[0]);
  }
}

}  // namespace

bool sigmoid_avx512_available() {
  static const bool yes = [] {
    const char* cap = std::getenv("VGP_GEMM_KERNEL");
    if (cap && (std::strcmp(cap, "avx2") == 0 || std::strcmp(cap, "scalar") == 0)) return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
           __builtin_cpu_supports("fma");
  }();
  return yes;
}

bool sigmoid_span_avx512(const float* x, float* y, index_t n) {
  if (!sigmoid_avx512_available()) return false;
  sigmoid_span<SigF32>(x, y, n);
  return true;
}

bool sigmoid_span_avx512(const double* x, double* y, index_t n) {
  if (!sigmoid_avx512_available()) return false;
  sigmoid_span<SigF64>(x, y, n);
  return true;
}

}  // namespace vgp::ops

#else

namespace vgp::ops {
bool sigmoid_avx512_available() { return false; }
bool sigmoid_span_avx512(const float*, float*, index_t) { return false; }
bool sigmoid_span_avx512(const double*, double*, index_t) { return false; }
}  // namespace vgp::ops

#endif
