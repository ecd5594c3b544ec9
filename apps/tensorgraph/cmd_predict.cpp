// `tensorgraph predict mlp|cnn`: the test metrics of a trained model from its weight file: the
// inference graph (weights as constants, prepacked, fused) on the test part of its data set.
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "output_format.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/paths.hpp"
#include "tensorgraph/io/california_housing.hpp"
#include "tensorgraph/io/mnist.hpp"
#include "tensorgraph/nn/cnn.hpp"
#include "tensorgraph/nn/mlp.hpp"
#include "tensorgraph/train/data.hpp"
#include "tensorgraph/train/metrics.hpp"
#include "training_report.hpp"

namespace tensorgraph::cli {
namespace {

struct PredictArgs {
  std::optional<std::string> weights;
  std::optional<std::string> data;
  std::int64_t limit = 0;
  std::int64_t threads = 0;
  bool json = false;
};

template <typename T>
T meta_number(const std::map<std::string, std::string>& meta, const std::string& key,
              const std::string& file) {
  auto it = meta.find(key);
  TG_CHECK(it != meta.end(), "{}: metadata '{}' is missing (written by `tensorgraph train`?)", file,
           key);
  try {
    std::size_t used = 0;
    const double v = std::stod(it->second, &used);
    if (used == it->second.size()) return static_cast<T>(v);
  } catch (const std::exception&) {
  }
  fail("{}: metadata '{}' is not a number: '{}'", file, key, it->second);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

int run_predict_mlp(const PredictArgs& a) {
  TG_CHECK(a.threads >= 0, "--threads must be >= 0, got {}", a.threads);
  const std::filesystem::path weights =
      a.weights
          ? std::filesystem::path(*a.weights)
          : hub::project_dir() / "examples" / "04_mlp_regression" / "weights" / "mlp.safetensors";
  CompileOptions options;
  options.threads = static_cast<int>(a.threads);
  nn::MlpRegressor model = nn::MlpRegressor::load(weights, options);
  const io::CaliforniaHousing data = io::load_california_housing(resolve_data_dir(a.data));
  // The test part of the split the model was trained with (80/20, seed 42 for the example).
  const std::string name = weights.string();
  const auto rows = meta_number<std::int64_t>(model.metadata(), "rows", name);
  const auto seed = meta_number<std::uint32_t>(model.metadata(), "split_seed", name);
  const auto fraction = meta_number<double>(model.metadata(), "test_fraction", name);
  TG_CHECK(rows >= 2 && rows <= data.features.shape()[0],
           "{}: trained on {} rows, the data set has {}", name, rows, data.features.shape()[0]);
  const train::Split split = train::train_test_split(rows, fraction, seed);
  const auto started = std::chrono::steady_clock::now();
  const std::vector<double> predicted =
      model.predict(train::gather_rows(data.features, split.test));
  const double seconds = seconds_since(started);
  std::vector<double> target;
  for (std::int64_t r : split.test) target.push_back(data.target.data<double>()[r]);
  const train::RegressionMetrics m = train::regression_metrics(predicted, target);
  const double unit = io::kCaliforniaHousingTargetDollars;
  if (a.json) {
    const nlohmann::json j = {{"model", "mlp"},
                              {"weights", name},
                              {"split", "test"},
                              {"rows", m.count},
                              {"r2", round_to(m.r2, 6)},
                              {"rmse", round_to(m.rmse * unit, 2)},
                              {"mae", round_to(m.mae * unit, 2)},
                              {"unit", "dollars"},
                              {"seconds", round_to(seconds, 6)}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  fmt::print("MLP regressor {} on the test part of California housing ({} rows, split seed {}):\n",
             name, m.count, seed);
  fmt::print("  R^2 {:.4f}  RMSE {}  MAE {}  ({:.2f} ms)\n", m.r2, dollars(m.rmse * unit),
             dollars(m.mae * unit), seconds * 1e3);
  return 0;
}

int run_predict_cnn(const PredictArgs& a) {
  TG_CHECK(a.threads >= 0, "--threads must be >= 0, got {}", a.threads);
  TG_CHECK(a.limit >= 0, "--limit must be >= 0, got {}", a.limit);
  const std::filesystem::path weights =
      a.weights ? std::filesystem::path(*a.weights)
                : hub::project_dir() / "examples" / "05_cnn_mnist" / "weights" / "cnn.safetensors";
  CompileOptions options;
  options.threads = static_cast<int>(a.threads);
  nn::MnistCnn model = nn::MnistCnn::load(weights, options);
  io::Mnist test = io::load_mnist(resolve_data_dir(a.data), io::MnistSplit::Test);
  std::int64_t n = test.images.shape()[0];
  if (a.limit > 0) n = std::min(n, a.limit);
  const Tensor images = Tensor::view(DType::U8, {n, 28, 28}, test.images.raw(), nullptr);
  const auto started = std::chrono::steady_clock::now();
  const std::vector<int> predicted = model.classify(images);
  const double seconds = seconds_since(started);
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n; ++i)
    correct += predicted[static_cast<std::size_t>(i)] == test.labels.data<std::uint8_t>()[i];
  const double accuracy = n ? static_cast<double>(correct) / static_cast<double>(n) : 0;
  if (a.json) {
    const nlohmann::json j = {{"model", "cnn"},
                              {"weights", weights.string()},
                              {"split", "test"},
                              {"images", n},
                              {"correct", correct},
                              {"accuracy", round_to(accuracy, 6)},
                              {"seconds", round_to(seconds, 4)},
                              {"images_per_second", round_to(n / std::max(seconds, 1e-9), 1)}};
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  fmt::print("CNN {} on the MNIST test images:\n", weights.string());
  fmt::print("  accuracy {:.2f}% ({} of {} correct)  ({:.2f} s, {:.0f} images/s)\n", accuracy * 100,
             correct, n, seconds, n / std::max(seconds, 1e-9));
  return 0;
}

void common_options(Options& o, PredictArgs* a, const char* default_weights) {
  o.option("-w,--weights", &a->weights,
           fmt::format("Weight file (default: {}, the committed weights)", default_weights));
  o.option("--data", &a->data,
           "Data directory (default: $TG_DATA_DIR, else the project's datasets/)");
  o.option("--threads", &a->threads, "Threads (default: TG_NUM_THREADS, else all CPUs)");
  o.flag("--json", &a->json, "Print the metrics as JSON");
}

const Registrar kPredictMlp{
    {"predict mlp", "Test R^2 and RMSE of an MLP regressor (example 04) on California housing",
     [](Options& o) {
       auto a = std::make_shared<PredictArgs>();
       common_options(o, a.get(), "examples/04_mlp_regression/weights/mlp.safetensors");
       o.footer(
           "Evaluates on the test part of the split recorded in the weight file (80/20, seed 42\n"
           "for the committed weights), which training never looked at. JSON: r2, rmse and mae at\n"
           "the top level, in dollars.\n\n"
           "Examples:\n"
           "  tensorgraph predict mlp --data ../shared/data\n"
           "  tensorgraph predict mlp --weights examples/04_mlp_regression/weights/mlp.safetensors "
           "--data ../shared/data --json");
       return [a] { return run_predict_mlp(*a); };
     }}};

const Registrar kPredictCnn{
    {"predict cnn", "Test accuracy of the MNIST CNN (example 05) on the 10,000 test images",
     [](Options& o) {
       auto a = std::make_shared<PredictArgs>();
       common_options(o, a.get(), "examples/05_cnn_mnist/weights/cnn.safetensors");
       o.option("-n,--limit", &a->limit, "Only the first N test images (0: all)");
       o.footer(
           "JSON: accuracy (a fraction), correct, images at the top level.\n\n"
           "Examples:\n"
           "  tensorgraph predict cnn --data ../shared/data\n"
           "  tensorgraph predict cnn --weights examples/05_cnn_mnist/weights/cnn.safetensors "
           "--data ../shared/data --json");
       return [a] { return run_predict_cnn(*a); };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
