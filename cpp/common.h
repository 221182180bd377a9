// Shared definitions for the native kernels: index type, accumulation type,
// OpenMP helpers and the thresholds below which work stays serial.
//
// Threading contract (DESIGN.md): results never depend on the number of
// threads. Elementwise loops split rows; reductions over the batch give each
// thread whole columns/features and sum them serially in a fixed order, in
// double (acc_t). No atomics, no critical sections.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace vgp {

using index_t = std::int64_t;

// Sums over the batch accumulate in double whatever T is (PyTorch acc_type).
using acc_t = double;

// Single-core work, in nanoseconds, below which a loop runs on one thread
// (ops/parallel.h estimates a loop's work from the data it moves). Entering a
// parallel region costs a fork and a join: about a microsecond while the
// pool's threads still spin, tens of microseconds once they sleep (a futex
// wake-up, slower in a virtual machine), and up to a scheduler time slice
// (milliseconds) when another process holds a core the region needs, while
// the threads that did start spin at the join. A region must carry work that
// dwarfs a wake-up even on a quiet machine: 64 us, so that two threads save
// 32 us; each further thread must bring 32 us more (threads_for).
constexpr double kParMinNs = 64000.0;
// Multiply-adds below which a GEMM stays on one thread (ops/gemm.cpp).
constexpr index_t kParMinGemm = index_t{1} << 17;

// Number of threads our parallel regions use. Starts at OpenMP's default
// (OMP_NUM_THREADS honoured); changed by set_num_threads. It is a process-wide
// value read by every region through num_threads(), so it also applies to
// calls made from Python threads other than the one that set it.
int get_num_threads();
void set_num_threads(int n);
bool openmp_enabled();

// The threshold in effect: kParMinNs unless set (tests set 0, which sends
// every loop of more than one block through its threaded path).
double parallel_min_ns();
void set_parallel_min_ns(double ns);

// Threads worth using for `work_ns` of single-core work: 1 below
// parallel_min_ns(), otherwise one per half of it, at most the setting.
int threads_for(double work_ns);

// Parallel regions entered by the kernels' loop shapes and reductions (the
// GEMM keeps its own split): a count for tests, which check that the step of a
// small network enters none.
void count_parallel_region();
std::int64_t parallel_regions();

// One value of an enum and the name Python knows it by. Each enum whose
// integer codes cross into Python keeps a table of these beside its
// definition; the bindings export the table (vgp_native._core.*_CODES) and
// check codes against it, so no code is ever typed twice.
template <typename E>
struct EnumName {
  E value;
  const char* name;
};

// The entry of `table` with integer code `code`, or null.
template <typename E, std::size_t N>
constexpr const EnumName<E>* find_code(const EnumName<E> (&table)[N], int code) {
  for (const EnumName<E>& e : table) {
    if (static_cast<int>(e.value) == code) return &e;
  }
  return nullptr;
}

// The entry of `table` named `name`, or null.
template <typename E, std::size_t N>
constexpr const EnumName<E>* find_name(const EnumName<E> (&table)[N], std::string_view name) {
  for (const EnumName<E>& e : table) {
    if (name == e.name) return &e;
  }
  return nullptr;
}

// True when entry i of `table` has code i for every i: the table lists every
// code of 0..N-1 once, in order (checked with static_assert where it matters).
template <typename E, std::size_t N>
constexpr bool codes_are_dense(const EnumName<E> (&table)[N]) {
  for (std::size_t i = 0; i < N; ++i) {
    if (static_cast<std::size_t>(table[i].value) != i) return false;
  }
  return true;
}

}  // namespace vgp

#define VGP_PRAGMA(x) _Pragma(#x)
#ifdef _OPENMP
// Parallel static loop over the next `for`, only when `cond` holds.
#define VGP_OMP_FOR(cond) \
  VGP_PRAGMA(omp parallel for schedule(static) if (cond) num_threads(::vgp::get_num_threads()))
#else
#define VGP_OMP_FOR(cond)
#endif
