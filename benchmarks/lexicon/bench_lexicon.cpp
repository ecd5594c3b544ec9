// Speed of the lexicon classifier (issue 6 target: >= 1 million 20-word sentences per second on
// one core). Sentences: 4096 synthetic ones of exactly 20 words (common words, sentiment words,
// negations, intensifiers, "but", contractions, punctuation, 1% non-ASCII words; seeded, the
// same every run), and SST-2 dev (872 real sentences, 19.5 words on average) when ../shared is
// present. One thread; items_per_second is sentences per second.
//   build/benchmarks/bench_lexicon [--benchmark_filter=Score]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tensorgraph/io/text_input.hpp"
#include "tensorgraph/nn/lexicon.hpp"

namespace {

using tensorgraph::nn::Lexicon;
using tensorgraph::nn::LexiconClassifier;
using tensorgraph::nn::LexiconScratch;

std::vector<std::string> synthetic_sentences() {
  static const char* const kWords[] = {
      "the",       "movie", "was",    "a",      "film",     "of",     "and",         "it",
      "is",        "to",    "that",   "this",   "with",     "for",    "story",       "characters",
      "acting",    "plot",  "really", "very",   "not",      "didn't", "never",       "but",
      "good",      "bad",   "great",  "boring", "funny",    "dull",   "fantastic",   "terrible",
      "Loved",     "hated", "script", "ending", "director", "scenes", "performance", "well-made",
      "amazingly", "its",   "I",      "you",    "we",       "they",   "about",       "more",
      "than",      "time",  "money",  "waste",  "it's",     "so",     "isn't",       "some"};
  // Non-ASCII words take the Unicode path: about 1 word in 100, as in English reviews.
  static const char* const kRare[] = {"naïve", "café", "Ångström", "déjà-vu"};
  constexpr std::size_t kCount = sizeof(kWords) / sizeof(kWords[0]);
  std::uint64_t state = 42;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::size_t>(state >> 33);
  };
  std::vector<std::string> out;
  for (int s = 0; s < 4096; ++s) {
    std::string text;
    for (int w = 0; w < 20; ++w) {
      if (w) text += (next() % 10 == 0) ? ", " : " ";
      text += (next() % 100 == 0) ? kRare[next() % 4] : kWords[next() % kCount];
    }
    text += (next() % 2) ? "." : "!";
    out.push_back(std::move(text));
  }
  return out;
}

std::vector<std::string> sst2_dev() {
  const std::filesystem::path path = std::filesystem::path(TG_SHARED_DIR) / "data/sst2/dev.tsv";
  std::vector<std::string> out;
  if (!std::filesystem::exists(path)) return out;
  for (auto& r : tensorgraph::io::read_text_inputs(path.string()).records)
    out.push_back(std::move(r.text));
  return out;
}

const Lexicon* lexicon_by_name(const std::string& name) {
  static const Lexicon mvp = Lexicon::builtin();
  static const std::filesystem::path afinn =
      std::filesystem::path(TG_SHARED_DIR) / "data/afinn/AFINN-en-165.txt";
  static const std::filesystem::path learned =
      std::filesystem::path(TG_SOURCE_DIR) / "data/lexicon/sst2-learned.tsv";
  static const Lexicon afinn_lexicon =
      std::filesystem::exists(afinn) ? Lexicon::load(afinn) : Lexicon::builtin();
  static const Lexicon learned_lexicon =
      std::filesystem::exists(learned) ? Lexicon::load(learned) : Lexicon::builtin();
  if (name == "afinn") return std::filesystem::exists(afinn) ? &afinn_lexicon : nullptr;
  if (name == "learned") return std::filesystem::exists(learned) ? &learned_lexicon : nullptr;
  return &mvp;
}

void run_score(benchmark::State& state, const std::string& lexicon_name,
               const std::vector<std::string>& texts) {
  const Lexicon* lexicon = lexicon_by_name(lexicon_name);
  if (!lexicon || texts.empty()) {
    state.SkipWithError("lexicon or sentences not found (../shared missing?)");
    return;
  }
  LexiconScratch scratch;
  std::size_t i = 0;
  double sum = 0;
  for (auto _ : state) {
    sum += lexicon->score(texts[i], scratch).score;
    if (++i == texts.size()) i = 0;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_Score(benchmark::State& state, const std::string& lexicon, bool real) {
  static const auto synthetic = synthetic_sentences();
  static const auto dev = sst2_dev();
  run_score(state, lexicon, real ? dev : synthetic);
}

// The whole SentimentClassifier call (Prediction objects included), batches of 256.
void BM_ClassifyBatch(benchmark::State& state) {
  static const auto synthetic = synthetic_sentences();
  const Lexicon* afinn = lexicon_by_name("afinn");
  LexiconClassifier classifier(afinn ? *afinn : Lexicon::builtin());
  std::size_t start = 0;
  for (auto _ : state) {
    auto out = classifier.classify(std::span<const std::string>(synthetic.data() + start, 256));
    benchmark::DoNotOptimize(out.data());
    start = (start + 256) % synthetic.size();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 256);
}

// Word splitting alone.
void BM_Split(benchmark::State& state) {
  static const auto synthetic = synthetic_sentences();
  tensorgraph::text::LexTokens tokens;
  std::size_t i = 0;
  for (auto _ : state) {
    tensorgraph::text::split_lexicon_words(synthetic[i], tokens);
    benchmark::DoNotOptimize(tokens.tokens.data());
    if (++i == synthetic.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

BENCHMARK_CAPTURE(BM_Score, mvp_synthetic20, std::string("mvp"), false);
BENCHMARK_CAPTURE(BM_Score, afinn_synthetic20, std::string("afinn"), false);
BENCHMARK_CAPTURE(BM_Score, learned_synthetic20, std::string("learned"), false);
BENCHMARK_CAPTURE(BM_Score, mvp_sst2dev, std::string("mvp"), true);
BENCHMARK_CAPTURE(BM_Score, afinn_sst2dev, std::string("afinn"), true);
BENCHMARK_CAPTURE(BM_Score, learned_sst2dev, std::string("learned"), true);
BENCHMARK(BM_ClassifyBatch);
BENCHMARK(BM_Split);

}  // namespace

BENCHMARK_MAIN();
