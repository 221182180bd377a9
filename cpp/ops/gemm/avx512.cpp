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
  // (d y) (1 - y): SigmoidOp::backward's operations, in its order.
  VGP_VEC_INLINE static R times_sigmoid_slope(R d, R y) {
    return _mm512_mul_ps(_mm512_mul_ps(d, y), _mm512_sub_ps(_mm512_set1_ps(1.0f), y));
  }
  VGP_VEC_INLINE static __mmask16 mask(int count) {
    return static_cast<__mmask16>((1u << count) - 1u);
  }
  VGP_VEC_INLINE static R load_n(const T* p, int count) {
    return _mm512_maskz_loadu_ps(mask(count), p);
  }
  VGP_VEC_INLINE static void store_n(T* p, R v, int count) {
    _mm512_mask_storeu_ps(p, mask(count), v);
  }
  // t[q] = column q of the 16 x 16 block whose rows are r[0..15] (r is
  // overwritten): four rounds of 16 shuffles (pairs of rows, then quadruples
  // within 128-bit lanes, then 128-bit lanes twice). The zero-masking forms
  // keep every lane: the plain intrinsics start from an undefined register,
  // which GCC 12 reports as maybe uninitialized.
  VGP_VEC_INLINE static void transpose16(R (&r)[16], R (&t)[16]) {
    constexpr __mmask16 kAll = 0xFFFF;
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
  }
  // dst[q * ldd + r] = src[r * lds + q] for r < rows, q < cols (both <= 16).
  static constexpr bool kBlockTranspose = true;
  VGP_VEC_INLINE static void transpose_block(const T* src, index_t lds, int rows, int cols,
                                             T* dst, index_t ldd) {
    R r[16], t[16];
    _Pragma("GCC unroll 16") for (int i = 0; i < 16; ++i) {
      r[i] = i < rows ? load_n(src + i * lds, cols) : zero();
    }
    transpose16(r, t);
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
  VGP_VEC_INLINE static R times_sigmoid_slope(R d, R y) {
    return _mm512_mul_pd(_mm512_mul_pd(d, y), _mm512_sub_pd(_mm512_set1_pd(1.0), y));
  }
  VGP_VEC_INLINE static __mmask8 mask(int count) {
    return static_cast<__mmask8>((1u << count) - 1u);
  }
  VGP_VEC_INLINE static R load_n(const T* p, int count) {
    return _mm512_maskz_loadu_pd(mask(count), p);
  }
  VGP_VEC_INLINE static void store_n(T* p, R v, int count) {
    _mm512_mask_storeu_pd(p, mask(count), v);
  }
  // t[q] = column q of the 8 x 8 block whose rows are r[0..7] (r is
  // overwritten): pairs of rows, then 128-bit lanes twice (zero-masking forms
  // as for float).
  VGP_VEC_INLINE static void transpose8(R (&r)[8], R (&t)[8]) {
    constexpr __mmask8 kAll = 0xFF;
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
  }
  // The 8 x 8 block in registers.
  static constexpr bool kBlockTranspose = true;
  VGP_VEC_INLINE static void transpose_block(const T* src, index_t lds, int rows, int cols,
                                             T* dst, index_t ldd) {
    R r[8], t[8];
    _Pragma("GCC unroll 16") for (int i = 0; i < 8; ++i) r[i] = i < rows ? load_n(src + i * lds, cols) : zero();
    transpose8(r, t);
    _Pragma("GCC unroll 16") for (int q = 0; q < cols; ++q) store_n(dst + q * ldd, t[q], rows);
  }
};

}  // namespace
}  // namespace vgp::ops::gemm_detail

#include "ops/gemm/impl.h"

namespace vgp::ops::gemm_detail {
namespace {

// N fma chains over a block of nb <= V::W batch rows at b0, each from zero:
// acc[a] = sum over t < count, in order, of w[t * wt + a * wa] times row t of
// `rows` (rows `batch` apart), each row loaded once. The forward's z^T (t: input
// units, a: outputs) and the backward's dx^T (t: output units, a: inputs).
template <class V, int N>
VGP_VEC_INLINE void narrow_chains(const typename V::T* rows, index_t count,
                                  const typename V::T* w, index_t wt, index_t wa, index_t batch,
                                  index_t b0, int nb, typename V::R (&acc)[N]) {
  VGP_GEMM_UNROLL for (int a = 0; a < N; ++a) acc[a] = V::zero();
  for (index_t t = 0; t < count; ++t) {
    const typename V::R r = V::load_n(rows + t * batch + b0, nb);
    VGP_GEMM_UNROLL for (int a = 0; a < N; ++a) acc[a] = V::fma(V::bcast(w + t * wt + a * wa), r, acc[a]);
  }
}

// dx^T's block of rows at b0: dx^T[i][b] = sum_j w[i * out + j] dz^T[j][b],
// times y^T[i][b] (1 - y^T[i][b]) when sy (y^T of a sigmoid layer below) is given.
template <class V, int IN>
VGP_VEC_INLINE void narrow_dxt_block(const typename V::T* dzt, const typename V::T* w,
                                     index_t out, index_t batch, index_t b0, int nb,
                                     typename V::T* dxt, const typename V::T* sy) {
  typename V::R dx[IN];
  narrow_chains<V, IN>(dzt, out, w, 1, out, batch, b0, nb, dx);
  VGP_GEMM_UNROLL for (int i = 0; i < IN; ++i) {
    if (sy) dx[i] = V::times_sigmoid_slope(dx[i], V::load_n(sy + i * batch + b0, nb));
    V::store_n(dxt + i * batch + b0, dx[i], nb);
  }
}

// A narrow layer's backward in float (gemm_narrow_backward, gemm.h), with IN
// input units known at compile time so that the IN kernel-gradient rows stay
// in registers. Per block of 16 batch rows, dz^T's rows are loaded once with
// the batch on the lanes; they give dx^T's block (one fma chain over the
// output units per input unit, the IN chains interleaved), are transposed in
// registers into 16 rows of dz with the output units on the lanes, and those
// feed the kernel-gradient rows (one fma chain over the batch each) and the
// bias gradient's two accumulators of 8 doubles.
template <int IN>
VGP_GEMM_TARGET void narrow_backward_f32(const float* xt, const float* dzt, const float* w,
                                         index_t /*in*/, index_t out, index_t batch, float* dw,
                                         float* db, float* dxt, const float* sy) {
  using V = VecF32x16;
  using R = V::R;
  R acc[IN];
  VGP_GEMM_UNROLL for (int i = 0; i < IN; ++i) acc[i] = V::zero();
  __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
  for (index_t b0 = 0; b0 < batch; b0 += 16) {
    const int nb = static_cast<int>(std::min<index_t>(16, batch - b0));
    R r[16], t[16];
    VGP_GEMM_UNROLL for (int j = 0; j < 16; ++j) {
      r[j] = j < out ? V::load_n(dzt + j * batch + b0, nb) : V::zero();
    }
    // dx^T from the rows r[] holds, loaded again (from L1) to spare registers.
    if (dxt) narrow_dxt_block<V, IN>(dzt, w, out, batch, b0, nb, dxt, sy);
    V::transpose16(r, t);
    VGP_GEMM_UNROLL for (int q = 0; q < 16; ++q) {
      if (q >= nb) break;
      VGP_GEMM_UNROLL for (int i = 0; i < IN; ++i) {
        acc[i] = V::fma(V::bcast(xt + i * batch + b0 + q), t[q], acc[i]);
      }
      // Zero-masking forms with every lane kept, as in transpose16.
      const __m512d tq = _mm512_castps_pd(t[q]);
      const __m256 lower = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, tq, 0));
      const __m256 upper = _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xF, tq, 1));
      lo = _mm512_add_pd(lo, _mm512_maskz_cvtps_pd(0xFF, lower));
      hi = _mm512_add_pd(hi, _mm512_maskz_cvtps_pd(0xFF, upper));
    }
  }
  VGP_GEMM_UNROLL for (int i = 0; i < IN; ++i) V::store_n(dw + i * out, acc[i], out);
  if (db) {
    alignas(64) double sums[16];
    _mm512_store_pd(sums, lo);
    _mm512_store_pd(sums + 8, hi);
    for (index_t j = 0; j < out; ++j) db[j] = static_cast<float>(sums[j]);
  }
}

// The same with few output units (out <= kFewOut and out < IN; a one-unit
// output layer is the common case): the block of x^T is transposed instead of
// dz^T, so each kernel-gradient chain holds the IN input units on the lanes,
// one chain per output unit, 16 * out FMAs a block instead of 16 * IN with
// out of 16 lanes in use. Every value is the one narrow_backward_f32 computes:
// the same products (dz x = x dz, exact before the one rounding), in the same
// order (rows from 0), and the bias sums the same doubles in row order.

template <int IN>
VGP_GEMM_TARGET void narrow_backward_few_f32(const float* xt, const float* dzt, const float* w,
                                             index_t /*in*/, index_t out, index_t batch,
                                             float* dw, float* db, float* dxt, const float* sy) {
  using V = VecF32x16;
  using R = V::R;
  R acc[kFewOut];
  FewOutSums<float> sums;
  VGP_GEMM_UNROLL for (int j = 0; j < kFewOut; ++j) acc[j] = V::zero();
  for (index_t b0 = 0; b0 < batch; b0 += 16) {
    const int nb = static_cast<int>(std::min<index_t>(16, batch - b0));
    if (dxt) narrow_dxt_block<V, IN>(dzt, w, out, batch, b0, nb, dxt, sy);
    R r[16], t[16];
    VGP_GEMM_UNROLL for (int i = 0; i < 16; ++i) {
      r[i] = i < IN ? V::load_n(xt + i * batch + b0, nb) : V::zero();
    }
    V::transpose16(r, t);  // t[q]: row q of x, the input units on the lanes
    VGP_GEMM_UNROLL for (int q = 0; q < 16; ++q) {
      if (q >= nb) break;
      VGP_GEMM_UNROLL for (int j = 0; j < kFewOut; ++j) {
        if (j < out) acc[j] = V::fma(V::bcast(dzt + j * batch + b0 + q), t[q], acc[j]);
      }
      if (db) sums.add(dzt + b0 + q, batch, out);
    }
  }
  if (out == 1) {
    V::store_n(dw, acc[0], IN);  // dw is (IN, 1): one contiguous row
  } else {
    alignas(64) float rows[kFewOut][16];
    VGP_GEMM_UNROLL for (int j = 0; j < kFewOut; ++j) V::store(rows[j], acc[j]);
    scatter_few_out(rows, IN, out, dw);
  }
  if (db) sums.store(db, out);
}

// A narrow layer's forward (gemm_narrow_forward, gemm.h), with OUT output
// units known at compile time: per block of V::W batch rows, each of x^T's
// rows is loaded once with the batch on the lanes and feeds all OUT
// accumulators, so each row of z^T is one fma chain over the input units,
// plus its bias, and the OUT chains run side by side.
template <class V, int OUT>
VGP_GEMM_TARGET void narrow_forward_kernel(const typename V::T* xt, const typename V::T* w,
                                           const typename V::T* bias, index_t in,
                                           index_t /*out*/, index_t batch, typename V::T* zt) {
  using R = typename V::R;
  for (index_t b0 = 0; b0 < batch; b0 += V::W) {
    const int nb = static_cast<int>(std::min<index_t>(V::W, batch - b0));
    R acc[OUT];
    narrow_chains<V, OUT>(xt, in, w, OUT, 1, batch, b0, nb, acc);
    VGP_GEMM_UNROLL for (int j = 0; j < OUT; ++j) {
      if (bias) acc[j] = V::add(acc[j], V::bcast(bias + j));
      V::store_n(zt + j * batch + b0, acc[j], nb);
    }
  }
}

// The kernels by count, for the selection in x86.h.
template <int OUT>
struct ForwardF32 {
  static constexpr NarrowForwardFn<float> fn = &narrow_forward_kernel<VecF32x16, OUT>;
};
template <int OUT>
struct ForwardF64 {
  static constexpr NarrowForwardFn<double> fn = &narrow_forward_kernel<VecF64x8, OUT>;
};

// A narrow layer's backward in double (gemm_narrow_backward, gemm.h), with IN
// input units known at compile time, in passes over the blocks of 8 batch
// rows (dz^T, a few kilobytes, stays in L1 between them), so that each pass's
// chains fit the 32 registers: dx^T's IN chains over the output units; then,
// for the output units 0-7 and again for 8-15, the block of dz^T transposed
// in registers into 8 rows of dz with those units on the lanes, feeding the
// IN kernel-gradient rows (one fma chain over the batch each) and the bias
// gradient's sums (double already: no conversion).
template <int IN>
VGP_GEMM_TARGET void narrow_units_f64(const double* xt, const double* dzt, index_t out,
                                      index_t batch, int j0, double* dw, double* db) {
  using V = VecF64x8;
  using R = V::R;
  const int units = static_cast<int>(std::min<index_t>(8, out - j0));
  R acc[IN];
  VGP_GEMM_UNROLL for (int i = 0; i < IN; ++i) acc[i] = V::zero();
  R sums = V::zero();
  for (index_t b0 = 0; b0 < batch; b0 += 8) {
    const int nb = static_cast<int>(std::min<index_t>(8, batch - b0));
    R r[8], t[8];
    VGP_GEMM_UNROLL for (int j = 0; j < 8; ++j) {
      r[j] = j < units ? V::load_n(dzt + (j0 + j) * batch + b0, nb) : V::zero();
    }
    V::transpose8(r, t);
    VGP_GEMM_UNROLL for (int q = 0; q < 8; ++q) {
      if (q >= nb) break;
      VGP_GEMM_UNROLL for (int i = 0; i < IN; ++i) {
        acc[i] = V::fma(V::bcast(xt + i * batch + b0 + q), t[q], acc[i]);
      }
      sums = V::add(sums, t[q]);
    }
  }
  VGP_GEMM_UNROLL for (int i = 0; i < IN; ++i) V::store_n(dw + i * out + j0, acc[i], units);
  if (db) V::store_n(db + j0, sums, units);
}

// dx^T = w dz^T in double, block by block of 8 rows.
template <int IN>
VGP_GEMM_TARGET void narrow_dxt_f64(const double* dzt, const double* w, index_t out,
                                    index_t batch, double* dxt, const double* sy) {
  for (index_t b0 = 0; b0 < batch; b0 += 8) {
    const int nb = static_cast<int>(std::min<index_t>(8, batch - b0));
    narrow_dxt_block<VecF64x8, IN>(dzt, w, out, batch, b0, nb, dxt, sy);
  }
}

template <int IN>
VGP_GEMM_TARGET void narrow_backward_f64(const double* xt, const double* dzt, const double* w,
                                         index_t /*in*/, index_t out, index_t batch, double* dw,
                                         double* db, double* dxt, const double* sy) {
  if (dxt) narrow_dxt_f64<IN>(dzt, w, out, batch, dxt, sy);
  narrow_units_f64<IN>(xt, dzt, out, batch, 0, dw, db);
  if (out > 8) narrow_units_f64<IN>(xt, dzt, out, batch, 8, dw, db);
}

// With few output units (out <= kFewOut and out < IN), as narrow_backward_few_f32:
// blocks of x^T transposed (the input units on the lanes, in one or two
// vectors of 8), one kernel-gradient chain per output unit and vector.
template <int IN>
VGP_GEMM_TARGET void narrow_backward_few_f64(const double* xt, const double* dzt,
                                             const double* w, index_t /*in*/, index_t out,
                                             index_t batch, double* dw, double* db, double* dxt,
                                             const double* sy) {
  using V = VecF64x8;
  using R = V::R;
  constexpr int H = IN > 8 ? 2 : 1;  // vectors per row of x
  if (dxt) narrow_dxt_f64<IN>(dzt, w, out, batch, dxt, sy);
  R acc[kFewOut][H];
  FewOutSums<double> sums;
  VGP_GEMM_UNROLL for (int j = 0; j < kFewOut; ++j) {
    VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) acc[j][h] = V::zero();
  }
  for (index_t b0 = 0; b0 < batch; b0 += 8) {
    const int nb = static_cast<int>(std::min<index_t>(8, batch - b0));
    R rows[H][8];  // rows[h][q]: input units 8h..8h+7 of row q
    VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) {
      R r[8];
      VGP_GEMM_UNROLL for (int i = 0; i < 8; ++i) {
        r[i] = 8 * h + i < IN ? V::load_n(xt + (8 * h + i) * batch + b0, nb) : V::zero();
      }
      V::transpose8(r, rows[h]);
    }
    VGP_GEMM_UNROLL for (int q = 0; q < 8; ++q) {
      if (q >= nb) break;
      VGP_GEMM_UNROLL for (int j = 0; j < kFewOut; ++j) {
        if (j < out) {
          const R d = V::bcast(dzt + j * batch + b0 + q);
          VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) acc[j][h] = V::fma(d, rows[h][q], acc[j][h]);
        }
      }
      if (db) sums.add(dzt + b0 + q, batch, out);
    }
  }
  if (out == 1) {  // dw is (IN, 1): one contiguous row
    VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) {
      V::store_n(dw + 8 * h, acc[0][h], std::min(8, IN - 8 * h));
    }
  } else {
    alignas(64) double vals[kFewOut][16];
    VGP_GEMM_UNROLL for (int j = 0; j < kFewOut; ++j) {
      VGP_GEMM_UNROLL for (int h = 0; h < H; ++h) V::store(vals[j] + 8 * h, acc[j][h]);
    }
    scatter_few_out(vals, IN, out, dw);
  }
  if (db) sums.store(db, out);
}

template <int IN>
struct BackwardF32 {
  static constexpr NarrowBackwardFn<float> few = &narrow_backward_few_f32<IN>;
  static constexpr NarrowBackwardFn<float> all = &narrow_backward_f32<IN>;
};
template <int IN>
struct BackwardF64 {
  static constexpr NarrowBackwardFn<double> few = &narrow_backward_few_f64<IN>;
  static constexpr NarrowBackwardFn<double> all = &narrow_backward_f64<IN>;
};

}  // namespace

template <>
struct NarrowKernels<VecF32x16> {
  static constexpr NarrowBackwardFn<float> (*backward_for)(index_t, index_t) =
      &narrow_backward_for<float, BackwardF32>;
  static constexpr NarrowForwardFn<float> (*forward_for)(index_t, index_t) =
      &narrow_forward_for<float, ForwardF32>;
};

template <>
struct NarrowKernels<VecF64x8> {
  static constexpr NarrowBackwardFn<double> (*backward_for)(index_t, index_t) =
      &narrow_backward_for<double, BackwardF64>;
  static constexpr NarrowForwardFn<double> (*forward_for)(index_t, index_t) =
      &narrow_forward_for<double, ForwardF64>;
};

namespace {
using FloatSet = KernelSet<VecF32x16, 8, Tile<16, 1>, Tile<12, 2>>;
using DoubleSet = KernelSet<VecF64x8, 8, Tile<16, 1>, Tile<12, 2>>;
}  // namespace
VGP_GEMM_DEFINE_KERNEL_SETS(gemm_kernels_avx512, "avx512", FloatSet, DoubleSet)
}  // namespace vgp::ops::gemm_detail

#endif
