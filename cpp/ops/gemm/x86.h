// x86 helpers shared by the AVX2 and AVX-512 kernel sets: 4 x 4 transposes
// for packing (they only need SSE / AVX, so they carry target("avx") and are
// inlined into the avx2 and avx512f functions that call them), the scalar
// ends of the narrow backward kernels for few output units, and the choice of
// a narrow kernel for a layer's shape.
#pragma once

#include <utility>

#include "ops/gemm/kernels.h"

#if VGP_GEMM_X86
#include <immintrin.h>

namespace vgp::ops::gemm_detail {

#define VGP_X86_INLINE __attribute__((target("avx"), always_inline)) inline

// d[q * ldd + r] = s[r * lds + q] for r, q < 4.
VGP_X86_INLINE void transpose4(const float* s, index_t lds, float* d, index_t ldd) {
  __m128 r0 = _mm_loadu_ps(s), r1 = _mm_loadu_ps(s + lds);
  __m128 r2 = _mm_loadu_ps(s + 2 * lds), r3 = _mm_loadu_ps(s + 3 * lds);
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(d, r0);
  _mm_storeu_ps(d + ldd, r1);
  _mm_storeu_ps(d + 2 * ldd, r2);
  _mm_storeu_ps(d + 3 * ldd, r3);
}

VGP_X86_INLINE void transpose4(const double* s, index_t lds, double* d, index_t ldd) {
  const __m256d r0 = _mm256_loadu_pd(s), r1 = _mm256_loadu_pd(s + lds);
  const __m256d r2 = _mm256_loadu_pd(s + 2 * lds), r3 = _mm256_loadu_pd(s + 3 * lds);
  const __m256d t0 = _mm256_unpacklo_pd(r0, r1), t1 = _mm256_unpackhi_pd(r0, r1);
  const __m256d t2 = _mm256_unpacklo_pd(r2, r3), t3 = _mm256_unpackhi_pd(r2, r3);
  _mm256_storeu_pd(d, _mm256_permute2f128_pd(t0, t2, 0x20));
  _mm256_storeu_pd(d + ldd, _mm256_permute2f128_pd(t1, t3, 0x20));
  _mm256_storeu_pd(d + 2 * ldd, _mm256_permute2f128_pd(t0, t2, 0x31));
  _mm256_storeu_pd(d + 3 * ldd, _mm256_permute2f128_pd(t1, t3, 0x31));
}

#undef VGP_X86_INLINE

// Output units up to which the narrow backward kernels transpose x^T rather
// than dz^T (when the layer has more inputs than outputs).
constexpr int kFewOut = 4;

// Those kernels' bias sums: one double per output unit, each row's dz^T
// values added in row order, in four named members so that they stay in
// registers (an array indexed in the loop was kept on the stack).
template <typename T>
struct FewOutSums {
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  // d: row b of dz^T's first unit; the units are `batch` apart.
  void add(const T* d, index_t batch, index_t out) {
    s0 += static_cast<double>(d[0]);
    if (out > 1) s1 += static_cast<double>(d[batch]);
    if (out > 2) s2 += static_cast<double>(d[2 * batch]);
    if (out > 3) s3 += static_cast<double>(d[3 * batch]);
  }
  void store(T* db, index_t out) const {
    const double sums[kFewOut] = {s0, s1, s2, s3};
    for (index_t j = 0; j < out; ++j) db[j] = static_cast<T>(sums[j]);
  }
};

// dw[i * out + j] = rows[j][i] for i < in, j < out: the kernel gradient from
// the chains of those kernels (row j: output unit j, the inputs on the lanes).
template <typename T>
inline void scatter_few_out(const T (*rows)[16], int in, index_t out, T* dw) {
  for (int i = 0; i < in; ++i) {
    for (index_t j = 0; j < out; ++j) dw[i * out + j] = rows[j][i];
  }
}

// A kernel set's narrow kernels for a shape (in, out in [1, 16]; null
// outside), from families specialized by one count: Forward<OUT>::fn for
// `out` outputs; Backward<IN>::few for out <= kFewOut outputs below the
// inputs, else Backward<IN>::all.
template <typename T, template <int> class Forward, int... J>
NarrowForwardFn<T> pick_narrow_forward(index_t out, std::integer_sequence<int, J...>) {
  NarrowForwardFn<T> fn = nullptr;
  ((out == J + 1 ? void(fn = Forward<J + 1>::fn) : void()), ...);
  return fn;
}

template <typename T, template <int> class Forward>
NarrowForwardFn<T> narrow_forward_for(index_t /*in*/, index_t out) {
  return pick_narrow_forward<T, Forward>(out, std::make_integer_sequence<int, 16>{});
}

template <typename T, template <int> class Backward, int... I>
NarrowBackwardFn<T> pick_narrow_backward(index_t in, index_t out,
                                         std::integer_sequence<int, I...>) {
  NarrowBackwardFn<T> fn = nullptr;
  if (out <= kFewOut && out < in) {
    ((in == I + 1 ? void(fn = Backward<I + 1>::few) : void()), ...);
  } else {
    ((in == I + 1 ? void(fn = Backward<I + 1>::all) : void()), ...);
  }
  return fn;
}

template <typename T, template <int> class Backward>
NarrowBackwardFn<T> narrow_backward_for(index_t in, index_t out) {
  if (out < 1 || out > 16) return nullptr;
  return pick_narrow_backward<T, Backward>(in, out, std::make_integer_sequence<int, 16>{});
}

}  // namespace vgp::ops::gemm_detail

#endif
