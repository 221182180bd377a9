// Bindings of the training kernels (cpp/ops/{loss,optimizer,flowstats}.h) for
// float and double: losses and metrics, optimizer updates and clipping (in
// place on the arrays passed in), and the gradient-flow statistics.
#include <cmath>
#include <optional>
#include <string>

#include "bindings/bind.h"
#include "ops/flowstats.h"
#include "ops/loss.h"
#include "ops/optimizer.h"

namespace vgp::bind {
namespace {

template <typename T>
using RowSum = double (*)(const T*, const T*, index_t, index_t);
template <typename T>
using LossBackward = void (*)(const T*, const T*, T*, index_t, index_t, double);

// Checks a (batch, k) input and its target: the same shape, or for sparse
// losses one label per row, an integer in [0, k) (an out-of-range label would
// index outside the row). Returns (batch, k).
template <typename T>
std::pair<index_t, index_t> check_target(const std::string& op, const char* input,
                                         const carray<T>& a, const char* target_name,
                                         const carray<T>& target, bool sparse) {
  const auto [batch, k] = require_matrix(op.c_str(), input, a);
  if (!sparse) {
    require_like(op.c_str(), target_name, target, input, a);
    return {batch, k};
  }
  require_shape(op.c_str(), target_name, target, {batch});
  const T* labels = target.data();
  for (index_t i = 0; i < batch; ++i) {
    const double l = static_cast<double>(labels[i]);
    if (!(l >= 0.0 && l < static_cast<double>(k) && l == std::floor(l))) {
      std::ostringstream msg;
      msg << op << ": expected " << target_name << " to hold class indices in [0, " << k
          << "), received " << l << " at index " << i;
      throw std::invalid_argument(msg.str());
    }
  }
  return {batch, k};
}

// A function (input, target) -> sum over rows: a loss forward or a metric.
template <typename T>
void def_row_sum(py::module_& m, const std::string& op, const char* input, bool sparse,
                 RowSum<T> kernel, const char* doc) {
  const char* target_name = sparse ? "labels" : "target";
  m.def(
      op.c_str(),
      [op, input, target_name, sparse, kernel](carray<T> a, carray<T> target) {
        const auto [batch, k] = check_target(op, input, a, target_name, target, sparse);
        const T* pa = a.data();
        const T* pt = target.data();
        return without_gil([&] { return kernel(pa, pt, batch, k); });
      },
      py::arg(input).noconvert(), py::arg(target_name).noconvert(), doc);
}

template <typename T>
void def_loss(py::module_& m, const std::string& name, const char* input, bool sparse,
              RowSum<T> forward, LossBackward<T> backward, const char* doc) {
  def_row_sum<T>(m, name + "_forward", input, sparse, forward, doc);
  const std::string op = name + "_backward";
  const char* target_name = sparse ? "labels" : "target";
  m.def(
      op.c_str(),
      [op, input, target_name, sparse, backward](carray<T> a, carray<T> target, carray<T> grad,
                                                 double scale) {
        const auto [batch, k] = check_target(op, input, a, target_name, target, sparse);
        require_like(op.c_str(), "grad", grad, input, a);
        const T* pa = a.data();
        const T* pt = target.data();
        T* pg = out_ptr(op.c_str(), "grad", grad);
        without_gil([&] { backward(pa, pt, pg, batch, k, scale); });
      },
      py::arg(input).noconvert(), py::arg(target_name).noconvert(), py::arg("grad").noconvert(),
      py::arg("scale"), "Writes into grad the gradient of scale * (sum of the per-row losses).");
}

template <typename T>
void bind_losses(py::module_& m) {
  def_loss<T>(m, "sigmoid_bce", "logits", false, &ops::sigmoid_bce_forward<T>,
              &ops::sigmoid_bce_backward<T>,
              "Sum over rows of the fused sigmoid + binary cross-entropy.");
  m.def(
      "sigmoid_bce_forward_backward",
      [](carray<T> a, carray<T> target, carray<T> grad, double scale) {
        const char* op = "sigmoid_bce_forward_backward";
        const auto [batch, k] = check_target(op, "logits", a, "target", target, false);
        require_like(op, "grad", grad, "logits", a);
        const T* pa = a.data();
        const T* pt = target.data();
        T* pg = out_ptr(op, "grad", grad);
        return without_gil(
            [&] { return ops::sigmoid_bce_forward_backward<T>(pa, pt, pg, batch, k, scale); });
      },
      py::arg("logits").noconvert(), py::arg("target").noconvert(), py::arg("grad").noconvert(),
      py::arg("scale"),
      "sigmoid_bce_forward's sum, and sigmoid_bce_backward's gradient written into grad, in "
      "one pass.");
  def_loss<T>(m, "bce", "prob", false, &ops::bce_forward<T>, &ops::bce_backward<T>,
              "Sum over rows of the binary cross-entropy of clipped probabilities.");
  def_loss<T>(m, "softmax_cce", "logits", false, &ops::softmax_cce_forward<T>,
              &ops::softmax_cce_backward<T>,
              "Sum over rows of the fused softmax + categorical cross-entropy.");
  def_loss<T>(m, "softmax_sparse_cce", "logits", true, &ops::softmax_sparse_cce_forward<T>,
              &ops::softmax_sparse_cce_backward<T>,
              "Sum over rows of the fused softmax + sparse categorical cross-entropy.");
  def_loss<T>(m, "cce", "prob", false, &ops::cce_forward<T>, &ops::cce_backward<T>,
              "Sum over rows of the categorical cross-entropy of normalised, clipped rows.");
  def_loss<T>(m, "sparse_cce", "prob", true, &ops::sparse_cce_forward<T>,
              &ops::sparse_cce_backward<T>,
              "Sum over rows of the sparse categorical cross-entropy of probabilities.");
  def_loss<T>(m, "mse", "y", false, &ops::mse_forward<T>, &ops::mse_backward<T>,
              "Sum over rows of the mean squared error.");
  def_row_sum<T>(m, "binary_accuracy_sum", "prob", false, &ops::binary_accuracy_sum<T>,
                 "Sum over rows of the fraction of (prob > 0.5) == target.");
  def_row_sum<T>(m, "categorical_accuracy_sum", "prob", false, &ops::categorical_accuracy_sum<T>,
                 "Number of rows with argmax prob == argmax target.");
  def_row_sum<T>(m, "sparse_categorical_accuracy_sum", "prob", true,
                 &ops::sparse_categorical_accuracy_sum<T>,
                 "Number of rows with argmax prob == label.");
}

// A state buffer of an optimizer: the shape of w, writeable; absent only when
// `needed` is false.
template <typename T>
T* state_ptr(const char* op, const char* name, opt<T>& a, const carray<T>& w, bool needed,
             const char* why) {
  if (!a) {
    if (needed) throw std::invalid_argument(std::string(op) + ": " + name + " is required " + why);
    return nullptr;
  }
  require_like(op, name, *a, "w", w);
  return out_ptr(op, name, *a);
}

void require_learning_rate(const char* op, double lr) {
  require_value(lr >= 0.0 && std::isfinite(lr), op, "learning_rate", ">= 0", lr);
}

void require_epsilon(const char* op, double eps) {
  require_value(eps > 0.0 && std::isfinite(eps), op, "epsilon", "> 0", eps);
}

void require_decay(const char* op, const char* name, double value) {
  require_value(value >= 0.0 && value < 1.0, op, name, "in [0, 1)", value);
}

template <typename T>
void bind_optimizers(py::module_& m) {
  m.def(
      "sgd_update",
      [](carray<T> w, carray<T> g, opt<T> velocity, double lr, double momentum, bool nesterov) {
        const char* op = "sgd_update";
        require_like(op, "g", g, "w", w);
        require_learning_rate(op, lr);
        require_value(momentum >= 0.0 && momentum <= 1.0, op, "momentum", "in [0, 1]", momentum);
        T* pv = state_ptr(op, "velocity", velocity, w, momentum != 0.0, "when momentum != 0");
        T* pw = out_ptr(op, "w", w);
        const T* pg = g.data();
        const index_t n = w.size();
        return without_gil(
            [&] { return ops::sgd_update<T>(pw, pg, pv, n, lr, momentum, nesterov); });
      },
      py::arg("w").noconvert(), py::arg("g").noconvert(), py::arg("velocity").noconvert(),
      py::arg("lr"), py::arg("momentum"), py::arg("nesterov"),
      "SGD step in place on w (and velocity); returns the squared norm of the step.");
  m.def(
      "adam_update",
      [](carray<T> w, carray<T> g, carray<T> mom, carray<T> vel, double lr, double beta_1,
         double beta_2, double epsilon, index_t step) {
        const char* op = "adam_update";
        require_like(op, "g", g, "w", w);
        require_like(op, "m", mom, "w", w);
        require_like(op, "v", vel, "w", w);
        require_learning_rate(op, lr);
        require_decay(op, "beta_1", beta_1);
        require_decay(op, "beta_2", beta_2);
        require_epsilon(op, epsilon);
        require_value(step >= 1, op, "step", ">= 1", static_cast<double>(step));
        T* pw = out_ptr(op, "w", w);
        T* pm = out_ptr(op, "m", mom);
        T* pv = out_ptr(op, "v", vel);
        const T* pg = g.data();
        const index_t n = w.size();
        return without_gil([&] {
          return ops::adam_update<T>(pw, pg, pm, pv, n, lr, beta_1, beta_2, epsilon, step);
        });
      },
      py::arg("w").noconvert(), py::arg("g").noconvert(), py::arg("m").noconvert(),
      py::arg("v").noconvert(), py::arg("lr"), py::arg("beta_1"), py::arg("beta_2"),
      py::arg("epsilon"), py::arg("step"),
      "Adam step `step` (1-based) in place on w, m, v; returns the squared norm of the step.");
  m.def(
      "rmsprop_update",
      [](carray<T> w, carray<T> g, carray<T> v, opt<T> mom, opt<T> avg, double lr, double rho,
         double momentum, double epsilon, bool centered) {
        const char* op = "rmsprop_update";
        require_like(op, "g", g, "w", w);
        require_like(op, "v", v, "w", w);
        require_learning_rate(op, lr);
        require_decay(op, "rho", rho);
        require_decay(op, "momentum", momentum);
        require_epsilon(op, epsilon);
        T* pmom = state_ptr(op, "mom", mom, w, momentum > 0.0, "when momentum > 0");
        T* pavg = state_ptr(op, "avg", avg, w, centered, "when centered");
        T* pw = out_ptr(op, "w", w);
        T* pv = out_ptr(op, "v", v);
        const T* pg = g.data();
        const index_t n = w.size();
        return without_gil([&] {
          return ops::rmsprop_update<T>(pw, pg, pv, pmom, pavg, n, lr, rho, momentum, epsilon,
                                        centered);
        });
      },
      py::arg("w").noconvert(), py::arg("g").noconvert(), py::arg("v").noconvert(),
      py::arg("mom").noconvert(), py::arg("avg").noconvert(), py::arg("lr"), py::arg("rho"),
      py::arg("momentum"), py::arg("epsilon"), py::arg("centered"),
      "RMSprop step in place on w and its state; returns the squared norm of the step.");
  // In-place clipping of one gradient by a positive threshold.
  using Clip = void (*)(T*, index_t, double);
  const auto def_clip = [&m](const char* op, Clip kernel, const char* name, const char* doc) {
    m.def(
        op,
        [op, kernel, name](carray<T> g, double threshold) {
          require_value(threshold > 0.0 && std::isfinite(threshold), op, name, "> 0", threshold);
          T* pg = out_ptr(op, "g", g);
          const index_t n = g.size();
          without_gil([&] { kernel(pg, n, threshold); });
        },
        py::arg("g").noconvert(), py::arg(name), doc);
  };
  def_clip("clip_by_norm", &ops::clip_by_norm<T>, "clipnorm",
           "In place: g *= clipnorm / max(||g||_2, clipnorm).");
  def_clip("clip_by_value", &ops::clip_by_value<T>, "clipvalue",
           "In place: g = clip(g, -clipvalue, clipvalue).");
}

template <typename T>
void bind_flowstats(py::module_& m) {
  m.def(
      "buffer_stats",
      [](carray<T> x) {
        const T* px = x.data();
        const index_t n = x.size();
        const ops::BufferStats s = without_gil([&] { return ops::buffer_stats<T>(px, n); });
        py::dict d;
        d["l2"] = s.l2;
        d["sumsq"] = s.sumsq;
        d["mean_abs"] = s.mean_abs;
        d["max_abs"] = s.max_abs;
        d["nonfinite"] = s.nonfinite;
        return d;
      },
      py::arg("x").noconvert(), "L2 norm, sum of squares, mean and max |x|, non-finite count.");
  m.def(
      "buffer_norm",
      [](carray<T> x) {
        const T* px = x.data();
        const index_t n = x.size();
        const ops::NormStats s = without_gil([&] { return ops::buffer_norm<T>(px, n); });
        py::dict d;
        d["l2"] = s.l2;
        d["sumsq"] = s.sumsq;
        d["nonfinite"] = s.nonfinite;
        return d;
      },
      py::arg("x").noconvert(), "L2 norm, sum of squares and non-finite count (as buffer_stats).");
  m.def(
      "activation_stats",
      [](carray<T> y, int act, std::optional<carray<index_t>> hist, double lo, double hi) {
        const char* op = "activation_stats";
        const auto [batch, features] = require_matrix(op, "y", y);
        const ops::Act a = require_act(op, act, false);
        index_t* ph = nullptr;
        index_t nbins = 0;
        if (hist) {
          require_ndim(op, "hist", *hist, 1);
          nbins = hist->shape(0);
          require_value(nbins >= 1, op, "hist.size", ">= 1", static_cast<double>(nbins));
          require_value(std::isfinite(lo) && std::isfinite(hi) && lo < hi, op, "hi",
                        "finite and > lo", hi);
          ph = out_ptr(op, "hist", *hist);
        }
        const T* py_ = y.data();
        const ops::ActivationStats s = without_gil([&] {
          return ops::activation_stats<T>(py_, batch, features, a, ph, nbins, lo, hi);
        });
        py::dict d;
        d["mean"] = s.mean;
        d["std"] = s.std;
        d["saturated"] = s.saturated;
        d["dead"] = s.dead;
        d["nonfinite"] = s.nonfinite;
        return d;
      },
      py::arg("y").noconvert(), py::arg("act"), py::arg("hist").noconvert() = py::none(),
      py::arg("lo") = 0.0, py::arg("hi") = 1.0,
      "Mean, std, saturated and dead fractions, non-finite count; fills hist over [lo, hi].");
}

template <typename T>
void bind_dtype(py::module_& m) {
  bind_losses<T>(m);
  bind_optimizers<T>(m);
  bind_flowstats<T>(m);
}

}  // namespace

void bind_ops_train(py::module_& m) {
  bind_dtype<float>(m);
  bind_dtype<double>(m);
}

}  // namespace vgp::bind
