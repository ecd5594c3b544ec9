// Task "cnn_mnist": example 05's trained CNN on MNIST, by our engine (fast or reference kernels,
// in this process) and by peers (benchmarks/peers/cnn_torch.py serve):
//
// - inference cases (`batch = N`): logits of the first N test images, the inference graph built
//   from the committed weight file as `tensorgraph predict cnn` builds it (u8 images normalised
//   in the graph); checked against the reference (logits and labels) before timing;
// - training cases (`train = true`): one timed run is `steps` training steps (batch `batch`,
//   cross-entropy from logits, AdamW with the per-step cosine schedule of `tensorgraph train
//   cnn`) on consecutive batches of the first 55,000 training images, continuing from the
//   previous run; seconds per epoch are extrapolated from it (an epoch is 55,000 images). The
//   correctness check of a training case: from the committed weights with the classifier (fc2)
//   zeroed (the loss starts at ln 10) and a fresh optimiser, `check_steps` steps on batches of
//   `check_batch` images give the same losses in every implementation (within the case's
//   tolerance), i.e. the same forward, backward and update.
#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "inprocess.hpp"
#include "tensorgraph/io/mnist.hpp"
#include "tensorgraph/nn/cnn.hpp"
#include "tensorgraph/train/data.hpp"
#include "tensorgraph/train/gradient_session.hpp"
#include "tensorgraph/train/losses.hpp"
#include "tensorgraph/train/optimizer.hpp"
#include "tensorgraph/train/schedule.hpp"

namespace tensorgraph::bench {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// What `tensorgraph train cnn` trains on: 60,000 - 5,000 held out for validation.
constexpr std::int64_t kEpochImages = 55000;
// Its defaults: 8 epochs of ceil(55,000 / 64) steps, AdamW lr 1e-3, no weight decay.
constexpr int kEpochs = 8;

struct TrainSettings {
  std::int64_t batch = 64;
  std::int64_t steps = 200;  // per timed run
  std::int64_t check_steps = 3;
  std::int64_t check_batch = 8;
  double learning_rate = 1e-3;
  std::int64_t total_steps = 1;  // of the cosine schedule
};

struct CnnData {
  io::Mnist test;
  io::Mnist train;                                      // loaded only for training cases
  std::map<std::string, std::int64_t> batches;          // inference case -> images
  std::map<std::string, TrainSettings> training_cases;  // training case -> settings
};

Rows tensor_rows(const Tensor& t) {
  const std::int64_t rows = t.shape()[0], cols = t.numel() / std::max<std::int64_t>(rows, 1);
  const float* p = t.data<float>();
  Rows out(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i)
    out[static_cast<std::size_t>(i)].assign(p + i * cols, p + (i + 1) * cols);
  return out;
}

nn::ParameterLookup training_lookup(const train::ParameterValues& params) {
  return [&params](const std::string& name, const Shape& shape) {
    const Value v = params.at(name);
    TG_CHECK(v.shape() == shape, "parameter '{}' is {}, the model expects {}", name,
             v.shape().to_string(), shape.to_string());
    return v;
  };
}

class GraphCnn final : public InProcessImplementation {
 public:
  GraphCnn(const ImplementationConfig& config, int threads, fs::path weights,
           std::shared_ptr<const CnnData> data)
      : InProcessImplementation(config, threads),
        weights_(std::move(weights)),
        data_(std::move(data)) {
    const std::string kernels = config.options.get_string("kernels", "cpu");
    TG_CHECK(kernels == "cpu" || kernels == "reference",
             "[implementations.{}] options.kernels must be \"cpu\" or \"reference\", got \"{}\"",
             config.name, kernels);
    options_.kernels = kernels == "cpu" ? KernelSet::Cpu : KernelSet::Reference;
    options_.threads = threads;
    info_.settings["kernels"] = kernels;
    info_.settings["weights"] = weights_.string();
  }
  bool supports(const Case& c) const override { return c.input == "images" || c.input == "train"; }

  Rows outputs(const Case& c) override {
    if (c.input != "train") return InProcessImplementation::outputs(c);
    // The check: fresh parameters and optimiser, check_steps steps of check_batch images.
    const TrainSettings& t = data_->training_cases.at(c.name);
    TrainState state = fresh_state(t);
    // The classifier zeroed: the loss starts at ln 10 (the trained model's is ~1e-5), so that
    // the steps change something worth comparing.
    for (const char* name : {"fc2.weight", "fc2.bias"}) {
      Tensor& p = state.params[name];
      std::fill_n(p.mutable_data<float>(), p.numel(), 0.0f);
    }
    std::vector<double> losses;
    for (std::int64_t k = 0; k < t.check_steps; ++k)
      losses.push_back(step(state, t, t.check_batch));
    return {losses};
  }

  std::vector<double> time(const Case& c, int warmup, int iterations) override {
    if (c.input == "train") {
      auto& state = timed_[c.name];
      if (!state) {
        // Plans the session's memory for this batch shape: not part of the timed steps.
        const TrainSettings& t = data_->training_cases.at(c.name);
        state = std::make_unique<TrainState>(fresh_state(t));
        for (int i = 0; i < 2; ++i) step(*state, t, t.batch);
      }
    }
    return InProcessImplementation::time(c, warmup, iterations);
  }

 private:
  struct TrainState {
    train::Parameters params;
    std::unique_ptr<train::Adam> optimizer;
    std::int64_t step = 0;
  };
  struct Buffers {
    std::vector<Tensor> inputs, outputs;
  };

  void load() override {
    model_ = std::make_unique<nn::MnistCnn>(nn::MnistCnn::load(weights_, options_));
    spec_ = model_->spec();
    const nn::CnnSpec spec = spec_;
    const std::int64_t side = spec.image;
    for (const auto& [name, n] : data_->batches) {
      Buffers b;
      b.inputs = {Tensor::view(DType::U8, {n, side, side}, data_->test.images.raw(), nullptr)};
      b.outputs = model_->session().allocate_outputs(b.inputs);
      buffers_[name] = std::move(b);
    }
    if (data_->training_cases.empty()) return;
    const nn::WeightFile file = nn::WeightFile::open(weights_);
    for (const nn::ParameterSpec& p : nn::cnn_parameters(spec))
      initial_.add(p.name, file.tensor(p.name, p.shape));
    session_ = std::make_unique<train::GradientSession>(
        std::vector<train::DataInput>{{"images", DType::U8, {-1, side, side}},
                                      {"target", DType::F32, {-1, spec.classes}}},
        initial_,
        [spec](Graph&, std::span<const Value> d, const train::ParameterValues& p) {
          const Value logits = nn::mnist_cnn(d[0], spec, training_lookup(p));
          return train::ModelOutputs{train::cross_entropy_with_logits(logits, d[1]), {}};
        },
        options_);
  }

  TrainState fresh_state(const TrainSettings& t) const {
    TrainState s;
    s.params = initial_.clone();
    train::AdamOptions adam;
    adam.learning_rate = t.learning_rate;
    adam.decoupled_weight_decay = true;  // AdamW, weight decay 0 (train cnn's default)
    s.optimizer = std::make_unique<train::Adam>(adam);
    return s;
  }

  // One training step on the next `batch` images; returns the loss.
  double step(TrainState& s, const TrainSettings& t, std::int64_t batch) {
    auto& b = batch_buffers_[batch];
    if (b.empty()) {
      b.push_back(Tensor::empty(DType::U8, {batch, spec_.image, spec_.image}));
      b.push_back(Tensor::empty(DType::F32, {batch, spec_.classes}));
    }
    rows_.resize(static_cast<std::size_t>(batch));
    for (std::int64_t i = 0; i < batch; ++i)
      rows_[static_cast<std::size_t>(i)] = (s.step * batch + i) % kEpochImages;
    train::gather_rows_into(data_->train.images, rows_, b[0]);
    train::one_hot_into(data_->train.labels, rows_, spec_.classes, b[1]);
    const train::CosineSchedule schedule{t.learning_rate, t.total_steps};
    s.optimizer->set_learning_rate(schedule.at(s.step));
    const double loss = session_->run(b, s.params);
    s.optimizer->step(s.params, session_->gradients());
    ++s.step;
    return loss;
  }

  void run(const Case& c) override {
    if (c.input == "train") {
      const TrainSettings& t = data_->training_cases.at(c.name);
      TrainState& s = *timed_.at(c.name);
      for (std::int64_t k = 0; k < t.steps; ++k) last_loss_ = step(s, t, t.batch);
      return;
    }
    auto& b = buffers_.at(c.name);
    model_->session().run(b.inputs, b.outputs);
  }
  Rows result(const Case& c) override {
    if (c.input == "train") return {{last_loss_}};
    return tensor_rows(buffers_.at(c.name).outputs[0]);
  }

  fs::path weights_;
  std::shared_ptr<const CnnData> data_;
  CompileOptions options_;
  std::unique_ptr<nn::MnistCnn> model_;
  nn::CnnSpec spec_;
  std::map<std::string, Buffers> buffers_;
  train::Parameters initial_;
  std::unique_ptr<train::GradientSession> session_;
  std::map<std::string, std::unique_ptr<TrainState>> timed_;
  std::map<std::int64_t, std::vector<Tensor>> batch_buffers_;
  std::vector<std::int64_t> rows_;
  double last_loss_ = 0;
};

}  // namespace

TaskSetup setup_cnn_mnist(const TaskContext& context) {
  const BenchConfig& config = context.config;
  Placeholders vars = context.placeholders;
  const fs::path weights = config.resolve(expand(
      config.model.get_string("path", "{root}/examples/05_cnn_mnist/weights/cnn.safetensors"), vars,
      "[model] path"));
  const fs::path data_dir = config.resolve(
      expand(config.model.get_string("data", "{shared}/data"), vars, "[model] data"));
  vars["weights"] = weights.string();
  vars["data"] = data_dir.string();

  auto data = std::make_shared<CnnData>();
  data->test = io::load_mnist(data_dir, io::MnistSplit::Test);
  const std::int64_t test_images = data->test.images.shape()[0];

  TaskSetup setup;
  for (const CaseConfig& cc : config.cases) {
    const bool training = cc.params.get_bool("train", false);
    for (const char* key : {"steps", "quick_steps", "check_steps", "check_batch", "learning_rate"})
      TG_CHECK(training || !cc.params.has(key), "{}: '{}' is for training cases (train = true)",
               cc.params.where(), key);
    if (!context.selected(cc)) continue;
    const std::int64_t batch = cc.params.require_int("batch");
    Case c;
    c.name = cc.name;
    c.label = cc.label;
    c.max_iterations = cc.iterations;
    c.max_repeat = cc.repeat;
    if (!training) {
      TG_CHECK(batch <= test_images, "{}: batch {} is more than the {} test images",
               cc.params.where(), batch, test_images);
      c.input = "images";
      c.request = {{"images", {{"split", "test"}, {"start", 0}, {"count", batch}}}};
      c.tolerance = config.tolerance;
      c.compare_labels = true;
      c.throughput = {static_cast<double>(batch), 1, "images/s"};
      c.info = {{"batch", batch}};
      data->batches[cc.name] = batch;
    } else {
      TrainSettings t;
      t.batch = batch;
      t.steps = cc.params.get_int("steps", 200);
      if (context.quick) t.steps = std::min(t.steps, cc.params.get_int("quick_steps", 5));
      t.check_steps = cc.params.get_int("check_steps", 3);
      t.check_batch = cc.params.get_int("check_batch", 8);
      t.learning_rate = cc.params.get_number("learning_rate", 1e-3);
      t.total_steps = kEpochs * ((kEpochImages + batch - 1) / batch);
      c.input = "train";
      c.label = fmt::format("{} ({} steps)", cc.label, t.steps);
      c.request = {{"train",
                    {{"batch", t.batch},
                     {"steps", t.steps},
                     {"images", kEpochImages},
                     {"learning_rate", t.learning_rate},
                     {"weight_decay", 0.0},
                     {"total_steps", t.total_steps},
                     {"check_steps", t.check_steps},
                     {"check_batch", t.check_batch}}}};
      c.tolerance = cc.params.get_number("tolerance", 1e-3);
      c.max_warmup = 0;  // a run is `steps` steps; implementations plan their memory untimed
      c.max_block_warmup = 0;
      c.throughput = {static_cast<double>(t.steps * t.batch), 1, "images/s"};
      c.info = {{"kind", "training"},
                {"batch", t.batch},
                {"steps", t.steps},
                {"epoch_images", kEpochImages},
                {"check_steps", t.check_steps},
                {"check_batch", t.check_batch},
                {"learning_rate", t.learning_rate}};
      c.row_names = {"losses of the check steps"};
      data->training_cases[cc.name] = t;
    }
    setup.cases.push_back(std::move(c));
  }
  if (!data->training_cases.empty()) {
    data->train = io::load_mnist(data_dir, io::MnistSplit::Train);
    TG_CHECK(data->train.images.shape()[0] >= kEpochImages, "{}: fewer than {} training images",
             data_dir.string(), kEpochImages);
  }
  setup.inputs = {{"weights", weights.string()},
                  {"data", data_dir.string()},
                  {"images",
                   "inference: the first N MNIST test images (u8); training: "
                   "consecutive batches of the first 55,000 training images"}};

  auto factory = std::make_shared<PeerFactory>(context);
  std::vector<ImplementationConfig> impls;
  for (const auto& i : config.implementations)
    if (i.enabled) impls.push_back(i);
  TG_CHECK(!impls.empty(), "{}: every implementation is disabled", config.path.string());
  std::shared_ptr<const CnnData> shared = data;
  setup.make_implementations = [factory, impls, vars, weights, shared](int threads) {
    Implementations out;
    for (const auto& i : impls) {
      if (i.type == "tensorgraph")
        out.push_back(std::make_unique<GraphCnn>(i, threads, weights, shared));
      else
        out.push_back(factory->make(i, vars, threads));
    }
    return out;
  };
  return setup;
}

}  // namespace tensorgraph::bench
