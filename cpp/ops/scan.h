// One pass over a buffer of values for the data checks of fit, evaluate and
// predict: how many are NaN or +-Inf, and the smallest and largest finite
// value. numpy answers the same questions with a boolean temporary per test
// (isfinite, then >= 0 and <= 1 for binary targets): a byte per element
// allocated and written each time, and a few ufunc dispatches, which cost tens
// of microseconds when their code is not in cache.
#pragma once

#include <cstdint>
#include <limits>

#include "common.h"

namespace vgp::ops {

struct ValueScan {
  std::int64_t nonfinite = 0;  // NaN, +Inf and -Inf
  // Over the finite values only; lo = +inf and hi = -inf when there are none.
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
};

// Exact for any split of the work (a count, a minimum and a maximum), so it
// runs on threads for large buffers (ops/parallel.h's work rule).
template <typename T>
ValueScan scan_values(const T* x, index_t n);

}  // namespace vgp::ops
