// Binding of the GEMM kernel (cpp/ops/gemm.h) for float and double.
#include <optional>

#include "bindings/bind.h"
#include "ops/gemm/gemm.h"

namespace vgp::bind {
namespace {

template <typename T>
void bind_dtype(py::module_& m) {
  m.def(
      "gemm",
      [](carray<T> a, carray<T> b, carray<T> c, bool trans_a, bool trans_b, bool accumulate,
         std::optional<carray<T>> bias, int act, std::optional<carray<T>> post) {
        require_ndim("gemm", "a", a, 2);
        require_ndim("gemm", "b", b, 2);
        require_ndim("gemm", "c", c, 2);
        require_writeable("gemm", "c", c);
        const index_t m_ = trans_a ? a.shape(1) : a.shape(0);
        const index_t k = trans_a ? a.shape(0) : a.shape(1);
        const index_t kb = trans_b ? b.shape(1) : b.shape(0);
        const index_t n = trans_b ? b.shape(0) : b.shape(1);
        if (k != kb) {
          throw std::invalid_argument("gemm: inner dimensions differ: op(a) is (" +
                                      std::to_string(m_) + ", " + std::to_string(k) +
                                      "), op(b) is (" + std::to_string(kb) + ", " +
                                      std::to_string(n) + ")");
        }
        require_shape("gemm", "c", c, {m_, n});
        if (act < 0 || act >= ops::kNumActivations || act == static_cast<int>(ops::Act::softmax)) {
          throw std::invalid_argument("gemm: act must be an elementwise activation code, received " +
                                      std::to_string(act));
        }
        ops::GemmEpilogue<T> ep;
        bool use_ep = false;
        if (bias) {
          require_shape("gemm", "bias", *bias, {n});
          ep.bias = bias->data();
          use_ep = true;
        }
        if (post) {
          require_shape("gemm", "post", *post, {m_, n});
          require_writeable("gemm", "post", *post);
          ep.post = post->mutable_data();
          ep.ldpost = n;
          ep.act = static_cast<ops::Act>(act);
          use_ep = true;
        }
        const T* pa = a.data();
        const T* pb = b.data();
        T* pc = c.mutable_data();
        const index_t lda = a.shape(1), ldb = b.shape(1);
        {
          py::gil_scoped_release nogil;
          ops::gemm<T>(trans_a, trans_b, m_, n, k, pa, lda, pb, ldb, pc, n, accumulate,
                       use_ep ? &ep : nullptr);
        }
      },
      py::arg("a").noconvert(), py::arg("b").noconvert(), py::arg("c").noconvert(),
      py::arg("trans_a") = false, py::arg("trans_b") = false, py::arg("accumulate") = false,
      py::arg("bias").noconvert() = py::none(), py::arg("act") = 0,
      py::arg("post").noconvert() = py::none(),
      "c = op(a) @ op(b) (+ c if accumulate), then c += bias and post = act(c) when given.");
  m.def("gemm_kernel_name", [](const carray<T>&) { return std::string(ops::gemm_kernel_name<T>()); },
        py::arg("like").noconvert(), "Micro-kernel selected for the dtype of `like` on this CPU.");
}

}  // namespace

void bind_ops_gemm(py::module_& m) {
  bind_dtype<float>(m);
  bind_dtype<double>(m);
}

}  // namespace vgp::bind
