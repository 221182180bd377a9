// Reference GEMM: straightforward loops in a fixed order. Correct for every
// transpose combination; the packed SIMD implementation replaces it.
#include "ops/gemm.h"

#include <vector>

namespace vgp::ops {

template <typename T>
void gemm(bool trans_a, bool trans_b, index_t m, index_t n, index_t k, const T* a, index_t lda,
          const T* b, index_t ldb, T* c, index_t ldc, bool accumulate,
          const GemmEpilogue<T>* epilogue) {
  for (index_t i = 0; i < m; ++i) {
    T* ci = c + i * ldc;
    if (!accumulate) {
      for (index_t j = 0; j < n; ++j) ci[j] = T(0);
    }
    for (index_t p = 0; p < k; ++p) {
      const T av = trans_a ? a[p * lda + i] : a[i * lda + p];
      for (index_t j = 0; j < n; ++j) {
        const T bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        ci[j] += av * bv;
      }
    }
    if (epilogue) {
      if (epilogue->bias) {
        for (index_t j = 0; j < n; ++j) ci[j] += epilogue->bias[j];
      }
      if (epilogue->post) {
        T* pi = epilogue->post + i * epilogue->ldpost;
        dispatch_elementwise(epilogue->act, [&](auto op) {
          for (index_t j = 0; j < n; ++j) pi[j] = op.forward(ci[j]);
        });
      }
    }
  }
}

template <typename T>
const char* gemm_kernel_name() {
  return "scalar";
}

template void gemm<float>(bool, bool, index_t, index_t, index_t, const float*, index_t,
                          const float*, index_t, float*, index_t, bool,
                          const GemmEpilogue<float>*);
template void gemm<double>(bool, bool, index_t, index_t, index_t, const double*, index_t,
                           const double*, index_t, double*, index_t, bool,
                           const GemmEpilogue<double>*);
template const char* gemm_kernel_name<float>();
template const char* gemm_kernel_name<double>();

}  // namespace vgp::ops
