// Bindings of the layer kernels (cpp/ops/{dense,activation,batchnorm,residual,
// dropout}.h) for float and double. Each function takes its outputs as
// arguments (the Python wrappers in vgp_native.ops allocate them), checks every
// shape against the inputs', then runs the kernel without the GIL.
#include <optional>

#include "bindings/bind.h"
#include "ops/batchnorm.h"
#include "ops/dense.h"
#include "ops/dropout.h"
#include "ops/residual.h"

namespace vgp::bind {
namespace {

template <typename T>
using opt = std::optional<carray<T>>;

template <typename T>
const T* data_or_null(const opt<T>& a) {
  return a ? a->data() : nullptr;
}

// Output pointer of an optional output of the given shape, or null.
template <typename T>
T* out_or_null(const char* op, const char* name, opt<T>& a, std::initializer_list<index_t> dims) {
  if (!a) return nullptr;
  require_shape(op, name, *a, dims);
  return out_ptr(op, name, *a);
}

template <typename T>
const py::array* array_or_null(const opt<T>& a) {
  return a ? &*a : nullptr;
}

template <typename T>
void bind_dense(py::module_& m) {
  m.def(
      "dense_forward",
      [](carray<T> x, carray<T> w, opt<T> b, carray<T> z, opt<T> y, int act) {
        const char* op = "dense_forward";
        const auto [batch, in] = require_matrix(op, "x", x);
        const index_t out = require_matrix(op, "w", w).second;
        require_shape(op, "w", w, {in, out});
        if (b) require_shape(op, "b", *b, {out});
        require_shape(op, "z", z, {batch, out});
        const ops::Act a = require_act(op, act, false);
        if (!y && a != ops::Act::linear) {
          throw std::invalid_argument("dense_forward: y is required when act is not linear");
        }
        T* pz = out_ptr(op, "z", z);
        T* py = out_or_null(op, "y", y, {batch, out});
        const bool y_is_z = y && y->data() == z.data() && a == ops::Act::linear;
        require_apart(op, {{"z", &z}, {"y", y_is_z ? nullptr : array_or_null(y)}},
                      {{"x", &x}, {"w", &w}});
        if (y && !y_is_z) require_distinct(op, "y", *y, "z", z);
        const T* px = x.data();
        const T* pw = w.data();
        const T* pb = data_or_null(b);
        without_gil([&] { ops::dense_forward<T>(px, pw, pb, pz, py, batch, in, out, a); });
      },
      py::arg("x").noconvert(), py::arg("w").noconvert(), py::arg("b").noconvert(),
      py::arg("z").noconvert(), py::arg("y").noconvert(), py::arg("act"),
      "z = x @ w + b and y = act(z), written into z and y.");
  m.def(
      "dense_backward",
      [](carray<T> x, carray<T> w, carray<T> dz, opt<T> dx, carray<T> dw, opt<T> db) {
        const char* op = "dense_backward";
        const auto [batch, in] = require_matrix(op, "x", x);
        const index_t out = require_matrix(op, "w", w).second;
        require_shape(op, "w", w, {in, out});
        require_shape(op, "dz", dz, {batch, out});
        require_shape(op, "dw", dw, {in, out});
        T* pdw = out_ptr(op, "dw", dw);
        T* pdx = out_or_null(op, "dx", dx, {batch, in});
        T* pdb = out_or_null(op, "db", db, {out});
        require_apart(op, {{"dx", array_or_null(dx)}, {"dw", &dw}, {"db", array_or_null(db)}},
                      {{"x", &x}, {"w", &w}, {"dz", &dz}});
        const T* px = x.data();
        const T* pw = w.data();
        const T* pdz = dz.data();
        without_gil([&] { ops::dense_backward<T>(px, pw, pdz, pdx, pdw, pdb, batch, in, out); });
      },
      py::arg("x").noconvert(), py::arg("w").noconvert(), py::arg("dz").noconvert(),
      py::arg("dx").noconvert(), py::arg("dw").noconvert(), py::arg("db").noconvert(),
      "dw = x^T @ dz, db = column sums of dz, dx = dz @ w^T (dx, db may be None).");
  m.def(
      "column_sums",
      [](carray<T> dz, carray<T> db) {
        const char* op = "column_sums";
        const auto [batch, features] = require_matrix(op, "dz", dz);
        require_shape(op, "db", db, {features});
        require_distinct(op, "db", db, "dz", dz);
        const T* pdz = dz.data();
        T* pdb = out_ptr(op, "db", db);
        without_gil([&] { ops::column_sums<T>(pdz, pdb, batch, features); });
      },
      py::arg("dz").noconvert(), py::arg("db").noconvert(),
      "db[j] = sum_i dz[i, j], summed in double in a fixed order.");
}

template <typename T>
void bind_activation(py::module_& m) {
  m.def(
      "activation_forward",
      [](carray<T> x, carray<T> y, int act) {
        const char* op = "activation_forward";
        const auto [batch, features] = require_matrix(op, "x", x);
        require_like(op, "y", y, "x", x);
        const ops::Act a = require_act(op, act, false);
        const T* px = x.data();
        T* py = out_ptr(op, "y", y);
        without_gil([&] { ops::activation_forward<T>(px, py, batch, features, a); });
      },
      py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("act"),
      "y = act(x) (softmax per row).");
  m.def(
      "activation_backward",
      [](carray<T> x, carray<T> y, carray<T> dy, carray<T> dx, int act) {
        const char* op = "activation_backward";
        const auto [batch, features] = require_matrix(op, "x", x);
        require_like(op, "y", y, "x", x);
        require_like(op, "dy", dy, "x", x);
        require_like(op, "dx", dx, "x", x);
        const ops::Act a = require_act(op, act, false);
        const T* px = x.data();
        const T* py = y.data();
        const T* pdy = dy.data();
        T* pdx = out_ptr(op, "dx", dx);
        without_gil([&] { ops::activation_backward<T>(px, py, pdy, pdx, batch, features, a); });
      },
      py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("dy").noconvert(),
      py::arg("dx").noconvert(), py::arg("act"), "dx = dy * act'(x) (dx may be dy).");
}

void require_epsilon(const char* op, double eps) {
  require_value(eps > 0.0, op, "epsilon", "> 0", eps);
}

template <typename T>
void bind_batchnorm(py::module_& m) {
  m.def(
      "batchnorm_forward_train",
      [](carray<T> x, carray<T> gamma, carray<T> beta, carray<T> y, carray<T> save_mean,
         carray<T> save_invstd, carray<T> moving_mean, carray<T> moving_variance, double eps,
         double momentum) {
        const char* op = "batchnorm_forward_train";
        const auto [batch, features] = require_matrix(op, "x", x);
        require_value(batch > 0, op, "batch size", ">= 1", static_cast<double>(batch));
        for (const auto& [name, a] : {std::pair{"gamma", &gamma}, std::pair{"beta", &beta},
                                      std::pair{"save_mean", &save_mean},
                                      std::pair{"save_invstd", &save_invstd},
                                      std::pair{"moving_mean", &moving_mean},
                                      std::pair{"moving_variance", &moving_variance}}) {
          require_shape(op, name, *a, {features});
        }
        require_like(op, "y", y, "x", x);
        require_epsilon(op, eps);
        require_value(momentum >= 0.0 && momentum <= 1.0, op, "momentum", "in [0, 1]", momentum);
        const T* px = x.data();
        const T* pg = gamma.data();
        const T* pb = beta.data();
        T* py = out_ptr(op, "y", y);
        T* psm = out_ptr(op, "save_mean", save_mean);
        T* psi = out_ptr(op, "save_invstd", save_invstd);
        T* pmm = out_ptr(op, "moving_mean", moving_mean);
        T* pmv = out_ptr(op, "moving_variance", moving_variance);
        without_gil([&] {
          ops::batchnorm_forward_train<T>(px, pg, pb, py, psm, psi, pmm, pmv, batch, features, eps,
                                          momentum);
        });
      },
      py::arg("x").noconvert(), py::arg("gamma").noconvert(), py::arg("beta").noconvert(),
      py::arg("y").noconvert(), py::arg("save_mean").noconvert(),
      py::arg("save_invstd").noconvert(), py::arg("moving_mean").noconvert(),
      py::arg("moving_variance").noconvert(), py::arg("eps"), py::arg("momentum"),
      "Training-mode batch norm: writes y and the batch statistics, updates the moving ones.");
  m.def(
      "batchnorm_forward_infer",
      [](carray<T> x, carray<T> gamma, carray<T> beta, carray<T> moving_mean,
         carray<T> moving_variance, carray<T> y, double eps) {
        const char* op = "batchnorm_forward_infer";
        const auto [batch, features] = require_matrix(op, "x", x);
        for (const auto& [name, a] :
             {std::pair{"gamma", &gamma}, std::pair{"beta", &beta},
              std::pair{"moving_mean", &moving_mean},
              std::pair{"moving_variance", &moving_variance}}) {
          require_shape(op, name, *a, {features});
        }
        require_like(op, "y", y, "x", x);
        require_epsilon(op, eps);
        const T* px = x.data();
        const T* pg = gamma.data();
        const T* pb = beta.data();
        const T* pmm = moving_mean.data();
        const T* pmv = moving_variance.data();
        T* py = out_ptr(op, "y", y);
        without_gil([&] {
          ops::batchnorm_forward_infer<T>(px, pg, pb, pmm, pmv, py, batch, features, eps);
        });
      },
      py::arg("x").noconvert(), py::arg("gamma").noconvert(), py::arg("beta").noconvert(),
      py::arg("moving_mean").noconvert(), py::arg("moving_variance").noconvert(),
      py::arg("y").noconvert(), py::arg("eps"),
      "Inference-mode batch norm with the moving statistics.");
  m.def(
      "batchnorm_backward",
      [](carray<T> x, carray<T> dy, carray<T> gamma, carray<T> save_mean, carray<T> save_invstd,
         opt<T> dx, carray<T> dgamma, carray<T> dbeta) {
        const char* op = "batchnorm_backward";
        const auto [batch, features] = require_matrix(op, "x", x);
        require_like(op, "dy", dy, "x", x);
        for (const auto& [name, a] :
             {std::pair{"gamma", &gamma}, std::pair{"save_mean", &save_mean},
              std::pair{"save_invstd", &save_invstd}, std::pair{"dgamma", &dgamma},
              std::pair{"dbeta", &dbeta}}) {
          require_shape(op, name, *a, {features});
        }
        T* pdx = out_or_null(op, "dx", dx, {batch, features});
        if (dx) require_distinct(op, "dx", *dx, "dy", dy);
        const T* px = x.data();
        const T* pdy = dy.data();
        const T* pg = gamma.data();
        const T* psm = save_mean.data();
        const T* psi = save_invstd.data();
        T* pdg = out_ptr(op, "dgamma", dgamma);
        T* pdb = out_ptr(op, "dbeta", dbeta);
        without_gil([&] {
          ops::batchnorm_backward<T>(px, pdy, pg, psm, psi, pdx, pdg, pdb, batch, features);
        });
      },
      py::arg("x").noconvert(), py::arg("dy").noconvert(), py::arg("gamma").noconvert(),
      py::arg("save_mean").noconvert(), py::arg("save_invstd").noconvert(),
      py::arg("dx").noconvert(), py::arg("dgamma").noconvert(), py::arg("dbeta").noconvert(),
      "Training-mode batch-norm gradients: dx (may be None), dgamma, dbeta.");
  m.def(
      "batchnorm_backward_infer",
      [](carray<T> dy, carray<T> gamma, carray<T> moving_variance, carray<T> dx, double eps) {
        const char* op = "batchnorm_backward_infer";
        const auto [batch, features] = require_matrix(op, "dy", dy);
        require_shape(op, "gamma", gamma, {features});
        require_shape(op, "moving_variance", moving_variance, {features});
        require_like(op, "dx", dx, "dy", dy);
        require_epsilon(op, eps);
        const T* pdy = dy.data();
        const T* pg = gamma.data();
        const T* pmv = moving_variance.data();
        T* pdx = out_ptr(op, "dx", dx);
        without_gil([&] {
          ops::batchnorm_backward_infer<T>(pdy, pg, pmv, pdx, batch, features, eps);
        });
      },
      py::arg("dy").noconvert(), py::arg("gamma").noconvert(),
      py::arg("moving_variance").noconvert(), py::arg("dx").noconvert(), py::arg("eps"),
      "Inference-mode batch-norm input gradient: dx = dy gamma / sqrt(moving_variance + eps).");
}

// residual_add_forward / residual_add_backward: out = a + b over same-shaped buffers.
template <typename T>
void bind_residual(py::module_& m) {
  using Kernel = void (*)(const T*, const T*, T*, index_t);
  const auto def = [&m](const char* op, Kernel kernel, const char* a_name, const char* b_name,
                        const char* out_name, const char* doc) {
    m.def(
        op,
        [op, kernel, a_name, b_name, out_name](carray<T> a, carray<T> b, carray<T> out) {
          require_like(op, b_name, b, a_name, a);
          require_like(op, out_name, out, a_name, a);
          const T* pa = a.data();
          const T* pb = b.data();
          T* po = out_ptr(op, out_name, out);
          const index_t n = a.size();
          without_gil([&] { kernel(pa, pb, po, n); });
        },
        py::arg(a_name).noconvert(), py::arg(b_name).noconvert(), py::arg(out_name).noconvert(),
        doc);
  };
  def("residual_add_forward", &ops::residual_add_forward<T>, "x", "fx", "y", "y = x + fx.");
  def("residual_add_backward", &ops::residual_add_backward<T>, "d_skip", "d_inner", "dx",
      "dx = d_skip + d_inner: the gradient reaching x along both paths.");
}

void require_rate(const char* op, double rate) {
  require_value(rate >= 0.0 && rate < 1.0, op, "rate", "in [0, 1)", rate);
}

template <typename T>
void bind_dropout(py::module_& m) {
  using Mask = carray<std::uint8_t>;
  m.def(
      "dropout_forward",
      [](carray<T> x, carray<T> y, Mask mask, double rate, std::uint64_t seed) {
        const char* op = "dropout_forward";
        require_like(op, "y", y, "x", x);
        require_like(op, "mask", mask, "x", x);
        require_rate(op, rate);
        const T* px = x.data();
        T* py = out_ptr(op, "y", y);
        std::uint8_t* pm = out_ptr(op, "mask", mask);
        const index_t n = x.size();
        without_gil([&] { ops::dropout_forward<T>(px, py, pm, n, rate, seed); });
      },
      py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("mask").noconvert(),
      py::arg("rate"), py::arg("seed"),
      "Inverted dropout: mask = keep (1) or drop (0), y = mask * x / (1 - rate).");
  m.def(
      "dropout_backward",
      [](carray<T> dy, Mask mask, carray<T> dx, double rate) {
        const char* op = "dropout_backward";
        require_like(op, "mask", mask, "dy", dy);
        require_like(op, "dx", dx, "dy", dy);
        require_rate(op, rate);
        const T* pdy = dy.data();
        const std::uint8_t* pm = mask.data();
        T* pdx = out_ptr(op, "dx", dx);
        const index_t n = dy.size();
        without_gil([&] { ops::dropout_backward<T>(pdy, pm, pdx, n, rate); });
      },
      py::arg("dy").noconvert(), py::arg("mask").noconvert(), py::arg("dx").noconvert(),
      py::arg("rate"), "dx = mask * dy / (1 - rate).");
}

template <typename T>
void bind_dtype(py::module_& m) {
  bind_dense<T>(m);
  bind_activation<T>(m);
  bind_batchnorm<T>(m);
  bind_residual<T>(m);
  bind_dropout<T>(m);
}

}  // namespace

void bind_ops_core(py::module_& m) {
  bind_dtype<float>(m);
  bind_dtype<double>(m);
  m.def("counter_uniform", &ops::counter_uniform, py::arg("seed"), py::arg("counter"),
        "The uniform [0, 1) draw dropout uses for element `counter` under `seed`.");
}

}  // namespace vgp::bind
