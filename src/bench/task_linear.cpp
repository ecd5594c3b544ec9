// Task "linear": y = act(x W^T + b) with x [m, k], W [n, k] (PyTorch's layout): the engine
// (oneDNN matmul with fused bias/activation, weights prepacked at compile time), its reference
// kernels, and oneDNN called directly as a careful user would (one matmul primitive with bias
// and an eltwise post-op, weights reordered once into the layout oneDNN picks).
#include <random>

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "inprocess.hpp"
#include "tensorgraph/core/threads.hpp"
#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/runtime/session.hpp"

namespace tensorgraph::bench {

namespace {

struct LinearData {
  std::int64_t m = 0, k = 0, n = 0;
  std::string activation;  // none, relu, gelu
  Tensor x, w, b;
};
using DataMap = std::map<std::string, std::shared_ptr<const LinearData>>;

Tensor uniform(std::mt19937_64& rng, const Shape& shape, float scale) {
  Tensor t = Tensor::empty(DType::F32, shape);
  std::uniform_real_distribution<float> d(-scale, scale);
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

class GraphLinear final : public InProcessImplementation {
 public:
  GraphLinear(const ImplementationConfig& config, int threads, std::shared_ptr<const DataMap> data)
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
      Value x = g.input("x", DType::F32, {-1, d->k});
      Value y = ops::linear(x, g.constant(d->w, "weight"), g.constant(d->b, "bias"));
      if (d->activation == "relu") y = ops::relu(y);
      if (d->activation == "gelu") y = ops::gelu(y);
      g.output("y", y);
      Compiled c;
      c.session = std::make_unique<Session>(compile(g, options_));
      c.inputs = {d->x};
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

class DirectOneDnn final : public InProcessImplementation {
 public:
  DirectOneDnn(const ImplementationConfig& config, int threads, std::shared_ptr<const DataMap> data)
      : InProcessImplementation(config, threads), data_(std::move(data)), threads_(threads) {
    const dnnl_version_t* v = dnnl_version();
    info_.version = fmt::format("oneDNN {}.{}.{}", v->major, v->minor, v->patch);
  }

 private:
  struct Prepared {
    dnnl::matmul primitive;
    dnnl::memory src, weights, bias, dst;
    Tensor y;
    std::string impl;
  };
  void load() override {
    using dnnl::memory;
    set_num_threads(threads_);
    for (const auto& [name, d] : *data_) {
      const memory::desc src_md({d->m, d->k}, memory::data_type::f32, memory::format_tag::ab);
      const memory::desc w_any({d->k, d->n}, memory::data_type::f32, memory::format_tag::any);
      const memory::desc w_plain({d->k, d->n}, memory::data_type::f32, memory::format_tag::ba);
      const memory::desc bias_md({1, d->n}, memory::data_type::f32, memory::format_tag::ab);
      const memory::desc dst_md({d->m, d->n}, memory::data_type::f32, memory::format_tag::ab);
      dnnl::primitive_attr attr;
      if (d->activation != "none") {
        dnnl::post_ops po;
        po.append_eltwise(1.0f,
                          d->activation == "relu" ? dnnl::algorithm::eltwise_relu
                                                  : dnnl::algorithm::eltwise_gelu_erf,
                          0.f, 0.f);
        attr.set_post_ops(po);
      }
      const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, w_any, bias_md, dst_md),
                                            attr, engine_);
      Prepared p;
      memory w_src(w_plain, engine_, const_cast<void*>(d->w.raw()));
      p.weights = memory(pd.weights_desc(), engine_);
      dnnl::reorder(w_src, p.weights).execute(stream_, w_src, p.weights);
      stream_.wait();
      p.y = Tensor::empty(DType::F32, {d->m, d->n});
      p.src = memory(src_md, engine_, const_cast<void*>(d->x.raw()));
      p.bias = memory(bias_md, engine_, const_cast<void*>(d->b.raw()));
      p.dst = memory(dst_md, engine_, p.y.raw_mutable());
      p.primitive = dnnl::matmul(pd);
      p.impl = pd.impl_info_str();
      info_.settings["onednn_impl_" + name] = p.impl;
      prepared_[name] = std::move(p);
    }
  }
  void run(const Case& c) override {
    set_num_threads(threads_);
    auto& p = prepared_.at(c.name);
    p.primitive.execute(stream_, {{DNNL_ARG_SRC, p.src},
                                  {DNNL_ARG_WEIGHTS, p.weights},
                                  {DNNL_ARG_BIAS, p.bias},
                                  {DNNL_ARG_DST, p.dst}});
    stream_.wait();
  }
  Rows result(const Case& c) override { return to_rows(prepared_.at(c.name).y); }

  std::shared_ptr<const DataMap> data_;
  int threads_;
  dnnl::engine engine_{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream_{engine_};
  std::map<std::string, Prepared> prepared_;
};

}  // namespace

TaskSetup setup_linear(const TaskContext& context) {
  const BenchConfig& config = context.config;
  TaskSetup setup;
  auto data = std::make_shared<DataMap>();
  for (const CaseConfig& cc : config.cases) {
    const std::string activation = cc.params.get_string("activation", "none");
    TG_CHECK(activation == "none" || activation == "relu" || activation == "gelu",
             "{}: activation must be \"none\", \"relu\" or \"gelu\", got \"{}\"", cc.params.where(),
             activation);
    if (!context.selected(cc)) continue;
    auto d = std::make_shared<LinearData>();
    d->m = cc.params.require_int("m");
    d->k = cc.params.require_int("k");
    d->n = cc.params.require_int("n");
    d->activation = activation;
    std::mt19937_64 rng(case_seed(cc));
    d->x = uniform(rng, {d->m, d->k}, 1.0f);
    d->w = uniform(rng, {d->n, d->k}, 1.0f / std::sqrt(static_cast<float>(d->k)));
    d->b = uniform(rng, {d->n}, 0.1f);
    Case c;
    c.name = cc.name;
    c.label = cc.label;
    c.input = "data";
    c.max_iterations = cc.iterations;
    c.max_repeat = cc.repeat;
    c.tolerance = config.tolerance;
    c.throughput = {2.0 * static_cast<double>(d->m * d->k * d->n), 1e-9, "GFLOP/s"};
    c.info = {{"m", d->m}, {"k", d->k}, {"n", d->n}, {"activation", activation}};
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
        out.push_back(std::make_unique<GraphLinear>(i, threads, shared));
      else
        out.push_back(std::make_unique<DirectOneDnn>(i, threads, shared));
    }
    return out;
  };
  setup.inputs = {{"data", "uniform random f32, seeded per case; W scaled by 1/sqrt(k)"}};
  return setup;
}

}  // namespace tensorgraph::bench
