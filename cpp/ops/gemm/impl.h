// GEMM kernels written once over a vector-traits type V, compiled once per
// instruction set. Each ISA file (avx512.cpp, avx2.cpp, scalar.cpp) defines
// VGP_GEMM_TARGET (its __attribute__((target(...))), or nothing for the
// portable build) and V, then includes this header: everything here sits in
// an unnamed namespace, so the three copies never collide.
//
// V provides: T, R (register type), W (lanes), kRegs (vector registers),
// kEmbeddedBroadcast (an FMA can take a broadcast memory operand), kIsa, zero,
// load, store, bcast (one value to all lanes), fma(a, b, c) = a*b + c, add,
// load_n / store_n for the first `count` lanes (the others read as zero, are
// left untouched). The file also provides transpose4(src, lds, dst, ldd):
// dst[q * ldd + r] = src[r * lds + q] for r, q < 4, and finishes with
// VGP_GEMM_DEFINE_KERNEL_SETS, which defines its gemm_kernels_<isa>().
//
// This header holds what both paths share (epilogue, transposes, tile
// stores) and the small product; the packed, blocked product is in
// blocked.h, instantiated once per register tile (KernelSet below).
//
// Small product (no packing): rows in groups of SR, columns one vector of W
// at a time, SR accumulators; A is broadcast straight from memory and op(B)
// read in place (or from a transposed copy in scratch when trans_b, so every
// load is contiguous). Per element of C: acc = fma chain over p from 0, then
// C = acc or C + acc (one block covering all of k). gemm.cpp decides which
// path a call takes, from the shape alone.
#pragma once

#ifndef VGP_GEMM_TARGET
#error "impl.h: define VGP_GEMM_TARGET before including it"
#endif

#include <algorithm>
#include <type_traits>
#include <utility>

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

// What the small and the blocked paths share.
template <class V>
struct GemmCommon {
  using T = typename V::T;
  using R = typename V::R;
  static constexpr int W = V::W;

  // dst[q * ldd + r] = src[r * lds + q] for r < rows, q < cols. With
  // AVX-512, W x W blocks in registers (V::transpose_block): each block
  // writes W whole 64-byte pieces of destination rows. Otherwise 4 x 4
  // blocks, 8 columns at a time, so that at most 8 destination rows are being
  // written at once (with a large power-of-two ldd more would share a few L1
  // sets and evict each other).
  VGP_GEMM_TARGET static void transpose(const T* src, index_t lds, index_t rows, index_t cols,
                                        T* __restrict dst, index_t ldd) {
    if constexpr (V::kBlockTranspose) {
      // W x W blocks in registers (edges masked).
      for (index_t r = 0; r < rows; r += W) {
        const int nr = static_cast<int>(std::min<index_t>(W, rows - r));
        for (index_t q = 0; q < cols; q += W) {
          const int nq = static_cast<int>(std::min<index_t>(W, cols - q));
          V::transpose_block(src + r * lds + q, lds, nr, nq, dst + q * ldd + r, ldd);
        }
      }
      return;
    }
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
};

template <class V, int SR>
struct GemmSmall {
  using C = GemmCommon<V>;
  using T = typename V::T;
  using R = typename V::R;
  static constexpr int W = V::W;

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
      C::transpose(g.b + j0 * g.ldb, g.ldb, j1 - j0, k, scratch, j1 - j0);
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
        C::template store_tile<SR, 1>(acc, g.c + ib * g.ldc + jb, g.ldc, rows, cols, g.accumulate);
      }
      if (g.epilogue) apply_epilogue(*g.epilogue, g.c, g.ldc, ib, rows, j0, j1 - j0);
    }
  }
};

// Products in the feature-major layout of narrow networks (gemm_rows in
// gemm.h): C[r][:] = sum_p a(r, p) B[p][:], with a(r, p) = a[r * ars + p * aps]
// broadcast and B's rows read in place, then C[r][:] + bias[r]. Per element
// the same fma chain over p from 0 as the small path's, so a narrow layer
// computed with the batch on the lanes has the bits of the batch-major
// product. Register tiles of up to kMaxRows1 rows x one vector (C at most
// one vector wide) or kMaxRows2 rows x two vectors.
template <class V>
struct GemmRows {
  using T = typename V::T;
  using R = typename V::R;
  static constexpr int W = V::W;
  // Rows of a register tile one or two vectors wide: 8 and 4 (8 accumulators,
  // twice the FMA latency in cycles on current cores), capped by the
  // registers left beside B's row and a broadcast. Taller tiles (up to 16 and
  // 14 rows with AVX-512) measured slower on Zen 4 for 10 x 10 x 32 products:
  // their row addresses no longer fit the general registers.
  static constexpr int kMaxRows1 = std::min(8, V::kRegs - 4);
  static constexpr int kMaxRows2 = std::min(4, (V::kRegs - 4) / 2);

  template <int RN, int NV>
  VGP_GEMM_INLINE static void tile(const T* a, index_t ars, index_t aps, const T* b,
                                   index_t ldb, const T* bias, T* c, index_t ldc, index_t steps,
                                   index_t cols) {
    R acc[RN][NV];
    VGP_GEMM_UNROLL for (int r = 0; r < RN; ++r) {
      VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = V::zero();
    }
    int left[NV];
    VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) {
      left[v] = static_cast<int>(std::clamp<index_t>(cols - v * W, 0, W));
    }
    const bool full = cols == NV * W;
    for (index_t p = 0; p < steps; ++p) {
      R bv[NV];
      VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) {
        bv[v] = full ? V::load(b + p * ldb + v * W) : V::load_n(b + p * ldb + v * W, left[v]);
      }
      VGP_GEMM_UNROLL for (int r = 0; r < RN; ++r) {
        const R av = V::bcast(a + r * ars + p * aps);
        VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = V::fma(av, bv[v], acc[r][v]);
      }
      // B's row stays in registers for every row's FMA: left to itself the
      // compiler may fold its load into each FMA, one vector load per FMA,
      // which binds the loop on the load ports.
      VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) V::keep(bv[v]);
    }
    VGP_GEMM_UNROLL for (int r = 0; r < RN; ++r) {
      if (bias) {
        const R bv = V::bcast(bias + r);
        VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) acc[r][v] = V::add(acc[r][v], bv);
      }
      VGP_GEMM_UNROLL for (int v = 0; v < NV; ++v) {
        T* ct = c + r * ldc + v * W;
        if (full) {
          V::store(ct, acc[r][v]);
        } else if (left[v] > 0) {
          V::store_n(ct, acc[r][v], left[v]);
        }
      }
    }
  }

  // Rows [0, nrows) in tiles of RN rows (RN <= max_rows), split evenly: a
  // tile's RN * NV accumulators are its independent FMA chains, and a
  // remainder tile of one or two rows would wait on the FMA latency.
  template <int NV, int RN>
  VGP_GEMM_INLINE static void tiles(const T* a, index_t ars, index_t aps, const T* b, index_t ldb,
                                    const T* bias, T* c, index_t ldc, index_t r0, index_t r1,
                                    index_t steps, index_t cols) {
    for (index_t r = r0; r < r1; r += RN) {
      tile<RN, NV>(a + r * ars, ars, aps, b, ldb, bias ? bias + r : nullptr, c + r * ldc, ldc,
                   steps, cols);
    }
  }

  template <int NV, int... RN>
  VGP_GEMM_INLINE static void strip(const T* a, index_t ars, index_t aps, const T* b, index_t ldb,
                                    const T* bias, T* c, index_t ldc, index_t nrows,
                                    index_t steps, index_t cols, std::integer_sequence<int, RN...>) {
    constexpr index_t max_rows = sizeof...(RN);
    const index_t ntiles = (nrows + max_rows - 1) / max_rows;
    // ntiles tiles of `small` or `small + 1` rows, the larger ones first.
    const index_t small = nrows / ntiles, larger = nrows % ntiles;
    const index_t split = larger * (small + 1);
    ((RN + 1 == small + 1 ? tiles<NV, RN + 1>(a, ars, aps, b, ldb, bias, c, ldc, 0, split, steps,
                                              cols)
                          : void()),
     ...);
    ((RN + 1 == small ? tiles<NV, RN + 1>(a, ars, aps, b, ldb, bias, c, ldc, split, nrows, steps,
                                          cols)
                      : void()),
     ...);
  }

  VGP_GEMM_TARGET static void rows(const T* a, index_t ars, index_t aps, const T* b, index_t ldb,
                                   const T* bias, T* c, index_t ldc, index_t nrows,
                                   index_t steps, index_t cols) {
    for (index_t j0 = 0; j0 < cols; j0 += 2 * W) {
      const index_t n = std::min<index_t>(2 * W, cols - j0);
      if (n <= W) {
        strip<1>(a, ars, aps, b + j0, ldb, bias, c + j0, ldc, nrows, steps, n,
                 std::make_integer_sequence<int, kMaxRows1>{});
      } else {
        strip<2>(a, ars, aps, b + j0, ldb, bias, c + j0, ldc, nrows, steps, n,
                 std::make_integer_sequence<int, kMaxRows2>{});
      }
    }
  }
};

}  // namespace
}  // namespace vgp::ops::gemm_detail

#include "ops/gemm/blocked.h"

namespace vgp::ops::gemm_detail {
namespace {

// A register tile MR x NV vectors, as a type (KernelSet's parameters).
template <int MR, int NV>
struct Tile {};

template <class V, int MR, int NV>
GemmTileKernel<typename V::T> tile_entry(Tile<MR, NV>) {
  return {{MR, NV}, NV * V::W, &GemmBlocked<V, MR, NV>::blocked};
}

// The table of one dtype's kernel set: the small path with SR rows and the
// blocked path for each register tile, in the tile model's order of
// preference.
template <class V, int SR, class... Tiles>
struct KernelSet {
  using T = typename V::T;
  static const GemmKernels<T>* table(const char* name) {
    static const GemmTileKernel<T> tiles[] = {tile_entry<V>(Tiles{})...};
    static const GemmKernels<T> t{name,
                                  V::kIsa,
                                  V::W,
                                  V::kRegs,
                                  V::kEmbeddedBroadcast,
                                  tiles,
                                  static_cast<int>(sizeof...(Tiles)),
                                  SR,
                                  V::W,
                                  &GemmSmall<V, SR>::small,
                                  &GemmSmall<V, SR>::small_scratch_elems,
                                  &GemmRows<V>::rows,
                                  &GemmCommon<V>::transpose,
                                  NarrowKernels<V>::backward_for,
                                  NarrowKernels<V>::forward_for};
    return &t;
  }
};

}  // namespace
}  // namespace vgp::ops::gemm_detail

// Defines `fn<T>()` (declared in kernels.h) returning the table of FloatSet
// or DoubleSet, and instantiates it for both dtypes.
#define VGP_GEMM_DEFINE_KERNEL_SETS(fn, name, FloatSet, DoubleSet)                        \
  template <typename T>                                                                 \
  const GemmKernels<T>* fn() {                                                          \
    return std::conditional_t<std::is_same_v<T, float>, FloatSet, DoubleSet>::table(name); \
  }                                                                                     \
  template const GemmKernels<float>* fn<float>();                                       \
  template const GemmKernels<double>* fn<double>();
