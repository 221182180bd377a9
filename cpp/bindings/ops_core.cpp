// Bindings of the layer kernels (cpp/ops/{dense,activation,residual,dropout}.h;
// batch norm in ops_batchnorm.cpp) and of the data checks' scan (ops/scan.h) for
// float and double. Each kernel takes its outputs as arguments (the Python
// wrappers in vgp_native.ops allocate them), checks every shape against the
// inputs', then runs without the GIL.
#include "bindings/bind.h"
#include "ops/dense.h"
#include "ops/dropout.h"
#include "ops/residual.h"
#include "ops/scan.h"

namespace vgp::bind {
namespace {

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
void bind_scan(py::module_& m) {
  m.def(
      "scan_values",
      [](carray<T> x) {
        const T* p = x.data();
        const index_t n = x.size();
        ops::ValueScan s;
        without_gil([&] { s = ops::scan_values<T>(p, n); });
        return py::make_tuple(s.nonfinite, s.lo, s.hi);
      },
      py::arg("x").noconvert(),
      "(count of NaN and +-Inf, smallest finite value, largest finite value) of x; "
      "(count, inf, -inf) when none is finite.");
}

template <typename T>
void bind_dtype(py::module_& m) {
  bind_dense<T>(m);
  bind_activation<T>(m);
  bind_residual<T>(m);
  bind_dropout<T>(m);
  bind_scan<T>(m);
}

}  // namespace

void bind_ops_core(py::module_& m) {
  bind_dtype<float>(m);
  bind_dtype<double>(m);
  m.def("counter_uniform", &ops::counter_uniform, py::arg("seed"), py::arg("counter"),
        "The uniform [0, 1) draw dropout uses for element `counter` under `seed`.");
}

}  // namespace vgp::bind
