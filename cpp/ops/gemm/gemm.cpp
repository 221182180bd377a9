// GEMM driver: chooses between the small (unpacked) and the blocked (packed)
// path, splits C among threads and hands each thread its scratch memory. The
// kernel set, register tile and blocks come from config.h (the CPU through
// the models of blocking.h); the kernels themselves are described in impl.h
// and blocked.h.
//
// Small or blocked: packing costs O(m k + k n) against O(m n k) of arithmetic,
// so it does not pay when the product is small or when one side is thin. The
// unpacked path reads A and B in place and reaches the FMA peak while they
// sit in cache; what it cannot survive is a large power-of-two leading
// dimension with a large k (its rows then fight over a few L1 sets), which is
// where the packed path's contiguous panels win. Measured crossovers on Zen 4
// (one thread, float): 128^3 unpacked 116 vs packed 102 GFLOP/s; 512^3 106 vs
// 109; (1024, 16, 1024) 117 vs 53; (64, 1024, 64) 52 vs 92.
//
// Parallel split: C is cut into a tm x tn grid of rectangles on tile
// boundaries, one per thread, and every thread runs the serial small or
// blocked product on its rectangle (with its own packed panels), so there is
// no barrier and no shared scratch. Packing is duplicated across the grid (each thread
// packs the A rows or B columns it needs), which costs O((m + n) k) against
// O(m n k) of arithmetic; the grid shape minimises that sum. The sum over k
// for an element never depends on the grid (blocked.h), so 1 thread and N
// threads give the same bits. Products smaller than kGemmParMin stay serial.
//
// Scratch: one grow-only, 64-byte-aligned buffer per calling OS thread
// (thread_local), sliced per OpenMP thread. It is sized before the parallel
// region, so an allocation failure is a std::bad_alloc in the caller, and two
// Python threads calling gemm at once never share scratch.
#include "ops/gemm/gemm.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <new>

#include "ops/gemm/config.h"
#include "ops/gemm/profile.h"

namespace vgp::ops {
namespace {

using gemm_detail::GemmArgs;
using gemm_detail::GemmSetup;

// Multiply-adds up to which the unpacked path is used whatever the shape.
constexpr index_t kSmallWork = index_t{1} << 21;

// Elements of op(B) up to which the unpacked path may copy it transposed.
constexpr index_t kSmallTransposeMax = index_t{1} << 18;

// The unpacked path for small products, for C at most one vector wide (packing
// A would cost as much as the product) and for at most one micro-tile of rows
// (likewise for B). With trans_b it works on a transposed copy of op(B),
// which for a large B costs more than the packed path's bounded panels.
template <typename T>
bool use_small(const GemmSetup<T>& setup, const GemmArgs<T>& g) {
  if (g.k == 0) return true;
  const bool thin =
      g.m * g.n * g.k <= kSmallWork || g.n <= setup.ks->sw || g.m <= setup.blocks.mr;
  return thin && !(g.trans_b && g.n * g.k > kSmallTransposeMax);
}

// Multiply-adds below which a GEMM stays on one thread. Twice common.h's
// kParMinGemm: on Zen 4 two threads measured 0.7-0.8x of one at 2^17
// (32 x 64 x 64, 2-5 us: the fork/join and the second thread's cold caches
// cost more than half the work), 1.1x (float) to 1.5x (double) at 2^18, and
// 1.8x at 2^21.
constexpr index_t kGemmParMin = 2 * kParMinGemm;

class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(data_); }

  // At least `bytes` bytes, 64-byte aligned; contents unspecified.
  void* get(std::size_t bytes) {
    if (bytes > size_) {
      const std::size_t size = (bytes + 4095) / 4096 * 4096;
      void* fresh = std::aligned_alloc(64, size);
      if (!fresh) throw std::bad_alloc();
      std::free(data_);
      data_ = fresh;
      size_ = size;
    }
    return data_;
  }

 private:
  void* data_ = nullptr;
  std::size_t size_ = 0;
};

thread_local Scratch tls_scratch;

index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

// Grid of tm x tn rectangles for nt threads over pm x pn micro-tiles.
struct Grid {
  int tm = 1;
  int tn = 1;
};

Grid choose_grid(index_t pm, index_t pn, index_t mr, index_t nr, int nt) {
  Grid best;
  double best_cost = -1.0;
  for (int tn = 1; tn <= nt; ++tn) {
    if (nt % tn != 0) continue;
    const int tm = nt / tn;
    const double rows = static_cast<double>(ceil_div(pm, tm) * mr);
    const double cols = static_cast<double>(ceil_div(pn, tn) * nr);
    // Per-thread arithmetic plus its packing, in multiply-add equivalents.
    const double cost = rows * cols + 16.0 * (rows + cols);
    if (best_cost < 0.0 || cost < best_cost) {
      best_cost = cost;
      best.tm = tm;
      best.tn = tn;
    }
  }
  return best;
}

// The [begin, end) range of part `i` of `parts` over `tiles` tiles of size
// `tile`, clipped to `total`.
void part_range(index_t tiles, int parts, int i, index_t tile, index_t total, index_t& begin,
                index_t& end) {
  begin = std::min(total, tiles * i / parts * tile);
  end = std::min(total, tiles * (i + 1) / parts * tile);
}

int thread_id() {
#ifdef _OPENMP
  return omp_get_thread_num();
#else
  return 0;
#endif
}

int team_size() {
#ifdef _OPENMP
  return omp_get_num_threads();
#else
  return 1;
#endif
}

// Threads a GEMM may use: the process-wide setting, or 1 without OpenMP.
int max_threads() {
#ifdef _OPENMP
  return get_num_threads();
#else
  return 1;
#endif
}

// Runs the small or the blocked path on a tm x tn grid of rectangles of C.
template <typename T>
void run(const GemmSetup<T>& setup, const GemmArgs<T>& g, bool small) {
  const gemm_detail::GemmKernels<T>& ks = *setup.ks;
  const GemmBlocks& blk = setup.blocks;
  const index_t tile_m = small ? ks.sr : blk.mr, tile_n = small ? ks.sw : blk.nr;
  const index_t pm = ceil_div(g.m, tile_m), pn = ceil_div(g.n, tile_n);
  const index_t work = g.m * g.n * g.k;
  const int nt =
      work >= kGemmParMin ? static_cast<int>(std::min<index_t>(max_threads(), pm * pn)) : 1;
  const Grid grid = choose_grid(pm, pn, tile_m, tile_n, nt);
  const index_t rows = ceil_div(pm, grid.tm) * tile_m, cols = ceil_div(pn, grid.tn) * tile_n;
  const index_t per_thread = small ? ks.small_scratch_elems(g.trans_b, cols, g.k)
                                   : gemm_detail::gemm_scratch_elems(blk, rows, cols, g.k);
  // Slices start on 64-byte boundaries (16 elements cover both dtypes).
  const index_t stride = ceil_div(per_thread, 16) * 16;
  T* scratch = static_cast<T*>(tls_scratch.get(sizeof(T) * stride * nt));
  const auto blocked = setup.tile->blocked;
  const auto body = [&](index_t i0, index_t i1, index_t j0, index_t j1, T* part) {
    if (small) {
      ks.small(g, i0, i1, j0, j1, part);
    } else {
      blocked(g, blk, i0, i1, j0, j1, part);
    }
  };
  if (nt == 1) {
    body(0, g.m, 0, g.n, scratch);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel num_threads(nt)
#endif
  {
    // The team may be smaller than asked (a call from inside another
    // parallel region, OMP_THREAD_LIMIT, OMP_DYNAMIC): every rectangle is
    // still computed, by thread r % team.
    const int tid = thread_id(), team = team_size();
    for (int r = tid; r < nt; r += team) {
      index_t i0, i1, j0, j1;
      part_range(pm, grid.tm, r / grid.tn, tile_m, g.m, i0, i1);
      part_range(pn, grid.tn, r % grid.tn, tile_n, g.n, j0, j1);
      if (i0 < i1 && j0 < j1) body(i0, i1, j0, j1, scratch + stride * tid);
    }
  }
}

// Wall time of f() in nanoseconds (for the profile).
template <typename F>
std::int64_t timed_ns(const F& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() -
                                                              t0)
      .count();
}

}  // namespace

template <typename T>
void gemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, const T* a, index_t lda,
          const T* b, index_t ldb, T* c, index_t ldc, bool accumulate,
          const GemmEpilogue<T>* epilogue) {
  if (m <= 0 || n <= 0) return;
  const GemmArgs<T> g{trans_a, trans_b, m,   n,   std::max<index_t>(k, 0), a,
                      lda,     b,       ldb, c,   ldc,                     accumulate,
                      epilogue};
  const GemmSetup<T>& setup = gemm_detail::gemm_setup<T>();
  if (!gemm_detail::profiling()) {
    run(setup, g, use_small(setup, g));
    return;
  }
  const std::int64_t ns = timed_ns([&] { run(setup, g, use_small(setup, g)); });
  gemm_detail::profile_record(m, n, g.k, trans_a, trans_b, sizeof(T), ns);
}

template <typename T>
void gemm_rows(const T* a, index_t ars, index_t aps, const T* b, index_t ldb, const T* bias, T* c,
               index_t ldc, index_t nrows, index_t steps, index_t cols) {
  if (nrows <= 0 || cols <= 0) return;
  steps = std::max<index_t>(steps, 0);
  const auto rows = gemm_detail::gemm_setup<T>().ks->rows;
  if (!gemm_detail::profiling()) {
    rows(a, ars, aps, b, ldb, bias, c, ldc, nrows, steps, cols);
    return;
  }
  // Profiled as the GEMM of the same shape: op(A) is a (nrows, steps) matrix,
  // stored transposed when its row stride is 1 and its step stride is not.
  const std::int64_t ns =
      timed_ns([&] { rows(a, ars, aps, b, ldb, bias, c, ldc, nrows, steps, cols); });
  gemm_detail::profile_record(nrows, cols, steps, aps != 1, false, sizeof(T), ns);
}

template <typename T>
void gemm_transpose(const T* src, index_t rows, index_t cols, T* dst) {
  if (rows <= 0 || cols <= 0) return;
  gemm_detail::gemm_setup<T>().ks->transpose(src, cols, rows, cols, dst, rows);
}

template <typename T>
NarrowKernelPair<T> gemm_narrow_kernels(index_t in, index_t out) {
  const gemm_detail::GemmKernels<T>* ks = gemm_detail::gemm_setup<T>().ks;
  if (!ks->narrow_forward_for || in < 1 || out < 1 || in > 16 || out > 16) return {};
  return {ks->narrow_forward_for(in, out), ks->narrow_backward_for(in, out)};
}

namespace gemm_detail {

// Profiled as its two GEMMs, dw = x^T dz and dx^T = w dz^T, the time split
// between them by their multiply-adds (one when dx is not asked for).
template <typename T>
void narrow_backward_profiled(NarrowBackwardFn<T> fn, const T* xt, const T* dzt, const T* w,
                              index_t in, index_t out, index_t batch, T* dw, T* db, T* dxt,
                              const T* sy) {
  const std::int64_t ns = timed_ns([&] { fn(xt, dzt, w, in, out, batch, dw, db, dxt, sy); });
  const std::int64_t dx_ns = dxt ? ns / 2 : 0;  // both products are in x out x batch
  profile_record(in, out, batch, false, true, sizeof(T), ns - dx_ns);
  if (dxt) profile_record(in, batch, out, false, false, sizeof(T), dx_ns);
}

// Profiled as the GEMM z^T = w^T x^T.
template <typename T>
void narrow_forward_profiled(NarrowForwardFn<T> fn, const T* xt, const T* w, const T* bias,
                             index_t in, index_t out, index_t batch, T* zt) {
  const std::int64_t ns = timed_ns([&] { fn(xt, w, bias, in, out, batch, zt); });
  profile_record(out, batch, in, true, false, sizeof(T), ns);
}

#define VGP_NARROW_PROFILED(T)                                                                \
  template void narrow_forward_profiled<T>(NarrowForwardFn<T>, const T*, const T*, const T*,  \
                                           index_t, index_t, index_t, T*);                    \
  template void narrow_backward_profiled<T>(NarrowBackwardFn<T>, const T*, const T*, const T*, \
                                            index_t, index_t, index_t, T*, T*, T*, const T*);
VGP_NARROW_PROFILED(float)
VGP_NARROW_PROFILED(double)
#undef VGP_NARROW_PROFILED

}  // namespace gemm_detail

template NarrowKernelPair<float> gemm_narrow_kernels<float>(index_t, index_t);
template NarrowKernelPair<double> gemm_narrow_kernels<double>(index_t, index_t);
template void gemm_transpose<float>(const float*, index_t, index_t, float*);
template void gemm_transpose<double>(const double*, index_t, index_t, double*);
template void gemm_rows<float>(const float*, index_t, index_t, const float*, index_t,
                               const float*, float*, index_t, index_t, index_t, index_t);
template void gemm_rows<double>(const double*, index_t, index_t, const double*, index_t,
                                const double*, double*, index_t, index_t, index_t, index_t);

template void gemm<float>(bool, bool, index_t, index_t, index_t, const float*, index_t,
                          const float*, index_t, float*, index_t, bool,
                          const GemmEpilogue<float>*);
template void gemm<double>(bool, bool, index_t, index_t, index_t, const double*, index_t,
                           const double*, index_t, double*, index_t, bool,
                           const GemmEpilogue<double>*);

}  // namespace vgp::ops
