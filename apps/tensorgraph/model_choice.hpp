#pragma once
// Which sentiment model a command uses: the --model and --lexicon options shared by `classify`
// and `eval` (and later `serve`), and the `auto` rule. DistilBERT (issue 7) adds its choice and
// options (--model-dir, --max-length, --batch-size) here.
#include <memory>
#include <optional>
#include <string>

#include "command.hpp"
#include "tensorgraph/nn/classifier.hpp"

namespace tensorgraph::cli {

struct ModelOptions {
  std::string model = "auto";          // auto | lexicon
  std::optional<std::string> lexicon;  // --lexicon FILE (default: the built-in MVP lexicon)
};

// Declares --model and --lexicon on a command.
void declare_model_options(Options& o, ModelOptions& options);

// Where `auto` looks for DistilBERT: $TG_MODELS_DIR/distilbert-sentiment, else
// <source dir>/models/distilbert-sentiment.
std::string distilbert_model_dir();

// The classifier the options name. With `auto` it prints one line on stderr saying which model
// answers and why, unless --lexicon made the choice explicit.
std::unique_ptr<nn::SentimentClassifier> load_classifier(const ModelOptions& options);

}  // namespace tensorgraph::cli
