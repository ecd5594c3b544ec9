#pragma once
// Which sentiment model a command uses: the options shared by `classify`, `eval` and `serve`
// (--model, --model-dir, --models-dir, --lexicon, --max-length, --batch-size, --long-text) and
// the `auto` rule:
//   auto        DistilBERT from --model-dir, else models/distilbert-sentiment (downloaded when
//               missing, as `tensorgraph download` does); when it cannot be had (offline, download
//               failed, files that do not load) the lexicon answers, with one line on stderr
//               saying why
//   distilbert  the same, but any failure is an error
//   lexicon     the lexicon baseline (--lexicon FILE, default the built-in MVP lexicon)
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "command.hpp"
#include "tensorgraph/nn/classifier.hpp"

namespace tensorgraph::cli {

struct ModelOptions {
  std::string model = "auto";             // auto | distilbert | lexicon
  std::optional<std::string> lexicon;     // --lexicon FILE
  std::optional<std::string> model_dir;   // --model-dir DIR
  std::optional<std::string> models_dir;  // --models-dir DIR
  std::optional<std::int64_t> max_length;
  std::int64_t batch_size = 32;
  std::string long_text = "truncate";  // truncate | chunk
  std::int64_t threads = 0;            // 0: TG_NUM_THREADS / all CPUs
};

// Declares the model options on a command.
void declare_model_options(Options& o, ModelOptions& options);

// The DistilBERT folder `auto` and `distilbert` use: --model-dir, else
// <models dir>/distilbert-sentiment (models dir: --models-dir, TG_MODELS_DIR, or the project's).
std::string distilbert_model_dir(const ModelOptions& options);

// The classifier the options name, following the rules above. Prints notes on stderr: which model
// answers and why (auto), and a loud warning when a DistilBERT model has random weights.
std::unique_ptr<nn::SentimentClassifier> load_classifier(const ModelOptions& options);

}  // namespace tensorgraph::cli
