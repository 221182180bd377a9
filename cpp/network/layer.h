// The common interface of the executor's layers. Layers form a tree: a
// Residual holds its inner layers. Every layer keeps its own output buffer
// (and, if it needs one, a pre-activation cache) sized for the largest batch
// seen; the buffers are allocated once per batch size and reused, so a
// steady-state training step allocates nothing.
//
// Forward returns a pointer to the layer's own output buffer (or to its input
// for a pass-through), which backward needs again; backward returns a pointer
// to the input gradient it wrote into one of the pass's shared gradient
// buffers (ctx.grads), so a step moves no data between layers and the
// gradients stay in cache. One file per kind in network/layers/.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common.h"
#include "network/gradient_buffers.h"
#include "network/param.h"
#include "network/spec.h"
#include "network/stats.h"
#include "network/stop_poller.h"
#include "ops/activation.h"

namespace vgp {

template <typename T>
struct Context {
  Mode mode = Mode::train;
  std::uint64_t seed = 0;               // dropout seed of this batch
  StatsRecorder* stats = nullptr;       // null: statistics off
  StopPoller* poll = nullptr;           // null: not interruptible between layers
  GradientBuffers<T>* grads = nullptr;  // set by Network::backward for the layers
};

// What the narrow-network pass (network/narrow.h) needs of a Dense layer:
// its shape, activation, parameters with their gradients, and its own
// batch-major output buffers (valid until the next reserve()).
template <typename T>
struct DenseView {
  index_t in = 0, out = 0;
  ops::Act act = ops::Act::linear;
  const T* kernel = nullptr;  // (in, out)
  T* kernel_grad = nullptr;
  const T* bias = nullptr;  // null: no bias
  T* bias_grad = nullptr;
  T* z = nullptr;  // pre-activation, (batch, out)
  T* y = nullptr;  // output, (batch, out); z itself for a linear layer
};

template <typename T>
class Layer {
 public:
  virtual ~Layer() = default;
  index_t in_features = 0;
  index_t out_features = 0;
  int probe_row = -1;
  ops::Act probe_act = ops::Act::linear;
  double hist_lo = -4.0, hist_hi = 4.0;

  // Make every buffer hold at least `batch` rows.
  virtual void reserve(index_t batch) = 0;
  // x: (batch, in_features). Returns the output (batch, out_features), owned
  // by this layer (or x itself for a pass-through).
  virtual const T* forward(const T* x, index_t batch, const Context<T>& ctx) = 0;
  // x: the input given to forward; dy: gradient at the output (at the
  // pre-activation when `preact`, for a loss fused with the output
  // activation). Returns dx (in one of ctx.grads, or dy itself for a
  // pass-through) when need_dx, else null.
  virtual const T* backward(const T* x, const T* dy, index_t batch, bool need_dx, bool preact,
                            const Context<T>& ctx) = 0;
  // Parameters in Keras order.
  virtual void collect_params(std::vector<Param<T>*>& out) = 0;
  // Activation of the layer's output as seen by a fused loss (dense / activation only).
  virtual ops::Act output_activation() const { return ops::Act::linear; }
  // Pre-activation of the last forward (the logits a fused loss reads); null
  // when the layer has no output activation.
  virtual const T* preactivation() const { return nullptr; }
  // Direct children (residual); empty otherwise.
  virtual std::vector<Layer<T>*> children() { return {}; }
  // After backward: kernel gradient / weight statistics of this layer's row.
  virtual void record_kernel_stats(StatsRecorder&) {}
  // Makes the state a training forward left pending (batch norm's moving
  // averages) the layer's own; called once a training step is accepted.
  virtual void commit_state() {}
  // A Dense layer fills `view` and returns true; every other kind returns false.
  virtual bool dense_view(DenseView<T>&) { return false; }

 protected:
  // Takes the probe point (row, activation, histogram range) from the spec.
  void set_probe(const LayerSpec& spec);
  // Activation statistics of the output y / signal statistics of its
  // gradient dy, when statistics are on and this output is a probe point.
  void record_probe_forward(const T* y, index_t batch, const Context<T>& ctx);
  void record_probe_backward(const T* dy, index_t batch, const Context<T>& ctx);
};

// Builds a layer of any kind (and, for a residual, its inner layers) from its
// spec. `salt` gives each dropout layer its own random stream and advances as
// layers are made.
template <typename T>
std::unique_ptr<Layer<T>> make_layer(const LayerSpec& spec, index_t in_features,
                                     std::uint64_t& salt);

// Makes buf hold at least `elements` values (layers' buffers grow with the batch).
template <typename U>
void grow(std::vector<U>& buf, index_t elements) {
  if (static_cast<index_t>(buf.size()) < elements) buf.resize(static_cast<std::size_t>(elements));
}

}  // namespace vgp
