#pragma once
// Metrics of trained models.
#include <cstdint>
#include <span>

namespace tensorgraph::train {

struct RegressionMetrics {
  std::int64_t count = 0;
  double r2 = 0;    // 1 - SS_res / SS_tot around the targets' own mean (scikit-learn's r2_score)
  double rmse = 0;  // in the target's units
  double mae = 0;
};
RegressionMetrics regression_metrics(std::span<const double> predictions,
                                     std::span<const double> targets);

struct ClassificationMetrics {
  std::int64_t count = 0;
  std::int64_t correct = 0;
  double accuracy = 0;  // a fraction
  double loss = 0;      // mean cross-entropy, when computed
};

}  // namespace tensorgraph::train
