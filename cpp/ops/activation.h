// Activations: one functor per activation, forward and backward side by side
// (ggml op pairs, scikit-learn's ACTIVATIONS/DERIVATIVES), applied by one
// generic elementwise loop. Definitions follow Keras 3:
//
//   linear      y = x                               y' = 1
//   sigmoid     y = 1 / (1 + e^-x)                  y' = y (1 - y)        (<= 1/4: the seed's problem)
//   tanh        y = tanh x                          y' = 1 - y^2
//   relu        y = max(x, 0)                       y' = [x > 0]
//   leaky_relu  y = x (x > 0), 0.2 x otherwise      y' = 1 or 0.2
//   elu         y = x (x > 0), e^x - 1 otherwise    y' = 1 or y + 1       (alpha = 1)
//   selu        y = s x (x > 0), s a (e^x - 1)      y' = s or y + s a     (s = 1.0507..., a = 1.6732...)
//   gelu        y = x Phi(x) (exact, erf)           y' = Phi(x) + x phi(x)
//   softplus    y = log(1 + e^x)                    y' = sigmoid(x)
//   swish       y = x sigmoid(x)                    y' = s (1 + x (1 - s))
//   softmax     y_i = e^{x_i} / sum_j e^{x_j} (per row)   dx_i = y_i (dy_i - sum_j dy_j y_j)
//
// Every formula is written so that |x| up to 1e4 neither overflows nor gives
// NaN: sigmoid as 1 / (1 + e^-x) with an exp that returns inf (not NaN) on
// overflow, so the result is exactly 0 there (see vecmath.h: it equals the
// sign-split form wherever that is a normal number), softplus as
// max(x, 0) + log1p(e^-|x|), softmax with the row maximum subtracted.
//
// Layout: x, y, dy, dx are (batch, features), row-major. Backward receives
// both the pre-activation x and the output y, and uses whichever is cheaper.
// dx may alias dy (in-place backward).
#pragma once

#include <cmath>
#include <iterator>

#include "common.h"
#include "ops/vecmath.h"

namespace vgp::ops {

enum class Act : int {
  linear = 0,
  sigmoid = 1,
  tanh = 2,
  relu = 3,
  leaky_relu = 4,
  elu = 5,
  selu = 6,
  gelu = 7,
  softplus = 8,
  swish = 9,
  softmax = 10,
};
constexpr int kNumActivations = 11;

// The names Python uses (vgp_native._core.ACTIVATION_CODES).
inline constexpr EnumName<Act> kActivationNames[] = {
    {Act::linear, "linear"}, {Act::sigmoid, "sigmoid"}, {Act::tanh, "tanh"}, {Act::relu, "relu"},
    {Act::leaky_relu, "leaky_relu"}, {Act::elu, "elu"}, {Act::selu, "selu"}, {Act::gelu, "gelu"},
    {Act::softplus, "softplus"}, {Act::swish, "swish"}, {Act::softmax, "softmax"},
};
static_assert(std::size(kActivationNames) == kNumActivations && codes_are_dense(kActivationNames),
              "kActivationNames names every activation once, in code order");

// Keras constants.
constexpr double kLeakyReluSlope = 0.2;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;

// The functors are branch-free (vecmath.h), so the elementwise loops that
// apply them vectorize; NaN propagates through every one of them.
template <typename T>
inline T stable_sigmoid(T x) {
  return vm::vsigmoid(x);
}

struct LinearOp {
  template <typename T> static T forward(T x) { return x; }
  template <typename T> static T backward(T, T, T dy) { return dy; }
};
struct SigmoidOp {
  template <typename T> static T forward(T x) { return vm::vsigmoid(x); }
  template <typename T> static T backward(T, T y, T dy) { return dy * y * (T(1) - y); }
};
struct TanhOp {
  template <typename T> static T forward(T x) { return vm::vtanh(x); }
  template <typename T> static T backward(T, T y, T dy) { return dy * (T(1) - y * y); }
};
struct ReluOp {
  // Written so that NaN propagates (as numpy.maximum(x, 0) does): NaN < 0 is false.
  template <typename T> static T forward(T x) { return x < T(0) ? T(0) : x; }
  template <typename T> static T backward(T x, T, T dy) { return x > T(0) ? dy : T(0); }
};
// Both arms are computed before the select: arithmetic inside one arm of a ?:
// is control flow, which keeps GCC from vectorizing without AVX-512 masks.
struct LeakyReluOp {
  template <typename T> static T forward(T x) {
    const T neg = T(kLeakyReluSlope) * x;
    return x > T(0) ? x : neg;
  }
  template <typename T> static T backward(T x, T, T dy) {
    const T neg = T(kLeakyReluSlope) * dy;
    return x > T(0) ? dy : neg;
  }
};
struct EluOp {
  template <typename T> static T forward(T x) {
    const T neg = vm::vexpm1_neg(x);
    return x > T(0) ? x : neg;
  }
  template <typename T> static T backward(T x, T y, T dy) {
    const T neg = dy * (y + T(1));
    return x > T(0) ? dy : neg;
  }
};
struct SeluOp {
  template <typename T> static T forward(T x) {
    const T pos = T(kSeluScale) * x;
    const T neg = T(kSeluScale * kSeluAlpha) * vm::vexpm1_neg(x);
    return x > T(0) ? pos : neg;
  }
  template <typename T> static T backward(T x, T y, T dy) {
    const T pos = T(kSeluScale) * dy;
    const T neg = dy * (y + T(kSeluScale * kSeluAlpha));
    return x > T(0) ? pos : neg;
  }
};
struct GeluOp {
  // Phi(x) and phi(x) = e^{-x^2/2} / sqrt(2 pi) from one exponential, taken in
  // double (its argument must not be rounded to float); Phi is computed without
  // the cancellation of 1 + erf for negative x (vm::normal_cdf).
  template <typename T> static T forward(T x) {
    const double xd = x;
    const T e = static_cast<T>(vm::vexp(-0.5 * xd * xd));
    return x * vm::normal_cdf(x, e);
  }
  template <typename T> static T backward(T x, T, T dy) {
    const double xd = x;
    const T e = static_cast<T>(vm::vexp(-0.5 * xd * xd));
    const T pdf = T(0.39894228040143267794) * e;
    return dy * (vm::normal_cdf(x, e) + x * pdf);
  }
};
struct SoftplusOp {
  template <typename T> static T forward(T x) {
    const T pos = x > T(0) ? x : T(0);
    return pos + vm::vlog1p_unit(vm::vexp(-std::fabs(x)));
  }
  template <typename T> static T backward(T x, T, T dy) { return dy * vm::vsigmoid(x); }
};
struct SwishOp {
  template <typename T> static T forward(T x) { return x * vm::vsigmoid(x); }
  // s = y / x recovers sigmoid(x) from the output for a division instead of an
  // exp, within 2 ulp of recomputing it. Below |x| = 1e-30, where y may be
  // subnormal or 0, sigmoid(x) rounds to 1/2 anyway.
  template <typename T> static T backward(T x, T y, T dy) {
    const T ratio = y / x;
    const T s = std::fabs(x) < T(1e-30) ? T(0.5) : ratio;
    return dy * s * (T(1) + x * (T(1) - s));
  }
};

// True for the activations that are applied elementwise (everything but softmax).
inline bool is_elementwise(Act act) { return act != Act::softmax; }

// Calls f(OpType{}) for the functor of an elementwise activation; softmax is
// not an elementwise op and must be handled by the caller.
template <typename F>
inline void dispatch_elementwise(Act act, F&& f) {
  switch (act) {
    case Act::linear: f(LinearOp{}); break;
    case Act::sigmoid: f(SigmoidOp{}); break;
    case Act::tanh: f(TanhOp{}); break;
    case Act::relu: f(ReluOp{}); break;
    case Act::leaky_relu: f(LeakyReluOp{}); break;
    case Act::elu: f(EluOp{}); break;
    case Act::selu: f(SeluOp{}); break;
    case Act::gelu: f(GeluOp{}); break;
    case Act::softplus: f(SoftplusOp{}); break;
    case Act::swish: f(SwishOp{}); break;
    case Act::softmax: break;
  }
}

// y = act(x). For softmax, per row.
template <typename T>
void activation_forward(const T* x, T* y, index_t batch, index_t features, Act act);

// y = act(x) over n contiguous elements on the calling thread (an elementwise
// activation, never softmax): the vectorized loop behind activation_forward,
// for callers that already split the work (the GEMM epilogue).
template <typename T>
void activation_forward_span(const T* x, T* y, index_t n, Act act);

// The function activation_forward_span runs for `act` (n >= 1), chosen once
// (the sigmoid's SIMD span where the CPU has one): for callers that apply the
// same activation to many short spans (the narrow pass, a few hundred values
// a layer). Null for softmax.
template <typename T>
using ActivationSpan = void (*)(const T* x, T* y, index_t n);
template <typename T>
ActivationSpan<T> activation_forward_span_fn(Act act);

// dx = dy * act'(x) over n contiguous elements on the calling thread (an
// elementwise activation): the loop behind activation_backward. dx may alias dy.
template <typename T>
void activation_backward_span(const T* x, const T* y, const T* dy, T* dx, index_t n, Act act);

// dx = dy * act'(x) (Jacobian-vector product per row for softmax). dx may alias dy.
template <typename T>
void activation_backward(const T* x, const T* y, const T* dy, T* dx, index_t batch,
                         index_t features, Act act);

}  // namespace vgp::ops
