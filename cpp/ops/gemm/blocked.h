// The packed, blocked GEMM for one register tile (MR rows x NV vectors),
// included by impl.h after GemmCommon, inside each ISA's translation unit.
//
// Loops (BLIS/OpenBLAS structure, written for row-major C so that vectors run
// along rows of C and of op(B); blocking.h maps it onto the paper's names):
//
//   for ic in rows, step MC:          A block  MC x KC  (L3)
//     for pc in k, step KC:
//       for jc in cols, step NC:      B block  KC x NC  (L2)
//         for ir, step MR:            A micro-panel MR x kc (L1) ...
//           (first jc: pack A panel)  panel element (i, p) at p*MR + i
//           for jr, step NR:          ... while B micro-panels stream from L2
//             (first ir: pack B panel) panel element (p, j) at p*NR + j
//             micro-kernel: MR x NR tile of C, MR*NV vector accumulators
//           epilogue on the MR x nc row strip after the last pc (still in cache)
//
// MC, KC and NC are run-time values (GemmBlocks, from the cache model); MR and
// NV are template parameters, so the accumulators live in registers.
//
// Micro-kernel: a k step is NV vector loads of the B panel and MR FMAs per
// vector whose A operand is a broadcast from the A panel (an embedded {1toW}
// memory operand with AVX-512): MR + NV loads, MR * NV FMAs, nothing else;
// the loop body unrolls V::kUnroll steps, so pointer increments and the loop
// test come once per body. While lines remain to prefetch (below), a
// prefetch sub-loop runs after every group of 8 steps; once they are done the
// rest of k runs in a second loop without it.
//
// Prefetching: each panel is packed just before its first use, and the
// micro-kernels that run before that prefetch the panel's unpacked source,
// and the C tile written next (LineWalk). In training the operands are cold
// more often than not: a layer's weights were last touched a whole step ago,
// a backward pass reads activations from the forward pass, and the gradient
// buffers it writes are cold too. Packing a whole block up front stalled on
// those misses with nothing to overlap them; spread over the micro-kernels
// they arrive while the FMAs run (2-5% on 256x512x512 products with cold
// weights on Zen 4). Each walk knows how many groups it may spread over (the
// next B panel's source and the next C tile: this micro-kernel; the next A
// panel's source: the whole row strip) and fetches its quota per group.
//
// Panels are zero-padded to MR / NR, so the micro-kernel always computes full
// tiles; at an edge it writes only the valid rows and lanes (masked stores)
// straight from its registers. The sum over k for one element of C is
// always: for each k block in order, acc = fma chain over p from 0, then
// C = acc (first block, no accumulate) or C = C + acc. The k blocks depend on
// k and KC alone (gemm_kc_for), never on which thread or tile position
// computes the element, which is what makes results identical for every
// thread count.
#pragma once

namespace vgp::ops::gemm_detail {
namespace {

constexpr index_t kLineBytes = 64;

// Prefetches `rows` runs of `len` bytes, `ld` bytes apart: every line of each
// run (steps of a line, then its last byte), `quota` lines per call, so that
// the whole walk is issued in `calls` calls. Default-constructed: done.
template <bool kWrite>
struct LineWalk {
  const char* row = nullptr;
  index_t ld = 0, last = 0, col = 0, rows = 0, quota = 0;
  LineWalk() = default;
  LineWalk(const void* first, index_t ld_bytes, index_t len_bytes, index_t rows_, index_t calls)
      : row(static_cast<const char*>(first)), ld(ld_bytes), last(len_bytes - 1), rows(rows_) {
    const index_t lines = rows * ((len_bytes + kLineBytes - 1) / kLineBytes + 1);
    quota = (lines + calls - 1) / std::max<index_t>(calls, 1);
  }
  bool active() const { return rows > 0; }
  inline __attribute__((always_inline)) void operator()() {
    for (index_t n = quota; n > 0 && rows > 0; --n) {
      __builtin_prefetch(row + col, kWrite ? 1 : 0, 3);
      if (col == last) {
        col = 0;
        row += ld;
        --rows;
      } else {
        col = std::min(col + kLineBytes, last);
      }
    }
  }
};

struct Prefetches {
  LineWalk<false> a, b;  // sources of the next A and B panels
  LineWalk<true> c;      // the next C tile
  bool active() const { return a.active() || b.active() || c.active(); }
  inline __attribute__((always_inline)) void operator()() {
    a();
    b();
    c();
  }
};

template <class V, int MR, int NV>
struct GemmBlocked {
  using C = GemmCommon<V>;
  using T = typename V::T;
  using R = typename V::R;
  static constexpr int W = V::W;
  static constexpr int NR = NV * W;
  static constexpr index_t S = sizeof(T);
  // k steps per prefetch call, per unrolled loop body (V's choice: as many as
  // the compiler keeps in registers), and the groups the C prefetch spreads
  // over.
  static constexpr int kGroup = 8;
  static constexpr int kUnroll = V::kUnroll;
  static_assert(kGroup % kUnroll == 0, "a group is whole unrolled bodies");
  static constexpr index_t kCGroups = 4;

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
    C::transpose(g.a + i * g.lda + pc, g.lda, mr, kc, d, MR);
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
        for (index_t p = 0; p < kc; ++p) C::template copy_pad<NV>(s + p * g.ldb, NR, dst + p * NR);
      } else {
        for (index_t p = 0; p < kc; ++p) C::template copy_pad<NV>(s + p * g.ldb, nr, dst + p * NR);
      }
      return;
    }
    // B is stored n x k: a transpose of nr rows.
    C::transpose(g.b + j * g.ldb + pc, g.ldb, nr, kc, dst, NR);
    for (index_t p = 0; p < kc && nr < NR; ++p) {
      for (index_t jj = nr; jj < NR; ++jj) dst[p * NR + jj] = T(0);
    }
  }

  // The walk over the source of a panel of op(X)[r0:r0+width, c0:c0+kc], for
  // the operand stored as x with leading dimension ldx; k_major: stored
  // kc x width.
  static LineWalk<false> panel_source(const T* x, index_t ldx, bool k_major, index_t r0,
                                      index_t width, index_t c0, index_t kc, index_t calls) {
    return k_major ? LineWalk<false>(x + c0 * ldx + r0, ldx * S, width * S, kc, calls)
                   : LineWalk<false>(x + r0 * ldx + c0, ldx * S, kc * S, width, calls);
  }

  // `steps` k steps: acc += a-panel column (broadcast) x b-panel row.
  // With one vector per row, each broadcast feeds one FMA and the compiler
  // folds it into the FMA as an embedded {1toW} operand. With more, the
  // broadcast sits in a register for NV FMAs; V::keep marks it (and the B
  // vectors) live past their last FMA, so that the register allocator writes
  // each result into its accumulator's register (the 231 form). Otherwise
  // GCC let results land in the register of whichever operand died there,
  // and then shuffled, and spilled, the accumulators around the loop.
  template <int steps>
  VGP_GEMM_INLINE static void k_steps(R (&acc)[MR][NV], const T* a, const T* b) {
    VGP_GEMM_UNROLL for (int u = 0; u < steps; ++u) {
      R bv[NV];
      VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) bv[v] = V::load(b + u * NR + v * W);
      VGP_GEMM_UNROLL for (int i = 0; i < MR; ++i) {
        const R ai = V::bcast(a + u * MR + i);
        VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) acc[i][v] = V::fma(ai, bv[v], acc[i][v]);
        if constexpr (NV > 1) V::keep(ai);
      }
      if constexpr (NV > 1) {
        VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) V::keep(bv[v]);
      }
    }
  }

  // The mr x nr corner of the C tile at c gets acc (or C + acc when add_c),
  // acc = sum over kc of a-panel column x b-panel row, one fma chain per
  // element. The padded rows and columns are computed and dropped.
  VGP_GEMM_TARGET static void micro_kernel(index_t kc, const T* __restrict a,
                                           const T* __restrict b, T* c, index_t ldc, index_t mr,
                                           index_t nr, bool add_c, Prefetches& pf) {
    R acc[MR][NV];
    VGP_GEMM_UNROLL for (int i = 0; i < MR; ++i) {
      VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) acc[i][v] = V::zero();
    }
    index_t groups = kc / kGroup;
    for (; groups > 0 && pf.active(); --groups) {
      _Pragma("GCC unroll 1") for (int u = 0; u < kGroup; u += kUnroll) {
        k_steps<kUnroll>(acc, a, b);
        a += kUnroll * MR;
        b += kUnroll * NR;
      }
      pf();
    }
    // The loops stay as written: unrolled further, GCC spills accumulators.
    _Pragma("GCC unroll 1") for (index_t n = groups * (kGroup / kUnroll); n > 0; --n) {
      k_steps<kUnroll>(acc, a, b);
      a += kUnroll * MR;
      b += kUnroll * NR;
    }
    _Pragma("GCC unroll 1") for (index_t p = kc % kGroup; p > 0; --p, a += MR, b += NR) {
      k_steps<1>(acc, a, b);
    }
    C::template store_tile<MR, NV>(acc, c, ldc, mr, nr, add_c);
  }

  // Panels are packed as late as possible: an A panel when its row strip
  // starts (in the first column block), a B panel when the first row strip
  // reaches it. Meanwhile the micro-kernels prefetch the sources of the next
  // ones, so packing reads cached lines.
  VGP_GEMM_TARGET static void blocked(const GemmArgs<T>& g, const GemmBlocks& blk, index_t i0,
                                      index_t i1, index_t j0, index_t j1, T* scratch) {
    const index_t KC = gemm_kc_for(g.k, blk.kc), MC = blk.mc, NC = blk.nc;
    T* apack = scratch;
    T* bpack = scratch + gemm_a_block_elems(blk, i1 - i0, g.k);
    for (index_t ic = i0; ic < i1; ic += MC) {
      const index_t mc = std::min(MC, i1 - ic);
      for (index_t pc = 0; pc < g.k; pc += KC) {
        const index_t kc = std::min(KC, g.k - pc);
        const bool add_c = pc > 0 || g.accumulate;
        const bool last = pc + kc == g.k;
        const index_t groups = std::max<index_t>(1, kc / kGroup);
        for (index_t jc = j0; jc < j1; jc += NC) {
          const index_t nc = std::min(NC, j1 - jc);
          const index_t panels = (nc + NR - 1) / NR;
          for (index_t ir = 0; ir < mc; ir += MR) {
            const index_t mr = std::min<index_t>(MR, mc - ir);
            T* ap = apack + ir * kc;
            T* crow = g.c + (ic + ir) * g.ldc + jc;
            Prefetches pf;
            if (jc == j0) {
              pack_a_panel(g, ic + ir, mr, pc, kc, ap);
              if (ir + MR < mc) {
                pf.a = panel_source(g.a, g.lda, g.trans_a, ic + ir + MR,
                                    std::min<index_t>(MR, mc - ir - MR), pc, kc, panels * groups);
              }
            }
            for (index_t jr = 0; jr < nc; jr += NR) {
              const index_t nr = std::min<index_t>(NR, nc - jr);
              T* bp = bpack + jr * kc;
              if (ir == 0) {
                pack_b_panel(g, pc, kc, jc + jr, nr, bp);
                if (jr + NR < nc) {
                  pf.b = panel_source(g.b, g.ldb, !g.trans_b, jc + jr + NR,
                                      std::min<index_t>(NR, nc - jr - NR), pc, kc, groups);
                }
              }
              // The next C tile, in the first few groups (it is a few dozen
              // lines), so that the rest of k runs without the prefetch loop.
              const index_t c_calls = std::min<index_t>(groups, kCGroups);
              if (jr + NR < nc) {
                pf.c = LineWalk<true>(crow + jr + NR, g.ldc * S,
                                      std::min<index_t>(NR, nc - jr - NR) * S, mr, c_calls);
              } else if (ir + MR < mc) {
                pf.c = LineWalk<true>(crow + MR * g.ldc, g.ldc * S, std::min<index_t>(NR, nc) * S,
                                      std::min<index_t>(MR, mc - ir - MR), c_calls);
              }
              micro_kernel(kc, ap, bp, crow + jr, g.ldc, mr, nr, add_c, pf);
            }
            if (last && g.epilogue) apply_epilogue(*g.epilogue, g.c, g.ldc, ic + ir, mr, jc, nc);
          }
        }
      }
    }
  }
};

}  // namespace
}  // namespace vgp::ops::gemm_detail
