// Kernel set, register tile and blocks per dtype (config.h).
#include "ops/gemm/config.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace vgp::ops::gemm_detail {
namespace {

// The best kernel set this CPU supports, AVX-512F > AVX2+FMA > portable,
// capped by VGP_GEMM_KERNEL. AVX-512 stays first on Zen 4 too, which
// executes a 512-bit FMA as two 256-bit halves, so its peak FMA rate equals
// AVX2's: the AVX-512 set still measured 2-4% faster there (embedded
// broadcasts and 32 registers mean fewer instructions per FMA; see
// avx512.cpp), and on Intel server cores it is up to twice as fast.
template <typename T>
const GemmKernels<T>* select_kernels(const CpuInfo& cpu) {
  const GemmKernels<T>* avx512 = nullptr;
  const GemmKernels<T>* avx2 = nullptr;
#if VGP_GEMM_X86
  if (cpu.isa != SimdIsa::scalar) avx2 = gemm_kernels_avx2<T>();
  if (cpu.isa == SimdIsa::avx512) avx512 = gemm_kernels_avx512<T>();
#else
  (void)cpu;
#endif
  const GemmKernels<T>* scalar = gemm_kernels_scalar<T>();
  const char* env = std::getenv("VGP_GEMM_KERNEL");
  if (env && std::strcmp(env, "scalar") == 0) return scalar;
  if (env && std::strcmp(env, "avx2") == 0) return avx2 ? avx2 : scalar;
  if (avx512) return avx512;
  return avx2 ? avx2 : scalar;
}

// One dtype's overrides; 0: the model's value.
struct Override {
  index_t mr = 0, nr = 0, kc = 0, mc = 0, nc = 0;
  bool any = false;
};

std::string trimmed(const std::string& s) {
  const std::size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A positive integer of at most `max`, or -1.
index_t parse_count(const std::string& s, index_t max) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return -1;
  const index_t v = std::atoll(s.c_str());
  return v >= 1 && v <= max ? v : -1;
}

// Applies one "key=value" item to `o`; returns the error or "".
std::string apply_item(const std::string& item, Override& o) {
  const std::size_t eq = item.find('=');
  const std::string key = trimmed(item.substr(0, eq));
  const std::string value = eq == std::string::npos ? "" : trimmed(item.substr(eq + 1));
  if (key == "tile") {
    const std::size_t x = value.find('x');
    const index_t mr = x == std::string::npos ? -1 : parse_count(value.substr(0, x), 64);
    const index_t nr = x == std::string::npos ? -1 : parse_count(value.substr(x + 1), 256);
    if (mr < 0 || nr < 0) return "tile must be MRxNR (e.g. 16x16), received '" + value + "'";
    o.mr = mr;
    o.nr = nr;
  } else if (key == "kc" || key == "mc" || key == "nc") {
    const index_t v = parse_count(value, key == "kc" ? 8192 : 65536);
    if (v < 0) {
      return key + " must be an integer from 1 to " + (key == "kc" ? "8192" : "65536") +
             ", received '" + value + "'";
    }
    (key == "kc" ? o.kc : key == "mc" ? o.mc : o.nc) = v;
  } else {
    return "expected items key=value with keys tile, kc, mc, nc, received '" + item + "'";
  }
  o.any = true;
  return "";
}

// The override for dtype `name` ("float32" / "float64") in VGP_GEMM_BLOCKING.
std::string parse_overrides(const char* text, const std::string& name, Override& o) {
  std::string rest = text ? text : "";
  while (!rest.empty()) {
    const std::size_t semi = rest.find(';');
    std::string section = trimmed(rest.substr(0, semi));
    rest = semi == std::string::npos ? "" : rest.substr(semi + 1);
    bool mine = true;
    for (const char* prefix : {"float32:", "float64:"}) {
      if (section.rfind(prefix, 0) == 0) {
        mine = name + ":" == prefix;
        section = section.substr(std::strlen(prefix));
      }
    }
    while (!section.empty()) {
      const std::size_t comma = section.find(',');
      const std::string item = trimmed(section.substr(0, comma));
      section = comma == std::string::npos ? "" : section.substr(comma + 1);
      if (item.empty()) continue;
      Override scratch;
      const std::string err = apply_item(item, mine ? o : scratch);
      if (!err.empty()) return err;
    }
  }
  return "";
}

template <typename T>
const GemmTileKernel<T>& choose_tile(const GemmKernels<T>& ks, const GemmCore& core) {
  constexpr int kMaxTiles = 8;
  GemmTileShape shapes[kMaxTiles];
  const int count = std::min(ks.num_tiles, kMaxTiles);
  for (int i = 0; i < count; ++i) shapes[i] = ks.tiles[i].shape;
  return ks.tiles[gemm_choose_tile(shapes, count, core)];
}

template <typename T>
GemmSetup<T> make_setup() {
  const CpuInfo& cpu = cpu_info();
  const std::string name = std::is_same_v<T, float> ? "float32" : "float64";
  GemmSetup<T> s;
  s.ks = select_kernels<T>(cpu);
  const GemmKernels<T>& ks = *s.ks;
  const GemmCore core = gemm_core(cpu, ks);
  s.tile = &choose_tile(ks, core);

  Override o;
  std::string err = parse_overrides(std::getenv("VGP_GEMM_BLOCKING"), name, o);
  if (err.empty() && o.mr > 0) {
    const GemmTileKernel<T>* found = nullptr;
    std::string have;
    for (int i = 0; i < ks.num_tiles; ++i) {
      const GemmTileKernel<T>& t = ks.tiles[i];
      if (t.shape.mr == o.mr && t.nr == o.nr) found = &t;
      have += (i ? ", " : "") + std::to_string(t.shape.mr) + "x" + std::to_string(t.nr);
    }
    if (found) {
      s.tile = found;
    } else {
      err = "the " + name + " kernel set " + ks.name + " has no " + std::to_string(o.mr) + "x" +
            std::to_string(o.nr) + " tile (it has " + have + ")";
    }
  }
  s.blocks = gemm_blocks_model(gemm_caches(cpu), s.tile->shape.mr, s.tile->nr, sizeof(T),
                               core.fma_per_cycle);
  if (!err.empty()) {
    s.error = "VGP_GEMM_BLOCKING: " + err;
    return s;
  }
  const index_t mr = s.blocks.mr, nr = s.blocks.nr;
  if (o.kc) {
    s.blocks.kc = o.kc;
    s.blocks.panel_level = 0;  // placed by the user, not by the model
  }
  if (o.mc) s.blocks.mc = (o.mc + mr - 1) / mr * mr;
  if (o.nc) s.blocks.nc = (o.nc + nr - 1) / nr * nr;
  s.overridden = o.any;
  return s;
}

}  // namespace

GemmCaches gemm_caches(const CpuInfo& cpu) {
  const auto level = [](const CpuCache& c) { return CacheLevel{c.size, c.ways, c.line, c.sharing}; };
  return GemmCaches{level(cpu.l1d), level(cpu.l2), level(cpu.l3)};
}

template <typename T>
GemmCore gemm_core(const CpuInfo& cpu, const GemmKernels<T>& ks) {
  GemmCore core;
  core.vregs = ks.vregs;
  core.embedded_bcast = ks.embedded_bcast;
  core.fma_latency = cpu.fma_latency;
  const int rate = ks.isa == SimdIsa::avx512 ? cpu.fma512_per_cycle
                   : ks.isa == SimdIsa::avx2 ? cpu.fma256_per_cycle
                                             : 1;
  core.fma_per_cycle = rate > 0 ? rate : 1;
  return core;
}

template <typename T>
bool gemm_tile_for(const std::string& kernel, index_t fma_per_cycle, index_t fma_latency,
                   index_t& mr, index_t& nr) {
  const GemmKernels<T>* ks = kernel == "scalar" ? gemm_kernels_scalar<T>() : nullptr;
#if VGP_GEMM_X86
  if (kernel == "avx2") ks = gemm_kernels_avx2<T>();
  if (kernel == "avx512") ks = gemm_kernels_avx512<T>();
#endif
  if (!ks) return false;
  GemmCore core;
  core.vregs = ks->vregs;
  core.embedded_bcast = ks->embedded_bcast;
  core.fma_per_cycle = fma_per_cycle;
  core.fma_latency = fma_latency;
  const GemmTileKernel<T>& t = choose_tile(*ks, core);
  mr = t.shape.mr;
  nr = t.nr;
  return true;
}

template <typename T>
const GemmSetup<T>& gemm_setup() {
  static const GemmSetup<T> setup = make_setup<T>();
  return setup;
}

template const GemmSetup<float>& gemm_setup<float>();
template const GemmSetup<double>& gemm_setup<double>();
template bool gemm_tile_for<float>(const std::string&, index_t, index_t, index_t&, index_t&);
template bool gemm_tile_for<double>(const std::string&, index_t, index_t, index_t&, index_t&);
template GemmCore gemm_core<float>(const CpuInfo&, const GemmKernels<float>&);
template GemmCore gemm_core<double>(const CpuInfo&, const GemmKernels<double>&);

}  // namespace vgp::ops::gemm_detail

namespace vgp::ops {

template <typename T>
GemmConfigInfo gemm_config() {
  const gemm_detail::GemmSetup<T>& s = gemm_detail::gemm_setup<T>();
  return GemmConfigInfo{s.ks->name,   s.blocks.mr, s.blocks.nr,          s.blocks.kc,
                        s.blocks.mc, s.blocks.nc, s.blocks.panel_level, s.overridden};
}

std::string gemm_config_error() {
  const std::string& f = gemm_detail::gemm_setup<float>().error;
  return f.empty() ? gemm_detail::gemm_setup<double>().error : f;
}

template <typename T>
const char* gemm_kernel_name() {
  return gemm_detail::gemm_setup<T>().ks->name;
}

template GemmConfigInfo gemm_config<float>();
template GemmConfigInfo gemm_config<double>();
template const char* gemm_kernel_name<float>();
template const char* gemm_kernel_name<double>();

}  // namespace vgp::ops
