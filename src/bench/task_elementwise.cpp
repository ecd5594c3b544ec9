// Task "elementwise": element-wise and row kernels (example 01's relu(x * 2 + 1), gelu, adds,
// softmax, layer norm) on [rows, cols] f32 inputs: the engine's fast kernels, its reference
// kernels, and a plain C++ loop (one thread; what one writes by hand).
#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "inprocess.hpp"
#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/runtime/session.hpp"

namespace tensorgraph::bench {

namespace {

struct ElementwiseData {
  std::string op;
  std::int64_t rows = 0, cols = 0;
  Tensor x, y, weight, bias;  // y for add, weight/bias [cols] for add_bias and layer_norm
};
using DataMap = std::map<std::string, std::shared_ptr<const ElementwiseData>>;

const std::vector<std::string> kOps = {"relu_affine", "gelu",    "add",
                                       "add_bias",    "softmax", "layer_norm"};
constexpr float kEpsilon = 1e-5f;

Tensor uniform(std::mt19937_64& rng, const Shape& shape, float lo, float hi) {
  Tensor t = Tensor::empty(DType::F32, shape);
  std::uniform_real_distribution<float> d(lo, hi);
  float* p = t.mutable_data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = d(rng);
  return t;
}

Rows to_rows(const Tensor& t) {
  const std::int64_t rows = t.shape()[0], cols = t.shape()[1];
  const float* p = t.data<float>();
  Rows out(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i)
    out[static_cast<std::size_t>(i)].assign(p + i * cols, p + (i + 1) * cols);
  return out;
}

class GraphImplementation final : public InProcessImplementation {
 public:
  GraphImplementation(const ImplementationConfig& config, int threads,
                      std::shared_ptr<const DataMap> data)
      : InProcessImplementation(config, threads), data_(std::move(data)) {
    const std::string kernels = config.options.get_string("kernels", "cpu");
    TG_CHECK(kernels == "cpu" || kernels == "reference",
             "[implementations.{}] options.kernels must be \"cpu\" or \"reference\", got \"{}\"",
             config.name, kernels);
    options_.kernels = kernels == "cpu" ? KernelSet::Cpu : KernelSet::Reference;
    options_.threads = threads;
    info_.settings["kernels"] = kernels;
  }

 private:
  struct Compiled {
    std::unique_ptr<Session> session;
    std::vector<Tensor> inputs, outputs;
  };

  void load() override {
    for (const auto& [name, d] : *data_) {
      Graph g;
      Value x = g.input("x", DType::F32, {-1, d->cols});
      Compiled c;
      c.inputs.push_back(d->x);
      Value out;
      if (d->op == "relu_affine") {
        out = ops::relu(x * 2.0f + 1.0f);
      } else if (d->op == "gelu") {
        out = ops::gelu(x);
      } else if (d->op == "add") {
        Value y = g.input("y", DType::F32, {-1, d->cols});
        c.inputs.push_back(d->y);
        out = x + y;
      } else if (d->op == "add_bias") {
        out = x + g.constant(d->bias, "bias");
      } else if (d->op == "softmax") {
        out = ops::softmax(x, -1);
      } else {
        out = ops::layer_norm(x, g.constant(d->weight, "weight"), g.constant(d->bias, "bias"),
                              kEpsilon);
      }
      g.output("out", out);
      c.session = std::make_unique<Session>(compile(g, options_));
      c.outputs = c.session->allocate_outputs(c.inputs);
      compiled_[name] = std::move(c);
    }
  }
  void run(const Case& c) override {
    auto& x = compiled_.at(c.name);
    x.session->run(x.inputs, x.outputs);
  }
  Rows result(const Case& c) override { return to_rows(compiled_.at(c.name).outputs[0]); }

  std::shared_ptr<const DataMap> data_;
  CompileOptions options_;
  std::map<std::string, Compiled> compiled_;
};

// What one writes by hand: a loop per op, one thread, libm for erf and exp.
class LoopImplementation final : public InProcessImplementation {
 public:
  LoopImplementation(const ImplementationConfig& config, int threads,
                     std::shared_ptr<const DataMap> data)
      : InProcessImplementation(config, 1), data_(std::move(data)) {
    (void)threads;
    info_.settings["note"] = "plain loop, one thread, -O3 -march=native";
  }

 private:
  void load() override {
    for (const auto& [name, d] : *data_) out_[name] = Tensor::empty(DType::F32, {d->rows, d->cols});
  }
  void run(const Case& c) override {
    const ElementwiseData& d = *data_->at(c.name);
    const float* x = d.x.data<float>();
    float* y = out_.at(c.name).mutable_data<float>();
    const std::int64_t n = d.rows * d.cols, cols = d.cols;
    if (d.op == "relu_affine") {
      for (std::int64_t i = 0; i < n; ++i) y[i] = std::max(x[i] * 2.0f + 1.0f, 0.0f);
    } else if (d.op == "gelu") {
      for (std::int64_t i = 0; i < n; ++i)
        y[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.70710678f));
    } else if (d.op == "add") {
      const float* b = d.y.data<float>();
      for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] + b[i];
    } else if (d.op == "add_bias") {
      const float* b = d.bias.data<float>();
      for (std::int64_t r = 0; r < d.rows; ++r)
        for (std::int64_t j = 0; j < cols; ++j) y[r * cols + j] = x[r * cols + j] + b[j];
    } else if (d.op == "softmax") {
      for (std::int64_t r = 0; r < d.rows; ++r) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        const float m = *std::max_element(xr, xr + cols);
        float sum = 0;
        for (std::int64_t j = 0; j < cols; ++j) sum += yr[j] = std::exp(xr[j] - m);
        for (std::int64_t j = 0; j < cols; ++j) yr[j] /= sum;
      }
    } else {
      const float* w = d.weight.data<float>();
      const float* b = d.bias.data<float>();
      for (std::int64_t r = 0; r < d.rows; ++r) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        float mean = 0, var = 0;
        for (std::int64_t j = 0; j < cols; ++j) mean += xr[j];
        mean /= static_cast<float>(cols);
        for (std::int64_t j = 0; j < cols; ++j) var += (xr[j] - mean) * (xr[j] - mean);
        const float inv = 1.0f / std::sqrt(var / static_cast<float>(cols) + kEpsilon);
        for (std::int64_t j = 0; j < cols; ++j) yr[j] = (xr[j] - mean) * inv * w[j] + b[j];
      }
    }
  }
  Rows result(const Case& c) override { return to_rows(out_.at(c.name)); }

  std::shared_ptr<const DataMap> data_;
  std::map<std::string, Tensor> out_;
};

}  // namespace

TaskSetup setup_elementwise(const TaskContext& context) {
  const BenchConfig& config = context.config;
  TaskSetup setup;
  auto data = std::make_shared<DataMap>();
  for (const CaseConfig& cc : config.cases) {
    const std::string op = cc.params.require_string("op");
    if (std::find(kOps.begin(), kOps.end(), op) == kOps.end())
      fail("{}: unknown op '{}' (ops: relu_affine, gelu, add, add_bias, softmax, layer_norm)",
           cc.params.where(), op);
    if (!context.selected(cc)) continue;
    auto d = std::make_shared<ElementwiseData>();
    d->op = op;
    d->rows = cc.params.require_int("rows");
    d->cols = cc.params.require_int("cols");
    std::mt19937_64 rng(case_seed(cc));
    d->x = uniform(rng, {d->rows, d->cols}, -2.f, 2.f);
    double bytes = 2.0 * static_cast<double>(d->rows * d->cols) * 4;
    if (op == "add") {
      d->y = uniform(rng, {d->rows, d->cols}, -2.f, 2.f);
      bytes += static_cast<double>(d->rows * d->cols) * 4;
    }
    if (op == "add_bias" || op == "layer_norm") {
      d->weight = uniform(rng, {d->cols}, 0.5f, 1.5f);
      d->bias = uniform(rng, {d->cols}, -0.5f, 0.5f);
    }
    Case c;
    c.name = cc.name;
    c.label = cc.label;
    c.input = "data";
    c.max_iterations = cc.iterations;
    c.max_repeat = cc.repeat;
    c.tolerance = config.tolerance;
    c.throughput = {bytes, 1e-9, "GB/s"};
    c.info = {{"op", op}, {"rows", d->rows}, {"cols", d->cols}};
    setup.cases.push_back(std::move(c));
    (*data)[cc.name] = std::move(d);
  }
  std::vector<ImplementationConfig> impls;
  for (const auto& i : config.implementations)
    if (i.enabled) impls.push_back(i);
  std::shared_ptr<const DataMap> shared = data;
  setup.make_implementations = [impls, shared](int threads) {
    Implementations out;
    for (const auto& i : impls) {
      if (i.type == "tensorgraph")
        out.push_back(std::make_unique<GraphImplementation>(i, threads, shared));
      else
        out.push_back(std::make_unique<LoopImplementation>(i, threads, shared));
    }
    return out;
  };
  setup.inputs = {{"data", "uniform random f32, seeded per case"}};
  return setup;
}

}  // namespace tensorgraph::bench
