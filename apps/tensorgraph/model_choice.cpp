#include "model_choice.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "tensorgraph/core/build_info.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/nn/lexicon.hpp"

namespace tensorgraph::cli {

void declare_model_options(Options& o, ModelOptions& options) {
  o.choice("--model", &options.model, {"auto", "lexicon"},
           "Model: auto (DistilBERT when present, else the lexicon) or lexicon");
  o.option("--lexicon", &options.lexicon,
           "Lexicon file for --model lexicon: `word score` or AFINN `word<TAB>-5..5` or a learned "
           "lexicon (default: the built-in MVP lexicon)");
}

std::string distilbert_model_dir() {
  if (const char* env = std::getenv("TG_MODELS_DIR"); env && *env)
    return (std::filesystem::path(env) / "distilbert-sentiment").string();
  return (std::filesystem::path(build_info().source_dir) / "models" / "distilbert-sentiment")
      .string();
}

std::unique_ptr<nn::SentimentClassifier> load_classifier(const ModelOptions& options) {
  auto lexicon = [&] {
    return std::make_unique<nn::LexiconClassifier>(
        options.lexicon ? nn::Lexicon::load(*options.lexicon) : nn::Lexicon::builtin());
  };
  if (options.model == "lexicon" || options.lexicon) return lexicon();
  TG_CHECK(options.model == "auto", "unknown model '{}' (expected auto or lexicon)", options.model);
  const std::string dir = distilbert_model_dir();
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(dir) / "model.safetensors", ec))
    std::cerr << "tensorgraph: note: a DistilBERT model is in " << dir
              << " but this build cannot run it yet; using the lexicon baseline\n";
  else
    std::cerr << "tensorgraph: note: DistilBERT model not found in " << dir
              << "; using the lexicon baseline (--model lexicon to choose it and hide this note)\n";
  return lexicon();
}

}  // namespace tensorgraph::cli
