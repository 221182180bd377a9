// Optimizer updates (see optimizer.h for the Keras 3 formulas).
//
// Each optimizer is one elementwise span kernel (a VGP_MULTIVERSION loop, so it
// runs as AVX-512 / AVX2 code where the CPU has it) applied to the tensors of
// an update as one flat range of elements. Arithmetic runs in T with the
// scalars cast to T first, as Keras casts its hyperparameters to the
// variable's dtype.
//
// Threads: without step norms the flat range is cut into one contiguous piece
// per thread on kBlock boundaries, all in a single parallel region. With step
// norms each tensor is walked in fixed blocks of kBlock elements: a block
// keeps a copy of its old weights, runs the same span kernel, and returns
// sum (w_new - w_old)^2; the blocks' sums are added per tensor in block order,
// so the norm does not depend on the thread count, and the weights are those
// of the unmeasured path, bit for bit (the same kernel on the same elements).
#include "ops/optimizer.h"

#include <algorithm>
#include <cmath>

#include "ops/parallel.h"
#include "ops/vecmath.h"

namespace vgp::ops {
namespace {

using detail::kBlock;

// Element k of the state slot p of a span starting at `begin` (null stays null).
template <typename T>
T* at(T* p, index_t begin) {
  return p ? p + begin : nullptr;
}

// ---- span kernels: one optimizer step on n elements ------------------------

template <typename T>
VGP_MULTIVERSION void sgd_span(T* w, const T* g, T* velocity, index_t n, T lr, T mom,
                               bool nesterov) {
  if (velocity == nullptr) {
    VGP_SIMD
    for (index_t k = 0; k < n; ++k) w[k] = w[k] - g[k] * lr;
  } else if (nesterov) {
    VGP_SIMD
    for (index_t k = 0; k < n; ++k) {
      const T v = velocity[k] * mom - g[k] * lr;
      velocity[k] = v;
      w[k] = w[k] + (v * mom - g[k] * lr);
    }
  } else {
    VGP_SIMD
    for (index_t k = 0; k < n; ++k) {
      const T v = velocity[k] * mom - g[k] * lr;
      velocity[k] = v;
      w[k] = w[k] + v;
    }
  }
}

template <typename T>
VGP_MULTIVERSION void adam_span(T* w, const T* g, T* m, T* v, index_t n, T alpha,
                                T one_minus_b1, T one_minus_b2, T eps) {
  VGP_SIMD
  for (index_t k = 0; k < n; ++k) {
    const T gk = g[k];
    const T mk = m[k] + (gk - m[k]) * one_minus_b1;
    const T vk = v[k] + (gk * gk - v[k]) * one_minus_b2;
    m[k] = mk;
    v[k] = vk;
    w[k] = w[k] - (mk * alpha) / (std::sqrt(vk) + eps);
  }
}

// The centered / momentum variants as template flags, so each loop is
// branch-free.
template <typename T, bool kCentered, bool kMomentum>
VGP_MULTIVERSION void rmsprop_span(T* w, const T* g, T* v, T* mom, T* avg, index_t n, T lr,
                                   T rho, T one_minus_rho, T momentum, T eps) {
  VGP_SIMD
  for (index_t k = 0; k < n; ++k) {
    const T gk = g[k];
    const T vk = rho * v[k] + one_minus_rho * (gk * gk);
    v[k] = vk;
    T den = vk + eps;
    if constexpr (kCentered) {
      const T ak = rho * avg[k] + one_minus_rho * gk;
      avg[k] = ak;
      den = vk - ak * ak + eps;
    }
    const T inc = lr * gk / std::sqrt(den);
    if constexpr (kMomentum) {
      const T mk = momentum * mom[k] + inc;
      mom[k] = mk;
      w[k] = w[k] - mk;
    } else {
      w[k] = w[k] - inc;
    }
  }
}

// ---- drivers ----------------------------------------------------------------

// sum (nw - old)^2 over n elements in double: kLanes interleaved partial sums
// added in lane order after the tail, a fixed association whatever the
// vector width or thread count.
constexpr index_t kLanes = 8;

template <typename T>
double step_norm_sq(const T* old, const T* nw, index_t n) {
  double lanes[kLanes] = {};
  index_t k = 0;
  for (; k + kLanes <= n; k += kLanes) {
    for (index_t l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(nw[k + l]) - static_cast<double>(old[k + l]);
      lanes[l] += d * d;
    }
  }
  double sq = 0.0;
  for (; k < n; ++k) {
    const double d = static_cast<double>(nw[k]) - static_cast<double>(old[k]);
    sq += d * d;
  }
  for (index_t l = 0; l < kLanes; ++l) sq += lanes[l];
  return sq;
}

// op(tensor, begin, end) on the part of every tensor that falls into
// [lo, hi) of the tensors' concatenation.
template <typename T, typename Op>
void for_range(const UpdateTensor<T>* ts, index_t count, index_t lo, index_t hi, const Op& op) {
  index_t base = 0;
  for (index_t i = 0; i < count && base < hi; ++i) {
    const index_t b = std::max(lo, base), e = std::min(hi, base + ts[i].n);
    if (b < e) op(ts[i], b - base, e - base);
    base += ts[i].n;
  }
}

// Blocks of a measured update handed to threads at a time: their (tensor,
// range) and partial sums live on the stack, as the kernels never allocate.
constexpr index_t kGroup = 256;

// Values an update reads or writes per element besides w (read and written)
// and g (read): its state slots, each read and written. A square root and a
// division cost about two more (parallel.h's work estimates).
constexpr double kSqrtDivCost = 2.0;
constexpr double update_streams(int slots, bool sqrt_div) {
  return 3.0 + 2.0 * slots + (sqrt_div ? kSqrtDivCost : 0.0);
}
// Measuring the step norm copies each old weight and sums a square in double.
constexpr double kStepNormStreams = 3.0 + detail::kCostDouble;

// op(tensor, begin, end) over every element of the tensors, each element
// moving `streams` values (update_streams).
template <typename T, typename Op>
void run_update(const Op& op, double streams, const UpdateTensor<T>* ts, index_t count,
                double* step_sq) {
  index_t total = 0;
  for (index_t i = 0; i < count; ++i) total += ts[i].n;
  if (step_sq == nullptr) {
    const index_t blocks = (total + kBlock - 1) / kBlock;
    const int threads = threads_for(detail::work_ns<T>(total, streams));
    const index_t parts = std::min<index_t>(threads, blocks);
    detail::for_each_index(parts, static_cast<int>(parts), [&](index_t p) {
      const index_t lo = std::min(total, blocks * p / parts * kBlock);
      const index_t hi = std::min(total, blocks * (p + 1) / parts * kBlock);
      for_range(ts, count, lo, hi, op);
    });
    return;
  }
  struct Ref {
    index_t tensor, begin, end;
  };
  Ref refs[kGroup];
  double parts[kGroup];
  index_t used = 0;
  const double per_element = detail::work_ns<T>(1, streams + kStepNormStreams);
  const auto flush = [&] {
    index_t elements = 0;
    for (index_t j = 0; j < used; ++j) elements += refs[j].end - refs[j].begin;
    const int threads = threads_for(per_element * static_cast<double>(elements));
    detail::for_each_index(used, threads, [&](index_t j) {
      const Ref& r = refs[j];
      const UpdateTensor<T>& t = ts[r.tensor];
      T old[kBlock];
      std::copy(t.w + r.begin, t.w + r.end, old);
      op(t, r.begin, r.end);
      parts[j] = step_norm_sq(old, t.w + r.begin, r.end - r.begin);
    });
    for (index_t j = 0; j < used; ++j) step_sq[refs[j].tensor] += parts[j];
    used = 0;
  };
  for (index_t i = 0; i < count; ++i) {
    step_sq[i] = 0.0;
    for (index_t b = 0; b < ts[i].n; b += kBlock) {
      refs[used++] = Ref{i, b, std::min(ts[i].n, b + kBlock)};
      if (used == kGroup) flush();
    }
  }
  flush();
}

// The single-tensor form of an update: many(tensor, &step_sq) runs the
// multi-tensor form on one tensor; returns its squared step norm.
template <typename T, typename Many>
double update_one(T* w, const T* g, T* slot1, T* slot2, T* slot3, index_t n, const Many& many) {
  UpdateTensor<T> t;
  t.w = w;
  t.g = g;
  t.slot1 = slot1;
  t.slot2 = slot2;
  t.slot3 = slot3;
  t.n = n;
  double sq = 0.0;
  many(&t, &sq);
  return sq;
}

// 1 - beta^t (Adam's bias correction) in double. For beta in [0, 1], once
// t (1 - beta) >= 40, beta^t <= e^-40 < 2^-57 (as -ln beta >= 1 - beta), less
// than half an ulp below 1, so 1 - beta^t rounds to 1 exactly: the same value
// without a pow call (two a step otherwise, for the rest of a long run).
double bias_correction(double beta, double t) {
  if (beta >= 0.0 && t * (1.0 - beta) >= 40.0) return 1.0;
  return 1.0 - std::pow(beta, t);
}

}  // namespace

template <typename T>
void sgd_update_many(const UpdateTensor<T>* tensors, index_t count, double lr, double momentum,
                     bool nesterov, double* step_sq) {
  const T lr_t = static_cast<T>(lr);
  const T mom = static_cast<T>(momentum);
  const bool with_velocity = momentum != 0.0;
  run_update(
      [=](const UpdateTensor<T>& t, index_t b, index_t e) {
        sgd_span(t.w + b, t.g + b, with_velocity ? at(t.slot1, b) : nullptr, e - b, lr_t, mom,
                 nesterov);
      },
      update_streams(with_velocity ? 1 : 0, false), tensors, count, step_sq);
}

template <typename T>
void adam_update_many(const UpdateTensor<T>* tensors, index_t count, double lr, double beta_1,
                      double beta_2, double epsilon, index_t step, double* step_sq) {
  const double t = static_cast<double>(step);
  const T alpha = static_cast<T>(lr * std::sqrt(bias_correction(beta_2, t)) /
                                 bias_correction(beta_1, t));
  const T one_minus_b1 = static_cast<T>(1.0 - beta_1);
  const T one_minus_b2 = static_cast<T>(1.0 - beta_2);
  const T eps = static_cast<T>(epsilon);
  run_update(
      [=](const UpdateTensor<T>& u, index_t b, index_t e) {
        adam_span(u.w + b, u.g + b, u.slot1 + b, u.slot2 + b, e - b, alpha, one_minus_b1,
                  one_minus_b2, eps);
      },
      update_streams(2, true), tensors, count, step_sq);
}

template <typename T>
void rmsprop_update_many(const UpdateTensor<T>* tensors, index_t count, double lr, double rho,
                         double momentum, double epsilon, bool centered, double* step_sq) {
  const T lr_t = static_cast<T>(lr);
  const T rho_t = static_cast<T>(rho);
  const T one_minus_rho = static_cast<T>(1.0 - rho);
  const T mom_t = static_cast<T>(momentum);
  const T eps = static_cast<T>(epsilon);
  const bool use_momentum = momentum > 0.0;
  run_update(
      [=](const UpdateTensor<T>& u, index_t b, index_t e) {
        T* w = u.w + b;
        const T* g = u.g + b;
        T* v = u.slot1 + b;
        T* mom = at(u.slot2, b);
        T* avg = at(u.slot3, b);
        const index_t n = e - b;
        if (centered && use_momentum) {
          rmsprop_span<T, true, true>(w, g, v, mom, avg, n, lr_t, rho_t, one_minus_rho, mom_t,
                                      eps);
        } else if (centered) {
          rmsprop_span<T, true, false>(w, g, v, mom, avg, n, lr_t, rho_t, one_minus_rho, mom_t,
                                       eps);
        } else if (use_momentum) {
          rmsprop_span<T, false, true>(w, g, v, mom, avg, n, lr_t, rho_t, one_minus_rho, mom_t,
                                       eps);
        } else {
          rmsprop_span<T, false, false>(w, g, v, mom, avg, n, lr_t, rho_t, one_minus_rho, mom_t,
                                        eps);
        }
      },
      update_streams(1 + (centered ? 1 : 0) + (use_momentum ? 1 : 0), true), tensors, count,
      step_sq);
}

template <typename T>
double sgd_update(T* w, const T* g, T* velocity, index_t n, double lr, double momentum,
                  bool nesterov) {
  return update_one<T>(w, g, velocity, nullptr, nullptr, n, [&](auto* t, double* sq) {
    sgd_update_many(t, 1, lr, momentum, nesterov, sq);
  });
}

template <typename T>
double adam_update(T* w, const T* g, T* m, T* v, index_t n, double lr, double beta_1,
                   double beta_2, double epsilon, index_t step) {
  return update_one<T>(w, g, m, v, nullptr, n, [&](auto* t, double* sq) {
    adam_update_many(t, 1, lr, beta_1, beta_2, epsilon, step, sq);
  });
}

template <typename T>
double rmsprop_update(T* w, const T* g, T* v, T* mom, T* avg, index_t n, double lr, double rho,
                      double momentum, double epsilon, bool centered) {
  return update_one<T>(w, g, v, mom, avg, n, [&](auto* t, double* sq) {
    rmsprop_update_many(t, 1, lr, rho, momentum, epsilon, centered, sq);
  });
}

// Keras clips each variable's gradient separately: g * c / max(||g||, c).
// A gradient already within the norm is left bit for bit unchanged.
template <typename T>
void clip_by_norm(T* g, index_t n, double clipnorm) {
  const double sum_work = detail::work_ns<T>(n, 1 + detail::kCostDouble);
  const double sumsq = detail::ordered_sum(n, kBlock, sum_work, [=](index_t begin, index_t end) {
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
  detail::parallel_blocks(n, detail::work_ns<T>(n, 2), [=](index_t begin, index_t end) {
    VGP_SIMD
    for (index_t k = begin; k < end; ++k) g[k] *= factor;
  });
}

template <typename T>
void clip_by_value(T* g, index_t n, double clipvalue) {
  const T hi = static_cast<T>(clipvalue);
  const T lo = -hi;
  detail::parallel_blocks(n, detail::work_ns<T>(n, 2), [=](index_t begin, index_t end) {
    // NaN stays NaN: both comparisons are false.
    for (index_t k = begin; k < end; ++k) g[k] = g[k] < lo ? lo : (g[k] > hi ? hi : g[k]);
  });
}

template <typename T>
void l2_penalty_backward(const T* w, T* g, index_t n, double coef) {
  const T c = static_cast<T>(coef);
  // Reads w and g, writes g.
  detail::parallel_blocks(n, detail::work_ns<T>(n, 3), [=](index_t begin, index_t end) {
    VGP_SIMD
    for (index_t k = begin; k < end; ++k) g[k] += c * w[k];
  });
}

#define VGP_INSTANTIATE(T)                                                                      \
  template void sgd_update_many<T>(const UpdateTensor<T>*, index_t, double, double, bool,       \
                                   double*);                                                    \
  template void adam_update_many<T>(const UpdateTensor<T>*, index_t, double, double, double,    \
                                    double, index_t, double*);                                  \
  template void rmsprop_update_many<T>(const UpdateTensor<T>*, index_t, double, double, double, \
                                       double, bool, double*);                                  \
  template double sgd_update<T>(T*, const T*, T*, index_t, double, double, bool);              \
  template double adam_update<T>(T*, const T*, T*, T*, index_t, double, double, double, double, \
                                 index_t);                                                      \
  template double rmsprop_update<T>(T*, const T*, T*, T*, T*, index_t, double, double, double,  \
                                    double, bool);                                              \
  template void clip_by_norm<T>(T*, index_t, double);                                           \
  template void clip_by_value<T>(T*, index_t, double);                                          \
  template void l2_penalty_backward<T>(const T*, T*, index_t, double);
VGP_INSTANTIATE(float)
VGP_INSTANTIATE(double)
#undef VGP_INSTANTIATE

}  // namespace vgp::ops
