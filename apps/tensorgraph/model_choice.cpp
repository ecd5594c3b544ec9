#include "model_choice.hpp"

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "download_progress.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/models.hpp"
#include "tensorgraph/hub/paths.hpp"
#include "tensorgraph/nn/distilbert_classifier.hpp"
#include "tensorgraph/nn/lexicon.hpp"

namespace tensorgraph::cli {

void declare_model_options(Options& o, ModelOptions& options) {
  o.choice("--model", &options.model, {"auto", "distilbert", "lexicon"},
           "Model: auto (DistilBERT, downloaded when missing; else the lexicon, saying why), "
           "distilbert, or lexicon");
  o.option("--model-dir", &options.model_dir,
           "DistilBERT folder (config.json, model.safetensors, vocab.txt) instead of "
           "models/distilbert-sentiment");
  o.option("--models-dir", &options.models_dir,
           "Models directory (default: TG_MODELS_DIR, else models/ of the project)");
  o.option("--lexicon", &options.lexicon,
           "Lexicon file for --model lexicon: `word score` or AFINN `word<TAB>-5..5` or a learned "
           "lexicon (default: the built-in MVP lexicon); implies --model lexicon");
  o.option("--max-length", &options.max_length,
           "DistilBERT: tokens per sequence, [CLS] and [SEP] included (default: the model's 512)");
  o.option("--batch-size", &options.batch_size, "DistilBERT: sequences per forward pass");
  o.choice("--long-text", &options.long_text, {"truncate", "chunk"},
           "DistilBERT, texts longer than --max-length: truncate (as HF) or chunk (overlapping "
           "windows, probabilities averaged)");
  o.option("--threads", &options.threads, "Threads (0: TG_NUM_THREADS, else every CPU)");
}

std::string distilbert_model_dir(const ModelOptions& options) {
  if (options.model_dir) return *options.model_dir;
  std::optional<std::filesystem::path> models;
  if (options.models_dir) models = *options.models_dir;
  return hub::default_model_dir(hub::kDefaultModelRepo, models).string();
}

namespace {

std::unique_ptr<nn::SentimentClassifier> load_lexicon(const ModelOptions& options) {
  return std::make_unique<nn::LexiconClassifier>(
      options.lexicon ? nn::Lexicon::load(*options.lexicon) : nn::Lexicon::builtin());
}

std::unique_ptr<nn::SentimentClassifier> load_distilbert(const std::filesystem::path& dir,
                                                         const ModelOptions& options) {
  nn::DistilBertClassifierOptions o;
  if (options.max_length) {
    TG_CHECK(*options.max_length >= 3, "--max-length must be at least 3, got {}",
             *options.max_length);
    o.max_length = static_cast<std::size_t>(*options.max_length);
  }
  TG_CHECK(options.batch_size >= 1, "--batch-size must be at least 1, got {}", options.batch_size);
  TG_CHECK(options.threads >= 0, "--threads must be 0 or more, got {}", options.threads);
  o.batch_size = static_cast<std::size_t>(options.batch_size);
  o.long_text = options.long_text == "chunk" ? nn::LongTextMode::Chunk : nn::LongTextMode::Truncate;
  o.model.threads = static_cast<int>(options.threads);
  auto classifier = nn::DistilBertClassifier::load(dir, o);
  if (classifier->is_random())
    std::cerr << "tensorgraph: WARNING: " << dir.string()
              << " holds RANDOM weights (made by make-random-model for benchmarks): its answers "
                 "are meaningless\n";
  return classifier;
}

// The model folder, downloaded first when it is the default one and incomplete. Throws Error
// with the reason when it cannot be had.
std::filesystem::path obtain_distilbert(const ModelOptions& options) {
  const std::filesystem::path dir = distilbert_model_dir(options);
  if (hub::model_present(dir) || options.model_dir) {
    TG_CHECK(hub::model_present(dir),
             "{}: not a model folder (config.json, model.safetensors, vocab.txt and "
             "tokenizer_config.json expected)",
             dir.string());
    return dir;
  }
  hub::ModelDownloadOptions download;
  if (!download.hub.offline)
    std::cerr << "tensorgraph: DistilBERT model not found in " << dir.string() << "; downloading "
              << hub::kDefaultModelRepo << " from " << download.hub.endpoint << "\n";
  DownloadProgress progress;
  download.progress = progress.callback();
  download.on_file = [&](const hub::DownloadResult& r) {
    progress.finish();
    std::cerr << fmt::format("  {}  {} bytes, sha256 {} ({})\n", r.path.filename().string(), r.size,
                             r.sha256.empty() ? "-" : r.sha256,
                             r.verified ? "verified" : "unverified");
  };
  return hub::ensure_model(hub::kDefaultModelRepo, dir, download);
}

}  // namespace

std::unique_ptr<nn::SentimentClassifier> load_classifier(const ModelOptions& options) {
  if (options.model == "lexicon" || options.lexicon) {
    TG_CHECK(options.model != "distilbert", "--lexicon applies to --model lexicon, not distilbert");
    return load_lexicon(options);
  }
  if (options.model == "distilbert") return load_distilbert(obtain_distilbert(options), options);
  TG_CHECK(options.model == "auto", "unknown model '{}' (expected auto, distilbert or lexicon)",
           options.model);
  try {
    return load_distilbert(obtain_distilbert(options), options);
  } catch (const Error& e) {
    std::cerr
        << "tensorgraph: note: DistilBERT is not available (" << e.what()
        << "); using the lexicon baseline (--model lexicon to choose it and hide this note)\n";
    return load_lexicon(options);
  }
}

}  // namespace tensorgraph::cli
