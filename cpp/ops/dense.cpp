// Dense forward/backward on top of ops::gemm (see dense.h for the math).
//
// Forward: one GEMM whose epilogue adds the bias and applies an elementwise
// activation to each tile while it is in cache; softmax needs whole rows, so
// it runs after the GEMM on the finished z.
// Backward: two GEMMs (dw = x^T dz, dx = dz w^T) and the bias gradient, a
// per-column sum over the batch in double with each thread owning whole
// columns, so db does not depend on the thread count.
#include "ops/dense.h"

#include <algorithm>

#include "ops/gemm/gemm.h"
#include "ops/parallel.h"
#include "ops/vecmath.h"

namespace vgp::ops {

template <typename T>
void dense_forward(const T* x, const T* w, const T* b, T* z, T* y, index_t batch,
                   index_t in_features, index_t out_features, Act act) {
  if (batch <= 0 || out_features <= 0) return;
  GemmEpilogue<T> ep;
  ep.bias = b;
  const bool fused = act != Act::linear && is_elementwise(act);
  if (fused) {
    ep.act = act;
    ep.post = y;
    ep.ldpost = out_features;
  }
  gemm<T>(false, false, batch, out_features, in_features, x, in_features, w, out_features, z,
          out_features, false, &ep);
  if (act == Act::softmax) {
    activation_forward<T>(z, y, batch, out_features, Act::softmax);
  } else if (act == Act::linear && y != nullptr && y != z) {
    std::copy(z, z + batch * out_features, y);
  }
}

template <typename T>
void dense_backward(const T* x, const T* w, const T* dz, T* dx, T* dw, T* db, index_t batch,
                    index_t in_features, index_t out_features) {
  // dw = x^T · dz: op(A) = x^T is (in, batch), stored as x (batch, in).
  gemm<T>(true, false, in_features, out_features, batch, x, in_features, dz, out_features, dw,
          out_features, false);
  if (db != nullptr) column_sums<T>(dz, db, batch, out_features);
  // dx = dz · w^T: op(B) = w^T is (out, in), stored as w (in, out).
  if (dx != nullptr) {
    gemm<T>(false, true, batch, in_features, out_features, dz, out_features, w, out_features, dx,
            in_features, false);
  }
}

namespace {

// db[j0 + j] = sum_i dz[i, j0 + j] for one chunk of columns, in row order.
// Four rows per pass keep each accumulator in a register for four additions
// (a quarter of the accumulator loads and stores); the additions still run in
// row order, so the result is that of the plain row-by-row loop.
template <typename T>
VGP_MULTIVERSION void column_sums_chunk(const T* dz, T* db, index_t batch, index_t features,
                                        index_t j0, index_t width) {
  acc_t acc[detail::kColumnChunk] = {};
  index_t i = 0;
  for (; i + 4 <= batch; i += 4) {
    const T* r0 = dz + i * features + j0;
    const T* r1 = r0 + features;
    const T* r2 = r1 + features;
    const T* r3 = r2 + features;
    VGP_SIMD
    for (index_t j = 0; j < width; ++j) {
      acc_t a = acc[j];
      a += static_cast<acc_t>(r0[j]);
      a += static_cast<acc_t>(r1[j]);
      a += static_cast<acc_t>(r2[j]);
      a += static_cast<acc_t>(r3[j]);
      acc[j] = a;
    }
  }
  for (; i < batch; ++i) {
    const T* row = dz + i * features + j0;
    VGP_SIMD
    for (index_t j = 0; j < width; ++j) acc[j] += static_cast<acc_t>(row[j]);
  }
  for (index_t j = 0; j < width; ++j) db[j0 + j] = static_cast<T>(acc[j]);
}

}  // namespace

template <typename T>
void column_sums(const T* dz, T* db, index_t batch, index_t features) {
  // Reads dz once, summing each value in double.
  const double work = detail::work_ns<T>(batch * features, 1 + detail::kCostDouble);
  detail::parallel_columns(features, work, [=](index_t j0, index_t j1) {
    column_sums_chunk(dz, db, batch, features, j0, j1 - j0);
  });
}

template void dense_forward<float>(const float*, const float*, const float*, float*, float*,
                                   index_t, index_t, index_t, Act);
template void dense_forward<double>(const double*, const double*, const double*, double*,
                                    double*, index_t, index_t, index_t, Act);
template void dense_backward<float>(const float*, const float*, const float*, float*, float*,
                                    float*, index_t, index_t, index_t);
template void dense_backward<double>(const double*, const double*, const double*, double*,
                                     double*, double*, index_t, index_t, index_t);
template void column_sums<float>(const float*, float*, index_t, index_t);
template void column_sums<double>(const double*, double*, index_t, index_t);

}  // namespace vgp::ops
