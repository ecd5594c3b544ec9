// `tensorgraph classify`: the sentiment of texts given as arguments, in a file, or on stdin.
// The model comes from model_choice.hpp (--model, --lexicon); DistilBERT's options are added there.
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "model_choice.hpp"
#include "output_format.hpp"
#include "progress.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/utf8.hpp"
#include "tensorgraph/io/text_input.hpp"

namespace tensorgraph::cli {
namespace {

struct ClassifyArgs {
  std::vector<std::string> texts;
  std::optional<std::string> file;
  ModelOptions model;
  bool json = false;
};

constexpr std::size_t kBatch = 256;

nlohmann::json prediction_json(const std::string& text, const nn::Prediction& p,
                               const std::vector<std::string>& labels, const std::string& model) {
  nlohmann::json scores = nlohmann::json::object();
  for (std::size_t i = 0; i < labels.size(); ++i) scores[labels[i]] = round_to(p.probabilities[i]);
  nlohmann::json logits = nlohmann::json::array();
  for (float l : p.logits) logits.push_back(round_to(l));
  return {{"text", text},     {"label", p.label}, {"score", round_to(p.score)}, {"scores", scores},
          {"logits", logits}, {"model", model},   {"truncated", p.truncated}};
}

int run_classify(const ClassifyArgs& args) {
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < args.texts.size(); ++i) {
    check_utf8(args.texts[i], fmt::format("argument {}", i + 1));
    texts.push_back(args.texts[i]);
  }
  if (args.file) {
    auto input = io::read_text_inputs(*args.file);
    for (auto& r : input.records) texts.push_back(std::move(r.text));
  }
  TG_CHECK(!texts.empty(),
           "nothing to classify: give TEXT arguments or --file PATH (- for stdin){}",
           args.file ? fmt::format("; {} has no text", *args.file) : "");

  const auto classifier = load_classifier(args.model);
  const auto& labels = classifier->labels();
  const std::string model = classifier->name();

  std::unique_ptr<ProgressBar> bar;
  if (texts.size() > 10 * kBatch) bar = std::make_unique<ProgressBar>("classify", texts.size());
  std::vector<nn::Prediction> predictions;
  predictions.reserve(texts.size());
  for (std::size_t start = 0; start < texts.size(); start += kBatch) {
    const std::size_t n = std::min(kBatch, texts.size() - start);
    auto batch = classifier->classify(std::span<const std::string>(texts.data() + start, n));
    TG_CHECK(batch.size() == n, "{} returned {} predictions for {} texts", model, batch.size(), n);
    for (auto& p : batch) predictions.push_back(std::move(p));
    if (bar) bar->update(static_cast<std::int64_t>(start + n));
  }
  if (bar) bar->finish();

  if (args.json) {
    for (std::size_t i = 0; i < texts.size(); ++i)
      std::cout << prediction_json(texts[i], predictions[i], labels, model).dump() << "\n";
    return 0;
  }
  const bool terminal = stdout_is_terminal();
  std::size_t width = 5;
  for (const auto& p : predictions) width = std::max(width, p.label.size());
  std::cout << fmt::format("{:<{}}  {:>5}  {}\n", "LABEL", width, "SCORE", "TEXT");
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto& p = predictions[i];
    std::cout << fmt::format("{:<{}}  {:>5.3f}  {}{}\n", p.label, width, p.score,
                             one_line(texts[i], terminal ? 80 : 0),
                             p.truncated ? "  (truncated)" : "");
  }
  return 0;
}

const Registrar kClassify{
    {"classify", "Classify the sentiment of texts (POSITIVE / NEGATIVE / NEUTRAL)", [](Options& o) {
       auto args = std::make_shared<ClassifyArgs>();
       o.positional("TEXT", &args->texts, "Texts to classify (each argument is one text)");
       o.option("-f,--file", &args->file,
                "Read texts from a file, one per line (.txt/.tsv, or .jsonl with \"text\"); - for "
                "standard input");
       declare_model_options(o, args->model);
       o.flag("--json", &args->json,
              "One JSON object per text, in input order: {\"text\", \"label\", \"score\", "
              "\"scores\": {LABEL: probability}, \"logits\", \"model\", \"truncated\"}");
       o.footer(
           "The lexicon answers NEUTRAL when a text has no sentiment word; its score is then 0.5.\n"
           "Scores are probabilities: for the lexicon, P(POSITIVE) = (1 + tanh(s)) / 2 of the\n"
           "lexicon score s (\"logits\" are [-s, s]).\n\n"
           "Examples:\n"
           "  tensorgraph classify \"This movie was fantastic!\" \"not good at all\"\n"
           "  tensorgraph classify --model lexicon --lexicon ../shared/data/afinn/AFINN-en-165.txt "
           "\"It does not work\"\n"
           "  tensorgraph classify --file reviews.txt --json > predictions.jsonl\n"
           "  echo \"I loved it\" | tensorgraph classify --file -");
       return [args] { return run_classify(*args); };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
