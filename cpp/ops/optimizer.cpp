// Optimizer updates (see optimizer.h for the Keras 3 formulas).
//
// Every update is one pass over fixed blocks of the weight buffer that updates
// the state and the weights and returns the block's sum of squared steps; the
// blocks' sums are combined in block order (ordered_sum), so the step norm is
// the same for any thread count. Arithmetic runs in T with the scalars cast to
// T first, as Keras casts its hyperparameters to the variable's dtype.
#include "ops/optimizer.h"

#include <cmath>

#include "ops/parallel.h"

namespace vgp::ops {
namespace {

// Applies step(k) -> new w[k] to every element and returns sum (w_new - w_old)^2.
// Squared step norms accumulate in kLanes interleaved partial sums, added in
// lane order at the end of each block: a fixed association (so the result
// does not depend on the vector width or the thread count) that still lets
// the update loop vectorize.
constexpr index_t kLanes = 8;

template <typename T, typename Step>
double update(T* w, index_t n, const Step& step) {
  return detail::ordered_sum(n, detail::kBlock, n, [&](index_t begin, index_t end) {
    double lanes[kLanes] = {};
    index_t k = begin;
    for (; k + kLanes <= end; k += kLanes) {
      for (index_t l = 0; l < kLanes; ++l) {
        const T old = w[k + l];
        const T nw = step(k + l, old);
        w[k + l] = nw;
        const double d = static_cast<double>(nw) - static_cast<double>(old);
        lanes[l] += d * d;
      }
    }
    double sq = 0.0;
    for (; k < end; ++k) {
      const T old = w[k];
      const T nw = step(k, old);
      w[k] = nw;
      const double d = static_cast<double>(nw) - static_cast<double>(old);
      sq += d * d;
    }
    for (index_t l = 0; l < kLanes; ++l) sq += lanes[l];
    return sq;
  });
}

}  // namespace

template <typename T>
double sgd_update(T* w, const T* g, T* velocity, index_t n, double lr, double momentum,
                  bool nesterov) {
  const T lr_t = static_cast<T>(lr);
  if (momentum == 0.0) {
    return update(w, n, [=](index_t k, T wk) { return wk - g[k] * lr_t; });
  }
  const T mom = static_cast<T>(momentum);
  return update(w, n, [=](index_t k, T wk) {
    const T v = velocity[k] * mom - g[k] * lr_t;
    velocity[k] = v;
    return nesterov ? wk + (v * mom - g[k] * lr_t) : wk + v;
  });
}

template <typename T>
double adam_update(T* w, const T* g, T* m, T* v, index_t n, double lr, double beta_1,
                   double beta_2, double epsilon, index_t step) {
  const double t = static_cast<double>(step);
  const T alpha = static_cast<T>(lr * std::sqrt(1.0 - std::pow(beta_2, t)) /
                                 (1.0 - std::pow(beta_1, t)));
  const T one_minus_b1 = static_cast<T>(1.0 - beta_1);
  const T one_minus_b2 = static_cast<T>(1.0 - beta_2);
  const T eps = static_cast<T>(epsilon);
  return update(w, n, [=](index_t k, T wk) {
    const T gk = g[k];
    const T mk = m[k] + (gk - m[k]) * one_minus_b1;
    const T vk = v[k] + (gk * gk - v[k]) * one_minus_b2;
    m[k] = mk;
    v[k] = vk;
    return wk - (mk * alpha) / (std::sqrt(vk) + eps);
  });
}

template <typename T>
double rmsprop_update(T* w, const T* g, T* v, T* mom, T* avg, index_t n, double lr, double rho,
                      double momentum, double epsilon, bool centered) {
  const T lr_t = static_cast<T>(lr);
  const T rho_t = static_cast<T>(rho);
  const T one_minus_rho = static_cast<T>(1.0 - rho);
  const T mom_t = static_cast<T>(momentum);
  const T eps = static_cast<T>(epsilon);
  const bool use_momentum = momentum > 0.0;
  return update(w, n, [=](index_t k, T wk) {
    const T gk = g[k];
    const T vk = rho_t * v[k] + one_minus_rho * (gk * gk);
    v[k] = vk;
    T den = vk + eps;
    if (centered) {
      const T ak = rho_t * avg[k] + one_minus_rho * gk;
      avg[k] = ak;
      den = vk - ak * ak + eps;
    }
    const T inc = lr_t * gk / std::sqrt(den);
    if (!use_momentum) return wk - inc;
    const T mk = mom_t * mom[k] + inc;
    mom[k] = mk;
    return wk - mk;
  });
}

// Keras clips each variable's gradient separately: g * c / max(||g||, c).
// A gradient already within the norm is left bit for bit unchanged.
template <typename T>
void clip_by_norm(T* g, index_t n, double clipnorm) {
  const double sumsq = detail::ordered_sum(n, detail::kBlock, n, [=](index_t begin, index_t end) {
    double s = 0.0;
    for (index_t k = begin; k < end; ++k) {
      const double v = static_cast<double>(g[k]);
      s += v * v;
    }
    return s;
  });
  const double norm = std::sqrt(sumsq);
  if (norm <= clipnorm) return;
  const T factor = static_cast<T>(clipnorm / norm);  // NaN when the norm is NaN
  detail::parallel_blocks(n, [=](index_t begin, index_t end) {
    VGP_SIMD
    for (index_t k = begin; k < end; ++k) g[k] *= factor;
  });
}

template <typename T>
void clip_by_value(T* g, index_t n, double clipvalue) {
  const T hi = static_cast<T>(clipvalue);
  const T lo = -hi;
  detail::parallel_blocks(n, [=](index_t begin, index_t end) {
    // NaN stays NaN: both comparisons are false.
    for (index_t k = begin; k < end; ++k) g[k] = g[k] < lo ? lo : (g[k] > hi ? hi : g[k]);
  });
}

#define VGP_INSTANTIATE(T)                                                                      \
  template double sgd_update<T>(T*, const T*, T*, index_t, double, double, bool);              \
  template double adam_update<T>(T*, const T*, T*, T*, index_t, double, double, double, double, \
                                 index_t);                                                      \
  template double rmsprop_update<T>(T*, const T*, T*, T*, T*, index_t, double, double, double,  \
                                    double, bool);                                              \
  template void clip_by_norm<T>(T*, index_t, double);                                           \
  template void clip_by_value<T>(T*, index_t, double);
VGP_INSTANTIATE(float)
VGP_INSTANTIATE(double)
#undef VGP_INSTANTIATE

}  // namespace vgp::ops
