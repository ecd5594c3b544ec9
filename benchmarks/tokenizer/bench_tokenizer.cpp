// Speed of the BERT WordPiece tokenizer, single thread: MB/s of text and word pieces/s.
//   build/bench_tokenizer                       (all benchmarks)
//   build/bench_tokenizer --benchmark_filter=Sst2Train
// Inputs (read once, outside the timed loops): the 67,349 sentences of SST-2 train.tsv and the
// 350 texts of the tokenizer fixtures (accents, CJK, emoji, ...: mostly the general path).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "tensorgraph/io/text_input.hpp"
#include "tensorgraph/text/bert_tokenizer.hpp"

namespace {

using tensorgraph::text::BertTokenizer;
using tensorgraph::text::BertTokenizerConfig;

std::filesystem::path shared_path(const std::string& relative) {
  const char* env = std::getenv("TG_SHARED_DIR");
  return std::filesystem::path(env && *env ? env : TG_SHARED_DIR) / relative;
}

const std::filesystem::path kVocab = shared_path("fixtures/bert-base-uncased/vocab.txt");

const std::vector<std::string>& sst2_train() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    const auto path = shared_path("data/sst2/train.tsv");
    if (!std::filesystem::exists(path)) return out;
    for (auto& r : tensorgraph::io::read_text_inputs(path.string()).records)
      out.push_back(std::move(r.text));
    return out;
  }();
  return texts;
}

const std::vector<std::string>& fixture_texts() {
  static const std::vector<std::string> texts = [] {
    std::vector<std::string> out;
    std::ifstream in(shared_path("fixtures/tokenizer_cases.jsonl"));
    std::string line;
    while (std::getline(in, line))
      out.push_back(nlohmann::json::parse(line).at("text").get<std::string>());
    return out;
  }();
  return texts;
}

void encode_all(benchmark::State& state, const std::vector<std::string>& texts, bool fast_path) {
  if (texts.empty() || !std::filesystem::exists(kVocab)) {
    state.SkipWithError("shared data missing (set TG_SHARED_DIR)");
    return;
  }
  BertTokenizerConfig config;
  config.ascii_fast_path = fast_path;
  const BertTokenizer tokenizer = BertTokenizer::from_vocab_file(kVocab, config);
  std::size_t bytes = 0;
  for (const auto& t : texts) bytes += t.size();
  std::vector<std::int32_t> ids;
  ids.reserve(1024);
  std::int64_t pieces = 0;
  for (auto _ : state) {
    pieces = 0;
    for (const auto& t : texts) {
      tokenizer.encode_into(t, ids);
      pieces += static_cast<std::int64_t>(ids.size()) - 2;
    }
    benchmark::DoNotOptimize(ids.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * texts.size()));
  state.counters["pieces/s"] =
      benchmark::Counter(static_cast<double>(pieces) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["texts"] = static_cast<double>(texts.size());
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
}

void BM_EncodeSst2Train(benchmark::State& state) {
  encode_all(state, sst2_train(), true);
}
void BM_EncodeSst2Train_GeneralPathOnly(benchmark::State& state) {
  encode_all(state, sst2_train(), false);
}
void BM_EncodeFixtureTexts(benchmark::State& state) {
  encode_all(state, fixture_texts(), true);
}

// Batches of 32 texts into the padded i64 id and mask tensors the model takes.
void BM_EncodeBatch32Sst2(benchmark::State& state) {
  const auto& texts = sst2_train();
  if (texts.size() < 32 || !std::filesystem::exists(kVocab)) {
    state.SkipWithError("shared data missing (set TG_SHARED_DIR)");
    return;
  }
  const BertTokenizer tokenizer = BertTokenizer::from_vocab_file(kVocab);
  std::size_t offset = 0, bytes = 0;
  for (auto _ : state) {
    if (offset + 32 > texts.size()) offset = 0;
    const std::span<const std::string> batch(texts.data() + offset, 32);
    for (const auto& t : batch) bytes += t.size();
    auto encoded = tokenizer.encode_batch(batch);
    benchmark::DoNotOptimize(encoded.input_ids.raw());
    offset += 32;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * 32));
}

void BM_LoadVocab(benchmark::State& state) {
  if (!std::filesystem::exists(kVocab)) {
    state.SkipWithError("shared data missing (set TG_SHARED_DIR)");
    return;
  }
  for (auto _ : state) {
    auto tokenizer = BertTokenizer::from_vocab_file(kVocab);
    benchmark::DoNotOptimize(&tokenizer);
  }
}

BENCHMARK(BM_EncodeSst2Train)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeSst2Train_GeneralPathOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EncodeFixtureTexts)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_EncodeBatch32Sst2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LoadVocab)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
