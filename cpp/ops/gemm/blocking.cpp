// The analytical blocking model and the register-tile choice (blocking.h).
#include "ops/gemm/blocking.h"

#include <algorithm>
#include <cmath>

namespace vgp::ops {
namespace {

index_t ceil_div(index_t a, index_t b) { return (a + b - 1) / b; }

// Bytes in one way of a level (sets x line).
index_t way_bytes(const CacheLevel& c) { return c.ways > 0 ? c.size / c.ways : 0; }

// Ways `bytes` occupy in a level whose ways hold `way` bytes each.
index_t ways_of(index_t bytes, index_t way) { return way > 0 ? ceil_div(bytes, way) : 0; }

// Largest multiple of `unit` (>= unit) whose block of `unit_bytes` per unit
// fits `budget` bytes.
index_t fit(index_t budget, index_t unit_bytes, index_t unit) {
  return std::max<index_t>(1, budget / (unit_bytes * unit)) * unit;
}

}  // namespace

GemmBlocks gemm_blocks_model(const GemmCaches& caches, index_t mr, index_t nr, index_t s,
                             index_t fma_per_cycle) {
  GemmBlocks b;
  b.mr = mr;
  b.nr = nr;
  constexpr index_t kUnroll = 8;
  const CacheLevel& l1 = caches.l1;
  const CacheLevel& l2 = caches.l2;
  const index_t way1 = way_bytes(l1), way2 = way_bytes(l2);

  // L1: the B micro-panel gets floor((W1 - 1) / (1 + MR / NR)) ways.
  const index_t ways_b = std::max<index_t>(1, (l1.ways - 1) * nr / (nr + mr));
  b.kc = fit(ways_b * way1, nr * s, kUnroll);
  b.panel_level = 1;
  if (fma_per_cycle <= 1 && l2.ways >= 3) {
    // One FMA per cycle: both micro-panels stream from L2. The B block gets
    // W2 - 2 ways (one is the A micro-panel's, one C's) and KC = 2 NC, which
    // minimises the traffic per FMA from beyond L2, 2 / KC (C) + 1 / NC (A),
    // for that capacity.
    const index_t budget = (l2.ways - 2) * way2;
    index_t kc = static_cast<index_t>(std::sqrt(2.0 * static_cast<double>(budget) / s));
    kc = std::min(kc, way2 / (mr * s)) / kUnroll * kUnroll;
    if (kc > b.kc) {
      b.kc = kc;
      b.panel_level = 2;
    }
  }
  if (b.panel_level == 1) {
    b.l1_ways_b = ways_of(b.kc * nr * s, way1);
    b.l1_ways_a = ways_of(b.kc * mr * s, way1);
  }

  // L2: the B block gets the ways left by the A micro-panel and one for C.
  b.l2_ways_a = ways_of(mr * b.kc * s, way2);
  const index_t ways_bc = std::max<index_t>(1, l2.ways - 1 - b.l2_ways_a);
  b.nc = fit(ways_bc * way2, b.kc * s, nr);
  b.l2_ways_b = ways_of(b.nc * b.kc * s, way2);

  // L3 (this core's share): the A block gets the ways left by the B block and
  // one for C. A share no larger than L2 is a victim cache (Intel server
  // cores since Skylake-SP): the B block stays in L2 and takes no L3 ways.
  // Without an L3, the A block is sized like the B block.
  const CacheLevel& l3 = caches.l3;
  if (l3.size > 0 && l3.ways > 0) {
    const index_t share = l3.size / std::max<index_t>(1, l3.sharing);
    const index_t way3 = std::max<index_t>(1, share / l3.ways);
    b.l3_ways_b = share <= l2.size ? 0 : ways_of(b.nc * b.kc * s, way3);
    const index_t ways_ac = std::max<index_t>(1, l3.ways - 1 - b.l3_ways_b);
    b.mc = fit(ways_ac * way3, b.kc * s, mr);
    b.l3_ways_a = ways_of(b.mc * b.kc * s, way3);
  } else {
    b.mc = std::max<index_t>(1, b.nc / mr) * mr;
  }
  return b;
}

index_t gemm_kc_for(index_t k, index_t kc_max) {
  if (k <= kc_max) return k;
  const index_t passes = ceil_div(k, kc_max);
  return std::min(kc_max, ceil_div(ceil_div(k, passes), 8) * 8);
}

int gemm_choose_tile(const GemmTileShape* tiles, int count, const GemmCore& core) {
  int fallback = -1;
  for (int i = 0; i < count; ++i) {
    const GemmTileShape& t = tiles[i];
    const index_t acc = t.mr * t.nv;
    if (acc + t.nv + (core.embedded_bcast ? 0 : 1) > core.vregs) continue;
    // Loads per FMA, compared as fractions: (mr + nv) / acc.
    if (fallback < 0 || (t.mr + t.nv) * tiles[fallback].mr * tiles[fallback].nv <
                            (tiles[fallback].mr + tiles[fallback].nv) * acc) {
      fallback = i;
    }
    const bool hides_latency = acc >= core.fma_latency * core.fma_per_cycle;
    const bool loads_fit = (t.mr + t.nv) * core.fma_per_cycle <= core.loads_per_cycle * acc;
    if (hides_latency && loads_fit) return i;
  }
  return std::max(fallback, 0);
}

}  // namespace vgp::ops
