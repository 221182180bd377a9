// AVX2 + FMA kernel sets (float: 6 x 16 tiles, double: 6 x 8), compiled with
// __attribute__((target("avx2,fma"))); gemm.cpp only calls them after
// __builtin_cpu_supports("avx2") and ("fma").
//
// Register budget (16 ymm): MR * NV = 12 accumulators, NV = 2 loads of the B
// panel and one broadcast of A per step (the classic Haswell 6 x 16 shape).
// Two FMA pipes with a 4-5 cycle latency need at least 8-10 independent
// chains; 12 gives a little slack. On Zen 4 this set measured within 2-4% of
// the AVX-512 one (same FMA width per cycle); 4 x 24 was no better, and
// 8 x 8 / 12 x 8 (one B vector, separate broadcasts) were 15% slower: AVX2
// has no embedded broadcast, so those issue too many uops. Blocks come from
// the cache model at run time.
#include "ops/gemm/x86.h"

#if VGP_GEMM_X86

#define VGP_GEMM_TARGET __attribute__((target("avx2,fma")))
#define VGP_VEC_INLINE __attribute__((target("avx2,fma"), always_inline)) inline

namespace vgp::ops::gemm_detail {
namespace {

struct VecF32x8 {
  using T = float;
  using R = __m256;
  static constexpr int W = 8;
  static constexpr int kRegs = 16;
  static constexpr int kUnroll = 1;
  static constexpr bool kEmbeddedBroadcast = false;
  static constexpr bool kBlockTranspose = false;  // transposes in 4 x 4 blocks (x86.h)
  static constexpr SimdIsa kIsa = SimdIsa::avx2;
  VGP_VEC_INLINE static R zero() { return _mm256_setzero_ps(); }
  VGP_VEC_INLINE static R load(const T* p) { return _mm256_loadu_ps(p); }
  VGP_VEC_INLINE static void store(T* p, R v) { _mm256_storeu_ps(p, v); }
  VGP_VEC_INLINE static R bcast(const T* p) { return _mm256_broadcast_ss(p); }
  VGP_VEC_INLINE static R fma(R a, R b, R c) { return _mm256_fmadd_ps(a, b, c); }
  // An empty asm that needs v in a register: v stays live up to here.
  VGP_VEC_INLINE static void keep(R v) { asm("" : : "x"(v)); }
  VGP_VEC_INLINE static R add(R a, R b) { return _mm256_add_ps(a, b); }
  // Lanes below `count` set (all bits), the rest clear.
  VGP_VEC_INLINE static __m256i mask(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  VGP_VEC_INLINE static R load_n(const T* p, int count) {
    return _mm256_maskload_ps(p, mask(count));
  }
  VGP_VEC_INLINE static void store_n(T* p, R v, int count) {
    _mm256_maskstore_ps(p, mask(count), v);
  }
};

struct VecF64x4 {
  using T = double;
  using R = __m256d;
  static constexpr int W = 4;
  static constexpr int kRegs = 16;
  static constexpr int kUnroll = 1;
  static constexpr bool kEmbeddedBroadcast = false;
  static constexpr bool kBlockTranspose = false;  // transposes in 4 x 4 blocks (x86.h)
  static constexpr SimdIsa kIsa = SimdIsa::avx2;
  VGP_VEC_INLINE static R zero() { return _mm256_setzero_pd(); }
  VGP_VEC_INLINE static R load(const T* p) { return _mm256_loadu_pd(p); }
  VGP_VEC_INLINE static void store(T* p, R v) { _mm256_storeu_pd(p, v); }
  VGP_VEC_INLINE static R bcast(const T* p) { return _mm256_broadcast_sd(p); }
  VGP_VEC_INLINE static R fma(R a, R b, R c) { return _mm256_fmadd_pd(a, b, c); }
  // An empty asm that needs v in a register: v stays live up to here.
  VGP_VEC_INLINE static void keep(R v) { asm("" : : "x"(v)); }
  VGP_VEC_INLINE static R add(R a, R b) { return _mm256_add_pd(a, b); }
  VGP_VEC_INLINE static __m256i mask(int count) {
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(count), _mm256_setr_epi64x(0, 1, 2, 3));
  }
  VGP_VEC_INLINE static R load_n(const T* p, int count) {
    return _mm256_maskload_pd(p, mask(count));
  }
  VGP_VEC_INLINE static void store_n(T* p, R v, int count) {
    _mm256_maskstore_pd(p, mask(count), v);
  }
};

}  // namespace
}  // namespace vgp::ops::gemm_detail

#include "ops/gemm/impl.h"

namespace vgp::ops::gemm_detail {
namespace {
using FloatSet = KernelSet<VecF32x8, 8, Tile<6, 2>>;
using DoubleSet = KernelSet<VecF64x4, 8, Tile<6, 2>>;
}  // namespace
VGP_GEMM_DEFINE_KERNEL_SETS(gemm_kernels_avx2, "avx2", FloatSet, DoubleSet)
}  // namespace vgp::ops::gemm_detail

#endif
