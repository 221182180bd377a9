// Activation forward/backward: one generic elementwise loop applies the
// functor of activation.h; softmax is a row operation.
//
// softmax forward, per row:  m = max_j x_j,  e_j = exp(x_j - m),  y_j = e_j / sum_j e_j
//   (x_j - m <= 0, so exp never overflows; the row sum is >= 1 and summed in double).
// softmax backward, per row: dx_i = y_i (dy_i - sum_j dy_j y_j)
//   (the Jacobian diag(y) - y y^T applied to dy; the dot product is read before
//   any dx_i is written, so dx may alias dy).
//
// The loops are VGP_MULTIVERSION functions (AVX-512 / AVX2+FMA / baseline
// chosen at load time) whose bodies are the branch-free functors, so each
// compiles to straight SIMD code; the sigmoid's forward runs a hand-written
// AVX-512 or AVX2 span with the same bits where that ISA's clone would
// (sigmoid_span.h). Row sums use kLanes double accumulators in a
// fixed order, which vectorizes and does not depend on the thread count.
#include "ops/activation.h"

#include <type_traits>

#include "ops/parallel.h"
#include "ops/sigmoid_span.h"

namespace vgp::ops {
namespace {

constexpr index_t kLanes = 8;

// Arithmetic of one element's forward beyond its loads and stores, in streams
// (parallel.h): one exp-based function for most; softplus adds a log1p; GELU
// takes erf and exp in double (measured about 2-4 ns an element on Zen 4).
constexpr double compute_cost(Act act) {
  switch (act) {
    case Act::linear:
    case Act::relu:
    case Act::leaky_relu: return 0.0;
    case Act::softplus: return 2 * detail::kCostExp;
    case Act::gelu: return 10 * detail::kCostExp;
    default: return detail::kCostExp;
  }
}

// Forward reads x and writes y; softmax also sums each row in double and
// scales it.
template <typename T>
double forward_work(index_t n, Act act) {
  const double streams = act == Act::softmax ? 3 + detail::kCostExp + detail::kCostDouble
                                             : 2 + compute_cost(act);
  return detail::work_ns<T>(n, streams);
}

// Backward reads x or y (both for a few) and dy, writes dx; it is arithmetic
// on y except where it recomputes a sigmoid (softplus, swish) or erf (gelu);
// softmax takes a dot product in double per row first.
template <typename T>
double backward_work(index_t n, Act act) {
  if (act == Act::softmax) return detail::work_ns<T>(n, 5 + detail::kCostDouble);
  const bool recomputes = act == Act::gelu || act == Act::softplus || act == Act::swish;
  return detail::work_ns<T>(n, 4 + (recomputes ? compute_cost(act) : 0.0));
}

template <typename T, typename Op>
VGP_MULTIVERSION void forward_span_generic(const T* x, T* y, index_t n) {
  VGP_SIMD
  for (index_t j = 0; j < n; ++j) y[j] = Op::forward(x[j]);
}

// The sigmoid takes its AVX-512 or AVX2 span where the CPU has one (same bits,
// sigmoid_span.h); everything else the generic loop.
template <typename T, typename Op>
void forward_span(const T* x, T* y, index_t n) {
  if constexpr (std::is_same_v<Op, SigmoidOp>) {
    if (const SigmoidSpanFn<T> span = sigmoid_span_simd<T>()) {
      span(x, y, n);
      return;
    }
  }
  forward_span_generic<T, Op>(x, y, n);
}

// dx may alias dy: element j reads dy[j] before dx[j] is written.
template <typename T, typename Op>
VGP_MULTIVERSION void backward_span(const T* x, const T* y, const T* dy, T* dx, index_t n) {
  VGP_SIMD
  for (index_t j = 0; j < n; ++j) dx[j] = Op::backward(x[j], y[j], dy[j]);
}

// sum_j f(j) in double as kLanes partial sums combined in order: vectorizes,
// and the order depends on n only.
template <typename F>
inline acc_t lane_sum(index_t n, const F& f) {
  acc_t lanes[kLanes] = {};
  index_t j = 0;
  for (; j + kLanes <= n; j += kLanes) {
    for (index_t l = 0; l < kLanes; ++l) lanes[l] += f(j + l);
  }
  acc_t sum = 0.0;
  for (index_t l = 0; l < kLanes; ++l) sum += lanes[l];
  for (; j < n; ++j) sum += f(j);
  return sum;
}

template <typename T>
VGP_MULTIVERSION void softmax_row(const T* x, T* y, index_t n) {
  T m = x[0];
#ifdef _OPENMP
#pragma omp simd reduction(max : m)
#endif
  for (index_t j = 1; j < n; ++j) m = x[j] > m ? x[j] : m;
  VGP_SIMD
  for (index_t j = 0; j < n; ++j) y[j] = vm::vexp(x[j] - m);
  const T inv = static_cast<T>(1.0 / lane_sum(n, [y](index_t j) { return acc_t(y[j]); }));
  VGP_SIMD
  for (index_t j = 0; j < n; ++j) y[j] *= inv;
}

template <typename T>
VGP_MULTIVERSION void softmax_backward_row(const T* y, const T* dy, T* dx, index_t n) {
  const T d =
      static_cast<T>(lane_sum(n, [y, dy](index_t j) { return acc_t(dy[j]) * acc_t(y[j]); }));
  VGP_SIMD
  for (index_t j = 0; j < n; ++j) dx[j] = y[j] * (dy[j] - d);
}

}  // namespace

template <typename T>
void activation_forward(const T* x, T* y, index_t batch, index_t features, Act act) {
  if (batch <= 0 || features <= 0) return;
  const double work = forward_work<T>(batch * features, act);
  if (act == Act::softmax) {
    detail::parallel_rows(batch, work, [=](index_t i) {
      softmax_row(x + i * features, y + i * features, features);
    });
    return;
  }
  dispatch_elementwise(act, [&](auto op) {
    detail::parallel_row_spans(batch, features, work, [=](index_t begin, index_t end) {
      forward_span<T, decltype(op)>(x + begin, y + begin, end - begin);
    });
  });
}

template <typename T>
void activation_backward(const T* x, const T* y, const T* dy, T* dx, index_t batch,
                         index_t features, Act act) {
  if (batch <= 0 || features <= 0) return;
  const double work = backward_work<T>(batch * features, act);
  if (act == Act::softmax) {
    detail::parallel_rows(batch, work, [=](index_t i) {
      const index_t o = i * features;
      softmax_backward_row(y + o, dy + o, dx + o, features);
    });
    return;
  }
  dispatch_elementwise(act, [&](auto op) {
    detail::parallel_row_spans(batch, features, work, [=](index_t begin, index_t end) {
      backward_span<T, decltype(op)>(x + begin, y + begin, dy + begin, dx + begin, end - begin);
    });
  });
}

template <typename T>
void activation_forward_span(const T* x, T* y, index_t n, Act act) {
  if (n <= 0) return;
  dispatch_elementwise(act, [&](auto op) { forward_span<T, decltype(op)>(x, y, n); });
}

template <typename T>
ActivationSpan<T> activation_forward_span_fn(Act act) {
  if (act == Act::sigmoid) {
    if (const SigmoidSpanFn<T> span = sigmoid_span_simd<T>()) return span;
  }
  ActivationSpan<T> fn = nullptr;
  dispatch_elementwise(act, [&](auto op) { fn = &forward_span_generic<T, decltype(op)>; });
  return fn;
}

template <typename T>
void activation_backward_span(const T* x, const T* y, const T* dy, T* dx, index_t n, Act act) {
  if (n <= 0) return;
  dispatch_elementwise(act,
                       [&](auto op) { backward_span<T, decltype(op)>(x, y, dy, dx, n); });
}

template void activation_backward_span<float>(const float*, const float*, const float*, float*,
                                              index_t, Act);
template void activation_backward_span<double>(const double*, const double*, const double*,
                                               double*, index_t, Act);
template void activation_forward_span<float>(const float*, float*, index_t, Act);
template void activation_forward_span<double>(const double*, double*, index_t, Act);
template ActivationSpan<float> activation_forward_span_fn<float>(Act);
template ActivationSpan<double> activation_forward_span_fn<double>(Act);
template void activation_forward<float>(const float*, float*, index_t, index_t, Act);
template void activation_forward<double>(const double*, double*, index_t, index_t, Act);
template void activation_backward<float>(const float*, const float*, const float*, float*,
                                         index_t, index_t, Act);
template void activation_backward<double>(const double*, const double*, const double*, double*,
                                          index_t, index_t, Act);

}  // namespace vgp::ops
