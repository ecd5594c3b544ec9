// Example 04, minimal: the MLP regressor trained by `tensorgraph train mlp` (weights committed
// beside this file) predicts California house values; we report R^2 and RMSE on the test part of
// the fixed 80/20 split (seed 42) that training never looked at.
//
//   build/examples/04_mlp_regression_minimal [DATA_DIR]     (default: $TG_DATA_DIR or datasets/)
#include <cstdio>

#include "tensorgraph/hub/paths.hpp"
#include "tensorgraph/io/california_housing.hpp"
#include "tensorgraph/nn/mlp.hpp"
#include "tensorgraph/train/data.hpp"
#include "tensorgraph/train/metrics.hpp"

using namespace tensorgraph;

int main(int argc, char** argv) try {
  const auto data_dir =
      hub::data_dir(argc > 1 ? std::optional<std::filesystem::path>(argv[1]) : std::nullopt);
  // The inference graph: scaler, three linear layers with ReLU; weights become constants.
  nn::MlpRegressor model = nn::MlpRegressor::load(TG_EXAMPLE_DIR "/weights/mlp.safetensors");
  const io::CaliforniaHousing data = io::load_california_housing(data_dir);

  const train::Split split = train::train_test_split(20640, 0.2, 42);  // scikit-learn's
  const std::vector<double> predicted =
      model.predict(train::gather_rows(data.features, split.test));
  std::vector<double> actual;
  for (std::int64_t row : split.test) actual.push_back(data.target.data<double>()[row]);

  const train::RegressionMetrics m = train::regression_metrics(predicted, actual);
  std::printf("first test house: predicted $%.0f, actual $%.0f\n", predicted[0] * 1e5,
              actual[0] * 1e5);
  std::printf("test R^2 %.4f, RMSE $%.0f over %lld houses\n", m.r2, m.rmse * 1e5,
              static_cast<long long>(m.count));
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "04_mlp_regression_minimal: error: %s\n", e.what());
  return 1;
}
