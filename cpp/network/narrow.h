// The training pass of a narrow network: a stack of Dense layers at most
// kMaxWidth units wide (the seed's 2-[10 sigmoid x 8]-1 network), run with
// the batch on the vector lanes.
//
// Batch-major, a 10-unit layer fills 10 of a vector's 16 float lanes and
// every product row is one short FMA chain per row of the batch; its step is
// bound by fixed costs per layer (dispatch, the bias and column-sum passes)
// more than by arithmetic. Here every activation and gradient is kept
// feature-major, (units, batch), and per layer
//   z^T = w^T x^T + b                    (full vectors over the batch),
//   y^T = act(z^T), dz^T = dy^T act'     (one contiguous span each),
//   dx^T = w dz^T                        (full vectors over the batch),
//   dw = x^T dz, db = column sums of dz  (dz^T transposed: vectors over units).
// With the AVX-512 kernel sets (float and double) and AVX2's float set one
// kernel call does a layer's forward product (ops::gemm_narrow_forward) and
// one its dw, db and dx^T, transposing dz^T in registers (x^T instead for a
// layer of at most 4 output units and more inputs, such as a one-unit output
// layer) (ops::gemm_narrow_backward), and below a sigmoid layer stores dx^T
// as that layer's dz^T = dx^T y^T (1 - y^T), sparing its span; other kernel
// sets compose ops::gemm_rows, ops::gemm_transpose and a column sum.
//
// Every element is computed by the same operations in the same order as in
// the layer-by-layer pass (the same fma chains, the same elementwise
// functions, the bias gradient's sum over rows in double in row order), so
// the two passes give the same bits; the training step uses this one when no
// statistics are measured (network/train.cpp) and tests check the equality.
// The last layer's output and pre-activation are left batch-major in that
// layer's own buffers, where the objective reads them.
#pragma once

#include <memory>
#include <vector>

#include "common.h"
#include "network/layer.h"
#include "ops/gemm/gemm.h"

namespace vgp {

template <typename T>
class NarrowStack {
 public:
  static constexpr index_t kMaxWidth = 16;
  // Batches up to this many rows (every product then stays on the GEMM's
  // unpacked path, as in the layer-by-layer pass); larger ones take that pass.
  static constexpr index_t kMaxBatch = 4096;

  // Null unless every layer is Dense, every input and output is at most
  // kMaxWidth wide, and every layer but the last has an elementwise activation.
  static std::unique_ptr<NarrowStack> make(const std::vector<std::unique_ptr<Layer<T>>>& layers);

  bool fits(index_t batch) const { return batch <= kMaxBatch; }

  // x: (batch, in) batch-major. Returns the last layer's output (its own
  // buffer, batch-major); its pre-activation is in the same layer's buffer.
  const T* forward(const T* x, index_t batch);
  // dout: dL/d(output), (batch, out) (at the pre-activation when `preact`).
  // Writes every kernel and bias gradient.
  void backward(const T* dout, index_t batch, bool preact);
  // The layers' buffers have moved (Network::reserve, where they all grow):
  // the next forward takes the layers' views again.
  void buffers_moved() { views_current_ = false; }

 private:
  explicit NarrowStack(std::vector<Layer<T>*> layers);
  void reserve(index_t batch);

  std::vector<Layer<T>*> layers_;
  std::vector<DenseView<T>> views_;  // taken by forward, again after buffers_moved
  bool views_current_ = false;
  std::vector<ops::NarrowKernelPair<T>> kernels_;  // per layer, for its shape
  std::vector<ops::ActivationSpan<T>> spans_;  // per layer, its activation (null: linear, softmax)
  std::vector<std::vector<T>> zt_, yt_;  // per layer, (units, batch)
  std::vector<T> xt_;                    // the input, (in, batch)
  std::vector<T> ga_, gb_;               // gradients (units, batch), in turn
  std::vector<T> dz_;                    // a layer's dz batch-major, (batch, units)
  index_t capacity_ = 0;
  index_t widest_ = 0;
};

}  // namespace vgp
