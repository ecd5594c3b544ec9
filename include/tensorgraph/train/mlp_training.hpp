#pragma once
// Training the MLP regressor of example 04 on California housing:
//
//   1. a fixed 80/20 train/test split (scikit-learn's train_test_split, seed 42);
//   2. a validation part carved out of the 80% (same seed): the test part is never looked at
//      until the end, so neither epochs nor settings are chosen on it;
//   3. the scaler (mean, standard deviation) fitted on the rows trained on, saved with the
//      weights and applied in the graph;
//   4. Adam(W) on mean squared error, cosine learning-rate schedule, early stopping on the
//      validation RMSE (the best epoch's weights are kept).
#include <cstdint>
#include <filesystem>

#include "tensorgraph/io/california_housing.hpp"
#include "tensorgraph/nn/mlp.hpp"
#include "tensorgraph/train/data.hpp"
#include "tensorgraph/train/fit.hpp"
#include "tensorgraph/train/metrics.hpp"

namespace tensorgraph::train {

struct MlpTrainingOptions {
  nn::MlpSpec spec;
  int epochs = 200;
  std::int64_t batch_size = 64;
  double learning_rate = 3e-3;
  double weight_decay = 0.1;  // AdamW (decoupled)
  int patience = 50;          // epochs without a better validation RMSE (0: never stop early)
  double test_fraction = 0.2;
  double validation_fraction = 0.1;  // of the training part
  std::uint32_t split_seed = 42;     // the train/test and validation splits
  std::uint64_t seed = 0;            // initial weights and the order of examples
  std::int64_t limit = 0;            // use only the first N rows (0: all)
  int threads = 0;
  std::filesystem::path checkpoint;
  bool resume = false;
};

struct MlpTrainingResult {
  FitResult fit;
  Parameters params;  // the best epoch's
  StandardScaler scaler;
  RegressionMetrics train, validation, test;  // in the target's units
  std::int64_t rows = 0;
  double seconds = 0;  // this process's training time
};

MlpTrainingResult train_mlp_regressor(const io::CaliforniaHousing& data,
                                      const MlpTrainingOptions& options,
                                      const FitCallbacks& callbacks = {});

// The weight file of a trained model (nn::MlpRegressor::load reads it), with `metadata`.
void save_mlp_regressor(const std::filesystem::path& path, const MlpTrainingResult& result,
                        const nn::MlpSpec& spec, std::map<std::string, std::string> metadata);

}  // namespace tensorgraph::train
