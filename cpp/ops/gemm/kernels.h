// Internal interface between the GEMM driver (gemm.cpp: dispatch, threading,
// scratch memory) and the per-instruction-set kernel sets (avx512.cpp,
// avx2.cpp, scalar.cpp, all built from impl.h).
//
// A kernel set is a table of plain function pointers, so the driver stays
// portable code and only the functions behind the pointers carry
// __attribute__((target(...))). The driver picks one table per dtype, once.
//
// Neither entry point allocates or starts threads: the driver hands each
// thread a rectangle of C and a slice of scratch memory it sized with
// scratch_elems / small_scratch_elems, so allocation failures surface as
// std::bad_alloc before any parallel region starts.
#pragma once

#include "common.h"
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

template <typename T>
struct GemmKernels {
  const char* name;  // "avx512", "avx2" or "scalar"
  // Tile of the blocked path (MR x NR) and of the small path (SR x W): a
  // thread's rectangle starts on a multiple of these.
  index_t mr, nr, sr, sw;
  // Packed, blocked product for rows [i0, i1) and columns [j0, j1) of C,
  // epilogue included. Serial; `scratch` holds scratch_elems(i1 - i0,
  // j1 - j0, k) elements aligned to 64 bytes.
  void (*blocked)(const GemmArgs<T>& g, index_t i0, index_t i1, index_t j0, index_t j1,
                  T* scratch);
  index_t (*scratch_elems)(index_t rows, index_t cols, index_t k);
  // The same without packing (tiny and skinny shapes, and k = 0).
  void (*small)(const GemmArgs<T>& g, index_t i0, index_t i1, index_t j0, index_t j1,
                T* scratch);
  index_t (*small_scratch_elems)(bool trans_b, index_t cols, index_t k);
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
