// The GEMM's blocking from the cache geometry, and its register tile from the
// core, by the analytical model of Low, Igual, Smith and Quintana-Orti,
// "Analytical modeling is enough for high-performance BLIS" (ACM TOMS 43(2),
// 2016). Pure functions: the driver feeds them the detected CPU (cpu.h), the
// tests feed them other CPUs' caches.
//
// Orientation. The driver computes row-major C = A·B as BLIS computes the
// column-major C^T = B^T·A^T, so the paper's roles swap names:
//
//   here                                 the paper (BLIS)     stays in
//   A micro-panel MR x KC (resident)     B_r  (k_c x n_r)     L1
//   B micro-panel KC x NR (streamed)     A_r  (m_r x k_c)     L1, streamed from L2
//   B block KC x NC                      A_c  (m_c x k_c)     L2
//   A block MC x KC                      B_c  (k_c x n_c)     L3 (this core's share)
//
// so "m_c from L2, n_c from L3" in the paper is NC from L2 and MC from L3 here.
// With S the element size, W the ways of a level and N·L its bytes per way
// (sets x line):
//
//   KC: the B micro-panel gets C_B = floor((W1 - 1) / (1 + MR / NR)) ways and
//       KC = C_B · N1·L1 / (NR · S), so the A micro-panel takes
//       ceil(KC · MR · S / N1·L1) <= W1 - 1 - C_B ways: both panels share L1
//       with one way left over, the A micro-panel is never the least
//       recently used line of its set, and it stays while B micro-panels
//       stream through (paper, section 4.3).
//   NC: the B block takes the L2 ways the A micro-panel and one way for C and
//       the streams leave: W2 - 1 - ceil(MR · KC · S / N2·L2) (section 4.4).
//   MC: likewise the A block in this core's share of L3 (size / sharing
//       logical CPUs, same ways), after the ways of the B block (4.5); a
//       share no larger than L2 is taken for a victim cache, which the B
//       block does not occupy. Without an L3 the A block is sized like the
//       B block.
//
// The FMA throughput decides which level holds the micro-panels. The paper's
// L1 rule serves cores whose loads keep pace with two FMAs per cycle (Intel
// server cores, Zen 5): a k step then needs a line of B every few cycles,
// and an L1 miss stalls the load ports. A core issuing one FMA per cycle of
// the kernel's width (Zen 4, which splits a 512-bit FMA into two halves;
// Intel client cores with one 512-bit port) needs a line of A and one of B
// every MR·NV cycles (16 with the 16 x 16 tile), which the L2 supplies
// without stalls, so both micro-panels stream from L2 and what remains to
// minimise is the traffic from beyond L2 per FMA: 2 / KC elements of C (the
// tile is read and written once per k block) plus 1 / NC of A (a micro-panel
// is fetched again for every NC columns). With the B block's capacity
// KC · NC fixed at W2 - 2 ways (one for the A micro-panel, one for C),
// the sum is smallest at KC = 2 NC, so KC = sqrt(2 (W2 - 2) N2·L2 / S),
// and NC follows from the rule above. On Zen 4 (float, 16 x 16) that is
// KC = 624 against the L1 rule's 192, which measured 4-8% slower there at
// 1024-2048 (one k block in five times as many passes over C); 512 to 1024
// measured alike.
//
// KC is rounded down to a multiple of 8 (the micro-kernel's unrolling), NC
// and MC down to whole micro-tiles.
//
// Register tile: among the tiles a kernel set instantiates (one templated
// micro-kernel, MR rows of A broadcast against NV vectors of B), the first
// in its order of preference that
//   - fits the vector registers: MR·NV accumulators, NV vectors of B and
//     (without embedded broadcasts) one of A;
//   - has enough independent accumulators to cover the FMA latency at the
//     core's FMA rate: MR·NV >= latency · FMAs per cycle (paper, section 4.1);
//   - needs no more loads per cycle at that rate than the core issues (2):
//     a k step loads MR broadcasts and NV vectors for MR·NV FMAs.
// On a core issuing one 512-bit FMA per cycle (Zen 4) the 16 x 16 float tile
// needs 1.06 loads a cycle; with two (Intel server cores, Zen 5) it would
// need 2.1, so 12 x 32 (1.2) is chosen there.
#pragma once

#include "common.h"

namespace vgp::ops {

struct CacheLevel {
  index_t size = 0;     // bytes; 0: the level is absent
  index_t ways = 0;
  index_t line = 64;
  index_t sharing = 1;  // logical CPUs sharing it (only read for L3)
};

struct GemmCaches {
  CacheLevel l1, l2, l3;
};

// Block sizes, and the ways the model assigns to each block in its level.
struct GemmBlocks {
  index_t mr = 0, nr = 0, kc = 0, mc = 0, nc = 0;
  index_t panel_level = 1;               // where the micro-panels stay: 1 (L1) or 2 (L2)
  index_t l1_ways_a = 0, l1_ways_b = 0;  // A micro-panel, B micro-panel (0 when in L2)
  index_t l2_ways_a = 0, l2_ways_b = 0;  // A micro-panel, B block
  index_t l3_ways_a = 0, l3_ways_b = 0;  // A block, B block (in the per-core share)
};

// Blocks for an mr x nr tile of elem_bytes-byte elements on a core issuing
// fma_per_cycle FMAs of the kernel's width per cycle. Needs l1 and l2 with
// at least 2 ways; a degenerate geometry still yields KC >= 8, MC >= mr and
// NC >= nr.
GemmBlocks gemm_blocks_model(const GemmCaches& caches, index_t mr, index_t nr, index_t elem_bytes,
                             index_t fma_per_cycle);

// The k-block one product uses: at most kc_max, with the passes over k made
// equal (a multiple of 8 each, the last one shorter) instead of leaving a thin
// last pass. Depends on k and kc_max alone, never on the thread count.
index_t gemm_kc_for(index_t k, index_t kc_max);

struct GemmTileShape {
  index_t mr = 0, nv = 0;  // MR rows x NV vectors (NR = NV x lanes)
};

struct GemmCore {
  index_t vregs = 16;           // vector registers
  bool embedded_bcast = false;  // FMA takes a broadcast memory operand (AVX-512)
  index_t fma_per_cycle = 1;    // FMAs of the kernel's width issued per cycle
  index_t fma_latency = 4;      // cycles
  index_t loads_per_cycle = 2;
};

// Index in tiles[0, count) of the tile the model picks (see above); when
// none qualifies, the one with the fewest loads per FMA that fits the
// registers (and 0 when none fits).
int gemm_choose_tile(const GemmTileShape* tiles, int count, const GemmCore& core);

}  // namespace vgp::ops
