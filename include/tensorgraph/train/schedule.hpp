#pragma once
// Learning-rate schedules as functions of the step (0-based).
#include <cstdint>

namespace tensorgraph::train {

// Linear warm-up over `warmup_steps`, then cosine annealing from `base` to `minimum` at
// `total_steps` (torch's CosineAnnealingLR shape, evaluated per step); constant at `minimum`
// after the end.
struct CosineSchedule {
  double base = 1e-3;
  std::int64_t total_steps = 1;
  double minimum = 0;
  std::int64_t warmup_steps = 0;

  double at(std::int64_t step) const;
};

}  // namespace tensorgraph::train
