#include "tensorgraph/train/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace tensorgraph::train {

double CosineSchedule::at(std::int64_t step) const {
  if (warmup_steps > 0 && step < warmup_steps)
    return base * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  const std::int64_t span = std::max<std::int64_t>(total_steps - warmup_steps, 1);
  const double t =
      std::min(1.0, static_cast<double>(step - warmup_steps) / static_cast<double>(span));
  return minimum + (base - minimum) * 0.5 * (1 + std::cos(std::numbers::pi * t));
}

}  // namespace tensorgraph::train
