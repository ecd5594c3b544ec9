// Example 02, full version: a linear layer with ReLU, y = relu(x W^T + b), sizes, seed, threads and
// kernel set from config.toml. W is stored [out, in] as PyTorch and HuggingFace store it. Checks
// every value against a plain loop (accumulating in double), shows the plan (one oneDNN matmul
// with bias and ReLU fused, weights prepacked at compile time) and measures GFLOP/s.
//
//   build/examples/02_linear_layer examples/02_linear_layer/config.toml
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include <toml++/toml.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/runtime/session.hpp"

using namespace tensorgraph;

namespace {

struct Config {
  std::int64_t batch = 16, in_features = 768, out_features = 3072, seed = 7, threads = 0,
               repeats = 100;
  std::string kernels = "cpu";
};

Config load_config(const std::string& path) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    fail("{}: {} (line {})", path, e.description(), e.source().begin.line);
  }
  Config c;
  c.batch = t["batch"].value_or(c.batch);
  c.in_features = t["in_features"].value_or(c.in_features);
  c.out_features = t["out_features"].value_or(c.out_features);
  c.seed = t["seed"].value_or(c.seed);
  c.threads = t["threads"].value_or(c.threads);
  c.repeats = t["repeats"].value_or(c.repeats);
  c.kernels = t["kernels"].value_or(c.kernels);
  TG_CHECK(c.batch >= 1 && c.in_features >= 1 && c.out_features >= 1,
           "{}: batch, in_features and out_features must be >= 1", path);
  TG_CHECK(c.threads >= 0 && c.repeats >= 0, "{}: threads and repeats must be >= 0", path);
  TG_CHECK(c.kernels == "cpu" || c.kernels == "reference",
           "{}: kernels must be \"cpu\" or \"reference\", got \"{}\"", path, c.kernels);
  return c;
}

Tensor random_tensor(const Shape& shape, std::mt19937& rng, float scale) {
  std::uniform_real_distribution<float> uniform(-scale, scale);
  Tensor t = Tensor::empty(DType::F32, shape);
  float* p = t.mutable_data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = uniform(rng);
  return t;
}

int run(const std::string& config_path) {
  const Config cfg = load_config(config_path);
  std::mt19937 rng(static_cast<std::uint32_t>(cfg.seed));
  // PyTorch's default initialisation range for a linear layer: U(-1/sqrt(in), 1/sqrt(in)).
  const float bound = 1.0f / std::sqrt(static_cast<float>(cfg.in_features));
  const Tensor weight = random_tensor({cfg.out_features, cfg.in_features}, rng, bound);
  const Tensor bias = random_tensor({cfg.out_features}, rng, bound);
  const Tensor input = random_tensor({cfg.batch, cfg.in_features}, rng, 1.0f);

  Graph g;
  Value x = g.input("x", DType::F32, {-1, cfg.in_features});
  g.output("y", ops::relu(ops::linear(x, g.constant(weight, "weight"), g.constant(bias, "bias"))));

  CompileOptions options;
  options.kernels = cfg.kernels == "cpu" ? KernelSet::Cpu : KernelSet::Reference;
  options.threads = static_cast<int>(cfg.threads);
  Session session = compile(g, options);

  std::vector<Tensor> inputs{input};
  std::vector<Tensor> outputs = session.allocate_outputs(inputs);
  session.run(inputs, outputs);

  // The plain loop, in double.
  const float* xs = input.data<float>();
  const float* ws = weight.data<float>();
  const float* bs = bias.data<float>();
  const float* ys = outputs[0].data<float>();
  double max_rel = 0;
  const std::int64_t k = cfg.in_features, n = cfg.out_features;
  for (std::int64_t i = 0; i < cfg.batch; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = bs[j];
      double magnitude = std::fabs(bs[j]);
      for (std::int64_t p = 0; p < k; ++p) {
        acc += static_cast<double>(xs[i * k + p]) * ws[j * k + p];
        magnitude += std::fabs(static_cast<double>(xs[i * k + p]) * ws[j * k + p]);
      }
      const double want = std::max(acc, 0.0);
      // Relative to the sum of magnitudes: the float rounding error scales with it.
      max_rel = std::max(max_rel, std::fabs(ys[i * n + j] - want) / std::max(magnitude, 1e-30));
    }

  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t r = 0; r < cfg.repeats; ++r) session.run(inputs, outputs);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf("%s", session.describe().c_str());
  std::printf(
      "\ny = relu(x W^T + b): x %lldx%lld, W %lldx%lld, seed %lld, %s kernels, %d thread(s)\n",
      static_cast<long long>(cfg.batch), static_cast<long long>(k), static_cast<long long>(n),
      static_cast<long long>(k), static_cast<long long>(cfg.seed), cfg.kernels.c_str(),
      session.threads());
  std::printf("y[0][0..3] = %.5f %.5f %.5f %.5f\n", ys[0], ys[std::min<std::int64_t>(1, n - 1)],
              ys[std::min<std::int64_t>(2, n - 1)], ys[std::min<std::int64_t>(3, n - 1)]);
  if (cfg.repeats > 0) {
    const double per_run = seconds / static_cast<double>(cfg.repeats);
    std::printf("time per run: %.1f us (%.1f GFLOP/s)\n", per_run * 1e6,
                2.0 * static_cast<double>(cfg.batch * k * n) / per_run / 1e9);
  }
  constexpr double kTolerance = 1e-5;  // relative to the sum of |products|: float accumulation
  if (!(max_rel <= kTolerance)) {
    std::printf("MISMATCH: max relative difference to the plain loop %.3g > %.0e\n", max_rel,
                kTolerance);
    return 1;
  }
  std::printf(
      "verified: all %lld values match the plain loop (max relative difference %.2g <= %.0e)\n",
      static_cast<long long>(cfg.batch * n), max_rel, kTolerance);
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
    std::fprintf(stderr, "02_linear_layer: error: %s\n", e.what());
    return 1;
  }
}
