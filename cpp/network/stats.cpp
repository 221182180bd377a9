#include "network/stats.h"

#include <algorithm>

#include "ops/flowstats.h"

namespace vgp {

void StatsRecorder::begin_batch() { std::fill(current.begin(), current.end(), 0.0); }

void StatsRecorder::append(double mean_loss, std::int64_t batch_id) {
  record.insert(record.end(), current.begin(), current.end());
  losses.push_back(mean_loss);
  batch_ids.push_back(batch_id);
}

void StatsRecorder::clear() {
  record.clear();
  losses.clear();
  batch_ids.clear();
}

template <typename T>
void record_activation(StatsRecorder& stats, int row, const T* y, index_t batch,
                       index_t features, ops::Act act, double lo, double hi) {
  index_t hist[kHistBins];
  const ops::ActivationStats s =
      ops::activation_stats<T>(y, batch, features, act, hist, kHistBins, lo, hi);
  double* r = stats.row(row);
  r[kActMean] = s.mean;
  r[kActStd] = s.std;
  r[kActSaturated] = s.saturated;
  r[kActDead] = s.dead;
  r[kActNonfinite] = static_cast<double>(s.nonfinite);
  for (int b = 0; b < kHistBins; ++b) r[kNumStatFields + b] = static_cast<double>(hist[b]);
}

template <typename T>
void record_signal(StatsRecorder& stats, int row, const T* dy, index_t batch, index_t features) {
  const ops::NormStats s = ops::buffer_norm<T>(dy, batch * features);
  double* r = stats.row(row);
  r[kSignalL2] = s.l2;
  r[kSignalNonfinite] = static_cast<double>(s.nonfinite);
}

template <typename T>
void record_kernel(StatsRecorder& stats, int row, const Param<T>& kernel, const Param<T>* bias) {
  if (row < 0) return;
  double* r = stats.row(row);
  const ops::BufferStats g = ops::buffer_stats<T>(kernel.grad.data(), kernel.size());
  r[kGradL2] = g.l2;
  r[kGradMeanAbs] = g.mean_abs;
  r[kGradMaxAbs] = g.max_abs;
  r[kGradNonfinite] = static_cast<double>(g.nonfinite);
  r[kWeightL2] = ops::buffer_norm<T>(kernel.value.data(), kernel.size()).l2;
  r[kBiasGradL2] = bias ? ops::buffer_norm<T>(bias->grad.data(), bias->size()).l2 : 0.0;
}

#define VGP_INSTANTIATE_STATS(T)                                                              \
  template void record_activation<T>(StatsRecorder&, int, const T*, index_t, index_t, ops::Act, \
                                     double, double);                                        \
  template void record_signal<T>(StatsRecorder&, int, const T*, index_t, index_t);            \
  template void record_kernel<T>(StatsRecorder&, int, const Param<T>&, const Param<T>*);
VGP_INSTANTIATE_STATS(float)
VGP_INSTANTIATE_STATS(double)
#undef VGP_INSTANTIATE_STATS

}  // namespace vgp
