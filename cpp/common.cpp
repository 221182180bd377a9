#include "common.h"

#include <atomic>

namespace vgp {
namespace {

int initial_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

std::atomic<int>& thread_setting() {
  static std::atomic<int> n{initial_threads()};
  return n;
}

std::atomic<double>& min_ns_setting() {
  static std::atomic<double> ns{kParMinNs};
  return ns;
}

std::atomic<std::int64_t>& region_count() {
  static std::atomic<std::int64_t> n{0};
  return n;
}

}  // namespace

int get_num_threads() { return thread_setting().load(std::memory_order_relaxed); }

void set_num_threads(int n) { thread_setting().store(n < 1 ? 1 : n, std::memory_order_relaxed); }

double parallel_min_ns() { return min_ns_setting().load(std::memory_order_relaxed); }

void set_parallel_min_ns(double ns) {
  min_ns_setting().store(ns > 0.0 ? ns : 0.0, std::memory_order_relaxed);
}

int threads_for(double work_ns) {
  const int nt = get_num_threads();
  const double min_ns = parallel_min_ns();
  if (nt <= 1 || work_ns < min_ns) return 1;
  if (min_ns <= 0.0) return nt;
  const double worth = 2.0 * work_ns / min_ns;  // >= 2 here
  return worth >= static_cast<double>(nt) ? nt : static_cast<int>(worth);
}

void count_parallel_region() { region_count().fetch_add(1, std::memory_order_relaxed); }

std::int64_t parallel_regions() { return region_count().load(std::memory_order_relaxed); }

bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace vgp
