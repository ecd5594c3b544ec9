// Training benchmarks: one optimiser step (forward + backward through the compiled graph, then
// Adam) of example 05's CNN and of example 04's MLP at batch 64, and the convolution backward
// kernels alone at the CNN's sizes, on random data. Threads: TG_NUM_THREADS (else all CPUs).
//
//   build/benchmarks/bench_train
//   build/benchmarks/bench_train --benchmark_filter=cnn
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "tensorgraph/graph/autodiff.hpp"
#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/nn/cnn.hpp"
#include "tensorgraph/nn/mlp.hpp"
#include "tensorgraph/runtime/session.hpp"
#include "tensorgraph/train/gradient_session.hpp"
#include "tensorgraph/train/init.hpp"
#include "tensorgraph/train/losses.hpp"
#include "tensorgraph/train/optimizer.hpp"

using namespace tensorgraph;

namespace {

Tensor random_tensor(DType dtype, const Shape& shape, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(0.f, 1.f);
  Tensor t = Tensor::empty(DType::F32, shape);
  float* p = t.mutable_data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = d(rng);
  if (dtype == DType::U8) {
    for (std::int64_t i = 0; i < t.numel(); ++i) p[i] *= 255.f;
    return t.to(DType::U8);
  }
  return t;
}

Tensor one_hot(std::int64_t rows, std::int64_t classes, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Tensor t = Tensor::zeros(DType::F32, {rows, classes});
  for (std::int64_t r = 0; r < rows; ++r)
    t.mutable_data<float>()[r * classes + static_cast<std::int64_t>(rng() % classes)] = 1.f;
  return t;
}

nn::ParameterLookup lookup(const train::ParameterValues& p, Graph& g, const Tensor& mean,
                           const Tensor& scale) {
  return [&p, &g, mean, scale](const std::string& name, const Shape&) {
    if (name == "scaler.mean") return g.constant(mean);
    if (name == "scaler.scale") return g.constant(scale);
    return p.at(name);
  };
}

template <typename Specs>
train::Parameters init(const Specs& specs) {
  train::Rng rng(1);
  train::Parameters p;
  for (const nn::ParameterSpec& s : specs)
    p.add(s.name, s.kind == nn::ParameterSpec::Kind::Weight ? train::kaiming_uniform(s.shape, rng)
                                                            : Tensor::zeros(DType::F32, s.shape));
  return p;
}

void BM_cnn_train_step(benchmark::State& state) {
  const std::int64_t batch = state.range(0);
  const nn::CnnSpec spec;
  train::Parameters params = init(nn::cnn_parameters(spec));
  const Tensor mean, scale;
  train::GradientSession s(
      {{"images", DType::U8, {-1, 28, 28}}, {"target", DType::F32, {-1, 10}}}, params,
      [&](Graph& g, std::span<const Value> d, const train::ParameterValues& p) {
        const Value logits = nn::mnist_cnn(d[0], spec, lookup(p, g, mean, scale));
        return train::ModelOutputs{train::cross_entropy_with_logits(logits, d[1]), {}};
      });
  train::Adam adam({});
  const std::vector<Tensor> data{random_tensor(DType::U8, {batch, 28, 28}, 1),
                                 one_hot(batch, 10, 2)};
  s.run(data, params);
  for (auto _ : state) {
    s.run(data, params);
    adam.step(params, s.gradients());
  }
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_cnn_train_step)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_cnn_inference(benchmark::State& state) {
  const std::int64_t batch = state.range(0);
  const nn::CnnSpec spec;
  const train::Parameters params = init(nn::cnn_parameters(spec));
  Graph g;
  const Value images = g.input("images", DType::U8, {-1, 28, 28});
  g.output("logits", nn::mnist_cnn(images, spec, [&](const std::string& name, const Shape&) {
             return g.constant(params[name], name);
           }));
  Session s = compile(g);
  const std::vector<Tensor> in{random_tensor(DType::U8, {batch, 28, 28}, 1)};
  std::vector<Tensor> out = s.allocate_outputs(in);
  s.run(in, out);
  for (auto _ : state) s.run(in, out);
  state.counters["images/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_cnn_inference)->Arg(500)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_mlp_train_step(benchmark::State& state) {
  const std::int64_t batch = state.range(0);
  const nn::MlpSpec spec;
  train::Parameters params = init(nn::mlp_parameters(spec));
  const Tensor mean = Tensor::zeros(DType::F32, {8});
  const Tensor scale = random_tensor(DType::F32, {8}, 3);
  train::GradientSession s(
      {{"x", DType::F32, {-1, 8}}, {"y", DType::F32, {-1, 1}}}, params,
      [&](Graph& g, std::span<const Value> d, const train::ParameterValues& p) {
        const Value pred = nn::mlp_regressor(d[0], spec, lookup(p, g, mean, scale));
        return train::ModelOutputs{train::mse_loss(pred, d[1]), {}};
      });
  train::Adam adam({});
  const std::vector<Tensor> data{random_tensor(DType::F32, {batch, 8}, 1),
                                 random_tensor(DType::F32, {batch, 1}, 2)};
  s.run(data, params);
  for (auto _ : state) {
    s.run(data, params);
    adam.step(params, s.gradients());
  }
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_mlp_train_step)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();

// conv2's backward kernels alone (batch 64, 32->64 channels, 14x14, 3x3 pad 1).
void conv2_backward(benchmark::State& state, bool data) {
  Graph g;
  const Value dy = g.input("dy", DType::F32, {64, 64, 14, 14});
  const Value x = g.input("x", DType::F32, {64, 32, 14, 14});
  const Value w = g.input("w", DType::F32, {64, 32, 3, 3});
  const ops::Conv2dOptions o{{1, 1}, {1, 1}, {1, 1}, 1};
  g.output("out", data ? ops::conv2d_backward_data(dy, w, x, o)
                       : ops::conv2d_backward_weights(dy, x, {64, 32, 3, 3}, o));
  Session s = compile(g);
  const std::vector<Tensor> in{random_tensor(DType::F32, {64, 64, 14, 14}, 1),
                               random_tensor(DType::F32, {64, 32, 14, 14}, 2),
                               random_tensor(DType::F32, {64, 32, 3, 3}, 3)};
  std::vector<Tensor> out = s.allocate_outputs(in);
  s.run(in, out);
  for (auto _ : state) s.run(in, out);
  const double flops = 2.0 * 64 * 64 * 14 * 14 * 32 * 9;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
void BM_conv2_backward_data(benchmark::State& state) {
  conv2_backward(state, true);
}
void BM_conv2_backward_weights(benchmark::State& state) {
  conv2_backward(state, false);
}
BENCHMARK(BM_conv2_backward_data)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_conv2_backward_weights)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
