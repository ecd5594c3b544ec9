// Example 01, full version: y = relu(x * 2 + 1) on a random matrix whose size, seed, thread count
// and kernel set come from config.toml. Checks every value against a plain C++ loop, shows the
// compiled plan (the three ops become one fused node) and times the run.
//
//   build/examples/01_elementwise examples/01_elementwise/config.toml
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
  std::int64_t rows = 1000, cols = 257, seed = 42, threads = 0, repeats = 200;
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
  c.rows = t["rows"].value_or(c.rows);
  c.cols = t["cols"].value_or(c.cols);
  c.seed = t["seed"].value_or(c.seed);
  c.threads = t["threads"].value_or(c.threads);
  c.repeats = t["repeats"].value_or(c.repeats);
  c.kernels = t["kernels"].value_or(c.kernels);
  TG_CHECK(c.rows >= 1 && c.cols >= 1, "{}: rows and cols must be >= 1", path);
  TG_CHECK(c.threads >= 0 && c.repeats >= 0, "{}: threads and repeats must be >= 0", path);
  TG_CHECK(c.kernels == "cpu" || c.kernels == "reference",
           "{}: kernels must be \"cpu\" or \"reference\", got \"{}\"", path, c.kernels);
  return c;
}

int run(const std::string& config_path) {
  const Config cfg = load_config(config_path);

  Graph g;
  Value x = g.input("x", DType::F32, {-1, cfg.cols});
  g.output("y", ops::relu(x * 2.0f + 1.0f));

  CompileOptions options;
  options.kernels = cfg.kernels == "cpu" ? KernelSet::Cpu : KernelSet::Reference;
  options.threads = static_cast<int>(cfg.threads);
  Session session = compile(g, options);

  std::mt19937 rng(static_cast<std::uint32_t>(cfg.seed));
  std::uniform_real_distribution<float> uniform(-1.f, 1.f);
  Tensor input = Tensor::empty(DType::F32, {cfg.rows, cfg.cols});
  float* xs = input.mutable_data<float>();
  for (std::int64_t i = 0; i < input.numel(); ++i) xs[i] = uniform(rng);

  // The hot-path API: inputs and outputs in graph order, outputs allocated once.
  std::vector<Tensor> inputs{input};
  std::vector<Tensor> outputs = session.allocate_outputs(inputs);
  session.run(inputs, outputs);

  // The same computation as a plain loop.
  const float* ys = outputs[0].data<float>();
  double max_diff = 0;
  for (std::int64_t i = 0; i < input.numel(); ++i) {
    const float want = std::max(xs[i] * 2.0f + 1.0f, 0.0f);
    max_diff = std::max(max_diff, static_cast<double>(std::fabs(ys[i] - want)));
  }

  const auto start = std::chrono::steady_clock::now();
  for (std::int64_t r = 0; r < cfg.repeats; ++r) session.run(inputs, outputs);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf("%s", session.describe().c_str());
  std::printf("\ny = relu(x * 2 + 1), x: %lld x %lld, seed %lld, %s kernels, %d thread(s)\n",
              static_cast<long long>(cfg.rows), static_cast<long long>(cfg.cols),
              static_cast<long long>(cfg.seed), cfg.kernels.c_str(), session.threads());
  std::printf("first row: x = %.4f %.4f %.4f -> y = %.4f %.4f %.4f\n", xs[0], xs[1], xs[2], ys[0],
              ys[1], ys[2]);
  if (cfg.repeats > 0) {
    const double per_run = seconds / static_cast<double>(cfg.repeats);
    std::printf("time per run: %.1f us (%.2f GB/s read + written)\n", per_run * 1e6,
                2.0 * static_cast<double>(input.nbytes()) / per_run / 1e9);
  }
  if (max_diff != 0) {
    std::printf("MISMATCH: max |engine - plain loop| = %g\n", max_diff);
    return 1;
  }
  std::printf("verified: all %lld values equal the plain loop's\n",
              static_cast<long long>(input.numel()));
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
    std::fprintf(stderr, "01_elementwise: error: %s\n", e.what());
    return 1;
  }
}
