// Example 04, full version: the MLP regressor trained by `tensorgraph train mlp` on California
// housing (weights and training log committed in weights/), evaluated on the test part of the
// fixed 80/20 split (seed 42). Settings from config.toml. It
//   - loads the weight file: the parameters, the scaler and metadata (how it was trained);
//   - builds the inference graph (standardise, 8->128->64->1 with ReLU) and shows its plan;
//   - checks every prediction against a plain loop over the same weights in double;
//   - reports test R^2 / RMSE / MAE in dollars and a few houses, and requires R^2 >= min_r2.
//
//   build/examples/04_mlp_regression examples/04_mlp_regression/config.toml
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include <toml++/toml.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/paths.hpp"
#include "tensorgraph/io/california_housing.hpp"
#include "tensorgraph/nn/mlp.hpp"
#include "tensorgraph/train/data.hpp"
#include "tensorgraph/train/metrics.hpp"

using namespace tensorgraph;

namespace {

struct Config {
  std::filesystem::path weights;
  std::string data_dir;
  std::int64_t threads = 0, show = 5;
  std::string kernels = "cpu";
  double min_r2 = 0.80;
};

Config load_config(const std::filesystem::path& path) {
  toml::table t;
  try {
    t = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    fail("{}: {} (line {})", path.string(), e.description(), e.source().begin.line);
  }
  Config c;
  c.weights = path.parent_path() / t["weights"].value_or(std::string("weights/mlp.safetensors"));
  c.data_dir = t["data_dir"].value_or(c.data_dir);
  c.threads = t["threads"].value_or(c.threads);
  c.show = t["show"].value_or(c.show);
  c.kernels = t["kernels"].value_or(c.kernels);
  c.min_r2 = t["min_r2"].value_or(c.min_r2);
  TG_CHECK(c.threads >= 0 && c.show >= 0, "{}: threads and show must be >= 0", path.string());
  TG_CHECK(c.kernels == "cpu" || c.kernels == "reference",
           "{}: kernels must be \"cpu\" or \"reference\", got \"{}\"", path.string(), c.kernels);
  return c;
}

// The same network as a plain loop in double, from the weight file's tensors.
double plain_forward(const nn::WeightFile& w, const nn::MlpSpec& spec, const double* x) {
  const std::int64_t in = spec.layers.front();
  const Tensor mean = w.tensor("scaler.mean", {in}), scale = w.tensor("scaler.scale", {in});
  std::vector<double> h(x, x + in);
  for (std::int64_t j = 0; j < in; ++j)
    h[j] = (h[j] - mean.data<float>()[j]) / scale.data<float>()[j];
  for (std::size_t l = 0; l + 1 < spec.layers.size(); ++l) {
    const std::int64_t n_in = spec.layers[l], n_out = spec.layers[l + 1];
    const std::string name = "fc" + std::to_string(l + 1);
    const Tensor wt = w.tensor(name + ".weight", {n_out, n_in}),
                 b = w.tensor(name + ".bias", {n_out});
    std::vector<double> next(static_cast<std::size_t>(n_out));
    for (std::int64_t o = 0; o < n_out; ++o) {
      double acc = b.data<float>()[o];
      for (std::int64_t i = 0; i < n_in; ++i) acc += wt.data<float>()[o * n_in + i] * h[i];
      next[o] = (l + 2 < spec.layers.size()) ? std::max(acc, 0.0) : acc;
    }
    h = std::move(next);
  }
  return h[0];
}

int run(const std::filesystem::path& config_path) {
  const Config cfg = load_config(config_path);
  const auto data_dir = hub::data_dir(
      cfg.data_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(cfg.data_dir));
  CompileOptions options;
  options.kernels = cfg.kernels == "cpu" ? KernelSet::Cpu : KernelSet::Reference;
  options.threads = static_cast<int>(cfg.threads);
  nn::MlpRegressor model = nn::MlpRegressor::load(cfg.weights, options);
  const auto& meta = model.metadata();
  auto meta_or = [&](const char* key) {
    auto it = meta.find(key);
    return it == meta.end() ? std::string("?") : it->second;
  };
  std::printf("weights: %s\n", cfg.weights.string().c_str());
  std::printf("  trained by: %s\n  on %s, seed %s, %s of %s epochs (best %s), %s s\n",
              meta_or("command").c_str(), meta_or("date").c_str(), meta_or("seed").c_str(),
              meta_or("epochs_run").c_str(), meta_or("epochs").c_str(),
              meta_or("best_epoch").c_str(), meta_or("train_seconds").c_str());

  const io::CaliforniaHousing data = io::load_california_housing(data_dir);
  const auto rows = static_cast<std::int64_t>(std::stoll(meta_or("rows")));
  const train::Split split =
      train::train_test_split(rows, std::stod(meta_or("test_fraction")),
                              static_cast<std::uint32_t>(std::stoul(meta_or("split_seed"))));
  const Tensor x = train::gather_rows(data.features, split.test);
  const auto start = std::chrono::steady_clock::now();
  const std::vector<double> predicted = model.predict(x);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\n%s\n", model.session().describe().c_str());

  std::vector<double> actual;
  for (std::int64_t r : split.test) actual.push_back(data.target.data<double>()[r]);
  const nn::WeightFile file = nn::WeightFile::open(cfg.weights);
  double max_diff = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i)
    max_diff = std::max(
        max_diff,
        std::fabs(predicted[i] - plain_forward(file, model.spec(), x.data<double>() + i * 8)));
  std::printf("%-10s %-10s  (MedInc, HouseAge, AveRooms, Latitude, Longitude)\n", "predicted",
              "actual");
  for (std::int64_t i = 0;
       i < std::min<std::int64_t>(cfg.show, static_cast<std::int64_t>(predicted.size())); ++i) {
    const double* f = x.data<double>() + i * 8;
    std::printf("$%-9.0f $%-9.0f  (%.2f, %.0f, %.2f, %.2f, %.2f)\n", predicted[i] * 1e5,
                actual[i] * 1e5, f[0], f[1], f[2], f[6], f[7]);
  }
  const train::RegressionMetrics m = train::regression_metrics(predicted, actual);
  std::printf(
      "\ntest: %lld houses, R^2 %.4f, RMSE $%.0f, MAE $%.0f (%.2f ms, %s kernels, %d thread(s))\n",
      static_cast<long long>(m.count), m.r2, m.rmse * 1e5, m.mae * 1e5, seconds * 1e3,
      cfg.kernels.c_str(), model.session().threads());
  constexpr double kTolerance = 1e-4;  // in units of $100,000: $10
  if (!(max_diff <= kTolerance) || !(m.r2 >= cfg.min_r2)) {
    std::printf("FAILED: max difference to the plain loop %.3g (<= %.0e?), R^2 %.4f (>= %.2f?)\n",
                max_diff, kTolerance, m.r2, cfg.min_r2);
    return 1;
  }
  std::printf(
      "verified: predictions match a plain loop (max difference $%.4f) and test R^2 %.4f >= %.2f\n",
      max_diff * 1e5, m.r2, cfg.min_r2);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string config = argc > 1 ? argv[1] : std::string(TG_EXAMPLE_DIR) + "/config.toml";
  if (argc > 2 ||
      (argc == 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help"))) {
    std::printf("usage: %s [config.toml]\n", argv[0]);
    return argc > 2 ? 2 : 0;
  }
  try {
    return run(config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "04_mlp_regression: error: %s\n", e.what());
    return 1;
  }
}
