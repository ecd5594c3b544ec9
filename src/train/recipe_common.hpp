#pragma once
// Pieces shared by the two training recipes (mlp_training.cpp, cnn_training.cpp).
#include <cstdint>
#include <span>
#include <vector>

#include "tensorgraph/train/fit.hpp"
#include "tensorgraph/train/optimizer.hpp"
#include "tensorgraph/train/schedule.hpp"

namespace tensorgraph::train::recipe {

// fit()'s view of a subset of a data set: fit() draws positions 0..subset.size()-1, mapped here
// to the rows of `subset` before `batcher.fill(rows)` gathers them. `subset` and `batcher` must
// outlive the result.
template <class Batcher>
TrainingData subset_data(const std::vector<std::int64_t>& subset, Batcher& batcher) {
  TrainingData data;
  data.size = static_cast<std::int64_t>(subset.size());
  data.fill = [&subset, &batcher,
               mapped = std::vector<std::int64_t>()](std::span<const std::int64_t> rows) mutable {
    mapped.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) mapped[i] = subset[rows[i]];
    return batcher.fill(mapped);
  };
  return data;
}

// AdamW (decoupled weight decay), as both recipes train.
inline AdamOptions adamw(double learning_rate, double weight_decay) {
  AdamOptions adam;
  adam.learning_rate = learning_rate;
  adam.weight_decay = weight_decay;
  adam.decoupled_weight_decay = true;
  return adam;
}

// The cosine schedule over every step of `epochs` epochs.
inline CosineSchedule cosine_over_epochs(double learning_rate, std::int64_t epochs,
                                         std::int64_t examples, std::int64_t batch_size) {
  return CosineSchedule{learning_rate, epochs * steps_per_epoch(examples, batch_size)};
}

}  // namespace tensorgraph::train::recipe
