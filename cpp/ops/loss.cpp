// Loss kernels (see loss.h for the formulas and Keras semantics).
//
// Each loss is a struct with the loss of one row (`row`, in double; or, for
// sigmoid cross-entropy, its elements' terms in one vectorized loop, `terms`)
// and the gradient of one row (`grad`); two generic drivers apply them to a batch:
// the forward sums row losses over fixed chunks of rows combined in order
// (bitwise the same for any thread count), the backward writes gradient rows
// in parallel. Sparse losses read one label per row instead of a target row.
//
// Threads: each loss states the single-core cost of an element of its forward
// and backward in streams (parallel.h's work estimates): a scalar libm call in
// double (exp, log, log1p) is kCostLibm, a sum in double along a row, one
// dependent addition per element, about 16 (a nanosecond).
//
// Stability: logits enter only through max(z, 0) + log1p(e^-|z|) (sigmoid) or
// through z - max_j z_j (softmax), so logits of 1e4 give exact, finite values.
// Probabilities are clipped to [1e-7, 1 - 1e-7] rounded to T, as Keras clips
// in the tensor's dtype; the clip's gradient is zero outside that range.
#include "ops/loss.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "ops/activation.h"
#include "ops/parallel.h"

namespace vgp::ops {
namespace {

template <typename T>
struct Clip {
  static constexpr T lo = static_cast<T>(kLossEpsilon);
  static constexpr T hi = static_cast<T>(1.0 - kLossEpsilon);
  // NaN passes through (both comparisons are false), so it reaches the loss.
  static T apply(T p) { return p < lo ? lo : (p > hi ? hi : p); }
  static bool clipped(T p) { return p < lo || p > hi; }
};

template <typename T>
double row_max(const T* z, index_t k) {
  double m = static_cast<double>(z[0]);
  for (index_t j = 1; j < k; ++j) m = static_cast<double>(z[j]) > m ? static_cast<double>(z[j]) : m;
  return m;
}

// log sum_j e^{z_j} = m + log sum_j e^{z_j - m}.
template <typename T>
double row_logsumexp(const T* z, index_t k, double m) {
  double s = 0.0;
  for (index_t j = 0; j < k; ++j) s += std::exp(static_cast<double>(z[j]) - m);
  return m + std::log(s);
}

// A row's sum in double: one dependent addition per element.
constexpr double kRowSumCost = 16.0;
constexpr double kLibm = detail::kCostLibm;

template <typename T>
double row_sum(const T* p, index_t k) {
  double s = 0.0;
  for (index_t j = 0; j < k; ++j) s += static_cast<double>(p[j]);
  return s;
}

// An element's term max(z, 0) - z t + log1p(e^-|z|) in double, with
// vecmath's exp and log1p (e^-|z| lies in [0, 1], vlog1p_unit's domain), for
// the vectorized loops below instead of two scalar libm calls per element.
template <typename T>
inline double sigmoid_bce_term(T z, T t) {
  const double zj = z;
  const double relu = zj > 0.0 ? zj : 0.0;
  return relu - zj * static_cast<double>(t) + vm::vlog1p_unit(vm::vexp(-std::fabs(zj)));
}

// dl/dz of an element times c: c (sigmoid(z) - t) in double.
template <typename T>
inline T sigmoid_bce_slope(T z, T t, double c) {
  return static_cast<T>(c * (stable_sigmoid(static_cast<double>(z)) - static_cast<double>(t)));
}

// The terms of n elements.
template <typename T>
VGP_MULTIVERSION void sigmoid_bce_terms(const T* z, const T* t, double* out, index_t n) {
  VGP_SIMD
  for (index_t j = 0; j < n; ++j) out[j] = sigmoid_bce_term(z[j], t[j]);
}

// Both in one loop: the two chains of exponentials and logarithms of an
// element (each a few dozen dependent operations) run side by side.
template <typename T>
VGP_MULTIVERSION void sigmoid_bce_terms_grad(const T* z, const T* t, double* out, T* dz, index_t n,
                                             double c) {
  VGP_SIMD
  for (index_t j = 0; j < n; ++j) {
    out[j] = sigmoid_bce_term(z[j], t[j]);
    dz[j] = sigmoid_bce_slope(z[j], t[j], c);
  }
}

struct SigmoidBce {
  static constexpr bool kSparse = false;
  static constexpr bool kElementwise = true;
  // Two vecmath functions on double lanes (half as many as float's).
  static constexpr double kForwardCost = 4 * detail::kCostExp + kRowSumCost;
  static constexpr double kBackwardCost = 3 + 2 * detail::kCostExp;
  // A row's loss is the mean of its terms (terms_sum).
  template <typename T>
  static void terms(const T* z, const T* t, double* out, index_t n) {
    sigmoid_bce_terms(z, t, out, n);
  }
  // terms and, into dz, grad's values with the factor c.
  template <typename T>
  static void terms_grad(const T* z, const T* t, double* out, T* dz, index_t n, double c) {
    sigmoid_bce_terms_grad(z, t, out, dz, n, c);
  }
  static double factor(double scale, index_t k) { return scale / static_cast<double>(k); }
  template <typename T>
  static void grad(const T* z, const T* t, T* dz, index_t n, double c) {
    VGP_SIMD
    for (index_t j = 0; j < n; ++j) dz[j] = sigmoid_bce_slope(z[j], t[j], c);
  }
};

struct Bce {
  static constexpr bool kSparse = false;
  static constexpr bool kElementwise = true;
  static constexpr double kForwardCost = 2 * kLibm + kRowSumCost;
  static constexpr double kBackwardCost = 3 + 8;
  template <typename T>
  static double row(const T* p, const T* t, index_t k) {
    double s = 0.0;
    for (index_t j = 0; j < k; ++j) {
      const double q = Clip<T>::apply(p[j]);
      const double tj = t[j];
      s -= tj * std::log(q) + (1.0 - tj) * std::log(1.0 - q);
    }
    return s / static_cast<double>(k);
  }
  static double factor(double scale, index_t k) { return scale / static_cast<double>(k); }
  template <typename T>
  static void grad(const T* p, const T* t, T* dp, index_t n, double c) {
    VGP_SIMD
    for (index_t j = 0; j < n; ++j) {
      const double q = p[j];
      const double tj = t[j];
      const double g = -c * (tj / q - (1.0 - tj) / (1.0 - q));
      dp[j] = Clip<T>::clipped(p[j]) ? T(0) : static_cast<T>(g);
    }
  }
};

struct SoftmaxCce {
  static constexpr bool kSparse = false;
  static constexpr bool kElementwise = false;
  static constexpr double kForwardCost = kLibm + 2 * kRowSumCost;
  static constexpr double kBackwardCost = 2 * kLibm + 2 * kRowSumCost;
  template <typename T>
  static double row(const T* z, const T* t, index_t k) {
    const double lse = row_logsumexp(z, k, row_max(z, k));
    double s = 0.0;
    for (index_t j = 0; j < k; ++j) {
      s += static_cast<double>(t[j]) * (lse - static_cast<double>(z[j]));
    }
    return s;
  }
  // d/dz_j sum_i t_i (lse - z_i) = softmax_j sum_i t_i - t_j
  template <typename T>
  static void grad(const T* z, const T* t, T* dz, index_t k, double scale) {
    const double lse = row_logsumexp(z, k, row_max(z, k));
    const double tsum = row_sum(t, k);
    for (index_t j = 0; j < k; ++j) {
      const double y = std::exp(static_cast<double>(z[j]) - lse);
      dz[j] = static_cast<T>(scale * (y * tsum - static_cast<double>(t[j])));
    }
  }
};

struct SoftmaxSparseCce {
  static constexpr bool kSparse = true;
  static constexpr bool kElementwise = false;
  static constexpr double kForwardCost = kLibm + kRowSumCost;
  static constexpr double kBackwardCost = 2 * kLibm + kRowSumCost;
  template <typename T>
  static double row(const T* z, const T* label, index_t k) {
    const double z_label = static_cast<double>(z[static_cast<index_t>(*label)]);
    return row_logsumexp(z, k, row_max(z, k)) - z_label;
  }
  template <typename T>
  static void grad(const T* z, const T* label, T* dz, index_t k, double scale) {
    const double lse = row_logsumexp(z, k, row_max(z, k));
    const index_t c = static_cast<index_t>(*label);
    for (index_t j = 0; j < k; ++j) {
      const double y = std::exp(static_cast<double>(z[j]) - lse);
      dz[j] = static_cast<T>(scale * (y - (j == c ? 1.0 : 0.0)));
    }
  }
};

// Categorical cross-entropy from probabilities, Keras: q = clip(p / sum p).
// With g_j = dl/dq_j (zero where clipped) and dq_j/dp_i = (delta_ij - q_j) / s:
//   dl/dp_i = (g_i - sum_j g_j q_j) / s.
// `weight(j)` is t_j (dense targets) or [j == label] (sparse).
template <typename T, typename Weight>
double cce_row(const T* p, index_t k, const Weight& weight) {
  const double s = row_sum(p, k);
  double l = 0.0;
  for (index_t j = 0; j < k; ++j) {
    const double w = weight(j);
    if (w != 0.0) l -= w * std::log(static_cast<double>(Clip<T>::apply(static_cast<T>(p[j] / s))));
  }
  return l;
}

template <typename T, typename Weight>
void cce_grad(const T* p, T* dp, index_t k, double scale, const Weight& weight) {
  const double s = row_sum(p, k);
  const auto g = [&](index_t j) {
    const T q = static_cast<T>(p[j] / s);
    return Clip<T>::clipped(q) ? 0.0 : -weight(j) / static_cast<double>(q);
  };
  double gq = 0.0;
  for (index_t j = 0; j < k; ++j) gq += g(j) * (static_cast<double>(p[j]) / s);
  for (index_t j = 0; j < k; ++j) dp[j] = static_cast<T>(scale * (g(j) - gq) / s);
}

// Per element a division and the row sums; a log for each nonzero target,
// about one per row for one-hot targets, is left out of the estimate.
struct Cce {
  static constexpr bool kSparse = false;
  static constexpr bool kElementwise = false;
  static constexpr double kForwardCost = 2 * kRowSumCost;
  static constexpr double kBackwardCost = 3 * kRowSumCost;
  template <typename T>
  static double row(const T* p, const T* t, index_t k) {
    return cce_row(p, k, [t](index_t j) { return static_cast<double>(t[j]); });
  }
  template <typename T>
  static void grad(const T* p, const T* t, T* dp, index_t k, double scale) {
    cce_grad(p, dp, k, scale, [t](index_t j) { return static_cast<double>(t[j]); });
  }
};

struct SparseCce {
  static constexpr bool kSparse = true;
  static constexpr bool kElementwise = false;
  static constexpr double kForwardCost = 2 * kRowSumCost;
  static constexpr double kBackwardCost = 3 * kRowSumCost;
  template <typename T>
  static double row(const T* p, const T* label, index_t k) {
    const index_t c = static_cast<index_t>(*label);
    return cce_row(p, k, [c](index_t j) { return j == c ? 1.0 : 0.0; });
  }
  template <typename T>
  static void grad(const T* p, const T* label, T* dp, index_t k, double scale) {
    const index_t c = static_cast<index_t>(*label);
    cce_grad(p, dp, k, scale, [c](index_t j) { return j == c ? 1.0 : 0.0; });
  }
};

struct Mse {
  static constexpr bool kSparse = false;
  static constexpr bool kElementwise = true;
  static constexpr double kForwardCost = 2 + kRowSumCost;
  static constexpr double kBackwardCost = 3;
  template <typename T>
  static double row(const T* y, const T* t, index_t k) {
    double s = 0.0;
    for (index_t j = 0; j < k; ++j) {
      const double d = static_cast<double>(y[j]) - static_cast<double>(t[j]);
      s += d * d;
    }
    return s / static_cast<double>(k);
  }
  static double factor(double scale, index_t k) { return 2.0 * scale / static_cast<double>(k); }
  template <typename T>
  static void grad(const T* y, const T* t, T* dy, index_t n, double c) {
    VGP_SIMD
    for (index_t j = 0; j < n; ++j) {
      dy[j] = static_cast<T>(c * (static_cast<double>(y[j]) - static_cast<double>(t[j])));
    }
  }
};

// Row i of the target: a row of k values, or the single label of a sparse loss.
template <typename Loss, typename T>
const T* target_row(const T* target, index_t i, index_t k) {
  return Loss::kSparse ? target + i : target + i * k;
}

// Sum over rows of f(i) (a double), in the fixed chunk order; each of the
// batch * k elements costs `cost` streams of T.
template <typename T, typename F>
double sum_rows(index_t batch, index_t k, double cost, const F& f) {
  if (batch <= 0 || k <= 0) return 0.0;
  return detail::ordered_sum(batch, detail::rows_per_chunk(k), detail::work_ns<T>(batch * k, cost),
                             [&](index_t r0, index_t r1) {
                               double s = 0.0;
                               for (index_t i = r0; i < r1; ++i) s += f(i);
                               return s;
                             });
}

// Whether a loss gives its elements' terms (Loss::terms, a row's loss being
// their mean) rather than a row's loss (Loss::row).
template <typename Loss, typename = void>
struct HasTerms : std::false_type {};
template <typename Loss>
struct HasTerms<Loss, std::void_t<decltype(&Loss::template terms<float>)>> : std::true_type {};

// sum_rows of the row means of an elementwise loss's terms: the terms are
// computed vectorized in pieces of kPiece elements and summed in the order a
// row loop would, each row from zero, then divided by k. With da, the same
// pass writes the gradient, Loss::grad's values with the factor c.
template <typename Loss, typename T>
double terms_sum(const T* a, const T* target, index_t batch, index_t k, T* da = nullptr,
                 double c = 0.0) {
  if (batch <= 0 || k <= 0) return 0.0;
  const double kd = static_cast<double>(k);
  const double cost = Loss::kForwardCost + (da ? Loss::kBackwardCost : 0.0);
  return detail::ordered_sum(
      batch, detail::rows_per_chunk(k), detail::work_ns<T>(batch * k, cost),
      [&](index_t r0, index_t r1) {
        constexpr index_t kPiece = 256;
        double terms[kPiece];
        double s = 0.0;
        double row = 0.0;
        index_t j = 0;  // the element's column in its row
        for (index_t e0 = r0 * k; e0 < r1 * k; e0 += kPiece) {
          const index_t m = std::min(kPiece, r1 * k - e0);
          if (da) {
            Loss::terms_grad(a + e0, target + e0, terms, da + e0, m, c);
          } else {
            Loss::terms(a + e0, target + e0, terms, m);
          }
          if (k == 1) {
            // One term a row: row / 1 is the term (0 + t differs from t only
            // for t = -0, and s, which starts at +0, adds either zero alike),
            // so the same sum without a division per row.
            for (index_t i = 0; i < m; ++i) s += terms[i];
            continue;
          }
          for (index_t i = 0; i < m; ++i) {
            row += terms[i];
            if (++j == k) {
              s += row / kd;
              row = 0.0;
              j = 0;
            }
          }
        }
        return s;
      });
}

template <typename Loss, typename T>
double loss_sum(const T* a, const T* target, index_t batch, index_t k) {
  if constexpr (HasTerms<Loss>::value) {
    return terms_sum<Loss>(a, target, batch, k);
  } else {
    return sum_rows<T>(batch, k, Loss::kForwardCost, [=](index_t i) {
      return Loss::row(a + i * k, target_row<Loss>(target, i, k), k);
    });
  }
}

// Loss::grad over n elements, compiled for AVX-512, AVX2 + FMA and the
// baseline and chosen at load time (VGP_MULTIVERSION, vecmath.h).
template <typename Loss, typename T>
VGP_MULTIVERSION void elementwise_grad(const T* a, const T* target, T* da, index_t n, double c) {
  Loss::grad(a, target, da, n, c);
}

// An elementwise loss (kElementwise: each element's gradient reads that
// element alone) runs one vectorized loop over the whole batch, whatever the
// row length, with the factor c = factor(scale, k); the others row by row.
template <typename Loss, typename T>
void loss_grad(const T* a, const T* target, T* da, index_t batch, index_t k, double scale) {
  if (k <= 0) return;
  const double work = detail::work_ns<T>(batch * k, Loss::kBackwardCost);
  if constexpr (Loss::kElementwise) {
    const double c = Loss::factor(scale, k);
    detail::parallel_blocks(batch * k, work, [=](index_t begin, index_t end) {
      elementwise_grad<Loss>(a + begin, target + begin, da + begin, end - begin, c);
    });
  } else {
    detail::parallel_rows(batch, work, [=](index_t i) {
      Loss::grad(a + i * k, target_row<Loss>(target, i, k), da + i * k, k, scale);
    });
  }
}

// Index of the first maximum of a row (numpy's argmax for finite rows).
template <typename T>
index_t row_argmax(const T* p, index_t k) {
  index_t best = 0;
  for (index_t j = 1; j < k; ++j) best = p[j] > p[best] ? j : best;
  return best;
}

}  // namespace

// Defines <name>_forward and <name>_backward of loss.h from the Loss struct.
#define VGP_LOSS_PAIR(name, Loss)                                                         \
  template <typename T>                                                                   \
  double name##_forward(const T* a, const T* target, index_t batch, index_t k) {          \
    return loss_sum<Loss>(a, target, batch, k);                                           \
  }                                                                                       \
  template <typename T>                                                                   \
  void name##_backward(const T* a, const T* target, T* da, index_t batch, index_t k,      \
                       double scale) {                                                    \
    loss_grad<Loss>(a, target, da, batch, k, scale);                                      \
  }
VGP_LOSS_PAIR(sigmoid_bce, SigmoidBce)

template <typename T>
double sigmoid_bce_forward_backward(const T* logits, const T* target, T* dlogits, index_t batch,
                                    index_t k, double scale) {
  if (k <= 0) return 0.0;
  return terms_sum<SigmoidBce>(logits, target, batch, k, dlogits, SigmoidBce::factor(scale, k));
}

VGP_LOSS_PAIR(bce, Bce)
VGP_LOSS_PAIR(softmax_cce, SoftmaxCce)
VGP_LOSS_PAIR(softmax_sparse_cce, SoftmaxSparseCce)
VGP_LOSS_PAIR(cce, Cce)
VGP_LOSS_PAIR(sparse_cce, SparseCce)
VGP_LOSS_PAIR(mse, Mse)
#undef VGP_LOSS_PAIR

namespace {

// Rows i of one output whose thresholded probability equals the target.
template <typename T>
VGP_MULTIVERSION std::int64_t binary_hits(const T* prob, const T* target, index_t n) {
  std::int64_t hits = 0;
#pragma omp simd reduction(+ : hits)
  for (index_t i = 0; i < n; ++i) hits += ((prob[i] > T(0.5)) ? T(1) : T(0)) == target[i];
  return hits;
}

}  // namespace

template <typename T>
double binary_accuracy_sum(const T* prob, const T* target, index_t batch, index_t features) {
  if (features == 1) {
    // Each row's value is 0 or 1, so the sum is the count of hits, exact in
    // any order: one vectorized count (a binary classifier's every step).
    return static_cast<double>(binary_hits(prob, target, batch));
  }
  return sum_rows<T>(batch, features, kRowSumCost, [=](index_t i) {
    const T* p = prob + i * features;
    const T* t = target + i * features;
    index_t hits = 0;
    for (index_t j = 0; j < features; ++j) hits += ((p[j] > T(0.5)) ? T(1) : T(0)) == t[j];
    return static_cast<double>(hits) / static_cast<double>(features);
  });
}

template <typename T>
double categorical_accuracy_sum(const T* prob, const T* target, index_t batch, index_t classes) {
  return sum_rows<T>(batch, classes, 4, [=](index_t i) {
    return row_argmax(prob + i * classes, classes) == row_argmax(target + i * classes, classes)
               ? 1.0
               : 0.0;
  });
}

template <typename T>
double sparse_categorical_accuracy_sum(const T* prob, const T* labels, index_t batch,
                                       index_t classes) {
  return sum_rows<T>(batch, classes, 2, [=](index_t i) {
    return row_argmax(prob + i * classes, classes) == static_cast<index_t>(labels[i]) ? 1.0 : 0.0;
  });
}

#define VGP_INSTANTIATE_LOSS(T, name)                                                 \
  template double name##_forward<T>(const T*, const T*, index_t, index_t);            \
  template void name##_backward<T>(const T*, const T*, T*, index_t, index_t, double);
#define VGP_INSTANTIATE(T)                                                              \
  VGP_INSTANTIATE_LOSS(T, sigmoid_bce)                                                  \
  template double sigmoid_bce_forward_backward<T>(const T*, const T*, T*, index_t, index_t, \
                                                  double);                                  \
  VGP_INSTANTIATE_LOSS(T, bce)                                                          \
  VGP_INSTANTIATE_LOSS(T, softmax_cce)                                                  \
  VGP_INSTANTIATE_LOSS(T, softmax_sparse_cce)                                           \
  VGP_INSTANTIATE_LOSS(T, cce)                                                          \
  VGP_INSTANTIATE_LOSS(T, sparse_cce)                                                   \
  VGP_INSTANTIATE_LOSS(T, mse)                                                          \
  template double binary_accuracy_sum<T>(const T*, const T*, index_t, index_t);         \
  template double categorical_accuracy_sum<T>(const T*, const T*, index_t, index_t);    \
  template double sparse_categorical_accuracy_sum<T>(const T*, const T*, index_t, index_t);
VGP_INSTANTIATE(float)
VGP_INSTANTIATE(double)
#undef VGP_INSTANTIATE
#undef VGP_INSTANTIATE_LOSS

}  // namespace vgp::ops
