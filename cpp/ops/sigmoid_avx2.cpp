// The sigmoid span with AVX2 and FMA (sigmoid_span.h, sigmoid_impl.h): float
// x 8, double x 4, 2^(k-1) built in the exponent field and the product
// doubled in the fma that adds 1, as the generic loop does; the last partial
// vector through a small buffer (AVX2's masked stores are microcoded on AMD
// cores).
#include "ops/sigmoid_span.h"

#if VGP_SIGMOID_X86
#include <immintrin.h>

#include <cstring>

#define VGP_AVX2_INLINE __attribute__((target("avx2,fma"), always_inline)) inline

namespace vgp::ops {
namespace {

// A partial vector's elements through a zeroed buffer of W (the span's last
// vector): count < W values in, then out.
template <typename T, int W>
struct PartialVector {
  alignas(32) T buf[W] = {};
  void copy_in(const T* p, index_t count) {
    std::memcpy(buf, p, static_cast<std::size_t>(count) * sizeof(T));
  }
  void copy_out(T* p, index_t count) const {
    std::memcpy(p, buf, static_cast<std::size_t>(count) * sizeof(T));
  }
};

// One vector type's operations, as in sigmoid_avx512.cpp.
struct SigF32x8 {
  using T = float;
  using R = __m256;
  static constexpr int W = 8;
  VGP_AVX2_INLINE static R load_n(const T* p, index_t count) {
    PartialVector<T, W> v;
    v.copy_in(p, count);
    return _mm256_load_ps(v.buf);
  }
  VGP_AVX2_INLINE static void store_n(T* p, index_t count, R x) {
    PartialVector<T, W> v;
    _mm256_store_ps(v.buf, x);
    v.copy_out(p, count);
  }
  VGP_AVX2_INLINE static R set1(T v) { return _mm256_set1_ps(v); }
  VGP_AVX2_INLINE static R load(const T* p) { return _mm256_loadu_ps(p); }
  VGP_AVX2_INLINE static void store(T* p, R v) { _mm256_storeu_ps(p, v); }
  VGP_AVX2_INLINE static R neg(R v) { return _mm256_sub_ps(_mm256_setzero_ps(), v); }
  VGP_AVX2_INLINE static R min(R a, R b) { return _mm256_min_ps(a, b); }
  VGP_AVX2_INLINE static R max(R a, R b) { return _mm256_max_ps(a, b); }
  VGP_AVX2_INLINE static R add(R a, R b) { return _mm256_add_ps(a, b); }
  VGP_AVX2_INLINE static R sub(R a, R b) { return _mm256_sub_ps(a, b); }
  VGP_AVX2_INLINE static R mul(R a, R b) { return _mm256_mul_ps(a, b); }
  VGP_AVX2_INLINE static R div(R a, R b) { return _mm256_div_ps(a, b); }
  VGP_AVX2_INLINE static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  VGP_AVX2_INLINE static R fnma(R a, R b, R c) { return _mm256_fnmadd_ps(a, b, c); }
  // q 2^(k-1) 2 + 1: the bits of shifted less those of the rounding constant
  // are k, and (k - 1 + bias) << 23 is 2^(k-1) (vm::pow2i).
  VGP_AVX2_INLINE static R scaled_plus_one(R q, R shifted, R) {
    using B = vm::Bits<T>;
    const auto off = static_cast<int>(B::kBias - 1u - vm::to_bits(B::kMagic));
    const __m256i e = _mm256_add_epi32(_mm256_castps_si256(shifted), _mm256_set1_epi32(off));
    const R half = _mm256_mul_ps(q, _mm256_castsi256_ps(_mm256_slli_epi32(e, B::kMantissa)));
    return _mm256_fmadd_ps(half, _mm256_set1_ps(2.0f), _mm256_set1_ps(1.0f));
  }
  static constexpr const auto& kPoly = vm::kExpm1F;
};

struct SigF64x4 {
  using T = double;
  using R = __m256d;
  static constexpr int W = 4;
  VGP_AVX2_INLINE static R load_n(const T* p, index_t count) {
    PartialVector<T, W> v;
    v.copy_in(p, count);
    return _mm256_load_pd(v.buf);
  }
  VGP_AVX2_INLINE static void store_n(T* p, index_t count, R x) {
    PartialVector<T, W> v;
    _mm256_store_pd(v.buf, x);
    v.copy_out(p, count);
  }
  VGP_AVX2_INLINE static R set1(T v) { return _mm256_set1_pd(v); }
  VGP_AVX2_INLINE static R load(const T* p) { return _mm256_loadu_pd(p); }
  VGP_AVX2_INLINE static void store(T* p, R v) { _mm256_storeu_pd(p, v); }
  VGP_AVX2_INLINE static R neg(R v) { return _mm256_sub_pd(_mm256_setzero_pd(), v); }
  VGP_AVX2_INLINE static R min(R a, R b) { return _mm256_min_pd(a, b); }
  VGP_AVX2_INLINE static R max(R a, R b) { return _mm256_max_pd(a, b); }
  VGP_AVX2_INLINE static R add(R a, R b) { return _mm256_add_pd(a, b); }
  VGP_AVX2_INLINE static R sub(R a, R b) { return _mm256_sub_pd(a, b); }
  VGP_AVX2_INLINE static R mul(R a, R b) { return _mm256_mul_pd(a, b); }
  VGP_AVX2_INLINE static R div(R a, R b) { return _mm256_div_pd(a, b); }
  VGP_AVX2_INLINE static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  VGP_AVX2_INLINE static R fnma(R a, R b, R c) { return _mm256_fnmadd_pd(a, b, c); }
  VGP_AVX2_INLINE static R scaled_plus_one(R q, R shifted, R) {
    using B = vm::Bits<T>;
    const auto off = static_cast<long long>(B::kBias - 1u - vm::to_bits(B::kMagic));
    const __m256i e = _mm256_add_epi64(_mm256_castpd_si256(shifted), _mm256_set1_epi64x(off));
    const R half = _mm256_mul_pd(q, _mm256_castsi256_pd(_mm256_slli_epi64(e, B::kMantissa)));
    return _mm256_fmadd_pd(half, _mm256_set1_pd(2.0), _mm256_set1_pd(1.0));
  }
  static constexpr const auto& kPoly = vm::kExpm1D;
};

#define VGP_SIG_INLINE VGP_AVX2_INLINE
#define VGP_SIG_TARGET __attribute__((target("avx2,fma")))
#include "ops/sigmoid_impl.h"
#undef VGP_SIG_INLINE
#undef VGP_SIG_TARGET

}  // namespace

void sigmoid_span_avx2(const float* x, float* y, index_t n) { sigmoid_span<SigF32x8>(x, y, n); }
void sigmoid_span_avx2(const double* x, double* y, index_t n) { sigmoid_span<SigF64x4>(x, y, n); }

}  // namespace vgp::ops

#endif
