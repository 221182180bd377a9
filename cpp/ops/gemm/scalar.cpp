// Portable kernel set: plain C++ with no instruction-set attribute, used on
// CPUs without AVX2+FMA and on other architectures. The "vector" is one
// element; a 4 x 8 tile gives 32 independent accumulators that the compiler
// may map onto whatever SIMD the baseline target has (SSE2 on x86-64).
// a * b + c stays two roundings unless the baseline target itself has FMA.
#include "ops/gemm/kernels.h"

#define VGP_GEMM_TARGET

namespace vgp::ops::gemm_detail {
namespace {

template <typename Real>
struct Scalar1 {
  using T = Real;
  using R = Real;
  static constexpr int W = 1;
  static constexpr int kRegs = 32;
  static constexpr int kUnroll = 8;
  static constexpr bool kEmbeddedBroadcast = false;
  static constexpr bool kBlockTranspose = false;  // transposes in 4 x 4 blocks (x86.h)
  static constexpr SimdIsa kIsa = SimdIsa::scalar;
  static R zero() { return R(0); }
  static R load(const T* p) { return *p; }
  static void store(T* p, R v) { *p = v; }
  static R bcast(const T* p) { return *p; }
  static R fma(R a, R b, R c) { return a * b + c; }
  static void keep(R) {}
  static R add(R a, R b) { return a + b; }
  static R load_n(const T* p, int count) { return count > 0 ? *p : R(0); }
  static void store_n(T* p, R v, int count) {
    if (count > 0) *p = v;
  }
};

template <typename T>
void transpose4(const T* s, index_t lds, T* d, index_t ldd) {
  for (index_t q = 0; q < 4; ++q) {
    for (index_t r = 0; r < 4; ++r) d[q * ldd + r] = s[r * lds + q];
  }
}

}  // namespace
}  // namespace vgp::ops::gemm_detail

#include "ops/gemm/impl.h"

namespace vgp::ops::gemm_detail {
namespace {
using FloatSet = KernelSet<Scalar1<float>, 4, Tile<4, 8>>;
using DoubleSet = KernelSet<Scalar1<double>, 4, Tile<4, 8>>;
}  // namespace
VGP_GEMM_DEFINE_KERNEL_SETS(gemm_kernels_scalar, "scalar", FloatSet, DoubleSet)
}  // namespace vgp::ops::gemm_detail
