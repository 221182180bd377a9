// The GEMM's configuration for one dtype, settled once at first use: the
// kernel set (instruction set), its register tile and the blocks, from the
// detected CPU through the models of blocking.h, or from the environment.
//
// Environment (read once, at the first GEMM or at import of the module):
//   VGP_GEMM_KERNEL=scalar|avx2|avx512   caps the instruction set (an
//       unsupported or unknown value falls back to the best set below it);
//       the sigmoid spans follow (ops/sigmoid_span.h: avx2 takes the
//       AVX2 span, scalar the generic loop; all give the same bits).
//   VGP_GEMM_BLOCKING="[float32:|float64:]key=value[,key=value...][;...]"
//       overrides the model for experiments: keys tile=MRxNR (a tile the
//       kernel set instantiates), kc, mc, nc (block sizes in elements; mc and
//       nc are rounded up to whole tiles). A section without a dtype prefix
//       applies to both dtypes. Example: "float32:tile=12x32,kc=320;nc=1024".
//       Results depend on KC, so an override changes the rounding.
#pragma once

#include <string>

#include "ops/gemm/kernels.h"

namespace vgp::ops::gemm_detail {

template <typename T>
struct GemmSetup {
  const GemmKernels<T>* ks = nullptr;
  const GemmTileKernel<T>* tile = nullptr;
  GemmBlocks blocks;
  bool overridden = false;
  std::string error;  // what was wrong in VGP_GEMM_BLOCKING (the model is used then)
};

template <typename T>
const GemmSetup<T>& gemm_setup();

// The tile the model picks among the tiles of the kernel set `kernel`
// ("avx512", "avx2", "scalar") for a core issuing `fma_per_cycle` FMAs of
// that width per cycle with the given latency; false when this build has no
// such kernel set. Reads the tables only, so it runs on any CPU.
template <typename T>
bool gemm_tile_for(const std::string& kernel, index_t fma_per_cycle, index_t fma_latency,
                   index_t& mr, index_t& nr);

// The model's inputs for this CPU.
GemmCaches gemm_caches(const CpuInfo& cpu);
template <typename T>
GemmCore gemm_core(const CpuInfo& cpu, const GemmKernels<T>& ks);

}  // namespace vgp::ops::gemm_detail
