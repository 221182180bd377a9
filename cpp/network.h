// The native executor: a compiled layer list that owns its parameters,
// gradients, optimizer state and every workspace buffer, and runs whole
// training epochs (gather, forward, loss, backward, optimizer update and
// gradient-flow statistics) without returning to Python.
//
// Layers form a tree: a Residual holds its inner layers. Every layer keeps
// its own output buffer (and, if it needs one, a pre-activation cache) sized
// for the largest batch seen; the buffers are allocated once per batch size
// and reused, so a steady-state training step allocates nothing.
//
// Modes:
//   train  batch statistics in batch norm (moving averages updated), dropout on
//   probe  batch statistics, no state changes, dropout off: the gradient that
//          training would see at the current weights, for analysis
//   infer  moving statistics, dropout off: predict / evaluate
//
// Gradient-flow statistics (DESIGN.md "flow") are organised in rows, one per
// layer that owns a kernel. A row records, per batch: its kernel gradient
// (L2, mean |g|, max |g|, non-finite count), kernel norm, the L2 norm of the
// optimizer step actually taken, the backpropagated signal dL/dh at its probe
// point and activation statistics there. The probe point of a Dense row is
// the output of the last kernel-less layer that follows it (an Activation, a
// BatchNormalization, a Dropout) in the same container: the unit whose
// saturation or death is in question. Python decides the mapping and passes
// it in the layer specs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "ops/activation.h"
#include "ops/optimizer.h"

namespace vgp {

enum class Mode : int { train = 0, probe = 1, infer = 2 };

enum class LossKind : int {
  binary_crossentropy = 0,
  mse = 1,
  categorical_crossentropy = 2,
  sparse_categorical_crossentropy = 3,
};

enum class MetricKind : int {
  none = 0,
  binary_accuracy = 1,
  categorical_accuracy = 2,
  sparse_categorical_accuracy = 3,
};

enum class OptimizerKind : int { sgd = 0, adam = 1, rmsprop = 2 };

// The names Python uses for them (vgp_native._core.LOSS_CODES, METRIC_CODES,
// OPTIMIZER_CODES). MetricKind::none, code 0, is "no metric" and has no name.
inline constexpr EnumName<LossKind> kLossNames[] = {
    {LossKind::binary_crossentropy, "binary_crossentropy"},
    {LossKind::mse, "mse"},
    {LossKind::categorical_crossentropy, "categorical_crossentropy"},
    {LossKind::sparse_categorical_crossentropy, "sparse_categorical_crossentropy"},
};
inline constexpr EnumName<MetricKind> kMetricNames[] = {
    {MetricKind::binary_accuracy, "binary_accuracy"},
    {MetricKind::categorical_accuracy, "categorical_accuracy"},
    {MetricKind::sparse_categorical_accuracy, "sparse_categorical_accuracy"},
};
inline constexpr EnumName<OptimizerKind> kOptimizerNames[] = {
    {OptimizerKind::sgd, "sgd"},
    {OptimizerKind::adam, "adam"},
    {OptimizerKind::rmsprop, "rmsprop"},
};

// The layer kinds a spec may name (LayerSpec::kind; vgp_native._core.LAYER_KINDS).
inline constexpr const char* kLayerKinds[] = {"dense", "activation", "batchnorm", "dropout",
                                              "residual"};

struct OptimizerSpec {
  OptimizerKind kind = OptimizerKind::adam;
  double learning_rate = 0.001;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;  // adam (epsilon also rmsprop)
  double momentum = 0.0;                                // sgd, rmsprop
  bool nesterov = false;                                // sgd
  double rho = 0.9;                                     // rmsprop
  bool centered = false;                                // rmsprop
  double clipnorm = 0.0;                                // 0: off
  double clipvalue = 0.0;                               // 0: off
};

// One layer of the spec tree, as Python's compile() describes it.
struct LayerSpec {
  std::string kind;  // "dense", "activation", "batchnorm", "dropout", "residual"
  index_t units = 0;
  int act = 0;
  bool use_bias = true;
  double epsilon = 1e-3;
  double momentum = 0.99;
  double rate = 0.0;
  int kernel_row = -1;  // dense: the statistics row its kernel feeds
  int probe_row = -1;   // the row whose activation / signal statistics are taken at this output
  int probe_act = 0;    // activation that classifies saturated / dead units at the probe
  double hist_lo = -4.0, hist_hi = 4.0;
  std::vector<LayerSpec> children;  // residual
};

// Fields recorded per row per batch; then kHistBins histogram counts.
enum StatField : int {
  kGradL2 = 0,
  kGradMeanAbs,
  kGradMaxAbs,
  kGradNonfinite,
  kWeightL2,
  kUpdateL2,
  kSignalL2,
  kSignalNonfinite,
  kActMean,
  kActStd,
  kActSaturated,
  kActDead,
  kActNonfinite,
  kBiasGradL2,
  kNumStatFields,
};
constexpr int kHistBins = 20;
constexpr int kRowWidth = kNumStatFields + kHistBins;

template <typename T>
struct Param {
  std::string name;
  std::vector<index_t> shape;
  std::vector<T> value;
  std::vector<T> grad;
  std::vector<T> slot1, slot2, slot3;  // optimizer state (allocated by the optimizer)
  bool trainable = true;
  int kernel_row = -1;  // set for kernels: where the update norm is recorded
  index_t size() const { return static_cast<index_t>(value.size()); }
};

// What a training step records (the `record` argument of the step functions):
// nothing, its statistics, or its statistics only if its loss is not finite
// (the step then runs its forward and backward pass a second time, measuring,
// from the same weights with the same dropout masks, before its update), so
// that sparse recording still catches the batch where a NaN or Inf appears.
constexpr int kRecordOff = 0;
constexpr int kRecordOn = 1;
constexpr int kRecordIfNonfinite = 2;

// Per-batch statistics: rows x kRowWidth doubles per batch, appended in order.
struct StatsRecorder {
  int rows = 0;
  std::vector<double> current;  // the batch being computed
  std::vector<double> record;   // all recorded batches
  std::vector<double> losses;   // mean loss of each recorded batch
  std::vector<std::int64_t> batch_ids;  // index in its epoch of each recorded batch (-1: probe)
  index_t batches() const { return rows ? static_cast<index_t>(losses.size()) : 0; }
  double* row(int r) { return current.data() + static_cast<std::size_t>(r) * kRowWidth; }
};

// Asks a caller-supplied `should_stop` (Python's Ctrl-C check) whether a long
// native loop should end, at most once per kInterval: the loops call it
// between batches and between the layers of a batch, so one huge batch is
// interruptible too. The latency is bounded by the slowest single layer's
// forward or backward on one batch.
class StopPoller {
 public:
  static constexpr std::chrono::milliseconds kInterval{50};
  explicit StopPoller(const std::function<bool()>& f) : f_(f), last_(clock::now()) {}
  bool operator()() {
    if (!f_) return false;
    const auto now = clock::now();
    if (now - last_ < kInterval) return false;
    last_ = now;
    return f_();
  }

 private:
  using clock = std::chrono::steady_clock;
  const std::function<bool()>& f_;
  clock::time_point last_;
};

// Thrown between two layers when the poller says stop; the loops of Network
// catch it before any update of the interrupted batch, so nothing leaks out.
struct Interrupted {};

// The buffers a backward pass hands gradients through. Each layer writes its
// input gradient into one and the layer below reads it once, so a few
// buffers taken in turn serve the whole pass and stay in cache: with a buffer
// per layer each would be cold by the time the pass reaches it, and the first
// write to a cold line reads it from memory (28 MB a step for 8 residual
// blocks of width 512 at batch 256).
template <typename T>
class GradientBuffers {
 public:
  // Every buffer holds at least `elements` values from now on (buffers move:
  // call between passes only).
  void reserve(index_t elements);
  // A buffer that is neither `a` nor `b` nor held, the lowest such one (the
  // same few buffers again and again). Adds one when all are busy: the first
  // pass through each depth of nested residual blocks.
  T* take(const T* a = nullptr, const T* b = nullptr);
  // A held buffer is not handed out until released (a residual block's
  // gradient at its sum, read again after its inner layers). Pointers that
  // are not one of these buffers are ignored; holds nest.
  void hold(const T* p);
  void release(const T* p);
  // Releases every hold (a pass that was interrupted left its own).
  void release_all();

 private:
  int index_of(const T* p) const;
  std::vector<std::vector<T>> buffers_;
  std::vector<int> holds_;
  index_t elements_ = 0;
};

template <typename T>
struct Context {
  Mode mode = Mode::train;
  std::uint64_t seed = 0;            // dropout seed of this batch
  StatsRecorder* stats = nullptr;    // null: statistics off
  StopPoller* poll = nullptr;        // null: not interruptible between layers
  GradientBuffers<T>* grads = nullptr;  // set by Network::backward for the layers
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

 protected:
  void record_probe_forward(const T* y, index_t batch, const Context<T>& ctx);
  void record_probe_backward(const T* dy, index_t batch, const Context<T>& ctx);
};

// Builds a layer (and, for a residual, its inner layers). `salt` gives each
// dropout layer its own random stream and advances as layers are made.
template <typename T>
std::unique_ptr<Layer<T>> make_layer(const LayerSpec& spec, index_t in_features,
                                     std::uint64_t& salt);

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
  index_t optimizer_steps() const { return step_; }

  void set_loss(LossKind loss, MetricKind metric);
  bool loss_fused() const { return fused_; }
  void set_optimizer(const OptimizerSpec& spec);

  // One epoch: the batches perm[0:bs], perm[bs:2bs], ... (perm null: in
  // order), dropout seed seeds[i] for batch i (null: 0). `should_stop` is
  // polled between batches and between layers (StopPoller); when it returns
  // true the epoch ends, `stopped` is set, and the batch in progress, if any,
  // is abandoned before its update: the model holds the state after the last
  // completed batch. With `halt_on_nonfinite`, a batch whose loss,
  // gradients or updated weights are not finite is not applied and ends the
  // epoch (result.halted); the model keeps the last weights whose forward and
  // backward pass were finite, those from before the blow-up (see step()).
  // Statistics are recorded for the batches b with b % record_every == 0
  // (record_every 0: none; 1: every batch).
  StepResult train_epoch(const T* x, const T* y, index_t n, index_t y_width,
                         const std::int64_t* perm, index_t batch_size,
                         const std::uint64_t* seeds, index_t record_every,
                         bool halt_on_nonfinite, const std::function<bool()>& should_stop,
                         bool* stopped);

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
  const T* forward(const T* x, index_t batch, const Context<T>& ctx);
  void backward(const T* dy_out, index_t batch, bool need_dx, bool preact,
                const Context<T>& ctx, const T** dx_out);
  // Loss (sum over rows) and metric; writes the output gradient into dout_.
  void loss_forward_backward(const T* target, index_t batch, index_t y_width, bool want_grad,
                             StepResult& r);
  void optimizer_update(bool record);
  index_t batch_id_ = -1;  // index within its epoch of the batch being trained (recorded with it)
  StepResult step(const T* xb, const T* yb, index_t batch, index_t y_width, std::uint64_t seed,
                  int record, bool halt_on_nonfinite, StopPoller* poll);
  StepResult gather_and_step(const T* x, const T* y, index_t y_width, const std::int64_t* idx,
                             index_t count, std::uint64_t seed, int record,
                             bool halt_on_nonfinite, StopPoller* poll);
  void commit_state();
  void restore_backup();
  std::uint64_t weights_hash() const;
  bool gradients_finite() const;
  bool weights_finite() const;
  void gather(const T* src, index_t width, const std::int64_t* idx, index_t count, T* dst) const;
  void reserve(index_t batch);
  void check_target_width(index_t y_width) const;

  std::vector<std::unique_ptr<Layer<T>>> layers_;
  std::vector<Param<T>*> params_;
  index_t in_features_ = 0, out_features_ = 0;
  index_t capacity_ = 0;
  std::vector<T> xbuf_, ybuf_, dout_;
  index_t max_width_ = 0;  // widest input or output of any layer, nested ones included
  GradientBuffers<T> grads_;
  std::vector<const T*> inputs_;   // input of each top-level layer during the last forward
  std::vector<const T*> outputs_;  // output of each top-level layer during the last forward
  LossKind loss_ = LossKind::mse;
  MetricKind metric_ = MetricKind::none;
  bool fused_ = false;
  OptimizerSpec opt_;
  index_t step_ = 0;
  // The trainable parameters as the optimizer updates them (set_optimizer),
  // the Param of each, and their squared step norms when recorded.
  std::vector<ops::UpdateTensor<T>> update_tensors_;
  std::vector<Param<T>*> update_params_;
  std::vector<double> update_sq_;
  StatsRecorder stats_;
  // When halting on non-finite values: the weights before the last update,
  // valid while the weights are still those that update produced (their
  // hash is updated_hash_).
  std::vector<std::vector<T>> backup_;
  bool backup_valid_ = false;
  std::uint64_t updated_hash_ = 0;
};

}  // namespace vgp
