// Residual merge kernels (see residual.h): elementwise sums over flat buffers,
// split into fixed blocks among threads. Element k of the output reads only
// element k of the inputs, so any aliasing of the output with an input is safe.
#include "ops/residual.h"

#include "ops/parallel.h"

namespace vgp::ops {
namespace {

template <typename T>
void add(const T* a, const T* b, T* out, index_t n) {
  detail::parallel_blocks(n, detail::work_ns<T>(n, 3), [=](index_t begin, index_t end) {
    for (index_t k = begin; k < end; ++k) out[k] = a[k] + b[k];
  });
}

}  // namespace

template <typename T>
void residual_add_forward(const T* x, const T* fx, T* y, index_t n) {
  add(x, fx, y, n);
}

// The gradient at the sum reaches x along both paths; the skip path carries it
// unchanged, which is why deep residual networks keep their gradients.
template <typename T>
void residual_add_backward(const T* d_skip, const T* d_inner, T* dx, index_t n) {
  add(d_skip, d_inner, dx, n);
}

template void residual_add_forward<float>(const float*, const float*, float*, index_t);
template void residual_add_forward<double>(const double*, const double*, double*, index_t);
template void residual_add_backward<float>(const float*, const float*, float*, index_t);
template void residual_add_backward<double>(const double*, const double*, double*, index_t);

}  // namespace vgp::ops
