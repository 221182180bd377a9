// AVX2 + FMA kernel sets (float: 6 x 16 tiles, double: 6 x 8; the narrow
// pass's fused kernels in float), compiled with
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
  // (d y) (1 - y): SigmoidOp::backward's operations, in its order.
  VGP_VEC_INLINE static R times_sigmoid_slope(R d, R y) {
    return _mm256_mul_ps(_mm256_mul_ps(d, y), _mm256_sub_ps(_mm256_set1_ps(1.0f), y));
  }
  // Lanes below `count` set (all bits), the rest clear.
  VGP_VEC_INLINE static __m256i mask(int count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  VGP_VEC_INLINE static R load_n(const T* p, int count) {
    return _mm256_maskload_ps(p, mask(count));
  }
  // Through a buffer rather than vmaskmovps, which AMD cores microcode as a
  // store (one every 10 cycles or so; a row's tail of 17-unit layers made
  // the layer-by-layer seed-like fit 10 % slower on Zen 4).
  VGP_VEC_INLINE static void store_n(T* p, R v, int count) {
    alignas(32) T lanes[W];
    _mm256_store_ps(lanes, v);
    for (int i = 0; i < count; ++i) p[i] = lanes[i];
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
  // Through a buffer, as VecF32x8::store_n.
  VGP_VEC_INLINE static void store_n(T* p, R v, int count) {
    alignas(32) T lanes[W];
    _mm256_store_pd(lanes, v);
    for (int i = 0; i < count; ++i) p[i] = lanes[i];
  }
};

}  // namespace
}  // namespace vgp::ops::gemm_detail

#include "ops/gemm/impl.h"

namespace vgp::ops::gemm_detail {
namespace {

// The narrow pass's kernels in float (gemm_narrow_forward / _backward,
// gemm.h) with 8 batch rows on the lanes: the AVX-512 ones (avx512.cpp) within
// 16 registers. Each value is computed by the same operations in the same
// order: z^T one fma chain over the input units from zero, then the bias;
// dx^T one chain over the output units; each kernel-gradient value one chain
// over the batch rows, kept in a small buffer between blocks of 8 rows (a
// float stored and reloaded is the same float); the bias gradient sums of
// doubles in row order.

// A block of nb <= 8 batch rows: whole vectors but at the batch's end, where
// the partial loads and stores cost more.
VGP_VEC_INLINE __m256 load_rows(const float* p, int nb) {
  return nb == 8 ? VecF32x8::load(p) : VecF32x8::load_n(p, nb);
}
VGP_VEC_INLINE void store_rows(float* p, __m256 v, int nb) {
  if (nb == 8) {
    VecF32x8::store(p, v);
  } else {
    VecF32x8::store_n(p, v, nb);
  }
}

// N chains over a block of nb <= 8 batch rows at b0, each from zero:
// acc[a] = sum over t < count, in order, of w[t * wt + (g0 + a) * wa] times
// row t of `rows` (rows `batch` apart). The forward's z^T (t: input units, a:
// outputs) and the backward's dx^T (t: output units, a: inputs).
template <int N>
VGP_VEC_INLINE void narrow_chains(const float* rows, index_t count, const float* w, index_t wt,
                                  index_t wa, int g0, index_t batch, index_t b0, int nb,
                                  __m256 (&acc)[N]) {
  using V = VecF32x8;
  VGP_GEMM_UNROLL for (int a = 0; a < N; ++a) acc[a] = V::zero();
  for (index_t t = 0; t < count; ++t) {
    const V::R r = load_rows(rows + t * batch + b0, nb);
    VGP_GEMM_UNROLL for (int a = 0; a < N; ++a) {
      acc[a] = V::fma(V::bcast(w + t * wt + (g0 + a) * wa), r, acc[a]);
    }
  }
}

// Outputs J0 .. J0 + N - 1 of a forward block: a chain over the input units
// each, then the bias.
template <int OUT, int J0, int N>
VGP_VEC_INLINE void narrow_forward_group(const float* xt, const float* w, const float* bias,
                                         index_t in, index_t batch, index_t b0, int nb,
                                         float* zt) {
  using V = VecF32x8;
  V::R acc[N];
  narrow_chains<N>(xt, in, w, OUT, 1, J0, batch, b0, nb, acc);
  VGP_GEMM_UNROLL for (int j = 0; j < N; ++j) {
    if (bias) acc[j] = V::add(acc[j], V::bcast(bias + J0 + j));
    store_rows(zt + (J0 + j) * batch + b0, acc[j], nb);
  }
}

// Above 12 outputs the accumulators come in two groups (16 registers).
template <int OUT>
VGP_GEMM_TARGET void narrow_forward_f32x8(const float* xt, const float* w, const float* bias,
                                          index_t in, index_t /*out*/, index_t batch, float* zt) {
  constexpr int kFirst = OUT > 12 ? OUT / 2 : OUT;
  for (index_t b0 = 0; b0 < batch; b0 += 8) {
    const int nb = static_cast<int>(std::min<index_t>(8, batch - b0));
    narrow_forward_group<OUT, 0, kFirst>(xt, w, bias, in, batch, b0, nb, zt);
    if constexpr (kFirst < OUT) {
      narrow_forward_group<OUT, kFirst, OUT - kFirst>(xt, w, bias, in, batch, b0, nb, zt);
    }
  }
}

// The kernels by count, for the selection in x86.h.
template <int OUT>
struct ForwardF32x8 {
  static constexpr NarrowForwardFn<float> fn = &narrow_forward_f32x8<OUT>;
};

// r[0..7] (rows: units, lanes: 8 batch rows) into t[0..7] (rows: batch rows,
// lanes: the 8 units): the usual unpack / shuffle / lane-swap 8 x 8 transpose.
VGP_VEC_INLINE void transpose8(const __m256 (&r)[8], __m256 (&t)[8]) {
  __m256 u[8], v[8];
  for (int k = 0; k < 4; ++k) {
    u[2 * k] = _mm256_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    u[2 * k + 1] = _mm256_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3 (h = 0) and 4-7 (h = 1)
    const __m256 a = u[4 * h], b = u[4 * h + 1], c = u[4 * h + 2], d = u[4 * h + 3];
    v[4 * h] = _mm256_shuffle_ps(a, c, _MM_SHUFFLE(1, 0, 1, 0));
    v[4 * h + 1] = _mm256_shuffle_ps(a, c, _MM_SHUFFLE(3, 2, 3, 2));
    v[4 * h + 2] = _mm256_shuffle_ps(b, d, _MM_SHUFFLE(1, 0, 1, 0));
    v[4 * h + 3] = _mm256_shuffle_ps(b, d, _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int k = 0; k < 4; ++k) {
    t[k] = _mm256_permute2f128_ps(v[k], v[4 + k], 0x20);
    t[4 + k] = _mm256_permute2f128_ps(v[k], v[4 + k], 0x31);
  }
}

// Input units i0 .. i0 + N - 1 of dx^T's block: one chain over the outputs
// each, times y^T (1 - y^T) when sy (y^T of a sigmoid layer below) is given.
template <int N>
VGP_VEC_INLINE void narrow_dx_group(const float* dzt, const float* w, index_t out, index_t batch,
                                    index_t b0, int nb, int i0, float* dxt, const float* sy) {
  __m256 dx[N];
  narrow_chains<N>(dzt, out, w, 1, out, i0, batch, b0, nb, dx);
  VGP_GEMM_UNROLL for (int i = 0; i < N; ++i) {
    if (sy) dx[i] = VecF32x8::times_sigmoid_slope(dx[i], load_rows(sy + (i0 + i) * batch + b0, nb));
    store_rows(dxt + (i0 + i) * batch + b0, dx[i], nb);
  }
}

// dx^T's block: every input unit, in one group or, above 12, two (16 registers).
template <int IN>
VGP_VEC_INLINE void narrow_dxt_block(const float* dzt, const float* w, index_t out, index_t batch,
                                     index_t b0, int nb, float* dxt, const float* sy) {
  constexpr int kFirst = IN > 12 ? IN / 2 : IN;
  narrow_dx_group<kFirst>(dzt, w, out, batch, b0, nb, 0, dxt, sy);
  if constexpr (kFirst < IN) {
    narrow_dx_group<IN - kFirst>(dzt, w, out, batch, b0, nb, kFirst, dxt, sy);
  }
}

// Kernel-gradient rows I0 .. I0 + N - 1 (H vectors of 8 outputs each) over
// the block's nb batch rows of dz (tz: row q, the units on the lanes).
template <int N, int H>
VGP_VEC_INLINE void narrow_dw_group(const float* xt, index_t batch, index_t b0, int nb, int i0,
                                    const float (*tz)[16], float (*acc)[16]) {
  using V = VecF32x8;
  V::R a[N][H];
  VGP_GEMM_UNROLL for (int i = 0; i < N; ++i) {
    VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) a[i][h] = V::load(acc[i0 + i] + 8 * h);
  }
  for (int q = 0; q < nb; ++q) {
    V::R t[H];
    VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) t[h] = V::load(tz[q] + 8 * h);
    VGP_GEMM_UNROLL for (int i = 0; i < N; ++i) {
      const V::R x = V::bcast(xt + (i0 + i) * batch + b0 + q);
      VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) a[i][h] = V::fma(x, t[h], a[i][h]);
    }
  }
  VGP_GEMM_UNROLL for (int i = 0; i < N; ++i) {
    VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) V::store(acc[i0 + i] + 8 * h, a[i][h]);
  }
}

// Every kernel-gradient row, in groups that fit the registers: 12 rows of one
// vector (outputs <= 8) or 6 rows of two.
template <int IN, int H>
VGP_VEC_INLINE void narrow_dw_rows(const float* xt, index_t batch, index_t b0, int nb,
                                   const float (*tz)[16], float (*acc)[16]) {
  constexpr int kGroup = H == 1 ? 12 : 6;
  int i0 = 0;
  for (; i0 + kGroup <= IN; i0 += kGroup) {
    narrow_dw_group<kGroup, H>(xt, batch, b0, nb, i0, tz, acc);
  }
  if constexpr (IN % kGroup != 0) narrow_dw_group<IN % kGroup, H>(xt, batch, b0, nb, i0, tz, acc);
}

// A narrow layer's backward in float: per block of 8 batch rows, dx^T's block
// from dz^T's rows, then dz^T's block transposed (two 8 x 8 transposes for
// more than 8 outputs) into tz, which feeds the kernel-gradient chains and the
// bias gradient's four accumulators of 4 doubles.
template <int IN>
VGP_GEMM_TARGET void narrow_backward_f32x8(const float* xt, const float* dzt, const float* w,
                                           index_t /*in*/, index_t out, index_t batch, float* dw,
                                           float* db, float* dxt, const float* sy) {
  using V = VecF32x8;
  alignas(32) float acc[IN][16] = {};
  alignas(32) float tz[8][16];
  __m256d sums[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(),
                     _mm256_setzero_pd()};
  const int halves = out > 8 ? 2 : 1;
  for (index_t b0 = 0; b0 < batch; b0 += 8) {
    const int nb = static_cast<int>(std::min<index_t>(8, batch - b0));
    if (dxt) narrow_dxt_block<IN>(dzt, w, out, batch, b0, nb, dxt, sy);
    for (int h = 0; h < halves; ++h) {
      V::R r[8], t[8];
      for (int j = 0; j < 8; ++j) {
        const index_t unit = 8 * h + j;
        r[j] = unit < out ? load_rows(dzt + unit * batch + b0, nb) : V::zero();
      }
      transpose8(r, t);
      for (int q = 0; q < 8; ++q) V::store(tz[q] + 8 * h, t[q]);
    }
    if (halves == 1) {
      narrow_dw_rows<IN, 1>(xt, batch, b0, nb, tz, acc);
    } else {
      narrow_dw_rows<IN, 2>(xt, batch, b0, nb, tz, acc);
    }
    if (db) {
      for (int q = 0; q < nb; ++q) {
        for (int k = 0; k < 2 * halves; ++k) {
          sums[k] = _mm256_add_pd(sums[k], _mm256_cvtps_pd(_mm_load_ps(tz[q] + 4 * k)));
        }
      }
    }
  }
  for (int i = 0; i < IN; ++i) {
    for (index_t j = 0; j < out; ++j) dw[i * out + j] = acc[i][j];
  }
  if (db) {
    alignas(32) double total[16];
    for (int k = 0; k < 4; ++k) _mm256_store_pd(total + 4 * k, sums[k]);
    for (index_t j = 0; j < out; ++j) db[j] = static_cast<float>(total[j]);
  }
}

// With few output units (out <= kFewOut and out < IN; a one-unit output layer
// is the common case), as the AVX-512 set does: the block of x^T is
// transposed instead of dz^T (into tx: row q, the input units on the lanes),
// one kernel-gradient chain per output unit and vector of 8 inputs (H of
// them): 8 * out * H FMAs a block instead of 8 * IN. The same products
// (dz x = x dz), in the same row order; the bias sums the same doubles.
template <int IN>
VGP_GEMM_TARGET void narrow_backward_few_f32x8(const float* xt, const float* dzt, const float* w,
                                               index_t /*in*/, index_t out, index_t batch,
                                               float* dw, float* db, float* dxt, const float* sy) {
  using V = VecF32x8;
  constexpr int H = IN > 8 ? 2 : 1;  // vectors per row of x
  V::R acc[kFewOut][H];
  VGP_GEMM_UNROLL for (int j = 0; j < kFewOut; ++j) {
    VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) acc[j][h] = V::zero();
  }
  FewOutSums<float> sums;
  alignas(32) float tx[8][16];
  for (index_t b0 = 0; b0 < batch; b0 += 8) {
    const int nb = static_cast<int>(std::min<index_t>(8, batch - b0));
    if (dxt) narrow_dxt_block<IN>(dzt, w, out, batch, b0, nb, dxt, sy);
    VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) {
      V::R r[8], t[8];
      VGP_GEMM_UNROLL for (int i = 0; i < 8; ++i) {
        r[i] = 8 * h + i < IN ? load_rows(xt + (8 * h + i) * batch + b0, nb) : V::zero();
      }
      transpose8(r, t);
      VGP_GEMM_UNROLL for (int q = 0; q < 8; ++q) V::store(tx[q] + 8 * h, t[q]);
    }
    for (int q = 0; q < nb; ++q) {
      V::R x[H];
      VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) x[h] = V::load(tx[q] + 8 * h);
      VGP_GEMM_UNROLL for (int j = 0; j < kFewOut; ++j) {
        if (j < out) {
          const V::R d = V::bcast(dzt + j * batch + b0 + q);
          VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) acc[j][h] = V::fma(d, x[h], acc[j][h]);
        }
      }
      if (db) sums.add(dzt + b0 + q, batch, out);
    }
  }
  alignas(32) float rows[kFewOut][16];
  VGP_GEMM_UNROLL for (int j = 0; j < kFewOut; ++j) {
    VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) V::store(rows[j] + 8 * h, acc[j][h]);
  }
  scatter_few_out(rows, IN, out, dw);
  if (db) sums.store(db, out);
}

template <int IN>
struct BackwardF32x8 {
  static constexpr NarrowBackwardFn<float> few = &narrow_backward_few_f32x8<IN>;
  static constexpr NarrowBackwardFn<float> all = &narrow_backward_f32x8<IN>;
};

}  // namespace

template <>
struct NarrowKernels<VecF32x8> {
  static constexpr NarrowBackwardFn<float> (*backward_for)(index_t, index_t) =
      &narrow_backward_for<float, BackwardF32x8>;
  static constexpr NarrowForwardFn<float> (*forward_for)(index_t, index_t) =
      &narrow_forward_for<float, ForwardF32x8>;
};

namespace {
using FloatSet = KernelSet<VecF32x8, 8, Tile<6, 2>>;
using DoubleSet = KernelSet<VecF64x4, 8, Tile<6, 2>>;
}  // namespace
VGP_GEMM_DEFINE_KERNEL_SETS(gemm_kernels_avx2, "avx2", FloatSet, DoubleSet)
}  // namespace vgp::ops::gemm_detail

#endif
