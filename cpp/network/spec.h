// What Python's compile() hands the native executor: the layer specs, the
// loss, the metric and the optimizer, and the integer codes that name them.
// Every code that crosses into Python has its name table here (common.h
// EnumName), exported by cpp/bindings/codes.cpp and checked against there.
#pragma once

#include <string>
#include <vector>

#include "common.h"

namespace vgp {

// train  batch statistics in batch norm (moving averages updated), dropout on
// probe  batch statistics, no state changes, dropout off: the gradient that
//        training would see at the current weights, for analysis
// infer  moving statistics, dropout off: predict / evaluate
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

enum class LayerKind : int { dense = 0, activation = 1, batchnorm = 2, dropout = 3, residual = 4 };

// The names Python uses for them (vgp_native._core.LOSS_CODES, METRIC_CODES,
// OPTIMIZER_CODES, LAYER_KINDS). MetricKind::none, code 0, is "no metric" and
// has no name.
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
inline constexpr EnumName<LayerKind> kLayerKindNames[] = {
    {LayerKind::dense, "dense"},         {LayerKind::activation, "activation"},
    {LayerKind::batchnorm, "batchnorm"}, {LayerKind::dropout, "dropout"},
    {LayerKind::residual, "residual"},
};

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
  std::string kind;  // a name of kLayerKindNames
  index_t units = 0;
  int act = 0;
  bool use_bias = true;
  double epsilon = 1e-3;
  double momentum = 0.99;
  double rate = 0.0;
  int kernel_row = -1;  // dense: the statistics row its kernel feeds
  double l2 = 0.0;             // dense: L2 penalty factor of the kernel (0: none)
  bool l2_per_sample = false;  // dense: the penalty divided by the batch's rows
  int probe_row = -1;   // the row whose activation / signal statistics are taken at this output
  int probe_act = 0;    // activation that classifies saturated / dead units at the probe
  double hist_lo = -4.0, hist_hi = 4.0;
  std::vector<LayerSpec> children;  // residual
};

}  // namespace vgp
