// CPU detection for the GEMM (see cpu.h).
#include "ops/gemm/cpu.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include "ops/gemm/kernels.h"

#if VGP_GEMM_X86
#include <cpuid.h>
#endif

namespace vgp::ops {
namespace {

std::string trim(std::string s) {
  const auto keep = [](unsigned char ch) { return ch > ' '; };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), keep));
  s.erase(std::find_if(s.rbegin(), s.rend(), keep).base(), s.end());
  return s;
}

// ---- CPUID ------------------------------------------------------------------

#if VGP_GEMM_X86
struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

// False when the leaf is beyond the CPU's highest basic or extended leaf.
bool cpuid(unsigned leaf, unsigned sub, Regs& r) {
  return __get_cpuid_count(leaf, sub, &r.a, &r.b, &r.c, &r.d) != 0;
}

void identify(CpuInfo& info) {
  Regs r;
  if (!cpuid(0, 0, r)) return;
  char vendor[13] = {};
  std::memcpy(vendor, &r.b, 4);
  std::memcpy(vendor + 4, &r.d, 4);
  std::memcpy(vendor + 8, &r.c, 4);
  info.vendor = vendor;
  if (cpuid(1, 0, r)) {
    const int base_family = (r.a >> 8) & 0xF, base_model = (r.a >> 4) & 0xF;
    info.stepping = static_cast<int>(r.a & 0xF);
    info.family = base_family == 0xF ? base_family + static_cast<int>((r.a >> 20) & 0xFF)
                                     : base_family;
    info.model = base_family == 0x6 || base_family == 0xF
                     ? base_model + static_cast<int>(((r.a >> 16) & 0xF) << 4)
                     : base_model;
  }
  char brand[49] = {};
  for (unsigned i = 0; i < 3; ++i) {
    if (!cpuid(0x80000002u + i, 0, r)) break;
    std::memcpy(brand + 16 * i, &r, 16);
  }
  info.brand = trim(brand);
}

// Leaf 4 (Intel) and 0x8000001D (AMD) share one layout: EAX type, level,
// sharing; EBX line, partitions, ways; ECX sets.
bool caches_from_cpuid(unsigned leaf, CpuInfo& info) {
  Regs r;
  bool any = false;
  for (unsigned sub = 0; sub < 16 && cpuid(leaf, sub, r); ++sub) {
    const unsigned type = r.a & 0x1F, level = (r.a >> 5) & 0x7;
    if (type == 0) break;
    if (type == 2) continue;  // instruction cache
    CpuCache c;
    c.line = static_cast<index_t>((r.b & 0xFFF) + 1);
    const index_t partitions = ((r.b >> 12) & 0x3FF) + 1;
    c.ways = static_cast<index_t>(((r.b >> 22) & 0x3FF) + 1);
    const index_t sets = static_cast<index_t>(r.c) + 1;
    c.size = c.line * partitions * c.ways * sets;
    if ((r.a >> 9) & 1) c.ways = c.size / c.line;  // fully associative
    c.sharing = static_cast<index_t>(((r.a >> 14) & 0xFFF) + 1);
    if (level == 1) info.l1d = c;
    if (level == 2) info.l2 = c;
    if (level == 3) info.l3 = c;
    any = any || level == 1;
  }
  return any && info.l1d.size > 0 && info.l1d.ways > 0;
}

bool caches_from_cpuid(CpuInfo& info) {
  Regs r;
  if (info.vendor == "AuthenticAMD" || info.vendor == "HygonGenuine") {
    // Leaf 0x8000001D exists with TOPOEXT (CPUID 0x80000001 ECX bit 22).
    if (cpuid(0x80000001u, 0, r) && ((r.c >> 22) & 1) && caches_from_cpuid(0x8000001Du, info)) {
      info.cache_source = "cpuid 0x8000001d";
      return true;
    }
    return false;
  }
  if (caches_from_cpuid(4, info)) {
    info.cache_source = "cpuid 4";
    return true;
  }
  return false;
}

SimdIsa detect_isa() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return SimdIsa::scalar;
  return __builtin_cpu_supports("avx512f") ? SimdIsa::avx512 : SimdIsa::avx2;
}
#else
void identify(CpuInfo&) {}
bool caches_from_cpuid(CpuInfo&) { return false; }
SimdIsa detect_isa() { return SimdIsa::scalar; }
#endif

// ---- /sys and /proc -----------------------------------------------------------

std::string read_line(const std::string& path) {
  std::ifstream f(path);
  std::string s;
  if (f) std::getline(f, s);
  return trim(s);
}

// "32K", "1024K", "32M" or a plain byte count; 0 when unreadable.
index_t parse_size(const std::string& s) {
  if (s.empty() || s[0] < '0' || s[0] > '9') return 0;
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  const char unit = *end;
  const index_t scale = unit == 'K' ? 1024 : unit == 'M' ? 1024 * 1024 : unit == 'G' ? 1 << 30 : 1;
  return static_cast<index_t>(v) * scale;
}

// Number of CPUs in a list such as "0-3,8-11".
index_t count_cpus(const std::string& list) {
  index_t n = 0;
  std::size_t pos = 0;
  while (pos < list.size()) {
    std::size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    const std::string part = list.substr(pos, comma - pos);
    char* end = nullptr;
    const long long first = std::strtoll(part.c_str(), &end, 10);
    if (end != part.c_str()) {
      const long long last = *end == '-' ? std::strtoll(end + 1, nullptr, 10) : first;
      n += static_cast<index_t>(std::max(0LL, last - first + 1));
    }
    pos = comma + 1;
  }
  return n;
}

bool caches_from_sysfs(CpuInfo& info) {
  bool found_l1 = false;
  for (int i = 0; i < 10; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    const std::string type = read_line(dir + "type");
    if (type.empty()) continue;
    if (type != "Data" && type != "Unified") continue;
    CpuCache c;
    c.size = parse_size(read_line(dir + "size"));
    c.ways = parse_size(read_line(dir + "ways_of_associativity"));
    const index_t line = parse_size(read_line(dir + "coherency_line_size"));
    if (line > 0) c.line = line;
    if (c.ways == 0 && c.size > 0) c.ways = c.size / c.line;  // reported as 0: fully associative
    c.sharing = std::max<index_t>(1, count_cpus(read_line(dir + "shared_cpu_list")));
    const std::string level = read_line(dir + "level");
    if (c.size <= 0) continue;
    if (level == "1") {
      info.l1d = c;
      found_l1 = true;
    } else if (level == "2") {
      info.l2 = c;
    } else if (level == "3") {
      info.l3 = c;
    }
  }
  if (found_l1) info.cache_source = "sysfs";
  return found_l1;
}

void brand_from_proc(CpuInfo& info) {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) {
      info.brand = trim(line.substr(line.find(':') + 1));
      return;
    }
  }
}

// ---- FMA throughput ------------------------------------------------------------

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

// Xeon Scalable (Skylake-SP, Cascade Lake) Bronze, Silver and most Gold 5xxx
// parts have one 512-bit FMA unit; the others have two.
bool one_fma512_unit_xeon(const std::string& brand) {
  if (contains(brand, "Bronze") || contains(brand, "Silver")) return true;
  return contains(brand, "Gold 5") && !contains(brand, "Gold 5122") &&
         !contains(brand, "Gold 5222");
}

void fma_model(CpuInfo& info) {
  const bool amd = info.vendor == "AuthenticAMD" || info.vendor == "HygonGenuine";
  const bool intel = info.vendor == "GenuineIntel";
  if (info.isa == SimdIsa::scalar) {
    info.fma_class = "no AVX2+FMA: portable scalar kernel";
    return;
  }
  info.fma256_per_cycle = 2;
  info.fma_latency = 4;
  if (intel && info.family == 6) {
    // Haswell and Broadwell: FMA latency 5 cycles.
    for (int m : {0x3C, 0x3F, 0x45, 0x46, 0x3D, 0x47, 0x4F, 0x56}) {
      if (info.model == m) info.fma_latency = 5;
    }
  }
  if (amd && info.family == 0x17 && info.model < 0x30) {
    info.fma256_per_cycle = 1;  // Zen 1: 256-bit operations as two 128-bit halves
    info.fma_latency = 5;
    info.fma_class = "256-bit FMA as two 128-bit halves (1 per cycle)";
  } else {
    info.fma_class = "two 256-bit FMA pipes (2 per cycle)";
  }
  if (info.isa != SimdIsa::avx512) return;
  int per_cycle = 1;
  if (amd) {
    // Zen 4 (family 0x19) splits a 512-bit FMA over its two 256-bit pipes;
    // Zen 5 (0x1A) desktop and server parts execute it whole on two pipes,
    // the mobile ones (models 0x20-0x2F, 0x60-0x6F) keep a 256-bit datapath.
    const bool zen5_mobile =
        info.family == 0x1A && ((info.model >= 0x20 && info.model <= 0x2F) ||
                                (info.model >= 0x60 && info.model <= 0x6F));
    per_cycle = info.family >= 0x1A && !zen5_mobile ? 2 : 1;
    info.fma_class = per_cycle == 2 ? "two full 512-bit FMA pipes (2 per cycle)"
                                    : "512-bit FMA as two 256-bit halves (1 per cycle)";
  } else if (intel && info.family == 6) {
    // Server cores with two 512-bit FMA ports: Skylake-SP / Cascade Lake
    // (0x55), Ice Lake-SP (0x6A, 0x6C), Sapphire Rapids (0x8F), Emerald
    // Rapids (0xCF), Granite Rapids (0xAD, 0xAE), Xeon Phi (0x57, 0x85).
    // Client cores with AVX-512 (Ice Lake, Tiger Lake, Rocket Lake) fuse
    // ports 0 and 1 into one.
    bool server = false;
    for (int m : {0x55, 0x6A, 0x6C, 0x8F, 0xCF, 0xAD, 0xAE, 0x57, 0x85}) {
      server = server || info.model == m;
    }
    per_cycle = server && !(info.model == 0x55 && one_fma512_unit_xeon(info.brand)) ? 2 : 1;
    info.fma_class = per_cycle == 2 ? "two 512-bit FMA ports (2 per cycle)"
                                    : "one 512-bit FMA port (1 per cycle)";
  } else {
    info.fma_class = "512-bit FMA, throughput unknown (1 per cycle assumed)";
  }
  info.fma512_per_cycle = per_cycle;
}

CpuInfo detect() {
  CpuInfo info;
  identify(info);
  if (info.brand.empty()) brand_from_proc(info);
  info.logical_cpus = std::max(1u, std::thread::hardware_concurrency());
  if (!caches_from_cpuid(info)) {
    info.l1d = info.l2 = info.l3 = CpuCache{};
    if (!caches_from_sysfs(info)) {
      info.l1d = CpuCache{32 * 1024, 8, 64, 1};
      info.l2 = CpuCache{512 * 1024, 8, 64, 1};
      info.l3 = CpuCache{};
      info.cache_source = "default";
    }
  }
  info.isa = detect_isa();
  fma_model(info);
  return info;
}

}  // namespace

const char* simd_isa_name(SimdIsa isa) {
  switch (isa) {
    case SimdIsa::avx512:
      return "avx512";
    case SimdIsa::avx2:
      return "avx2";
    default:
      return "scalar";
  }
}

const CpuInfo& cpu_info() {
  static const CpuInfo info = detect();
  return info;
}

}  // namespace vgp::ops
