// What the GEMM needs to know about the CPU it runs on, detected once at run
// time: vendor and model, the data caches (size, associativity, line, how
// many logical CPUs share each), the widest vector instruction set the CPU
// and the OS support, and how many FMAs of each width the core issues per
// cycle.
//
// Caches: CPUID leaf 4 (Intel) or 0x8000001D (AMD, with the TOPOEXT flag)
// first, the kernel's /sys/devices/system/cpu/cpu0/cache/ otherwise (other
// architectures, hypervisors that hide the leaves), and a conservative
// default (32 KiB 8-way L1d, 512 KiB 8-way L2, no L3) when neither answers.
//
// FMA throughput is not in CPUID; it comes from a table of the vendor's
// families and models (see fma_model in cpu.cpp). A short timed calibration
// would also tell, but its answer could change from one run to the next on a
// busy machine, and with it the blocking and the rounding of every product:
// results must stay identical run after run, so the table decides.
#pragma once

#include <string>

#include "common.h"

namespace vgp::ops {

// One level of data (or unified) cache; size 0 when the level is absent.
struct CpuCache {
  index_t size = 0;     // bytes
  index_t ways = 0;     // associativity (a fully associative cache reports size / line)
  index_t line = 64;    // bytes
  index_t sharing = 1;  // logical CPUs sharing this cache
};

enum class SimdIsa : int { scalar = 0, avx2 = 1, avx512 = 2 };

const char* simd_isa_name(SimdIsa isa);

struct CpuInfo {
  std::string vendor;  // "GenuineIntel", "AuthenticAMD", ... ("" when unknown)
  std::string brand;   // the processor brand string
  int family = 0, model = 0, stepping = 0;  // display family / model (extended fields folded in)
  int logical_cpus = 1;
  CpuCache l1d, l2, l3;
  std::string cache_source;  // "cpuid 4", "cpuid 0x8000001d", "sysfs" or "default"
  SimdIsa isa = SimdIsa::scalar;  // widest supported: AVX-512F > AVX2+FMA > scalar
  // FMA instructions issued per cycle at each vector width (0: not supported),
  // and the FMA latency in cycles.
  int fma256_per_cycle = 0;
  int fma512_per_cycle = 0;
  int fma_latency = 4;
  std::string fma_class;  // e.g. "512-bit FMA as two 256-bit halves (1 per cycle)"
};

// Detected at the first call, then cached.
const CpuInfo& cpu_info();

}  // namespace vgp::ops
