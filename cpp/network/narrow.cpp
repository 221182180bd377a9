// The narrow network's training pass (see narrow.h for the layout and why
// its bits are those of the layer-by-layer pass).
#include "network/narrow.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "ops/activation.h"
#include "ops/gemm/gemm.h"
#include "ops/vecmath.h"

namespace vgp {

namespace {

// dst (cols, rows) = src (rows, cols) transposed.
template <typename T>
void transpose(const T* src, index_t rows, index_t cols, T* dst) {
  if (rows == 1 || cols == 1) {
    std::copy(src, src + rows * cols, dst);
  } else {
    ops::gemm_transpose<T>(src, rows, cols, dst);
  }
}

// db[j] = sum over rows b of dz[b * units + j] for j < units <= 16, in
// double and in row order: ops::column_sums' sums. Each row is read as 16
// values (the first ones of the next row past `units`: dz must have 16 -
// units readable values past its end), converted and added as one vector of
// 16 doubles, whose lanes past `units` are dropped.
template <typename T>
VGP_MULTIVERSION void column_sums16(const T* dz, index_t batch, index_t units, T* db) {
  // Two halves of 8 lanes, each one vector register with AVX-512.
  typedef T Half __attribute__((vector_size(8 * sizeof(T))));
  typedef acc_t Acc __attribute__((vector_size(8 * sizeof(acc_t))));
  Acc lo = {}, hi = {};
  for (index_t b = 0; b < batch; ++b) {
    Half a, c;
    std::memcpy(&a, dz + b * units, sizeof(Half));
    std::memcpy(&c, dz + b * units + 8, sizeof(Half));
    lo += __builtin_convertvector(a, Acc);
    hi += __builtin_convertvector(c, Acc);
  }
  for (index_t j = 0; j < units; ++j) db[j] = static_cast<T>(j < 8 ? lo[j] : hi[j - 8]);
}

}  // namespace

template <typename T>
std::unique_ptr<NarrowStack<T>> NarrowStack<T>::make(
    const std::vector<std::unique_ptr<Layer<T>>>& layers) {
  std::vector<Layer<T>*> stack;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    DenseView<T> v;
    if (!layers[i]->dense_view(v)) return nullptr;
    if (v.in > kMaxWidth || v.out > kMaxWidth) return nullptr;
    const bool last = i + 1 == layers.size();
    if (!last && !ops::is_elementwise(v.act)) return nullptr;
    stack.push_back(layers[i].get());
  }
  return std::unique_ptr<NarrowStack>(new NarrowStack(std::move(stack)));
}

template <typename T>
NarrowStack<T>::NarrowStack(std::vector<Layer<T>*> layers)
    : layers_(std::move(layers)), views_(layers_.size()), zt_(layers_.size()),
      yt_(layers_.size()) {
  for (Layer<T>* l : layers_) {
    widest_ = std::max({widest_, l->in_features, l->out_features});
    kernels_.push_back(ops::gemm_narrow_kernels<T>(l->in_features, l->out_features));
    DenseView<T> v;
    l->dense_view(v);
    const bool elementwise = v.act != ops::Act::linear && ops::is_elementwise(v.act);
    spans_.push_back(elementwise ? ops::activation_forward_span_fn<T>(v.act) : nullptr);
  }
}

template <typename T>
void NarrowStack<T>::reserve(index_t batch) {
  if (batch <= capacity_) return;
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    grow(zt_[l], batch * layers_[l]->out_features);
    grow(yt_[l], batch * layers_[l]->out_features);
  }
  grow(xt_, batch * layers_.front()->in_features);
  grow(ga_, batch * widest_);
  grow(gb_, batch * widest_);
  grow(dz_, batch * widest_ + kMaxWidth);  // column_sums16 reads past the last row
  capacity_ = batch;
}

template <typename T>
const T* NarrowStack<T>::forward(const T* x, index_t batch) {
  reserve(batch);
  if (!views_current_) {
    for (std::size_t l = 0; l < layers_.size(); ++l) layers_[l]->dense_view(views_[l]);
    views_current_ = true;
  }
  transpose(x, batch, views_.front().in, xt_.data());
  const T* h = xt_.data();
  const std::size_t last = layers_.size() - 1;
  for (std::size_t l = 0; l <= last; ++l) {
    const DenseView<T>& v = views_[l];
    T* zt = zt_[l].data();
    if (!ops::gemm_narrow_forward<T>(kernels_[l], h, v.kernel, v.bias, v.in, v.out, batch, zt)) {
      ops::gemm_rows<T>(v.kernel, 1, v.out, h, batch, v.bias, zt, batch, v.out, v.in, batch);
    }
    const ops::ActivationSpan<T> span = spans_[l];
    T* yt = span ? yt_[l].data() : zt;
    if (span) span(zt, yt, v.out * batch);
    h = yt;
  }
  const DenseView<T>& v = views_[last];
  transpose(zt_[last].data(), v.out, batch, v.z);
  if (v.y != v.z) {
    if (ops::is_elementwise(v.act)) {
      transpose(h, v.out, batch, v.y);
    } else {
      ops::activation_forward<T>(v.z, v.y, batch, v.out, v.act);
    }
  }
  return v.y;
}

template <typename T>
void NarrowStack<T>::backward(const T* dout, index_t batch, bool preact) {
  const std::size_t last = layers_.size() - 1;
  // The layer's input, feature-major.
  const auto input = [&](std::size_t l) -> const T* {
    if (l == 0) return xt_.data();
    return views_[l - 1].act == ops::Act::linear ? zt_[l - 1].data() : yt_[l - 1].data();
  };
  // Layer l's kernel and bias gradients and, below the first layer, dx^T
  // from dz^T: in one pass where the kernel set has one, else dz^T
  // transposed once for dw[i][:] = sum_b x^T[i][b] dz[b][:] (gemm_rows with
  // broadcasts of x^T: per element the chain over the batch rows of the
  // layer-by-layer pass's x^T dz) and the same column sums, then dx^T = w dz^T.
  // Below a sigmoid layer the kernel stores dx^T as that layer's dz^T (sy:
  // its y^T); returns whether it did.
  const auto gradients = [&](std::size_t l, const T* dzt, T* dxt) {
    const DenseView<T>& v = views_[l];
    T* dx = l > 0 ? dxt : nullptr;
    const T* sy = dx && views_[l - 1].act == ops::Act::sigmoid ? yt_[l - 1].data() : nullptr;
    if (ops::gemm_narrow_backward<T>(kernels_[l], input(l), dzt, v.kernel, v.in, v.out, batch,
                                     v.kernel_grad, v.bias_grad, dx, sy)) {
      return sy != nullptr;
    }
    transpose(dzt, v.out, batch, dz_.data());
    ops::gemm_rows<T>(input(l), batch, 1, dz_.data(), v.out, nullptr, v.kernel_grad, v.out, v.in,
                      batch, v.out);
    if (v.bias_grad) column_sums16(dz_.data(), batch, v.out, v.bias_grad);
    if (dx) ops::gemm_rows<T>(v.kernel, v.out, 1, dzt, batch, nullptr, dx, batch, v.in, v.out, batch);
    return false;
  };
  // The last layer: dz batch-major as the objective gives it, then dz^T.
  const DenseView<T>& top = views_[last];
  T* dzt = ga_.data();
  T* dxt = gb_.data();
  if (!preact && top.act != ops::Act::linear) {
    ops::activation_backward<T>(top.z, top.y, dout, dz_.data(), batch, top.out, top.act);
    transpose(dz_.data(), batch, top.out, dzt);
  } else {
    transpose(dout, batch, top.out, dzt);
  }
  bool is_dz = gradients(last, dzt, dxt);
  for (std::size_t l = last; l-- > 0;) {
    std::swap(dzt, dxt);  // dzt holds dL/dy of layer l, or dL/dz when is_dz
    const DenseView<T>& v = views_[l];
    if (!is_dz && v.act != ops::Act::linear) {
      ops::activation_backward_span<T>(zt_[l].data(), yt_[l].data(), dzt, dzt, v.out * batch,
                                       v.act);
    }
    is_dz = gradients(l, dzt, dxt);
  }
}

template class NarrowStack<float>;
template class NarrowStack<double>;

}  // namespace vgp
