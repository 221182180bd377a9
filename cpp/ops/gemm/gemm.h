// General matrix product for the three products training needs:
//   forward   Y  = X  · W      (gemm(false, false, ...))
//   backward  dX = dY · W^T    (gemm(false, true,  ...))
//             dW = X^T · dY    (gemm(true,  false, ...))
//
// C (m x n) = op(A) (m x k) · op(B) (k x n)  [+ C if accumulate], all row-major,
// with leading dimensions lda/ldb/ldc in elements. op(A) = A (m x k, lda >= k)
// or A^T (A stored k x m, lda >= m); likewise for B.
//
// An optional epilogue runs on each finished tile of C while it is still in
// cache: C += bias (one value per column), then post = act(C) for an
// elementwise activation (post may equal C, or be a separate buffer with its
// own leading dimension ldpost).
//
// Implementation: BLIS/OpenBLAS style. B is packed into k x NR panels and A
// into MR x k panels per (KC, MC, NC) block, and a register-tiled micro-kernel
// computes MR x NR tiles. The kernel set is chosen once at run time
// (AVX-512F, AVX2+FMA or portable scalar) with __builtin_cpu_supports; the
// default build is portable. The register tile and the blocks come from the
// CPU's caches and FMA throughput through an analytical model (blocking.h,
// cpu.h). OpenMP splits the (MC x NC) tiles of C among threads when the work
// pays for them; the reduction over k always runs in the same order, so the
// result does not depend on the thread count (it depends on KC, so it may
// differ between CPUs).
#pragma once

#include <string>

#include "common.h"
#include "ops/activation.h"
#include "ops/gemm/profile.h"

namespace vgp::ops {

template <typename T>
struct GemmEpilogue {
  const T* bias = nullptr;  // n values, added to every row of C
  Act act = Act::linear;    // elementwise only (never softmax)
  T* post = nullptr;        // when set: post = act(C + bias); C keeps the pre-activation
  index_t ldpost = 0;
};

template <typename T>
void gemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, const T* a, index_t lda,
          const T* b, index_t ldb, T* c, index_t ldc, bool accumulate,
          const GemmEpilogue<T>* epilogue = nullptr);

// Name of the micro-kernel selected for T on this CPU: "avx512", "avx2" or "scalar".
// The product of a narrow layer with the batch on the vector lanes (the
// feature-major layout, network/narrow.h): for r < nrows and b < cols,
//   c[r * ldc + b] = (sum_{p < steps} a[r * ars + p * aps] * b[p * ldb + b]) + bias[r]
// (no bias when null), serial. Per element the sum is the same fma chain over
// p from 0 that gemm's small path computes, then one addition of the bias, so
// z^T = w^T x^T (ars 1, aps = units) and dx^T = w dz^T (ars = units, aps 1)
// give the bits of the batch-major x w + b and dz w^T.
template <typename T>
void gemm_rows(const T* a, index_t ars, index_t aps, const T* b, index_t ldb, const T* bias, T* c,
               index_t ldc, index_t nrows, index_t steps, index_t cols);

// A narrow layer's pre-activation (in, out <= 16), feature-major:
//   z^T[j][b] = (sum_p w[p * out + j] x^T[p][b]) + bias[j]   (bias may be null),
// the bits of gemm_rows(w, 1, out, x^T, ...). False, and nothing written, where
// the kernel set has no such pass (AVX-512 float and double and AVX2 float have one).
//
// Both narrow passes run the kernels `k` holds, resolved once for the layer's
// shape by gemm_narrow_kernels: a narrow layer's product lasts a few hundred
// nanoseconds, and a dispatch on the kernel set and the shape per call would
// add a tenth.
template <typename T>
using NarrowForwardFn = void (*)(const T* xt, const T* w, const T* bias, index_t in, index_t out,
                                 index_t batch, T* zt);
template <typename T>
using NarrowBackwardFn = void (*)(const T* xt, const T* dzt, const T* w, index_t in, index_t out,
                                  index_t batch, T* dw, T* db, T* dxt, const T* sy);
template <typename T>
struct NarrowKernelPair {
  NarrowForwardFn<T> forward = nullptr;    // null: the kernel set has no narrow pass
  NarrowBackwardFn<T> backward = nullptr;
};
// The kernels for a layer of `in` inputs and `out` outputs (both null outside [1, 16]).
template <typename T>
NarrowKernelPair<T> gemm_narrow_kernels(index_t in, index_t out);

namespace gemm_detail {
// The timed calls of gemm_narrow_forward and gemm_narrow_backward (profile.h).
template <typename T>
void narrow_forward_profiled(NarrowForwardFn<T> fn, const T* xt, const T* w, const T* bias,
                             index_t in, index_t out, index_t batch, T* zt);
template <typename T>
void narrow_backward_profiled(NarrowBackwardFn<T> fn, const T* xt, const T* dzt, const T* w,
                              index_t in, index_t out, index_t batch, T* dw, T* db, T* dxt,
                              const T* sy);
}  // namespace gemm_detail

template <typename T>
inline bool gemm_narrow_forward(const NarrowKernelPair<T>& k, const T* xt, const T* w,
                                const T* bias, index_t in, index_t out, index_t batch, T* zt) {
  if (!k.forward || batch < 1) return false;
  if (gemm_detail::profiling()) {
    gemm_detail::narrow_forward_profiled(k.forward, xt, w, bias, in, out, batch, zt);
  } else {
    k.forward(xt, w, bias, in, out, batch, zt);
  }
  return true;
}

// The gradients of a narrow layer (in, out <= 16) from its input x^T (in,
// batch) and dz^T (out, batch), feature-major, in one pass over dz^T:
//   dw[i * out + j] = sum_b x^T[i][b] dz^T[j][b]   (an fma chain over b from 0),
//   db[j] = sum_b dz^T[j][b] in double, in order   (when db is not null),
//   dx^T[i][b] = sum_j w[i * out + j] dz^T[j][b]   (an fma chain over j from 0;
//                                                   when dxt is not null),
// the bits of x^T dz (gemm's small path), ops::column_sums and gemm_rows; with
// sy (in, batch), the output y^T of a sigmoid layer below, dx^T is stored as
// that layer's dz^T, (dx^T y^T) (1 - y^T) (SigmoidOp::backward's bits). False,
// and nothing written, where the kernel set has no such pass (AVX-512 float and
// double and AVX2 float have one): the caller composes gemm_transpose, gemm_rows
// and column sums.
template <typename T>
inline bool gemm_narrow_backward(const NarrowKernelPair<T>& k, const T* xt, const T* dzt,
                                 const T* w, index_t in, index_t out, index_t batch, T* dw, T* db,
                                 T* dxt, const T* sy = nullptr) {
  if (!k.backward || batch < 1) return false;
  if (gemm_detail::profiling()) {
    gemm_detail::narrow_backward_profiled(k.backward, xt, dzt, w, in, out, batch, dw, db, dxt, sy);
  } else {
    k.backward(xt, dzt, w, in, out, batch, dw, db, dxt, sy);
  }
  return true;
}

// dst (cols, rows) = the transpose of src (rows, cols), both dense, in the
// kernel set's blocked transposition (the one the small path copies op(B) with).
template <typename T>
void gemm_transpose(const T* src, index_t rows, index_t cols, T* dst);

template <typename T>
const char* gemm_kernel_name();

// What gemm<T> runs with on this CPU: kernel set, register tile, blocks, and
// whether they come from the model or from VGP_GEMM_BLOCKING.
struct GemmConfigInfo {
  const char* kernel;
  index_t mr, nr, kc, mc, nc;
  index_t panel_level;  // where the model keeps the micro-panels: 1 (L1), 2 (L2), 0 (KC overridden)
  bool overridden;
};
template <typename T>
GemmConfigInfo gemm_config();

// The error in VGP_GEMM_BLOCKING, or "" when it is unset or valid.
std::string gemm_config_error();

}  // namespace vgp::ops
