// Example 03, full version: DistilBERT sentiment driven by config.toml (model folder, lengths,
// batch size, threads, texts). Loads (or downloads) the model, classifies the texts as one batch
// and one by one, checks that both agree (padding in a batch must not change an answer beyond
// float rounding), compares with the lexicon baseline, and times single sentences.
//
//   build/examples/03_distilbert_sentiment examples/03_distilbert_sentiment/config.toml
//   [--model-dir DIR]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/models.hpp"
#include "tensorgraph/hub/paths.hpp"
#include "tensorgraph/nn/distilbert_classifier.hpp"
#include "tensorgraph/nn/lexicon.hpp"

using namespace tensorgraph;

namespace {

struct Config {
  std::string dir;
  std::int64_t max_length = 512, batch_size = 8, threads = 0, repeats = 20;
  std::string long_text = "truncate";
  std::vector<std::string> texts;
};

Config load_config(const std::string& path) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    fail("{}: {} (line {})", path, e.description(), e.source().begin.line);
  }
  Config c;
  c.dir = t["model"]["dir"].value_or(c.dir);
  c.max_length = t["model"]["max_length"].value_or(c.max_length);
  c.batch_size = t["model"]["batch_size"].value_or(c.batch_size);
  c.long_text = t["model"]["long_text"].value_or(c.long_text);
  c.threads = t["model"]["threads"].value_or(c.threads);
  c.repeats = t["run"]["repeats"].value_or(c.repeats);
  if (const auto* texts = t["run"]["texts"].as_array()) {
    for (const auto& v : *texts) {
      TG_CHECK(v.is_string(), "{}: run.texts must hold strings", path);
      c.texts.push_back(*v.value<std::string>());
    }
  }
  TG_CHECK(!c.texts.empty(), "{}: run.texts is empty", path);
  TG_CHECK(c.max_length >= 3 && c.batch_size >= 1 && c.threads >= 0 && c.repeats >= 0,
           "{}: max_length >= 3, batch_size >= 1, threads >= 0, repeats >= 0 expected", path);
  TG_CHECK(c.long_text == "truncate" || c.long_text == "chunk",
           "{}: long_text must be \"truncate\" or \"chunk\"", path);
  return c;
}

}  // namespace

int main(int argc, char** argv) try {
  TG_CHECK(argc >= 2, "usage: {} CONFIG.toml [--model-dir DIR]", argv[0]);
  Config c = load_config(argv[1]);
  for (int i = 2; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--model-dir") == 0) c.dir = argv[i + 1];

  std::filesystem::path dir = c.dir;
  if (dir.empty()) {
    dir = hub::default_model_dir(hub::kDefaultModelRepo);
    if (!hub::model_present(dir))
      std::printf("downloading %s into %s ...\n", std::string(hub::kDefaultModelRepo).c_str(),
                  dir.string().c_str());
    dir = hub::ensure_model(hub::kDefaultModelRepo, dir);
  }

  nn::DistilBertClassifierOptions options;
  options.max_length = static_cast<std::size_t>(c.max_length);
  options.batch_size = static_cast<std::size_t>(c.batch_size);
  options.long_text = c.long_text == "chunk" ? nn::LongTextMode::Chunk : nn::LongTextMode::Truncate;
  options.model.threads = static_cast<int>(c.threads);
  const auto t0 = std::chrono::steady_clock::now();
  auto model = nn::DistilBertClassifier::load(dir, options);
  const double load_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("model: %s\n  %s\n  loaded and compiled in %.0f ms\n", dir.string().c_str(),
              model->description().c_str(), load_ms);
  if (model->is_random())
    std::printf("  WARNING: random weights (make-random-model): the labels are meaningless\n");

  nn::LexiconClassifier lexicon(nn::Lexicon::builtin());
  const auto batch = model->classify(c.texts);
  const auto baseline = lexicon.classify(c.texts);

  std::printf("\n%-9s %-7s %-9s %9s  %s\n", "LABEL", "SCORE", "LEXICON", "p50 ms", "TEXT");
  bool agree = true;
  for (std::size_t i = 0; i < c.texts.size(); ++i) {
    const std::vector<std::string> one{c.texts[i]};
    auto single = model->classify(one)[0];  // warm-up and the single-text answer
    for (std::size_t k = 0; k < single.logits.size(); ++k)
      agree &= std::fabs(single.logits[k] - batch[i].logits[k]) <= 1e-4f;
    agree &= single.label == batch[i].label;
    std::vector<double> ms;
    for (std::int64_t r = 0; r < c.repeats; ++r) {
      const auto s = std::chrono::steady_clock::now();
      single = model->classify(one)[0];
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
    }
    std::sort(ms.begin(), ms.end());
    const double p50 = ms.empty() ? 0.0 : ms[ms.size() / 2];
    std::printf("%-9s %.4f  %-9s %9.2f  %s%s\n", batch[i].label.c_str(), batch[i].score,
                baseline[i].label.c_str(), p50, c.texts[i].c_str(),
                batch[i].truncated ? " (truncated)" : "");
  }
  std::printf("\n(p50: text to label, tokenization included, one sentence at a time)\n");
  if (!agree) {
    std::printf("MISMATCH: batched and single answers differ\n");
    return 1;
  }
  std::printf(
      "verified: the batch of %zu texts gives the single-text answers (logits within 1e-4)\n",
      c.texts.size());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
