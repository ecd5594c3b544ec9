// Task "mlp_regression": forward passes of example 04's trained MLP (the inference graph built
// from the committed weight file, as `tensorgraph predict mlp` builds it: scaler in the graph,
// weights as prepacked constants) on rows of the test part of California housing, by our engine
// (fast or reference kernels, in this process) and by peers (benchmarks/peers/mlp_torch.py).
// Every implementation's predictions are checked against the reference before any timing.
#include <filesystem>

#include <fmt/format.h>

#include "inprocess.hpp"
#include "tensorgraph/io/california_housing.hpp"
#include "tensorgraph/nn/mlp.hpp"
#include "tensorgraph/train/data.hpp"

namespace tensorgraph::bench {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The rows of each case: raw features f32 [batch, 8].
using FeatureMap = std::map<std::string, Tensor>;

double meta_number(const nn::WeightFile& file, const std::string& key) {
  const std::string& text = file.meta(key);
  try {
    std::size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) return v;
  } catch (const std::exception&) {
  }
  fail("{}: metadata '{}' is not a number: '{}'", file.path(), key, text);
}

Rows column_rows(const Tensor& t) {
  const std::int64_t rows = t.shape()[0], cols = t.numel() / std::max<std::int64_t>(rows, 1);
  const float* p = t.data<float>();
  Rows out(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i)
    out[static_cast<std::size_t>(i)].assign(p + i * cols, p + (i + 1) * cols);
  return out;
}

class GraphMlp final : public InProcessImplementation {
 public:
  GraphMlp(const ImplementationConfig& config, int threads, fs::path weights,
           std::shared_ptr<const FeatureMap> features)
      : InProcessImplementation(config, threads),
        weights_(std::move(weights)),
        features_(std::move(features)) {
    const std::string kernels = config.options.get_string("kernels", "cpu");
    TG_CHECK(kernels == "cpu" || kernels == "reference",
             "[implementations.{}] options.kernels must be \"cpu\" or \"reference\", got \"{}\"",
             config.name, kernels);
    options_.kernels = kernels == "cpu" ? KernelSet::Cpu : KernelSet::Reference;
    options_.threads = threads;
    info_.settings["kernels"] = kernels;
    info_.settings["weights"] = weights_.string();
  }
  bool supports(const Case& c) const override { return c.input == "features"; }

 private:
  struct Buffers {
    std::vector<Tensor> inputs, outputs;
  };
  void load() override {
    model_ = std::make_unique<nn::MlpRegressor>(nn::MlpRegressor::load(weights_, options_));
    for (const auto& [name, x] : *features_) {
      Buffers b;
      b.inputs = {x};
      b.outputs = model_->session().allocate_outputs(b.inputs);
      buffers_[name] = std::move(b);
    }
  }
  void run(const Case& c) override {
    auto& b = buffers_.at(c.name);
    model_->session().run(b.inputs, b.outputs);
  }
  Rows result(const Case& c) override { return column_rows(buffers_.at(c.name).outputs[0]); }

  fs::path weights_;
  std::shared_ptr<const FeatureMap> features_;
  CompileOptions options_;
  std::unique_ptr<nn::MlpRegressor> model_;
  std::map<std::string, Buffers> buffers_;
};

}  // namespace

TaskSetup setup_mlp_regression(const TaskContext& context) {
  const BenchConfig& config = context.config;
  Placeholders vars = context.placeholders;
  const fs::path weights =
      config.resolve(expand(config.model.get_string("path",
                                                    "{root}/examples/04_mlp_regression/weights/"
                                                    "mlp.safetensors"),
                            vars, "[model] path"));
  const fs::path data_dir = config.resolve(
      expand(config.model.get_string("data", "{shared}/data"), vars, "[model] data"));
  vars["weights"] = weights.string();
  vars["data"] = data_dir.string();

  // The test part of the split the model was trained with (its weight file says which).
  const nn::WeightFile file = nn::WeightFile::open(weights);
  TG_CHECK(file.meta("model") == "mlp-regressor", "{}: holds a '{}' model, not an MLP regressor",
           file.path(), file.meta("model"));
  const auto rows = static_cast<std::int64_t>(meta_number(file, "rows"));
  const auto seed = static_cast<std::uint32_t>(meta_number(file, "split_seed"));
  const double fraction = meta_number(file, "test_fraction");
  const io::CaliforniaHousing data = io::load_california_housing(data_dir);
  TG_CHECK(rows >= 2 && rows <= data.features.shape()[0],
           "{}: trained on {} rows, the data set has {}", file.path(), rows,
           data.features.shape()[0]);
  const train::Split split = train::train_test_split(rows, fraction, seed);
  const std::int64_t features = data.features.shape()[1];

  TaskSetup setup;
  auto map = std::make_shared<FeatureMap>();
  for (const CaseConfig& cc : config.cases) {
    if (!context.selected(cc)) continue;
    const std::int64_t batch = cc.params.require_int("batch");
    TG_CHECK(batch <= static_cast<std::int64_t>(split.test.size()),
             "{}: batch {} is more than the {} rows of the test part", cc.params.where(), batch,
             split.test.size());
    // The first `batch` rows of the test part, as f32 (what every implementation computes on).
    const std::span<const std::int64_t> picked(split.test.data(), static_cast<std::size_t>(batch));
    const Tensor x = train::gather_rows(data.features, picked).to(DType::F32);
    json rows_json = json::array();
    const float* p = x.data<float>();
    for (std::int64_t i = 0; i < batch; ++i)
      rows_json.push_back(std::vector<double>(p + i * features, p + (i + 1) * features));
    Case c;
    c.name = cc.name;
    c.label = cc.label;
    c.input = "features";
    c.request = {{"features", rows_json}};
    c.max_iterations = cc.iterations;
    c.max_repeat = cc.repeat;
    c.tolerance = config.tolerance;
    c.throughput = {static_cast<double>(batch), 1, "rows/s"};
    c.info = {{"batch", batch}};
    setup.cases.push_back(std::move(c));
    (*map)[cc.name] = x;
  }
  setup.inputs = {{"weights", weights.string()},
                  {"data", data_dir.string()},
                  {"rows", fmt::format("the first rows of the test part (split seed {}, {} of {} "
                                       "rows), raw features as f32",
                                       seed, split.test.size(), rows)}};

  auto factory = std::make_shared<PeerFactory>(context);
  std::vector<ImplementationConfig> impls;
  for (const auto& i : config.implementations)
    if (i.enabled) impls.push_back(i);
  TG_CHECK(!impls.empty(), "{}: every implementation is disabled", config.path.string());
  std::shared_ptr<const FeatureMap> shared = map;
  setup.make_implementations = [factory, impls, vars, weights, shared](int threads) {
    Implementations out;
    for (const auto& i : impls) {
      if (i.type == "tensorgraph")
        out.push_back(std::make_unique<GraphMlp>(i, threads, weights, shared));
      else
        out.push_back(factory->make(i, vars, threads));
    }
    return out;
  };
  return setup;
}

}  // namespace tensorgraph::bench
