// AVX-512F kernel sets, compiled with __attribute__((target("avx512f,avx2,fma")))
// so the rest of the build stays portable; gemm.cpp only calls them after
// __builtin_cpu_supports says so.
//
// Register tiles (one templated micro-kernel, blocked.h; the tile model in
// blocking.h picks one for the CPU):
// - MR = 16 rows x one vector (float 16 x 16, double 16 x 8): every A value
//   is used once per k step, so each broadcast folds into its FMA as an
//   embedded {1toW} memory operand: 16 FMAs and 17 loads per step, 16
//   independent accumulator chains. On Zen 4 (one 512-bit FMA per cycle, as
//   two 256-bit halves) this runs at the FMA peak and 16 rows divide the
//   usual power-of-two batch sizes; a 12 x 32 tile measured 2-5% slower end
//   to end there, partly from the padded strip 12 rows leave.
// - MR = 12 rows x two vectors (float 12 x 32, double 12 x 16): 24 FMAs for
//   14 loads. A core with two 512-bit FMA ports (Intel server cores, Zen 5)
//   runs 16 FMAs in 8 cycles, and the 16-row tile would need 2.1 loads a
//   cycle, more than the two 512-bit loads it issues; this one needs 1.2.
// Blocks (KC, MC, NC) come from the cache model at run time.
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
  static constexpr int kRegs = 32;
  static constexpr int kUnroll = 8;
  static constexpr bool kEmbeddedBroadcast = true;
  static constexpr SimdIsa kIsa = SimdIsa::avx512;
  VGP_VEC_INLINE static R zero() { return _mm512_setzero_ps(); }
  VGP_VEC_INLINE static R load(const T* p) { return _mm512_loadu_ps(p); }
  VGP_VEC_INLINE static void store(T* p, R v) { _mm512_storeu_ps(p, v); }
  VGP_VEC_INLINE static R bcast(const T* p) { return _mm512_set1_ps(*p); }
  VGP_VEC_INLINE static R fma(R a, R b, R c) { return _mm512_fmadd_ps(a, b, c); }
  // An empty asm that needs v in a register: v stays live up to here.
  VGP_VEC_INLINE static void keep(R v) { asm("" : : "v"(v)); }
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
  // dst[q * ldd + r] = src[r * lds + q] for r < rows, q < cols (both <= 16):
  // the 16 x 16 block in registers, four rounds of 16 shuffles (pairs of
  // rows, then quadruples within 128-bit lanes, then 128-bit lanes twice).
  static constexpr bool kBlockTranspose = true;
  VGP_VEC_INLINE static void transpose_block(const T* src, index_t lds, int rows, int cols,
                                             T* dst, index_t ldd) {
    // The zero-masking forms with every lane kept: the plain intrinsics start
    // from an undefined register, which GCC 12 reports as maybe uninitialized.
    constexpr __mmask16 kAll = 0xFFFF;
    R r[16], t[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) r[i] = i < rows ? load_n(src + i * lds, cols) : zero();
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; i += 2) {
      t[i] = _mm512_maskz_unpacklo_ps(kAll, r[i], r[i + 1]);
      t[i + 1] = _mm512_maskz_unpackhi_ps(kAll, r[i], r[i + 1]);
    }
    // r[4g + m]: column 4k + m of rows 4g..4g+3 in 128-bit lane k.
    _Pragma("GCC unroll 16") for (int g = 0; g < 16; g += 4) {
      r[g] = _mm512_maskz_shuffle_ps(kAll, t[g], t[g + 2], 0x44);
      r[g + 1] = _mm512_maskz_shuffle_ps(kAll, t[g], t[g + 2], 0xEE);
      r[g + 2] = _mm512_maskz_shuffle_ps(kAll, t[g + 1], t[g + 3], 0x44);
      r[g + 3] = _mm512_maskz_shuffle_ps(kAll, t[g + 1], t[g + 3], 0xEE);
    }
    _Pragma("GCC unroll 16") for (int m = 0; m < 4; ++m) {
      const R a = _mm512_maskz_shuffle_f32x4(kAll, r[m], r[4 + m], 0x88);
      const R b = _mm512_maskz_shuffle_f32x4(kAll, r[m], r[4 + m], 0xDD);
      const R c = _mm512_maskz_shuffle_f32x4(kAll, r[8 + m], r[12 + m], 0x88);
      const R d = _mm512_maskz_shuffle_f32x4(kAll, r[8 + m], r[12 + m], 0xDD);
      t[m] = _mm512_maskz_shuffle_f32x4(kAll, a, c, 0x88);
      t[8 + m] = _mm512_maskz_shuffle_f32x4(kAll, a, c, 0xDD);
      t[4 + m] = _mm512_maskz_shuffle_f32x4(kAll, b, d, 0x88);
      t[12 + m] = _mm512_maskz_shuffle_f32x4(kAll, b, d, 0xDD);
    }
    _Pragma("GCC unroll 16") for (int q = 0; q < cols; ++q) store_n(dst + q * ldd, t[q], rows);
  }
};

struct VecF64x8 {
  using T = double;
  using R = __m512d;
  static constexpr int W = 8;
  static constexpr int kRegs = 32;
  static constexpr int kUnroll = 8;
  static constexpr bool kEmbeddedBroadcast = true;
  static constexpr SimdIsa kIsa = SimdIsa::avx512;
  VGP_VEC_INLINE static R zero() { return _mm512_setzero_pd(); }
  VGP_VEC_INLINE static R load(const T* p) { return _mm512_loadu_pd(p); }
  VGP_VEC_INLINE static void store(T* p, R v) { _mm512_storeu_pd(p, v); }
  VGP_VEC_INLINE static R bcast(const T* p) { return _mm512_set1_pd(*p); }
  VGP_VEC_INLINE static R fma(R a, R b, R c) { return _mm512_fmadd_pd(a, b, c); }
  // An empty asm that needs v in a register: v stays live up to here.
  VGP_VEC_INLINE static void keep(R v) { asm("" : : "v"(v)); }
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
  // The 8 x 8 block in registers: pairs of rows, then 128-bit lanes twice.
  static constexpr bool kBlockTranspose = true;
  VGP_VEC_INLINE static void transpose_block(const T* src, index_t lds, int rows, int cols,
                                             T* dst, index_t ldd) {
    constexpr __mmask8 kAll = 0xFF;  // as for float
    R r[8], t[8];
    _Pragma("GCC unroll 16") for (int i = 0; i < 8; ++i) r[i] = i < rows ? load_n(src + i * lds, cols) : zero();
    _Pragma("GCC unroll 16") for (int i = 0; i < 8; i += 2) {
      t[i] = _mm512_maskz_unpacklo_pd(kAll, r[i], r[i + 1]);
      t[i + 1] = _mm512_maskz_unpackhi_pd(kAll, r[i], r[i + 1]);
    }
    _Pragma("GCC unroll 16") for (int g = 0; g < 8; g += 4) {
      r[g] = _mm512_maskz_shuffle_f64x2(kAll, t[g], t[g + 2], 0x88);
      r[g + 1] = _mm512_maskz_shuffle_f64x2(kAll, t[g + 1], t[g + 3], 0x88);
      r[g + 2] = _mm512_maskz_shuffle_f64x2(kAll, t[g], t[g + 2], 0xDD);
      r[g + 3] = _mm512_maskz_shuffle_f64x2(kAll, t[g + 1], t[g + 3], 0xDD);
    }
    _Pragma("GCC unroll 16") for (int m = 0; m < 4; ++m) {
      t[m] = _mm512_maskz_shuffle_f64x2(kAll, r[m], r[4 + m], 0x88);
      t[4 + m] = _mm512_maskz_shuffle_f64x2(kAll, r[m], r[4 + m], 0xDD);
    }
    _Pragma("GCC unroll 16") for (int q = 0; q < cols; ++q) store_n(dst + q * ldd, t[q], rows);
  }
};

}  // namespace
}  // namespace vgp::ops::gemm_detail

#include "ops/gemm/impl.h"

namespace vgp::ops::gemm_detail {
namespace {
using FloatSet = KernelSet<VecF32x16, 8, Tile<16, 1>, Tile<12, 2>>;
using DoubleSet = KernelSet<VecF64x8, 8, Tile<16, 1>, Tile<12, 2>>;
}  // namespace
VGP_GEMM_DEFINE_KERNEL_SETS(gemm_kernels_avx512, "avx512", FloatSet, DoubleSet)
}  // namespace vgp::ops::gemm_detail

#endif
