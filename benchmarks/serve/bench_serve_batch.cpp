// The reference of the load test (benchmarks/serve/run.sh): DistilBERT's batch throughput on the
// same sentences, the classifier alone, no HTTP. Issue 10's target: the service's sentences/s at
// saturation >= 90% of this at batch = --max-batch. (`tensorgraph bench` will measure the same;
// until it exists, this program does.)
//
//   TG_SERVE_MODEL_DIR   DistilBERT folder (default models/distilbert-random)
//   TG_SERVE_SENTENCES   one text per line, or a .tsv (default ../shared/data/sst2/dev.tsv)
//   build/benchmarks/bench_serve_batch --benchmark_filter=/32
//
// Two ways of forming the batches:
//   Consecutive    batches of N sentences in file order (each classify() call sorts its N by
//                  length), as a client sending batches of N would get
//   LengthSorted   the whole file in one classify() call: sorted by length, then cut into
//                  batches of N, the least padding any batching of this file can have
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tensorgraph/io/text_input.hpp"
#include "tensorgraph/nn/distilbert_classifier.hpp"

namespace {

using namespace tensorgraph;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

const std::vector<std::string>& sentences() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    const std::string path =
        env_or("TG_SERVE_SENTENCES", std::string(TG_SOURCE_DIR) + "/../shared/data/sst2/dev.tsv");
    if (!std::filesystem::exists(path)) return out;
    for (auto& r : io::read_text_inputs(path).records) out.push_back(std::move(r.text));
    return out;
  }();
  return texts;
}

nn::DistilBertClassifier* classifier(std::size_t batch, std::string& error) {
  static std::unique_ptr<nn::DistilBertClassifier> c;
  static std::size_t loaded_batch = 0;
  const std::string dir =
      env_or("TG_SERVE_MODEL_DIR", std::string(TG_SOURCE_DIR) + "/models/distilbert-random");
  if (!std::filesystem::exists(std::filesystem::path(dir) / "model.safetensors")) {
    error = dir + ": no DistilBERT model (tensorgraph make-random-model --vocab ...)";
    return nullptr;
  }
  if (!c || loaded_batch != batch) {
    nn::DistilBertClassifierOptions o;
    o.batch_size = batch;
    c = nn::DistilBertClassifier::load(dir, o);
    loaded_batch = batch;
  }
  return c.get();
}

void run(benchmark::State& state, bool sorted) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  std::string error;
  auto* c = classifier(batch, error);
  const auto& texts = sentences();
  if (!c || texts.empty()) {
    state.SkipWithError(c ? "no sentences (TG_SERVE_SENTENCES)" : error.c_str());
    return;
  }
  const std::span<const std::string> all(texts);
  c->classify(all.first(std::min(texts.size(), 4 * batch)));  // plans for the common shapes
  for (auto _ : state) {
    if (sorted) {
      benchmark::DoNotOptimize(c->classify(all));
    } else {
      for (std::size_t start = 0; start < texts.size(); start += batch)
        benchmark::DoNotOptimize(
            c->classify(all.subspan(start, std::min(batch, texts.size() - start))));
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * texts.size()));
  state.counters["sentences"] = static_cast<double>(texts.size());
}

void BM_Consecutive(benchmark::State& state) {
  run(state, false);
}
void BM_LengthSorted(benchmark::State& state) {
  run(state, true);
}

BENCHMARK(BM_Consecutive)->Arg(1)->Arg(8)->Arg(32)->Unit(benchmark::kSecond)->Iterations(2);
BENCHMARK(BM_LengthSorted)->Arg(8)->Arg(32)->Unit(benchmark::kSecond)->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
