// AVX-512F kernel sets (float: 16 x 16 tiles, double: 16 x 8), compiled with
// __attribute__((target("avx512f,avx2,fma"))) so the rest of the build stays
// portable; gemm.cpp only calls them after __builtin_cpu_supports says so.
//
// Tile shape: one zmm of B per k step and 16 rows of A, each A value used
// once, so the compiler folds every broadcast into its FMA as an embedded
// {1to16} memory operand: 16 FMAs and 17 loads per step, 16 independent
// accumulator chains (FMA latency is 4 cycles). On Zen 4 (one 512-bit FMA per
// cycle, three loads) this runs at the FMA peak in isolation (~116 GFLOP/s
// float on one core); a 12 x 32 tile (24 accumulators, separate broadcasts)
// measured the same in isolation and 2-5% slower end to end, partly because
// 16 rows divide the usual power-of-two batch sizes and 12 waste a padded
// strip. MR = 16 also fits the small path's row groups.
//
// Blocks (float): KC = 1024, so the products of the usual layer widths (k up
// to 1024) make one pass over C: the A micro-panel (16 x 1024 = 64 KiB) sits
// in L2 next to the B block KC x NC (768 KiB), and the A block MC x KC in L3,
// with MC large enough that B is packed once for m up to 2048 per thread. Per
// k step the kernel reads one line of A and one of B for 16 FMAs, far below
// L2 bandwidth. On Zen 4 with two threads, against KC = 384 / NC = 320 (the A
// micro-panel in L1, but k = 512 in two passes of 384 and 128, k = 1024 in
// three): 256x512x512 3-8% and 256x1024x1024 4-6% faster with cold weights,
// squares from 512 to 2048 1-2%.
// Double: KC = 512 (A micro-panel 64 KiB, so in L2 next to the 768 KiB B
// block): it measured 2-4% faster than KC = 256 with the panel in L1.
#include "ops/gemm/x86.h"

#if VGP_GEMM_X86

#define VGP_GEMM_TARGET __attribute__((target("avx512f,avx2,fma")))
#define VGP_VEC_INLINE __attribute__((target("avx512f,avx2,fma"), always_inline)) inline

namespace vgp::ops::gemm_detail {
namespace {

struct VecF32x16 {
  using T = float;
  using R = __m512;
  static constexpr int W = 16;
  VGP_VEC_INLINE static R zero() { return _mm512_setzero_ps(); }
  VGP_VEC_INLINE static R load(const T* p) { return _mm512_loadu_ps(p); }
  VGP_VEC_INLINE static void store(T* p, R v) { _mm512_storeu_ps(p, v); }
  VGP_VEC_INLINE static R bcast(const T* p) { return _mm512_set1_ps(*p); }
  VGP_VEC_INLINE static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  VGP_VEC_INLINE static R add(R a, R b) { return _mm512_add_ps(a, b); }
  VGP_VEC_INLINE static __mmask16 mask(int count) {
    return static_cast<__mmask16>((1u << count) - 1u);
  }
  VGP_VEC_INLINE static R load_n(const T* p, int count) {
    return _mm512_maskz_loadu_ps(mask(count), p);
  }
  VGP_VEC_INLINE static void store_n(T* p, R v, int count) {
    _mm512_mask_storeu_ps(p, mask(count), v);
  }
};

struct VecF64x8 {
  using T = double;
  using R = __m512d;
  static constexpr int W = 8;
  VGP_VEC_INLINE static R zero() { return _mm512_setzero_pd(); }
  VGP_VEC_INLINE static R load(const T* p) { return _mm512_loadu_pd(p); }
  VGP_VEC_INLINE static void store(T* p, R v) { _mm512_storeu_pd(p, v); }
  VGP_VEC_INLINE static R bcast(const T* p) { return _mm512_set1_pd(*p); }
  VGP_VEC_INLINE static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  VGP_VEC_INLINE static R add(R a, R b) { return _mm512_add_pd(a, b); }
  VGP_VEC_INLINE static __mmask8 mask(int count) {
    return static_cast<__mmask8>((1u << count) - 1u);
  }
  VGP_VEC_INLINE static R load_n(const T* p, int count) {
    return _mm512_maskz_loadu_pd(mask(count), p);
  }
  VGP_VEC_INLINE static void store_n(T* p, R v, int count) {
    _mm512_mask_storeu_pd(p, mask(count), v);
  }
};

}  // namespace
}  // namespace vgp::ops::gemm_detail

#include "ops/gemm/impl.h"

namespace vgp::ops::gemm_detail {
namespace {
using FloatSet = GemmImpl<VecF32x16, 16, 1, 1024, 2048, 192, 8>;
using DoubleSet = GemmImpl<VecF64x8, 16, 1, 512, 1024, 192, 8>;
}  // namespace
VGP_GEMM_DEFINE_KERNEL_SETS(gemm_kernels_avx512, "avx512", FloatSet, DoubleSet)
}  // namespace vgp::ops::gemm_detail

#endif
