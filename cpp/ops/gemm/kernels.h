// Internal interface between the GEMM driver (gemm.cpp: dispatch, blocking,
// threading, scratch memory) and the per-instruction-set kernel sets
// (avx512.cpp, avx2.cpp, scalar.cpp, all built from impl.h).
//
// A kernel set is a table of plain function pointers, so the driver stays
// portable code and only the functions behind the pointers carry
// __attribute__((target(...))). The driver picks one table per dtype and one
// of its register tiles, once.
//
// Neither entry point allocates or starts threads: the driver hands each
// thread a rectangle of C and a slice of scratch memory it sized itself
// (gemm_scratch_elems below, small_scratch_elems), so allocation failures
// surface as std::bad_alloc before any parallel region starts.
#pragma once

#include <algorithm>

#include "common.h"
#include "ops/gemm/blocking.h"
#include "ops/gemm/cpu.h"
#include "ops/gemm/gemm.h"

// The AVX2 and AVX-512 sets exist only where the compiler targets x86 and
// understands __attribute__((target(...))) and __builtin_cpu_supports.
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define VGP_GEMM_X86 1
#else
#define VGP_GEMM_X86 0
#endif

namespace vgp::ops::gemm_detail {

// One call's arguments, exactly as gemm() received them.
template <typename T>
struct GemmArgs {
  bool trans_a;
  bool trans_b;
  index_t m, n, k;
  const T* a;
  index_t lda;
  const T* b;
  index_t ldb;
  T* c;
  index_t ldc;
  bool accumulate;
  const GemmEpilogue<T>* epilogue;  // nullptr: none
};

// Packed, blocked product for rows [i0, i1) and columns [j0, j1) of C,
// epilogue included, with the blocks `blk` (its mr and nr are the tile's).
// Serial; `scratch` holds gemm_scratch_elems(blk, i1 - i0, j1 - j0, k)
// elements aligned to 64 bytes.
template <typename T>
using GemmBlockedFn = void (*)(const GemmArgs<T>& g, const GemmBlocks& blk, index_t i0,
                               index_t i1, index_t j0, index_t j1, T* scratch);

// Elements of one A block (rounded to 64 bytes) then one B block.
inline index_t gemm_a_block_elems(const GemmBlocks& blk, index_t rows, index_t k) {
  const index_t a = std::min(blk.mc, (rows + blk.mr - 1) / blk.mr * blk.mr) *
                    gemm_kc_for(k, blk.kc);
  return (a + 15) / 16 * 16;
}

inline index_t gemm_scratch_elems(const GemmBlocks& blk, index_t rows, index_t cols, index_t k) {
  return gemm_a_block_elems(blk, rows, k) +
         std::min(blk.nc, (cols + blk.nr - 1) / blk.nr * blk.nr) * gemm_kc_for(k, blk.kc);
}

// One register tile of a kernel set.
template <typename T>
struct GemmTileKernel {
  GemmTileShape shape;  // MR x NV vectors
  index_t nr;           // NV x lanes
  GemmBlockedFn<T> blocked;
};

template <typename T>
struct GemmKernels {
  const char* name;  // "avx512", "avx2" or "scalar"
  SimdIsa isa;
  index_t lanes, vregs;
  bool embedded_bcast;
  // The instantiated tiles, in the order the tile model prefers them.
  const GemmTileKernel<T>* tiles;
  int num_tiles;
  // Tile of the small path (SR x W): a thread's rectangle starts on a
  // multiple of it.
  index_t sr, sw;
  // The product without packing (tiny and skinny shapes, and k = 0).
  void (*small)(const GemmArgs<T>& g, index_t i0, index_t i1, index_t j0, index_t j1,
                T* scratch);
  index_t (*small_scratch_elems)(bool trans_b, index_t cols, index_t k);
  // The feature-major product of narrow layers (gemm_rows, gemm.h).
  void (*rows)(const T* a, index_t ars, index_t aps, const T* b, index_t ldb, const T* bias, T* c,
               index_t ldc, index_t nrows, index_t steps, index_t cols);
  // dst[q * ldd + r] = src[r * lds + q] for r < rows, q < cols (gemm_transpose).
  void (*transpose)(const T* src, index_t lds, index_t rows, index_t cols, T* dst, index_t ldd);
  // A narrow layer's weight and input gradients in one pass
  // (gemm_narrow_backward) and its z^T = w^T x^T + b (gemm_narrow_forward):
  // the kernels for a shape (in, out in [1, 16]), specialized for it
  // (gemm_narrow_kernels); null where the kernel set has none.
  NarrowBackwardFn<T> (*narrow_backward_for)(index_t in, index_t out);
  NarrowForwardFn<T> (*narrow_forward_for)(index_t in, index_t out);
};

// The kernel set's narrow kernels by shape (narrow_forward_for,
// narrow_backward_for), by vector type: none unless an ISA file specializes
// this before defining its kernel sets.
template <class V>
struct NarrowKernels {
  using T = typename V::T;
  static constexpr NarrowBackwardFn<T> (*backward_for)(index_t, index_t) = nullptr;
  static constexpr NarrowForwardFn<T> (*forward_for)(index_t, index_t) = nullptr;
};

// The kernel sets compiled into this build. Whether the CPU running the code
// supports an instruction set is the caller's question.
template <typename T>
const GemmKernels<T>* gemm_kernels_scalar();
#if VGP_GEMM_X86
template <typename T>
const GemmKernels<T>* gemm_kernels_avx2();
template <typename T>
const GemmKernels<T>* gemm_kernels_avx512();
#endif

}  // namespace vgp::ops::gemm_detail
