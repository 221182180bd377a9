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
// NaN: sign-split sigmoid, softplus as max(x, 0) + log1p(e^-|x|), softmax with
// the row maximum subtracted.
//
// Layout: x, y, dy, dx are (batch, features), row-major. Backward receives
// both the pre-activation x and the output y, and uses whichever is cheaper.
// dx may alias dy (in-place backward).
#pragma once

#include <cmath>

#include "common.h"

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

// Keras constants.
constexpr double kLeakyReluSlope = 0.2;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;

template <typename T>
inline T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

struct LinearOp {
  template <typename T> static T forward(T x) { return x; }
  template <typename T> static T backward(T, T, T dy) { return dy; }
};
struct SigmoidOp {
  template <typename T> static T forward(T x) { return stable_sigmoid(x); }
  template <typename T> static T backward(T, T y, T dy) { return dy * y * (T(1) - y); }
};
struct TanhOp {
  template <typename T> static T forward(T x) { return std::tanh(x); }
  template <typename T> static T backward(T, T y, T dy) { return dy * (T(1) - y * y); }
};
struct ReluOp {
  // Written so that NaN propagates (as numpy.maximum(x, 0) does): NaN < 0 is false.
  template <typename T> static T forward(T x) { return x < T(0) ? T(0) : x; }
  template <typename T> static T backward(T x, T, T dy) { return x > T(0) ? dy : T(0); }
};
struct LeakyReluOp {
  template <typename T> static T forward(T x) { return x > T(0) ? x : T(kLeakyReluSlope) * x; }
  template <typename T> static T backward(T x, T, T dy) { return x > T(0) ? dy : T(kLeakyReluSlope) * dy; }
};
struct EluOp {
  template <typename T> static T forward(T x) { return x > T(0) ? x : std::expm1(x); }
  template <typename T> static T backward(T x, T y, T dy) { return x > T(0) ? dy : dy * (y + T(1)); }
};
struct SeluOp {
  template <typename T> static T forward(T x) {
    return x > T(0) ? T(kSeluScale) * x : T(kSeluScale * kSeluAlpha) * std::expm1(x);
  }
  template <typename T> static T backward(T x, T y, T dy) {
    return x > T(0) ? T(kSeluScale) * dy : dy * (y + T(kSeluScale * kSeluAlpha));
  }
};
struct GeluOp {
  // Phi(x) = (1 + erf(x / sqrt 2)) / 2, phi(x) = e^{-x^2/2} / sqrt(2 pi)
  template <typename T> static T forward(T x) {
    return T(0.5) * x * (T(1) + std::erf(x * T(0.70710678118654752440)));
  }
  template <typename T> static T backward(T x, T, T dy) {
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(0.70710678118654752440)));
    const T pdf = T(0.39894228040143267794) * std::exp(T(-0.5) * x * x);
    return dy * (cdf + x * pdf);
  }
};
struct SoftplusOp {
  template <typename T> static T forward(T x) {
    return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::fabs(x)));
  }
  template <typename T> static T backward(T x, T, T dy) { return dy * stable_sigmoid(x); }
};
struct SwishOp {
  template <typename T> static T forward(T x) { return x * stable_sigmoid(x); }
  template <typename T> static T backward(T x, T, T dy) {
    const T s = stable_sigmoid(x);
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

// dx = dy * act'(x) (Jacobian-vector product per row for softmax). dx may alias dy.
template <typename T>
void activation_backward(const T* x, const T* y, const T* dy, T* dx, index_t batch,
                         index_t features, Act act);

}  // namespace vgp::ops
