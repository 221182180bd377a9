// The sigmoid span with AVX-512 (sigmoid_span.h, sigmoid_impl.h): float x 16,
// double x 8, 2^k applied with vscalefps/pd, the last vector masked.
#include "ops/sigmoid_span.h"

#if VGP_SIGMOID_X86
#include <immintrin.h>

#define VGP_AVX512_INLINE __attribute__((target("avx512f"), always_inline)) inline

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
  VGP_AVX512_INLINE static R load_n(const T* p, index_t count) {
    return _mm512_maskz_loadu_ps(mask(count), p);
  }
  VGP_AVX512_INLINE static void store_n(T* p, index_t count, R v) {
    _mm512_mask_storeu_ps(p, mask(count), v);
  }
  VGP_AVX512_INLINE static R neg(R v) { return _mm512_sub_ps(_mm512_setzero_ps(), v); }
  VGP_AVX512_INLINE static R min(R a, R b) { return _mm512_maskz_min_ps(M(0xFFFF), a, b); }
  VGP_AVX512_INLINE static R max(R a, R b) { return _mm512_maskz_max_ps(M(0xFFFF), a, b); }
  VGP_AVX512_INLINE static R add(R a, R b) { return _mm512_add_ps(a, b); }
  VGP_AVX512_INLINE static R sub(R a, R b) { return _mm512_sub_ps(a, b); }
  VGP_AVX512_INLINE static R mul(R a, R b) { return _mm512_mul_ps(a, b); }
  VGP_AVX512_INLINE static R div(R a, R b) { return _mm512_div_ps(a, b); }
  VGP_AVX512_INLINE static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  VGP_AVX512_INLINE static R fnma(R a, R b, R c) { return _mm512_fnmadd_ps(a, b, c); }
  VGP_AVX512_INLINE static R scaled_plus_one(R q, R, R k) {
    return _mm512_add_ps(_mm512_maskz_scalef_ps(M(0xFFFF), q, k), _mm512_set1_ps(1.0f));
  }
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
  VGP_AVX512_INLINE static R load_n(const T* p, index_t count) {
    return _mm512_maskz_loadu_pd(mask(count), p);
  }
  VGP_AVX512_INLINE static void store_n(T* p, index_t count, R v) {
    _mm512_mask_storeu_pd(p, mask(count), v);
  }
  VGP_AVX512_INLINE static R neg(R v) { return _mm512_sub_pd(_mm512_setzero_pd(), v); }
  VGP_AVX512_INLINE static R min(R a, R b) { return _mm512_maskz_min_pd(M(0xFF), a, b); }
  VGP_AVX512_INLINE static R max(R a, R b) { return _mm512_maskz_max_pd(M(0xFF), a, b); }
  VGP_AVX512_INLINE static R add(R a, R b) { return _mm512_add_pd(a, b); }
  VGP_AVX512_INLINE static R sub(R a, R b) { return _mm512_sub_pd(a, b); }
  VGP_AVX512_INLINE static R mul(R a, R b) { return _mm512_mul_pd(a, b); }
  VGP_AVX512_INLINE static R div(R a, R b) { return _mm512_div_pd(a, b); }
  VGP_AVX512_INLINE static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  VGP_AVX512_INLINE static R fnma(R a, R b, R c) { return _mm512_fnmadd_pd(a, b, c); }
  VGP_AVX512_INLINE static R scaled_plus_one(R q, R, R k) {
    return _mm512_add_pd(_mm512_maskz_scalef_pd(M(0xFF), q, k), _mm512_set1_pd(1.0));
  }
  static constexpr const auto& kPoly = vm::kExpm1D;
};

#define VGP_SIG_INLINE VGP_AVX512_INLINE
#define VGP_SIG_TARGET __attribute__((target("avx512f")))
#include "ops/sigmoid_impl.h"
#undef VGP_SIG_INLINE
#undef VGP_SIG_TARGET

}  // namespace

void sigmoid_span_avx512(const float* x, float* y, index_t n) { sigmoid_span<SigF32>(x, y, n); }
void sigmoid_span_avx512(const double* x, double* y, index_t n) { sigmoid_span<SigF64>(x, y, n); }

}  // namespace vgp::ops

#endif
