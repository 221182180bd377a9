// Gradient-flow statistics (DESIGN.md "flow"), recorded during the native
// pass itself. They are organised in rows, one per layer that owns a kernel.
// A row records, per batch: its kernel gradient (L2, mean |g|, max |g|,
// non-finite count), kernel norm, the L2 norm of the optimizer step actually
// taken, the backpropagated signal dL/dh at its probe point and activation
// statistics there. The probe point of a Dense row is the output of the last
// kernel-less layer that follows it (an Activation, a BatchNormalization, a
// Dropout) in the same container: the unit whose saturation or death is in
// question. Python decides the mapping and passes it in the layer specs.
//
// The recorder keeps the row block of the batch being computed (`current`),
// which the layers fill during forward and backward, and appends it to
// `record` once the batch is done. The record_* functions below are what the
// layers call; each writes only its own fields of one row.
#pragma once

#include <cstdint>
#include <iterator>
#include <vector>

#include "common.h"
#include "network/param.h"
#include "ops/activation.h"

namespace vgp {

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

// The names Python reads the fields by (vgp_native._core.STAT_FIELDS), in order.
inline constexpr const char* kStatFieldNames[] = {
    "grad_norm", "grad_mean_abs", "grad_max_abs", "grad_nonfinite", "weight_norm",
    "update_norm", "signal_norm", "signal_nonfinite", "act_mean", "act_std", "saturated", "dead",
    "act_nonfinite", "bias_grad_norm",
};
static_assert(std::size(kStatFieldNames) == kNumStatFields, "a name for every field");

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
  // Zeroes the current batch's rows, before its passes fill them.
  void begin_batch();
  // Appends the current batch with its mean loss and its index in its epoch.
  void append(double mean_loss, std::int64_t batch_id);
  // Drops the recorded batches, keeping the buffers' capacity for the next ones.
  void clear();
};

// Activation statistics of a layer's output y (batch, features) into `row`:
// mean, std, saturated and dead fractions as `act` classifies units, the
// non-finite count, and the histogram over [lo, hi].
template <typename T>
void record_activation(StatsRecorder& stats, int row, const T* y, index_t batch,
                       index_t features, ops::Act act, double lo, double hi);

// The backpropagated signal dy (batch, features) at a probe point: its L2 norm
// and non-finite count.
template <typename T>
void record_signal(StatsRecorder& stats, int row, const T* dy, index_t batch, index_t features);

// Kernel-gradient, weight and bias-gradient statistics of one row (bias may
// be null; row < 0: nothing).
template <typename T>
void record_kernel(StatsRecorder& stats, int row, const Param<T>& kernel, const Param<T>* bias);

}  // namespace vgp
