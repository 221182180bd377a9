// Activation forward/backward: one generic elementwise loop over rows applies
// the functor of activation.h; softmax is a row operation.
//
// softmax forward, per row:  m = max_j x_j,  e_j = exp(x_j - m),  y_j = e_j / sum_j e_j
//   (x_j - m <= 0, so exp never overflows; the row sum is >= 1 and summed in double).
// softmax backward, per row: dx_i = y_i (dy_i - sum_j dy_j y_j)
//   (the Jacobian diag(y) - y y^T applied to dy; the dot product is read before
//   any dx_i is written, so dx may alias dy).
#include "ops/activation.h"

#include "ops/parallel.h"

namespace vgp::ops {
namespace {

template <typename T, typename Op>
void forward_rows(const T* x, T* y, index_t batch, index_t features) {
  detail::parallel_rows(batch, features, [=](index_t i) {
    const T* xi = x + i * features;
    T* yi = y + i * features;
    VGP_SIMD
    for (index_t j = 0; j < features; ++j) yi[j] = Op::forward(xi[j]);
  });
}

template <typename T, typename Op>
void backward_rows(const T* x, const T* y, const T* dy, T* dx, index_t batch, index_t features) {
  detail::parallel_rows(batch, features, [=](index_t i) {
    const index_t o = i * features;
    // dx may alias dy: each element reads dy[j] before writing dx[j].
    for (index_t j = 0; j < features; ++j) dx[o + j] = Op::backward(x[o + j], y[o + j], dy[o + j]);
  });
}

template <typename T>
void softmax_forward(const T* x, T* y, index_t batch, index_t features) {
  detail::parallel_rows(batch, features, [=](index_t i) {
    const T* xi = x + i * features;
    T* yi = y + i * features;
    T m = xi[0];
    for (index_t j = 1; j < features; ++j) m = xi[j] > m ? xi[j] : m;
    acc_t sum = 0.0;
    for (index_t j = 0; j < features; ++j) {
      yi[j] = std::exp(xi[j] - m);
      sum += static_cast<acc_t>(yi[j]);
    }
    const T inv = static_cast<T>(1.0 / sum);
    for (index_t j = 0; j < features; ++j) yi[j] *= inv;
  });
}

template <typename T>
void softmax_backward(const T* y, const T* dy, T* dx, index_t batch, index_t features) {
  detail::parallel_rows(batch, features, [=](index_t i) {
    const index_t o = i * features;
    acc_t dot = 0.0;
    for (index_t j = 0; j < features; ++j) {
      dot += static_cast<acc_t>(dy[o + j]) * static_cast<acc_t>(y[o + j]);
    }
    const T d = static_cast<T>(dot);
    for (index_t j = 0; j < features; ++j) dx[o + j] = y[o + j] * (dy[o + j] - d);
  });
}

}  // namespace

template <typename T>
void activation_forward(const T* x, T* y, index_t batch, index_t features, Act act) {
  if (batch <= 0 || features <= 0) return;
  if (act == Act::softmax) {
    softmax_forward(x, y, batch, features);
    return;
  }
  dispatch_elementwise(act, [&](auto op) {
    forward_rows<T, decltype(op)>(x, y, batch, features);
  });
}

template <typename T>
void activation_backward(const T* x, const T* y, const T* dy, T* dx, index_t batch,
                         index_t features, Act act) {
  if (batch <= 0 || features <= 0) return;
  if (act == Act::softmax) {
    softmax_backward(y, dy, dx, batch, features);
    return;
  }
  dispatch_elementwise(act, [&](auto op) {
    backward_rows<T, decltype(op)>(x, y, dy, dx, batch, features);
  });
}

template void activation_forward<float>(const float*, float*, index_t, index_t, Act);
template void activation_forward<double>(const double*, double*, index_t, index_t, Act);
template void activation_backward<float>(const float*, const float*, const float*, float*,
                                         index_t, index_t, Act);
template void activation_backward<double>(const double*, const double*, const double*, double*,
                                          index_t, index_t, Act);

}  // namespace vgp::ops
