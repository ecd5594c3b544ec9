// Runtime benchmarks: every op through the engine with the fast (cpu) and the reference kernels,
// at DistilBERT-like sizes; and the linear layer 16x768 by 3072x768 through the engine against a
// direct oneDNN matmul on the same data (the engine must stay within 1.3x of it).
//
//   build/benchmarks/bench_ops                                  # everything
//   build/benchmarks/bench_ops --benchmark_filter='linear'      # the engine-vs-oneDNN pair
//   build/benchmarks/bench_ops --benchmark_filter='/cpu/'       # fast kernels only
#include <benchmark/benchmark.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "tensorgraph/core/threads.hpp"
#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/runtime/session.hpp"

using namespace tensorgraph;

namespace {

Tensor random_tensor(const Shape& shape, std::uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  Tensor t = Tensor::empty(DType::F32, shape);
  float* p = t.mutable_data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = d(rng);
  return t;
}

struct OpCase {
  std::string name;                                         // "gelu/16x3072"
  std::function<void(Graph&, std::vector<Tensor>&)> build;  // declares inputs, outputs; fills data
  double flops_per_run = 0;  // for matmul-like ops: reported as a rate
};

// Runs a compiled graph with preallocated outputs: the hot path.
void run_case(benchmark::State& state, const OpCase& c, KernelSet set, int threads) {
  Graph g;
  std::vector<Tensor> inputs;
  c.build(g, inputs);
  CompileOptions opts;
  opts.kernels = set;
  opts.threads = threads;
  Session s = compile(g, opts);
  std::vector<Tensor> outputs = s.allocate_outputs(inputs);
  s.run(inputs, outputs);  // plan + warm-up
  for (auto _ : state) {
    s.run(inputs, outputs);
    benchmark::DoNotOptimize(outputs[0].raw());
  }
  if (c.flops_per_run > 0)
    state.counters["GFLOP/s"] =
        benchmark::Counter(c.flops_per_run * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

std::vector<OpCase> op_cases() {
  std::vector<OpCase> cases;
  auto unary = [&](const std::string& name, Value (*fn)(Value), Shape shape, float lo = -3.f,
                   float hi = 3.f) {
    cases.push_back({name + "/" + shape.to_string(), [=](Graph& g, std::vector<Tensor>& in) {
                       g.output("y", fn(g.input("x", DType::F32, shape)));
                       in.push_back(random_tensor(shape, 1, lo, hi));
                     }});
  };
  auto binary = [&](const std::string& name, OpKind op, Shape a, Shape b) {
    cases.push_back(
        {name + "/" + a.to_string() + "," + b.to_string(), [=](Graph& g, std::vector<Tensor>& in) {
           Value x = g.input("a", DType::F32, a), y = g.input("b", DType::F32, b);
           g.output("y", g.add_node(op, {x.id, y.id}));
           in.push_back(random_tensor(a, 1));
           in.push_back(random_tensor(b, 2, 0.5f, 2.f));
         }});
  };
  const Shape act{16, 768}, ffn{16, 3072}, big{128, 768};
  binary("add", OpKind::Add, act, act);
  binary("add", OpKind::Add, big, {768});
  binary("mul", OpKind::Mul, act, act);
  binary("sub", OpKind::Sub, act, act);
  binary("div", OpKind::Div, act, act);
  binary("pow", OpKind::Pow, act, act);
  unary("neg", ops::neg, act);
  unary("relu", ops::relu, ffn);
  unary("gelu", ops::gelu, ffn);
  unary("tanh", ops::tanh, ffn);
  unary("sigmoid", ops::sigmoid, ffn);
  unary("exp", ops::exp, ffn);
  unary("log", ops::log, ffn, 0.01f, 10.f);
  unary("sqrt", ops::sqrt, ffn, 0.01f, 10.f);
  unary("rsqrt", ops::rsqrt, ffn, 0.01f, 10.f);
  cases.push_back(
      {"fused_chain/gelu(x*w+b)*0.5/16x3072", [](Graph& g, std::vector<Tensor>& in) {
         Value x = g.input("x", DType::F32, {16, 3072});
         Value w = g.input("w", DType::F32, {3072});
         Value b = g.input("b", DType::F32, {3072});
         g.output("y", ops::gelu(x * w + b) * 0.5f);
         in = {random_tensor({16, 3072}, 1), random_tensor({3072}, 2), random_tensor({3072}, 3)};
       }});
  cases.push_back({"where/[16,768]", [](Graph& g, std::vector<Tensor>& in) {
                     Value c = g.input("c", DType::F32, {16, 1});
                     Value a = g.input("a", DType::F32, {16, 768});
                     g.output("y", ops::where(c, a, ops::neg(a)));
                     in = {random_tensor({16, 1}, 1), random_tensor({16, 768}, 2)};
                   }});
  cases.push_back({"cast/i64->f32/[16,512]", [](Graph& g, std::vector<Tensor>& in) {
                     g.output("y", ops::cast(g.input("m", DType::I64, {16, 512}), DType::F32));
                     in = {Tensor::zeros(DType::I64, {16, 512})};
                   }});
  for (std::int64_t m : {16, 128}) {
    cases.push_back(
        {"linear/" + std::to_string(m) + "x768x3072",
         [m](Graph& g, std::vector<Tensor>& in) {
           Value x = g.input("x", DType::F32, {m, 768});
           g.output("y", ops::linear(x, g.constant(random_tensor({3072, 768}, 4, -0.03f, 0.03f)),
                                     g.constant(random_tensor({3072}, 5))));
           in = {random_tensor({m, 768}, 6)};
         },
         2.0 * static_cast<double>(m) * 768 * 3072});
  }
  cases.push_back({"matmul/attention_scores/[12,16,64]x[12,16,64]^T",
                   [](Graph& g, std::vector<Tensor>& in) {
                     Value q = g.input("q", DType::F32, {1, 12, 16, 64}),
                           k = g.input("k", DType::F32, {1, 12, 16, 64});
                     g.output("y", ops::matmul(q, k, false, true));
                     in = {random_tensor({1, 12, 16, 64}, 1), random_tensor({1, 12, 16, 64}, 2)};
                   },
                   2.0 * 12 * 16 * 16 * 64});
  cases.push_back({"matmul/attention_context/[12,128,128]x[12,128,64]",
                   [](Graph& g, std::vector<Tensor>& in) {
                     Value p = g.input("p", DType::F32, {1, 12, 128, 128}),
                           v = g.input("v", DType::F32, {1, 12, 128, 64});
                     g.output("y", ops::matmul(p, v));
                     in = {random_tensor({1, 12, 128, 128}, 1), random_tensor({1, 12, 128, 64}, 2)};
                   },
                   2.0 * 12 * 128 * 128 * 64});
  cases.push_back(
      {"transpose/heads/[1,16,12,64]", [](Graph& g, std::vector<Tensor>& in) {
         g.output("y", ops::permute(g.input("x", DType::F32, {1, 16, 12, 64}), {0, 2, 1, 3}));
         in = {random_tensor({1, 16, 12, 64}, 1)};
       }});
  cases.push_back({"transpose/2d/[768,768]", [](Graph& g, std::vector<Tensor>& in) {
                     g.output("y", ops::transpose(g.input("x", DType::F32, {768, 768}), 0, 1));
                     in = {random_tensor({768, 768}, 1)};
                   }});
  cases.push_back({"reshape(copy)/[16,768]", [](Graph& g, std::vector<Tensor>& in) {
                     g.output("y", ops::reshape(g.input("x", DType::F32, {16, 768}), {16, 12, 64}));
                     in = {random_tensor({16, 768}, 1)};
                   }});
  cases.push_back({"concat/3x[16,768]", [](Graph& g, std::vector<Tensor>& in) {
                     Value a = g.input("a", DType::F32, {16, 768}),
                           b = g.input("b", DType::F32, {16, 768}),
                           c = g.input("c", DType::F32, {16, 768});
                     g.output("y", ops::concat({a, b, c}, 1));
                     in = {random_tensor({16, 768}, 1), random_tensor({16, 768}, 2),
                           random_tensor({16, 768}, 3)};
                   }});
  cases.push_back({"slice/[CLS]/[8,128,768]", [](Graph& g, std::vector<Tensor>& in) {
                     g.output("y", ops::slice(g.input("x", DType::F32, {8, 128, 768}), 1, 0, 1));
                     in = {random_tensor({8, 128, 768}, 1)};
                   }});
  cases.push_back({"gather/embedding/[30522,768][1,16]", [](Graph& g, std::vector<Tensor>& in) {
                     Value ids = g.input("ids", DType::I64, {1, 16});
                     g.output("y", ops::gather(g.constant(random_tensor({30522, 768}, 1)), ids));
                     std::vector<std::int64_t> v(16);
                     for (int i = 0; i < 16; ++i) v[i] = 1000 + 731 * i;
                     in = {Tensor::from<std::int64_t>({1, 16}, v)};
                   }});
  unary("softmax", [](Value x) { return ops::softmax(x); }, {12, 16, 16});
  unary("softmax", [](Value x) { return ops::softmax(x); }, {12, 128, 128});
  unary("log_softmax", [](Value x) { return ops::log_softmax(x); }, {64, 1000});
  cases.push_back({"layer_norm/[16,768]", [](Graph& g, std::vector<Tensor>& in) {
                     Value x = g.input("x", DType::F32, {16, 768});
                     g.output("y", ops::layer_norm(x, g.constant(random_tensor({768}, 2)),
                                                   g.constant(random_tensor({768}, 3)), 1e-12f));
                     in = {random_tensor({16, 768}, 1)};
                   }});
  unary("reduce_sum", [](Value x) { return ops::reduce_sum(x, {-1}); }, {128, 768});
  unary("reduce_mean", [](Value x) { return ops::reduce_mean(x, {0}); }, {128, 768});
  unary("reduce_max", [](Value x) { return ops::reduce_max(x, {-1}); }, {128, 768});
  cases.push_back({"conv2d/[8,32,14,14]*[64,32,3,3]",
                   [](Graph& g, std::vector<Tensor>& in) {
                     Value x = g.input("x", DType::F32, {8, 32, 14, 14});
                     g.output("y",
                              ops::conv2d(x, g.constant(random_tensor({64, 32, 3, 3}, 2)),
                                          g.constant(random_tensor({64}, 3)), {{1, 1}, {1, 1}}));
                     in = {random_tensor({8, 32, 14, 14}, 1)};
                   },
                   2.0 * 8 * 64 * 14 * 14 * 32 * 9});
  unary("max_pool2d", [](Value x) { return ops::max_pool2d(x); }, {8, 32, 28, 28});
  unary("avg_pool2d",
        [](Value x) {
          return ops::avg_pool2d(x, {{3, 3}, {1, 1}, {1, 1}});
        },
        {8, 32, 28, 28});
  return cases;
}

// ---- the linear layer: engine vs direct oneDNN ---------------------------------------------

constexpr std::int64_t kM = 16, kK = 768, kN = 3072;

struct LinearData {
  Tensor x = random_tensor({kM, kK}, 11);
  Tensor w = random_tensor({kN, kK}, 12, -0.03f, 0.03f);  // [out, in], PyTorch layout
  Tensor b = random_tensor({kN}, 13);
};
const LinearData& linear_data() {
  static const LinearData d;
  return d;
}

void BM_LinearEngine(benchmark::State& state) {
  const LinearData& d = linear_data();
  Graph g;
  Value x = g.input("x", DType::F32, {-1, kK});
  g.output("y", ops::linear(x, g.constant(d.w), g.constant(d.b)));
  CompileOptions opts;
  opts.threads = static_cast<int>(state.range(0));
  set_num_threads(opts.threads);  // as the direct call does (a session would restore it otherwise)
  Session s = compile(g, opts);
  std::vector<Tensor> inputs{d.x};
  std::vector<Tensor> outputs = s.allocate_outputs(inputs);
  s.run(inputs, outputs);
  for (auto _ : state) s.run(inputs, outputs);
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * kM * kK * kN * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// What a careful direct user of oneDNN writes: one matmul primitive with bias, weights in the
// layout oneDNN picks (format_tag::any) reordered once, executed with the C++ API.
void BM_LinearDirectOneDNN(benchmark::State& state) {
  using dnnl::memory;
  const LinearData& d = linear_data();
  set_num_threads(static_cast<int>(state.range(0)));
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const memory::desc src_md({kM, kK}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc w_any({kK, kN}, memory::data_type::f32, memory::format_tag::any);
  const memory::desc w_plain({kK, kN}, memory::data_type::f32,
                             memory::format_tag::ba);  // [N, K] row-major
  const memory::desc bias_md({1, kN}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc dst_md({kM, kN}, memory::data_type::f32, memory::format_tag::ab);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, w_any, bias_md, dst_md), eng);
  memory w_src(w_plain, eng, const_cast<void*>(d.w.raw()));
  memory w_packed(pd.weights_desc(), eng);
  dnnl::reorder(w_src, w_packed).execute(strm, w_src, w_packed);
  strm.wait();
  Tensor y = Tensor::empty(DType::F32, {kM, kN});
  memory src(src_md, eng, const_cast<void*>(d.x.raw())),
      bias(bias_md, eng, const_cast<void*>(d.b.raw())), dst(dst_md, eng, y.raw_mutable());
  const dnnl::matmul prim(pd);
  const std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src},
                                             {DNNL_ARG_WEIGHTS, w_packed},
                                             {DNNL_ARG_BIAS, bias},
                                             {DNNL_ARG_DST, dst}};
  prim.execute(strm, args);
  for (auto _ : state) prim.execute(strm, args);
  state.SetLabel(pd.impl_info_str());
  state.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * kM * kK * kN * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}

// ---- attention scores: Q K^T per head, engine (our small kernel below 64^3 per head, oneDNN
// above) vs a direct batched oneDNN matmul; the measurement behind small_matmul_pays().

void BM_ScoresEngine(benchmark::State& state) {
  const std::int64_t seq = state.range(0);
  Graph g;
  Value q = g.input("q", DType::F32, {1, 12, seq, 64}),
        k = g.input("k", DType::F32, {1, 12, seq, 64});
  g.output("y", ops::matmul(q, k, false, true));
  CompileOptions opts;
  opts.threads = 1;
  Session s = compile(g, opts);
  std::vector<Tensor> inputs{random_tensor({1, 12, seq, 64}, 1),
                             random_tensor({1, 12, seq, 64}, 2)};
  std::vector<Tensor> outputs = s.allocate_outputs(inputs);
  s.run(inputs, outputs);
  for (auto _ : state) s.run(inputs, outputs);
  state.SetLabel(s.plan(std::vector<Shape>{{1, 12, seq, 64}, {1, 12, seq, 64}}).steps[0].kernel);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * 12 * seq * seq * 64 * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ScoresDirectOneDNN(benchmark::State& state) {
  using dnnl::memory;
  const std::int64_t seq = state.range(0);
  set_num_threads(1);
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream strm(eng);
  const memory::desc q_md({12, seq, 64}, memory::data_type::f32, memory::format_tag::abc);
  const memory::desc kt_md({12, 64, seq}, memory::data_type::f32,
                           memory::format_tag::acb);  // K stored [12, seq, 64]
  const memory::desc dst_md({12, seq, seq}, memory::data_type::f32, memory::format_tag::abc);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(q_md, kt_md, dst_md), eng);
  Tensor q = random_tensor({12, seq, 64}, 1), k = random_tensor({12, seq, 64}, 2),
         y = Tensor::empty(DType::F32, {12, seq, seq});
  memory mq(q_md, eng, q.raw_mutable()), mk(kt_md, eng, k.raw_mutable()),
      my(dst_md, eng, y.raw_mutable());
  const dnnl::matmul prim(pd);
  const std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, mq}, {DNNL_ARG_WEIGHTS, mk}, {DNNL_ARG_DST, my}};
  prim.execute(strm, args);
  for (auto _ : state) prim.execute(strm, args);
  state.SetLabel(pd.impl_info_str());
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * 12 * seq * seq * 64 * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

// ---- one DistilBERT-size transformer layer (768 wide, 12 heads, 3072 hidden), post-norm ------

void BM_TransformerLayer(benchmark::State& state) {
  const std::int64_t seq = state.range(0);
  const int threads = static_cast<int>(state.range(1));
  constexpr std::int64_t kDim = 768, kHeads = 12, kHidden = 3072, kHead = kDim / kHeads;
  Graph g;
  Value x = g.input("x", DType::F32, {-1, -1, kDim});
  Value mask = g.input("mask", DType::F32, {-1, -1});
  std::uint32_t seed = 1;
  auto lin = [&](Value in, std::int64_t out, std::int64_t inner) {
    Value w = g.constant(random_tensor({out, inner}, seed++, -0.03f, 0.03f));
    Value b = g.constant(random_tensor({out}, seed++));
    return ops::linear(in, w, b);
  };
  auto norm = [&](Value in) {
    Value w = g.constant(random_tensor({kDim}, seed++));
    Value b = g.constant(random_tensor({kDim}, seed++));
    return ops::layer_norm(in, w, b, 1e-12f);
  };
  auto split = [&](Value t) {
    return ops::permute(ops::reshape(t, {0, 0, kHeads, kHead}), {0, 2, 1, 3});
  };
  Value q = split(lin(x, kDim, kDim)) / 8.0f;
  Value k = split(lin(x, kDim, kDim));
  Value v = split(lin(x, kDim, kDim));
  Value scores =
      ops::matmul(q, k, false, true) + ops::reshape((1.0f - mask) * -10000.0f, {0, 1, 1, -1});
  Value ctx =
      ops::reshape(ops::permute(ops::matmul(ops::softmax(scores), v), {0, 2, 1, 3}), {0, 0, kDim});
  Value x1 = norm(lin(ctx, kDim, kDim) + x);
  g.output("y", norm(lin(ops::gelu(lin(x1, kHidden, kDim)), kDim, kHidden) + x1));
  CompileOptions opts;
  opts.threads = threads;
  set_num_threads(threads);
  Session s = compile(g, opts);
  std::vector<Tensor> inputs{random_tensor({1, seq, kDim}, 99),
                             Tensor::from<float>({1, seq}, std::vector<float>(seq, 1.f))};
  std::vector<Tensor> outputs = s.allocate_outputs(inputs);
  s.run(inputs, outputs);
  for (auto _ : state) s.run(inputs, outputs);
  const double flops =
      2.0 * seq * (4.0 * kDim * kDim + 2.0 * kDim * kHidden) + 4.0 * seq * seq * kDim;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::to_string(s.plan(std::vector<Shape>{{1, seq, kDim}, {1, seq}}).steps.size()) +
                 " steps");
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const int threads = num_threads();
  for (int t : {1, 2}) {
    benchmark::RegisterBenchmark("linear_16x768x3072/engine", BM_LinearEngine)
        ->Arg(t)
        ->ArgName("threads")
        ->UseRealTime();
    benchmark::RegisterBenchmark("linear_16x768x3072/direct_onednn", BM_LinearDirectOneDNN)
        ->Arg(t)
        ->ArgName("threads")
        ->UseRealTime();
  }
  for (std::int64_t seq : {16, 32, 64, 128}) {
    benchmark::RegisterBenchmark("attention_scores_1thread/engine", BM_ScoresEngine)
        ->Arg(seq)
        ->ArgName("seq")
        ->UseRealTime();
    benchmark::RegisterBenchmark("attention_scores_1thread/direct_onednn", BM_ScoresDirectOneDNN)
        ->Arg(seq)
        ->ArgName("seq")
        ->UseRealTime();
  }
  for (int t : {1, 2})
    for (std::int64_t seq : {16, 128})
      benchmark::RegisterBenchmark("distilbert_layer", BM_TransformerLayer)
          ->Args({seq, t})
          ->ArgNames({"tokens", "threads"})
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
  static const std::vector<OpCase> cases = op_cases();
  for (const OpCase& c : cases) {
    benchmark::RegisterBenchmark((c.name + "/cpu").c_str(), [&c, threads](benchmark::State& s) {
      run_case(s, c, KernelSet::Cpu, threads);
    })->UseRealTime();
    benchmark::RegisterBenchmark(
        (c.name + "/reference").c_str(),
        [&c](benchmark::State& s) { run_case(s, c, KernelSet::Reference, 1); })
        ->UseRealTime()
        ->MinTime(0.05);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
