// GEMM kernels written once over a vector-traits type V, compiled once per
// instruction set. Each gemm_<isa>.cpp defines VGP_GEMM_TARGET (its
// __attribute__((target(...))), or nothing for the portable build) and V,
// then includes this header: everything here sits in an unnamed namespace, so
// the three copies never collide.
//
// V provides: T, R (register type), W (lanes), zero, load, store, bcast (one
// value to all lanes), fma(a, b, c) = a*b + c, add, load_n / store_n for the
// first `count` lanes (the others read as zero, are left untouched). The file
// also provides transpose4(src, lds, dst, ldd): dst[q * ldd + r] =
// src[r * lds + q] for r, q < 4, and finishes with
// VGP_GEMM_DEFINE_KERNEL_SETS, which defines its gemm_kernels_<isa>().
//
// Blocked product (BLIS/OpenBLAS structure, written for row-major C so that
// vectors run along rows of C and of op(B)):
//
//   for ic in rows, step MC:          A block  MC x KC  (L3)
//     for pc in k, step KC:
//       for jc in cols, step NC:      B block  KC x NC  (L2)
//         for ir, step MR:            A micro-panel MR x kc (L1 / L2) ...
//           (first jc: pack A panel)  panel element (i, p) at p*MR + i
//           for jr, step NR:          ... while B micro-panels stream from L2
//             (first ir: pack B panel) panel element (p, j) at p*NR + j
//             micro-kernel: MR x NR tile of C, MR*NV vector accumulators
//           epilogue on the MR x nc row strip after the last pc (still in cache)
//
// Each panel is packed just before its first use, and the micro-kernel that
// runs before that prefetches the panel's source lines, and the C tile it
// writes next, one or two lines per k step (Prefetches). In training the
// operands are cold more often than not: a layer's weights were last touched
// a whole step ago, a backward pass reads activations from the forward pass,
// and the gradient buffers it writes are cold too. Packing a whole block up
// front stalled on those misses with nothing to overlap them; spread over the
// micro-kernels they arrive while the FMAs run (2-5% on 256x512x512 products
// with cold weights on Zen 4, about 60 us of 700 on two threads).
//
// Panels are zero-padded to MR / NR, so the micro-kernel always computes full
// tiles; at an edge it writes only the valid rows and lanes (masked stores)
// straight from its registers. The sum over k for one element of C is always: for each KC
// block in order, acc = fma chain over p from 0, then C = acc (first block,
// no accumulate) or C = C + acc. That sequence depends on KC alone, never on
// which thread or tile position computes the element, which is what makes
// results identical for every thread count.
//
// Small product (no packing): rows in groups of SR, columns one vector of W
// at a time, SR accumulators; A is broadcast straight from memory and op(B)
// read in place (or from a transposed copy in scratch when trans_b, so every
// load is contiguous). Its sums follow the same rule with one block covering
// all of k. gemm.cpp decides which path a call takes, from the shape alone.
#pragma once

#ifndef VGP_GEMM_TARGET
#error "impl.h: define VGP_GEMM_TARGET before including it"
#endif

#include <algorithm>
#include <type_traits>

#include "ops/activation.h"
#include "ops/gemm/kernels.h"

#define VGP_GEMM_INLINE VGP_GEMM_TARGET inline __attribute__((always_inline))
#define VGP_GEMM_UNROLL _Pragma("GCC unroll 32")

namespace vgp::ops::gemm_detail {
namespace {

constexpr index_t round_up(index_t x, index_t to) { return (x + to - 1) / to * to; }

// C[i0:i0+rows, j0:j0+cols] += bias, then post = act(C) (post may be C).
template <typename T>
VGP_GEMM_TARGET void apply_epilogue(const GemmEpilogue<T>& ep, T* c, index_t ldc, index_t i0,
                                    index_t rows, index_t j0, index_t cols) {
  if (ep.bias) {
    const T* bj = ep.bias + j0;
    for (index_t i = i0; i < i0 + rows; ++i) {
      T* ci = c + i * ldc + j0;
      for (index_t j = 0; j < cols; ++j) ci[j] += bj[j];
    }
  }
  if (!ep.post) return;
  // The activation runs through the vectorized span kernel; when the tile's
  // rows are contiguous in both C and post (narrow layers: the tile is whole
  // rows), as one span, so a 10-unit layer still fills the vector lanes.
  if (cols == ldc && cols == ep.ldpost) {
    activation_forward_span(c + i0 * ldc + j0, ep.post + i0 * ep.ldpost + j0, rows * cols, ep.act);
    return;
  }
  for (index_t i = i0; i < i0 + rows; ++i) {
    activation_forward_span(c + i * ldc + j0, ep.post + i * ep.ldpost + j0, cols, ep.act);
  }
}

template <class V, int MR, int NV, index_t KC, index_t MC, index_t NC, int SR>
struct GemmImpl {
  using T = typename V::T;
  using R = typename V::R;
  static constexpr int W = V::W;
  static constexpr int NR = NV * W;
  static constexpr index_t kAlign = 64 / sizeof(T);
  static constexpr index_t kLine = 64 / sizeof(T);
  static_assert(MC % MR == 0 && NC % NR == 0, "block sizes must be whole micro-tiles");

  // ---- blocked path -------------------------------------------------------

  static index_t a_block_elems(index_t rows, index_t k) {
    return round_up(std::min(MC, round_up(rows, MR)) * std::min(KC, k), kAlign);
  }

  static index_t scratch_elems(index_t rows, index_t cols, index_t k) {
    return a_block_elems(rows, k) + std::min(NC, round_up(cols, NR)) * std::min(KC, k);
  }

  // dst[q * ldd + r] = src[r * lds + q] for r < rows, q < cols: 4 x 4 blocks
  // in registers, 8 columns at a time, so that at most 8 destination rows
  // are being written at once (with a large power-of-two ldd more would
  // share a few L1 sets and evict each other).
  VGP_GEMM_TARGET static void transpose(const T* src, index_t lds, index_t rows, index_t cols,
                                        T* __restrict dst, index_t ldd) {
    for (index_t q0 = 0; q0 < cols; q0 += 8) {
      const index_t q1 = std::min<index_t>(cols, q0 + 8);
      index_t r = 0;
      for (; r + 4 <= rows; r += 4) {
        index_t q = q0;
        for (; q + 4 <= q1; q += 4) transpose4(src + r * lds + q, lds, dst + q * ldd + r, ldd);
        for (; q < q1; ++q) {
          for (index_t rr = r; rr < r + 4; ++rr) dst[q * ldd + rr] = src[rr * lds + q];
        }
      }
      for (; r < rows; ++r) {
        for (index_t q = q0; q < q1; ++q) dst[q * ldd + r] = src[r * lds + q];
      }
    }
  }

  // Copies `count` (<= W * nv) contiguous values to dst and zero-fills dst up
  // to nv vectors.
  template <int nv>
  VGP_GEMM_INLINE static void copy_pad(const T* src, index_t count, T* __restrict dst) {
    VGP_GEMM_UNROLL for (int v = 0; v < nv; ++v) {
      const index_t left = count - v * W;
      V::store(dst + v * W, left >= W  ? V::load(src + v * W)
                            : left > 0 ? V::load_n(src + v * W, static_cast<int>(left))
                                       : V::zero());
    }
  }

  // op(A)[i:i+mr, pc:pc+kc] (mr <= MR) into one MR x kc panel, rows past mr
  // zeroed.
  VGP_GEMM_TARGET static void pack_a_panel(const GemmArgs<T>& g, index_t i, index_t mr,
                                           index_t pc, index_t kc, T* __restrict d) {
    if (g.trans_a) {
      // A is stored k x m: the MR values of one p are contiguous.
      const T* s = g.a + pc * g.lda + i;
      if (mr == MR) {
        for (index_t p = 0; p < kc; ++p, s += g.lda, d += MR) {
          VGP_GEMM_UNROLL for (int r = 0; r < MR; ++r) d[r] = s[r];
        }
      } else {
        for (index_t p = 0; p < kc; ++p, s += g.lda, d += MR) {
          index_t r = 0;
          for (; r < mr; ++r) d[r] = s[r];
          for (; r < MR; ++r) d[r] = T(0);
        }
      }
      return;
    }
    // A is stored m x k: a transpose.
    transpose(g.a + i * g.lda + pc, g.lda, mr, kc, d, MR);
    for (index_t p = 0; p < kc && mr < MR; ++p) {
      for (index_t r = mr; r < MR; ++r) d[p * MR + r] = T(0);
    }
  }

  // op(B)[pc:pc+kc, j:j+nr] (nr <= NR) into one kc x NR panel, columns past
  // nr zeroed.
  VGP_GEMM_TARGET static void pack_b_panel(const GemmArgs<T>& g, index_t pc, index_t kc,
                                           index_t j, index_t nr, T* __restrict dst) {
    if (!g.trans_b) {
      // B is stored k x n: NR values of each of kc rows.
      const T* s = g.b + pc * g.ldb + j;
      if (nr == NR) {
        for (index_t p = 0; p < kc; ++p) copy_pad<NV>(s + p * g.ldb, NR, dst + p * NR);
      } else {
        for (index_t p = 0; p < kc; ++p) copy_pad<NV>(s + p * g.ldb, nr, dst + p * NR);
      }
      return;
    }
    // B is stored n x k: a transpose of nr rows.
    transpose(g.b + j * g.ldb + pc, g.ldb, nr, kc, dst, NR);
    for (index_t p = 0; p < kc && nr < NR; ++p) {
      for (index_t jj = nr; jj < NR; ++jj) dst[p * NR + jj] = T(0);
    }
  }

  // Prefetches, two cache lines per call, `rows` runs of `len` contiguous
  // elements `ld` apart: the source of the A or B panel packed next (kc rows
  // of MR / NR values, or MR / NR rows of kc values), or, for writing, the C
  // tile computed next. The micro-kernel calls it once per k step, so those
  // lines stream in while it computes instead of stalling the packing of cold
  // operands (a layer's weights, last touched a whole step ago; the
  // activations a backward pass reads) and the first stores to a cold C.
  // Default-constructed: nothing to fetch.
  template <bool kWrite>
  struct Stream {
    const T* row = nullptr;
    index_t ld = 0, len = 0, rows = 0, col = 0;
    Stream() = default;
    Stream(const T* first, index_t ld_, index_t len_, index_t rows_)
        : row(first), ld(ld_), len(len_), rows(rows_) {}
    VGP_GEMM_INLINE void operator()() {
      VGP_GEMM_UNROLL for (int n = 0; n < 2; ++n) {
        if (rows == 0) return;
        __builtin_prefetch(row + col, kWrite ? 1 : 0, 3);
        // Every line of [row, row + len): steps of a line, then the last element.
        if (col == len - 1) {
          col = 0;
          row += ld;
          --rows;
        } else {
          col = std::min(col + kLine, len - 1);
        }
      }
    }
  };
  using Fetch = Stream<false>;
  // The source of a panel of op(X)[r0:r0+width, c0:c0+kc], for the operand
  // stored as x with leading dimension ldx; k_major: stored kc x width.
  static Fetch panel_source(const T* x, index_t ldx, bool k_major, index_t r0, index_t width,
                            index_t c0, index_t kc) {
    return k_major ? Fetch(x + c0 * ldx + r0, ldx, width, kc)
                   : Fetch(x + r0 * ldx + c0, ldx, kc, width);
  }
  struct Prefetches {
    Fetch a, b;
    Stream<true> c;
    VGP_GEMM_INLINE void operator()() {
      a();
      b();
      c();
    }
  };

  // Writes acc (or C + acc when add_c) to the first `rows` rows and `cols`
  // columns of the tile at c; only the vector and row counts are runtime.
  template <int rows_max, int nv>
  VGP_GEMM_INLINE static void store_tile(const R (&acc)[rows_max][nv], T* c, index_t ldc,
                                         index_t rows, index_t cols, bool add_c) {
    if (rows == rows_max && cols == nv * W) {
      VGP_GEMM_UNROLL for (int i = 0; i < rows_max; ++i) {
        VGP_GEMM_UNROLL for (int v = 0; v < nv; ++v) {
          T* ct = c + i * ldc + v * W;
          V::store(ct, add_c ? V::add(V::load(ct), acc[i][v]) : acc[i][v]);
        }
      }
      return;
    }
    VGP_GEMM_UNROLL for (int i = 0; i < rows_max; ++i) {
      if (i >= rows) break;
      VGP_GEMM_UNROLL for (int v = 0; v < nv; ++v) {
        const index_t left = cols - v * W;
        if (left <= 0) break;
        T* ct = c + i * ldc + v * W;
        if (left >= W) {
          V::store(ct, add_c ? V::add(V::load(ct), acc[i][v]) : acc[i][v]);
        } else {
          const int n = static_cast<int>(left);
          V::store_n(ct, add_c ? V::add(V::load_n(ct, n), acc[i][v]) : acc[i][v], n);
        }
      }
    }
  }

  // The mr x nr corner of the C tile at c gets acc (or C + acc when add_c),
  // acc = sum over kc of a-panel column x b-panel row, one fma chain per
  // element. The padded rows and columns are computed and dropped.
  VGP_GEMM_TARGET static void micro_kernel(index_t kc, const T* __restrict a,
                                           const T* __restrict b, T* c, index_t ldc, index_t mr,
                                           index_t nr, bool add_c, Prefetches& prefetch) {
    R acc[MR][NV];
    VGP_GEMM_UNROLL for (int i = 0; i < MR; ++i) {
      VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
    }
    for (index_t p = 0; p < kc; ++p, a += MR, b += NR) {
      prefetch();
      R bv[NV];
      VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) bv[v] = V::load(b + v * W);
      VGP_GEMM_UNROLL for (int i = 0; i < MR; ++i) {
        const R ai = V::bcast(a + i);
        VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) acc[i][v] = V::fma(ai, bv[v], acc[i][v]);
      }
    }
    store_tile<MR, NV>(acc, c, ldc, mr, nr, add_c);
  }

  // Panels are packed as late as possible: an A panel when its row strip
  // starts (in the first column block), a B panel when the first row strip
  // reaches it. Meanwhile the micro-kernels prefetch the sources of the next
  // ones (Stream), so packing reads cached lines.
  VGP_GEMM_TARGET static void blocked(const GemmArgs<T>& g, index_t i0, index_t i1, index_t j0,
                                      index_t j1, T* scratch) {
    T* apack = scratch;
    T* bpack = scratch + a_block_elems(i1 - i0, g.k);
    for (index_t ic = i0; ic < i1; ic += MC) {
      const index_t mc = std::min(MC, i1 - ic);
      for (index_t pc = 0; pc < g.k; pc += KC) {
        const index_t kc = std::min(KC, g.k - pc);
        const bool add_c = pc > 0 || g.accumulate;
        const bool last = pc + kc == g.k;
        for (index_t jc = j0; jc < j1; jc += NC) {
          const index_t nc = std::min(NC, j1 - jc);
          for (index_t ir = 0; ir < mc; ir += MR) {
            const index_t mr = std::min<index_t>(MR, mc - ir);
            T* ap = apack + ir * kc;
            T* crow = g.c + (ic + ir) * g.ldc + jc;
            Prefetches pf;
            if (jc == j0) {
              pack_a_panel(g, ic + ir, mr, pc, kc, ap);
              if (ir + MR < mc) {
                pf.a = panel_source(g.a, g.lda, g.trans_a, ic + ir + MR,
                                    std::min<index_t>(MR, mc - ir - MR), pc, kc);
              }
            }
            for (index_t jr = 0; jr < nc; jr += NR) {
              const index_t nr = std::min<index_t>(NR, nc - jr);
              T* bp = bpack + jr * kc;
              if (ir == 0) {
                pack_b_panel(g, pc, kc, jc + jr, nr, bp);
                if (jr + NR < nc) {
                  pf.b = panel_source(g.b, g.ldb, !g.trans_b, jc + jr + NR,
                                      std::min<index_t>(NR, nc - jr - NR), pc, kc);
                }
              }
              if (jr + NR < nc) {
                pf.c = Stream<true>(crow + jr + NR, g.ldc, std::min<index_t>(NR, nc - jr - NR), mr);
              } else if (ir + MR < mc) {
                pf.c = Stream<true>(crow + MR * g.ldc, g.ldc, std::min<index_t>(NR, nc),
                                    std::min<index_t>(MR, mc - ir - MR));
              }
              micro_kernel(kc, ap, bp, crow + jr, g.ldc, mr, nr, add_c, pf);
            }
            if (last && g.epilogue) apply_epilogue(*g.epilogue, g.c, g.ldc, ic + ir, mr, jc, nc);
          }
        }
      }
    }
  }

  // ---- small path ---------------------------------------------------------

  // The transposed copy of op(B)'s columns when trans_b; nothing otherwise.
  static index_t small_scratch_elems(bool trans_b, index_t cols, index_t k) {
    return trans_b ? cols * k : 0;
  }

  // Rows [i0, i1) x columns [j0, j1) of C. Per element: acc = fma chain over
  // p from 0, then C = acc or C + acc.
  VGP_GEMM_TARGET static void small(const GemmArgs<T>& g, index_t i0, index_t i1, index_t j0,
                                    index_t j1, T* scratch) {
    const index_t k = g.k;
    // Row p of op(B), from column j0 on, starts at b + p * ldb.
    const T* b = g.b + j0;
    index_t ldb = g.ldb;
    if (g.trans_b && k > 0) {
      transpose(g.b + j0 * g.ldb, g.ldb, j1 - j0, k, scratch, j1 - j0);
      b = scratch;
      ldb = j1 - j0;
    }
    // Element (i, p) of op(A) is arow(i)[p * astep].
    const index_t astep = g.trans_a ? g.lda : 1;
    for (index_t ib = i0; ib < i1; ib += SR) {
      const T* arow[SR];
      VGP_GEMM_UNROLL for (int r = 0; r < SR; ++r) {
        // Rows past the end repeat the last row; their results are dropped.
        const index_t i = std::min<index_t>(ib + r, i1 - 1);
        arow[r] = g.trans_a ? g.a + i : g.a + i * g.lda;
      }
      const index_t rows = std::min<index_t>(SR, i1 - ib);
      for (index_t jb = j0; jb < j1; jb += W) {
        const index_t cols = std::min<index_t>(W, j1 - jb);
        R acc[SR][1];
        VGP_GEMM_UNROLL for (int r = 0; r < SR; ++r) acc[r][0] = V::zero();
        const T* bp = b + (jb - j0);
        if (cols == W) {
          for (index_t p = 0; p < k; ++p, bp += ldb) {
            const R bv = V::load(bp);
            VGP_GEMM_UNROLL for (int r = 0; r < SR; ++r) {
              acc[r][0] = V::fma(V::bcast(arow[r] + p * astep), bv, acc[r][0]);
            }
          }
        } else {
          for (index_t p = 0; p < k; ++p, bp += ldb) {
            const R bv = V::load_n(bp, static_cast<int>(cols));
            VGP_GEMM_UNROLL for (int r = 0; r < SR; ++r) {
              acc[r][0] = V::fma(V::bcast(arow[r] + p * astep), bv, acc[r][0]);
            }
          }
        }
        store_tile<SR, 1>(acc, g.c + ib * g.ldc + jb, g.ldc, rows, cols, g.accumulate);
      }
      if (g.epilogue) apply_epilogue(*g.epilogue, g.c, g.ldc, ib, rows, j0, j1 - j0);
    }
  }

  static const GemmKernels<T>* table(const char* name) {
    static const GemmKernels<T> t{name,   MR,    NR,   SR, W, &blocked, &scratch_elems,
                                  &small, &small_scratch_elems};
    return &t;
  }
};

}  // namespace
}  // namespace vgp::ops::gemm_detail

// Defines `fn<T>()` (declared in kernels.h) returning the table of
// FloatImpl or DoubleImpl, and instantiates it for both dtypes.
#define VGP_GEMM_DEFINE_KERNEL_SETS(fn, name, FloatImpl, DoubleImpl)                     \
  template <typename T>                                                                 \
  const GemmKernels<T>* fn() {                                                          \
    return std::conditional_t<std::is_same_v<T, float>, FloatImpl, DoubleImpl>::table(  \
        name);                                                                          \
  }                                                                                     \
  template const GemmKernels<float>* fn<float>();                                       \
  template const GemmKernels<double>* fn<double>();
