// Bindings of the batch-normalization kernels (cpp/ops/batchnorm.h) for float
// and double, as ops_core.cpp binds the other layer kernels: outputs passed in,
// every shape checked against the inputs', the kernel run without the GIL.
#include "bindings/bind.h"
#include "ops/batchnorm.h"

namespace vgp::bind {
namespace {

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

}  // namespace

void bind_ops_batchnorm(py::module_& m) {
  bind_batchnorm<float>(m);
  bind_batchnorm<double>(m);
}

}  // namespace vgp::bind
