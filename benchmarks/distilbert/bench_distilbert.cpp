// DistilBERT forward pass (model only) on synthetic ids of exact length: [CLS] + ids + [SEP],
// mask all ones. The model folder comes from TG_DISTILBERT_DIR (default
// models/distilbert-random, written by `tensorgraph make-random-model`).
//   build/benchmarks/bench_distilbert --benchmark_filter=forward/16
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include <benchmark/benchmark.h>

#include "tensorgraph/nn/distilbert.hpp"

namespace {

using namespace tensorgraph;

std::filesystem::path model_dir() {
  if (const char* env = std::getenv("TG_DISTILBERT_DIR"); env && *env) return env;
  return std::filesystem::path(TG_SOURCE_DIR) / "models" / "distilbert-random";
}

nn::DistilBertModel& model() {
  static std::unique_ptr<nn::DistilBertModel> m;
  if (!m) m = std::make_unique<nn::DistilBertModel>(nn::DistilBertModel::load(model_dir()));
  return *m;
}

Tensor synthetic_ids(std::int64_t batch, std::int64_t seq) {
  Tensor t = Tensor::empty(DType::I64, Shape{batch, seq});
  auto* p = t.mutable_data<std::int64_t>();
  for (std::int64_t b = 0; b < batch; ++b)
    for (std::int64_t s = 0; s < seq; ++s)
      p[b * seq + s] = s == 0 ? 101 : s == seq - 1 ? 102 : 1000 + (b * 131 + s * 7) % 20000;
  return t;
}

void forward(benchmark::State& state) {
  const std::int64_t seq = state.range(0), batch = state.range(1);
  auto& m = model();
  Tensor ids = synthetic_ids(batch, seq);
  Tensor mask = Tensor::empty(DType::I64, ids.shape());
  std::fill_n(mask.mutable_data<std::int64_t>(), mask.numel(), 1);
  Tensor logits = m.forward(ids, mask);
  for (auto _ : state) m.forward_into(ids, mask, logits);
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(batch * seq),
                                                  benchmark::Counter::kIsIterationInvariantRate);
}

// Each repetition is one forward pass, so the aggregates are statistics of single passes:
// median (p50), p95 (nearest rank) and the mean.
double p95(const std::vector<double>& v) {
  std::vector<double> s = v;
  std::sort(s.begin(), s.end());
  const auto rank = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(s.size())));
  return s[std::max<std::size_t>(rank, 1) - 1];
}

BENCHMARK(forward)
    ->ArgNames({"seq", "batch"})
    ->Args({8, 1})
    ->Args({16, 1})
    ->Args({32, 1})
    ->Args({64, 1})
    ->Args({128, 1})
    ->Args({512, 1})
    ->Args({64, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1)
    ->Repetitions(40)
    ->ComputeStatistics("p95", p95)
    ->ReportAggregatesOnly(true);

}  // namespace

BENCHMARK_MAIN();
