// Binding of the GEMM kernel (cpp/ops/gemm/) for float and double, the CPU
// detection and blocking model behind it, and its instrumentation.
#include <initializer_list>
#include <optional>
#include <utility>

#include "bindings/bind.h"
#include "ops/gemm/blocking.h"
#include "ops/gemm/config.h"
#include "ops/gemm/cpu.h"
#include "ops/gemm/gemm.h"
#include "ops/gemm/profile.h"

namespace vgp::bind {
namespace {

template <typename T>
void bind_dtype(py::module_& m) {
  m.def(
      "gemm",
      [](carray<T> a, carray<T> b, carray<T> c, bool trans_a, bool trans_b, bool accumulate,
         std::optional<carray<T>> bias, int act, std::optional<carray<T>> post) {
        require_ndim("gemm", "a", a, 2);
        require_ndim("gemm", "b", b, 2);
        require_ndim("gemm", "c", c, 2);
        require_writeable("gemm", "c", c);
        const index_t m_ = trans_a ? a.shape(1) : a.shape(0);
        const index_t k = trans_a ? a.shape(0) : a.shape(1);
        const index_t kb = trans_b ? b.shape(1) : b.shape(0);
        const index_t n = trans_b ? b.shape(0) : b.shape(1);
        if (k != kb) {
          throw std::invalid_argument("gemm: inner dimensions differ: op(a) is (" +
                                      std::to_string(m_) + ", " + std::to_string(k) +
                                      "), op(b) is (" + std::to_string(kb) + ", " +
                                      std::to_string(n) + ")");
        }
        require_shape("gemm", "c", c, {m_, n});
        if (act < 0 || act >= ops::kNumActivations || act == static_cast<int>(ops::Act::softmax)) {
          throw std::invalid_argument("gemm: act must be an elementwise activation code, received " +
                                      std::to_string(act));
        }
        ops::GemmEpilogue<T> ep;
        bool use_ep = false;
        if (bias) {
          require_shape("gemm", "bias", *bias, {n});
          ep.bias = bias->data();
          use_ep = true;
        }
        if (post) {
          require_shape("gemm", "post", *post, {m_, n});
          require_writeable("gemm", "post", *post);
          ep.post = post->mutable_data();
          ep.ldpost = n;
          ep.act = static_cast<ops::Act>(act);
          use_ep = true;
        }
        const T* pa = a.data();
        const T* pb = b.data();
        T* pc = c.mutable_data();
        const index_t lda = a.shape(1), ldb = b.shape(1);
        {
          py::gil_scoped_release nogil;
          ops::gemm<T>(trans_a, trans_b, m_, n, k, pa, lda, pb, ldb, pc, n, accumulate,
                       use_ep ? &ep : nullptr);
        }
      },
      py::arg("a").noconvert(), py::arg("b").noconvert(), py::arg("c").noconvert(),
      py::arg("trans_a") = false, py::arg("trans_b") = false, py::arg("accumulate") = false,
      py::arg("bias").noconvert() = py::none(), py::arg("act") = 0,
      py::arg("post").noconvert() = py::none(),
      "c = op(a) @ op(b) (+ c if accumulate), then c += bias and post = act(c) when given.");
  m.def("gemm_kernel_name", [](const carray<T>&) { return std::string(ops::gemm_kernel_name<T>()); },
        py::arg("like").noconvert(), "Micro-kernel selected for the dtype of `like` on this CPU.");
  m.def(
      "gemm_tile_model",
      [](const carray<T>&, const std::string& kernel, int fma_per_cycle, int fma_latency) {
        if (fma_per_cycle < 1 || fma_latency < 1) {
          throw std::invalid_argument(
              "gemm_tile_model: expected fma_per_cycle >= 1 and fma_latency >= 1, received " +
              std::to_string(fma_per_cycle) + " and " + std::to_string(fma_latency));
        }
        index_t mr = 0, nr = 0;
        if (!ops::gemm_detail::gemm_tile_for<T>(kernel, fma_per_cycle, fma_latency, mr, nr)) {
          throw std::invalid_argument("gemm_tile_model: no kernel set '" + kernel +
                                      "' in this build (expected avx512, avx2 or scalar)");
        }
        return py::make_tuple(mr, nr);
      },
      py::arg("like").noconvert(), py::arg("kernel"), py::arg("fma_per_cycle"),
      py::arg("fma_latency") = 4,
      "(MR, NR) the tile model picks from `kernel`'s tiles for the dtype of `like`.");
}

py::dict int_dict(std::initializer_list<std::pair<const char*, index_t>> items) {
  py::dict d;
  for (const auto& [key, value] : items) d[key] = value;
  return d;
}

py::dict cache_dict(const ops::CpuCache& c) {
  return int_dict({{"size", c.size}, {"ways", c.ways}, {"line", c.line}, {"sharing", c.sharing}});
}

template <typename T>
py::dict config_dict() {
  const ops::GemmConfigInfo c = ops::gemm_config<T>();
  py::dict d = int_dict({{"mr", c.mr},
                         {"nr", c.nr},
                         {"kc", c.kc},
                         {"mc", c.mc},
                         {"nc", c.nc},
                         {"panel_level", c.panel_level}});
  d["kernel"] = c.kernel;
  d["source"] = c.overridden ? "VGP_GEMM_BLOCKING" : "model";
  return d;
}

py::dict cpu_info_dict() {
  const ops::CpuInfo& cpu = ops::cpu_info();
  py::dict d;
  d["vendor"] = cpu.vendor;
  d["brand"] = cpu.brand;
  d["family"] = cpu.family;
  d["model"] = cpu.model;
  d["stepping"] = cpu.stepping;
  d["logical_cpus"] = cpu.logical_cpus;
  d["l1d"] = cache_dict(cpu.l1d);
  d["l2"] = cache_dict(cpu.l2);
  d["l3"] = cache_dict(cpu.l3);
  d["cache_source"] = cpu.cache_source;
  d["isa"] = ops::simd_isa_name(cpu.isa);
  d["fma256_per_cycle"] = cpu.fma256_per_cycle;
  d["fma512_per_cycle"] = cpu.fma512_per_cycle;
  d["fma_latency"] = cpu.fma_latency;
  d["fma_class"] = cpu.fma_class;
  py::dict gemm;
  gemm["float32"] = config_dict<float>();
  gemm["float64"] = config_dict<double>();
  d["gemm"] = gemm;
  return d;
}

// caches["l1d" | "l2" | "l3"] as the model's CacheLevel; a missing level or
// key reads as absent / the default.
ops::CacheLevel cache_level(const py::dict& caches, const char* name) {
  ops::CacheLevel c;
  if (!caches.contains(name)) return c;
  const py::dict level = caches[name].cast<py::dict>();
  const auto get = [&](const char* key, index_t fallback) {
    return level.contains(key) ? level[key].cast<index_t>() : fallback;
  };
  c.size = get("size", 0);
  c.ways = get("ways", 0);
  c.line = get("line", 64);
  c.sharing = get("sharing", 1);
  return c;
}

py::dict blocks_model(const py::dict& caches, index_t mr, index_t nr, index_t elem_bytes,
                      index_t fma_per_cycle) {
  const ops::GemmCaches g{cache_level(caches, "l1d"), cache_level(caches, "l2"),
                          cache_level(caches, "l3")};
  for (const auto& [name, level] : {std::pair{"l1d", g.l1}, std::pair{"l2", g.l2}}) {
    if (level.size <= 0 || level.ways < 2 || level.line < 1 || level.size % level.ways != 0) {
      throw std::invalid_argument(
          std::string("gemm_blocks_model: expected caches['") + name +
          "'] with size > 0 divisible by ways >= 2, received size=" + std::to_string(level.size) +
          ", ways=" + std::to_string(level.ways));
    }
  }
  if (mr < 1 || nr < 1 || elem_bytes < 1 || fma_per_cycle < 1) {
    throw std::invalid_argument(
        "gemm_blocks_model: expected mr, nr, elem_bytes, fma_per_cycle >= 1, received " +
        std::to_string(mr) + ", " + std::to_string(nr) + ", " + std::to_string(elem_bytes) + ", " +
        std::to_string(fma_per_cycle));
  }
  const ops::GemmBlocks b = ops::gemm_blocks_model(g, mr, nr, elem_bytes, fma_per_cycle);
  return int_dict({{"mr", b.mr},
                   {"nr", b.nr},
                   {"kc", b.kc},
                   {"mc", b.mc},
                   {"nc", b.nc},
                   {"panel_level", b.panel_level},
                   {"l1_ways_a", b.l1_ways_a},
                   {"l1_ways_b", b.l1_ways_b},
                   {"l2_ways_a", b.l2_ways_a},
                   {"l2_ways_b", b.l2_ways_b},
                   {"l3_ways_a", b.l3_ways_a},
                   {"l3_ways_b", b.l3_ways_b}});
}

py::dict profile_dict() {
  const ops::GemmProfile p = ops::gemm_profile_read();
  py::list shapes;
  for (const ops::GemmShapeProfile& s : p.shapes) {
    py::dict d;
    d["m"] = s.m;
    d["n"] = s.n;
    d["k"] = s.k;
    d["trans_a"] = s.trans_a;
    d["trans_b"] = s.trans_b;
    d["dtype"] = s.elem_bytes == 4 ? "float32" : "float64";
    d["calls"] = s.calls;
    d["seconds"] = static_cast<double>(s.ns) * 1e-9;
    shapes.append(d);
  }
  py::dict d;
  d["enabled"] = p.enabled;
  d["calls"] = p.calls;
  d["flops"] = p.flops;
  d["seconds"] = static_cast<double>(p.ns) * 1e-9;
  d["shapes"] = shapes;
  return d;
}

}  // namespace

void bind_ops_gemm(py::module_& m) {
  // A malformed VGP_GEMM_BLOCKING fails the import with its message rather
  // than running with blocks the user did not ask for.
  const std::string error = ops::gemm_config_error();
  if (!error.empty()) throw std::invalid_argument(error);
  bind_dtype<float>(m);
  bind_dtype<double>(m);
  m.def("cpu_info", &cpu_info_dict,
        "The CPU as the GEMM sees it: vendor, model, caches, vector ISA, FMA throughput, and the "
        "kernel, tile and blocks chosen for each dtype.");
  m.def("gemm_blocks_model", &blocks_model, py::arg("caches"), py::arg("mr"), py::arg("nr"),
        py::arg("elem_bytes"), py::arg("fma_per_cycle"),
        "Blocks (KC, MC, NC) and the cache ways each takes, from the analytical model for an "
        "MR x NR tile, the caches {'l1d', 'l2', 'l3': {'size', 'ways', 'line', 'sharing'}} and "
        "the FMAs of the kernel's width the core issues per cycle.");
  m.def(
      "gemm_profile", [](bool enable) { ops::gemm_profile_enable(enable); }, py::arg("enable"),
      "Switch the GEMM instrumentation on (counters reset) or off.");
  m.def("gemm_profile_read", &profile_dict,
        "GEMM calls, flops and seconds since the instrumentation was switched on, in total and "
        "per shape.");
}

}  // namespace vgp::bind
