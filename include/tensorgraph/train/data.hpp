#pragma once
// Data handling for training: seeded train/test splits (scikit-learn's), standardisation,
// mini-batches gathered from row indices, one-hot targets.
#include <cstdint>
#include <span>
#include <vector>

#include "tensorgraph/core/tensor.hpp"

namespace tensorgraph::train {

struct Split {
  std::vector<std::int64_t> train;  // row indices
  std::vector<std::int64_t> test;
};

// scikit-learn's train_test_split(range(n), test_size=test_fraction, random_state=seed):
// n_test = ceil(test_fraction * n) rows, both parts in the order of NumPy's permutation of seed,
// the test part first. The same seed gives the same split as Python does.
Split train_test_split(std::int64_t n, double test_fraction, std::uint32_t seed);
// The same split of an index list (e.g. carving a validation part out of a training part).
Split split_indices(std::span<const std::int64_t> indices, double test_fraction,
                    std::uint32_t seed);

// Per-column mean and standard deviation (population, as scikit-learn's StandardScaler; a
// constant column gets scale 1) of the given rows of an f64 or f32 [N, D] tensor.
struct StandardScaler {
  std::vector<double> mean;
  std::vector<double> scale;

  static StandardScaler fit(const Tensor& x, std::span<const std::int64_t> rows);
  std::size_t features() const { return mean.size(); }
};

// The rows of `src` ([N, ...], any dtype) listed in `rows`, as a new tensor [rows.size(), ...].
Tensor gather_rows(const Tensor& src, std::span<const std::int64_t> rows);
// The same into an existing tensor of the right dtype with at least rows.size() rows (no
// allocation: the hot path of mini-batching). Returns the number of rows written.
void gather_rows_into(const Tensor& src, std::span<const std::int64_t> rows, Tensor& dst);
// f32 one-hot rows [rows.size(), classes] of integer labels (u8, i32 or i64) into `dst`.
void one_hot_into(const Tensor& labels, std::span<const std::int64_t> rows, std::int64_t classes,
                  Tensor& dst);

}  // namespace tensorgraph::train
