// The native executor: a compiled layer list that owns its parameters,
// gradients, optimizer state and every workspace buffer, and runs whole
// training epochs (gather, forward, loss, backward, optimizer update and
// gradient-flow statistics) without returning to Python.
//
// Its parts, one job each: spec.h (what Python hands it), layer.h and
// layers/ (one file per kind), objective.h (loss and metric), penalty.h (the
// L2 weight penalty), optimizer.h, stats.h (the flow statistics),
// gradient_buffers.h, nonfinite_guard.h.
// network.cpp builds it and runs the passes outside training (evaluate,
// predict, probes); train.cpp the training step and the loops over batches.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "common.h"
#include "network/gradient_buffers.h"
#include "network/layer.h"
#include "network/narrow.h"
#include "network/nonfinite_guard.h"
#include "network/objective.h"
#include "network/optimizer.h"
#include "network/param.h"
#include "network/penalty.h"
#include "network/spec.h"
#include "network/stats.h"
#include "network/stop_poller.h"

namespace vgp {

struct StepResult {
  double loss_sum = 0.0;    // sum over rows of the per-row loss
  double metric_sum = 0.0;  // sum over rows of the per-row metric
  index_t rows = 0;
  bool halted = false;  // a non-finite loss or gradient stopped training before its update
};

template <typename T>
class Network {
 public:
  Network(const std::vector<LayerSpec>& specs, index_t in_features, int stat_rows);

  index_t in_features() const { return in_features_; }
  index_t out_features() const { return out_features_; }
  const std::vector<Param<T>*>& params() const { return params_; }
  int stat_rows() const { return stats_.rows; }
  StatsRecorder& stats() { return stats_; }
  index_t optimizer_steps() const { return optimizer_.steps(); }
  // Whether training steps that measure nothing take the narrow pass (narrow.h).
  bool narrow_pass() const { return narrow_ != nullptr; }

  void set_loss(LossKind loss, MetricKind metric);
  bool loss_fused() const { return objective_.fused(); }
  void set_optimizer(const OptimizerSpec& spec);
  // A new learning rate for the next steps; the optimizer's state stays (Keras'
  // `optimizer.learning_rate = ...` from a callback: a learning-rate schedule).
  void set_learning_rate(double learning_rate) { optimizer_.set_learning_rate(learning_rate); }

  // One epoch: the batches perm[0:bs], perm[bs:2bs], ... (perm null: in
  // order), dropout seed seeds[i] for batch i (null: 0). `should_stop` is
  // polled between batches, and between layers when a batch is large
  // (layer_poll; StopPoller); when it returns
  // true the epoch ends, `stopped` is set, and the batch in progress, if any,
  // is abandoned before its update: the model holds the state after the last
  // completed batch. With `halt_on_nonfinite`, a batch whose loss,
  // gradients or updated weights are not finite is not applied and ends the
  // epoch (result.halted); the model keeps the last weights whose forward and
  // backward pass were finite, those from before the blow-up (NonfiniteGuard).
  // Statistics are recorded for the batches b with b % record_every == 0
  // (record_every 0: none; 1: every batch).
  StepResult train_epoch(const T* x, const T* y, index_t n, index_t y_width,
                         const std::int64_t* perm, index_t batch_size,
                         const std::uint64_t* seeds, index_t record_every,
                         bool halt_on_nonfinite, const std::function<bool()>& should_stop,
                         bool* stopped);

  // `epochs` epochs in a row, as many train_epoch calls without statistics
  // or halting: epoch e takes the order perms[e n : (e + 1) n] (perms null:
  // in order), or the one draw_order writes into an n-row buffer right
  // before the epoch runs (when given; perms is then ignored), and the
  // dropout seeds seeds[e steps : (e + 1) steps], steps = ceil(n /
  // batch_size) (null: 0). Epoch e's sums go to results[e]. One
  // `should_stop` poller serves every epoch, polled between batches and
  // between epochs (after the next epoch's order is drawn, as a loop of
  // train_epoch calls draws each order before its epoch); when it fires,
  // `stopped` is set and the epochs completed so far are returned (their
  // count), the interrupted one's steps applied as train_epoch leaves them.
  index_t train_epochs(const T* x, const T* y, index_t n, index_t y_width,
                       const std::int64_t* perms, index_t epochs, index_t batch_size,
                       const std::uint64_t* seeds, const std::function<bool()>& should_stop,
                       bool* stopped, StepResult* results,
                       const std::function<void(std::int64_t*)>& draw_order = {});

  // One batch made of the rows idx[0:count] (idx null: rows 0..count-1);
  // `record` is kRecordOff / kRecordOn / kRecordIfNonfinite, `batch_index`
  // the batch's index in its epoch (stored with its statistics).
  // `should_stop` as for train_epoch: when it fires, nothing is applied.
  StepResult train_batch(const T* x, const T* y, index_t y_width, const std::int64_t* idx,
                         index_t count, std::uint64_t seed, int record,
                         bool halt_on_nonfinite = false,
                         const std::function<bool()>& should_stop = {},
                         bool* stopped = nullptr, index_t batch_index = 0);

  // Mean loss and metric sums over batches of batch_size rows; mode infer
  // (moving statistics) or probe (each batch's own statistics, nothing updated).
  StepResult evaluate(const T* x, const T* y, index_t n, index_t y_width, index_t batch_size,
                      const std::function<bool()>& should_stop, bool* stopped,
                      Mode mode = Mode::infer);

  // out: (n, out_features). When `should_stop` fires, out is incomplete and
  // `stopped` is set.
  void predict(const T* x, index_t n, index_t batch_size, T* out, Mode mode = Mode::infer,
               const std::function<bool()>& should_stop = {}, bool* stopped = nullptr);

  // Loss and gradients of the mean loss over all n rows as one batch, at the
  // current weights, no update; gradients are left in each Param::grad.
  StepResult compute_gradients(const T* x, const T* y, index_t n, index_t y_width, Mode mode,
                               bool record);

  // dX = J^T dY through the whole network at x (one batch of n rows).
  void input_gradient(const T* x, const T* dy, index_t n, T* dx, Mode mode);

  // Outputs of each top-level layer for x (one batch): out[l] is (n, width_l).
  void layer_outputs(const T* x, index_t n, Mode mode, std::vector<std::vector<T>>& out);
  std::vector<index_t> layer_widths() const;

 private:
  // -- network.cpp: the passes
  const T* forward(const T* x, index_t batch, const Context<T>& ctx);
  void backward(const T* dy_out, index_t batch, bool need_dx, bool preact,
                const Context<T>& ctx, const T** dx_out);
  // Loss (sum over rows, the weight penalty included) and metric into r;
  // with want_grad, the output gradient into dout_.
  void loss_forward_backward(const T* target, index_t batch, bool want_grad, StepResult& r);
  // Forward, loss and backward of one batch: the gradients in every Param,
  // the weight penalty's included.
  StepResult forward_backward(const T* x, const T* y, index_t batch, const Context<T>& ctx);
  // After backward: every kernel's gradient and weight statistics.
  void record_kernel_stats();
  void reserve(index_t batch);
  void check_target_width(index_t y_width) const;
  // `poll` when a batch of `batch` rows is worth polling between its layers,
  // else null (see row_work_).
  StopPoller* layer_poll(StopPoller* poll, index_t batch) const;

  // -- train.cpp: training
  // One training step on the batch (xb, yb): passes, statistics, update (see train.cpp).
  StepResult step(const T* xb, const T* yb, index_t batch, std::uint64_t seed, int record,
                  bool halt_on_nonfinite, StopPoller* poll);
  // Forward, loss and backward of a training batch, measuring when `measure`.
  StepResult train_passes(const T* xb, const T* yb, index_t batch, std::uint64_t seed,
                          bool measure, StopPoller* poll);
  // The optimizer step and the commit of the layers' pending state.
  void apply_update(bool record);
  // train_epoch's loop over the batches of one epoch, with the caller's poller.
  StepResult epoch_loop(const T* x, const T* y, index_t n, index_t y_width,
                        const std::int64_t* perm, index_t batch_size, const std::uint64_t* seeds,
                        index_t record_every, bool halt_on_nonfinite, StopPoller& poll,
                        bool* stopped);
  StepResult gather_and_step(const T* x, const T* y, index_t y_width, const std::int64_t* idx,
                             index_t count, std::uint64_t seed, int record,
                             bool halt_on_nonfinite, StopPoller* poll);
  void gather(const T* src, index_t width, const std::int64_t* idx, index_t count, T* dst) const;

  std::vector<std::unique_ptr<Layer<T>>> layers_;
  // The same layers' training pass with the batch on the vector lanes, for a
  // narrow stack of Dense layers (null otherwise); same bits, see narrow.h.
  std::unique_ptr<NarrowStack<T>> narrow_;
  std::vector<Param<T>*> params_;
  ParamBlocks<T> blocks_;  // the parameters' values and gradients
  index_t in_features_ = 0, out_features_ = 0;
  index_t capacity_ = 0;
  std::vector<T> xbuf_, ybuf_, dout_;
  std::vector<std::int64_t> order_;  // train_epochs' drawn order of the epoch running
  index_t max_width_ = 0;  // widest input or output of any layer, nested ones included
  // Work of one row through a training step, in multiply-adds: 3 per parameter
  // (forward, and the two products of backward) and 1 per output of a
  // top-level layer. Polling between layers reads a clock (20-40 ns) twice a
  // layer, a tenth of a small network's step, so only batches of at least
  // kPollLayersWork are polled between layers; smaller ones only between
  // batches, which delays a stop by at most one step of well under a
  // millisecond.
  index_t row_work_ = 0;
  static constexpr index_t kPollLayersWork = index_t{1} << 24;
  GradientBuffers<T> grads_;
  std::vector<const T*> inputs_;   // input of each top-level layer during the last forward
  std::vector<const T*> outputs_;  // output of each top-level layer during the last forward
  Objective objective_;
  WeightPenalty<T> penalty_;
  Optimizer<T> optimizer_;
  NonfiniteGuard<T> guard_;
  StatsRecorder stats_;
  index_t batch_id_ = -1;  // index within its epoch of the batch being trained (recorded with it)
};

}  // namespace vgp
