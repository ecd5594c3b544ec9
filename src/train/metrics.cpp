#include "tensorgraph/train/metrics.hpp"

#include <cmath>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::train {

RegressionMetrics regression_metrics(std::span<const double> predictions,
                                     std::span<const double> targets) {
  TG_CHECK(predictions.size() == targets.size() && !targets.empty(),
           "regression metrics: {} predictions for {} targets", predictions.size(), targets.size());
  const auto n = static_cast<double>(targets.size());
  double mean = 0;
  for (double t : targets) mean += t;
  mean /= n;
  double ss_res = 0, ss_tot = 0, abs = 0;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const double e = predictions[i] - targets[i];
    ss_res += e * e;
    abs += std::fabs(e);
    ss_tot += (targets[i] - mean) * (targets[i] - mean);
  }
  RegressionMetrics m;
  m.count = static_cast<std::int64_t>(targets.size());
  m.r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 0;
  m.rmse = std::sqrt(ss_res / n);
  m.mae = abs / n;
  return m;
}

}  // namespace tensorgraph::train
