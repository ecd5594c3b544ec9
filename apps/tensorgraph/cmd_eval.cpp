// `tensorgraph eval`: accuracy and friends of a sentiment model on a labelled file.
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "model_choice.hpp"
#include "output_format.hpp"
#include "progress.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/text_input.hpp"
#include "tensorgraph/nn/metrics.hpp"

namespace tensorgraph::cli {
namespace {

struct EvalArgs {
  std::string data;
  ModelOptions model;
  bool json = false;
  std::int64_t limit = 0;
  bool skip_bad = false;
};

constexpr std::size_t kBatch = 256;

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out;
}

int run_eval(const EvalArgs& args) {
  TG_CHECK(args.limit >= 0, "--limit must be >= 0, got {}", args.limit);
  io::TextInputOptions options;
  options.require_label = true;
  options.skip_bad = args.skip_bad;
  options.limit = static_cast<std::size_t>(args.limit);
  auto input = io::read_text_inputs(args.data, options);

  const auto classifier = load_classifier(args.model);
  const auto& labels = classifier->labels();

  std::vector<std::string> texts;
  std::vector<std::size_t> gold;
  std::size_t skipped = input.skipped_bad;
  for (auto& r : input.records) {
    const auto g = nn::resolve_label(*r.label, labels);
    if (!g) {
      if (args.skip_bad) {
        ++skipped;
        continue;
      }
      fail("{}:{}: label '{}' is not one of {} (nor an index 0..{}); --skip-bad skips such lines",
           args.data, r.line, *r.label, join(labels), labels.size() - 1);
    }
    texts.push_back(std::move(r.text));
    gold.push_back(*g);
  }
  TG_CHECK(!texts.empty(), "{}: no labelled text to evaluate{}", args.data,
           skipped ? fmt::format(" ({} malformed lines skipped)", skipped) : "");

  nn::MetricsAccumulator metrics(labels);
  ProgressBar bar("eval", static_cast<std::int64_t>(texts.size()));
  double seconds = 0;
  for (std::size_t start = 0; start < texts.size(); start += kBatch) {
    const std::size_t n = std::min(kBatch, texts.size() - start);
    const auto t0 = std::chrono::steady_clock::now();
    const auto predictions =
        classifier->classify(std::span<const std::string>(texts.data() + start, n));
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    TG_CHECK(predictions.size() == n, "{} returned {} predictions for {} texts", classifier->name(),
             predictions.size(), n);
    for (std::size_t i = 0; i < n; ++i) metrics.add(gold[start + i], predictions[i].label);
    bar.update(static_cast<std::int64_t>(start + n));
  }
  bar.finish();
  const nn::EvaluationMetrics m = metrics.result();
  const double throughput = seconds > 0 ? static_cast<double>(m.count) / seconds : 0;

  if (args.json) {
    nlohmann::json j = nn::to_json(m);
    j["data"] = args.data;
    j["model"] = classifier->name();
    j["model_description"] = classifier->description();
    j["skipped_bad"] = skipped;
    j["seconds"] = seconds;
    j["throughput_sentences_per_s"] = std::round(throughput);
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  fmt::print("data             {} ({} texts{})\n", args.data, m.count,
             skipped ? fmt::format(", {} malformed lines skipped", skipped) : "");
  fmt::print("model            {}: {}\n", classifier->name(), classifier->description());
  fmt::print("accuracy         {:.4f}  (NEUTRAL answers count as wrong)\n", m.accuracy);
  fmt::print("binary_accuracy  {:.4f}  (NEUTRAL answers count as {})\n", m.binary_accuracy,
             m.tie_label);
  fmt::print("macro_f1         {:.4f}\n", m.macro_f1);
  fmt::print("neutral          {} of {} answers\n\n", m.neutral, m.count);
  std::size_t w = 9;
  for (const auto& l : m.predicted_labels) w = std::max(w, l.size() + 2);
  fmt::print("{:<{}}{:>10}{:>10}{:>10}{:>10}\n", "class", w, "precision", "recall", "f1",
             "support");
  for (const auto& c : m.per_class)
    fmt::print("{:<{}}{:>10.4f}{:>10.4f}{:>10.4f}{:>10}\n", c.label, w, c.precision, c.recall, c.f1,
               c.support);
  fmt::print("\nconfusion (rows: gold label, columns: answer)\n{:<{}}", "", w);
  for (const auto& l : m.predicted_labels) fmt::print("{:>{}}", l, w);
  fmt::print("\n");
  for (std::size_t g = 0; g < m.labels.size(); ++g) {
    fmt::print("{:<{}}", m.labels[g], w);
    for (auto v : m.confusion[g]) fmt::print("{:>{}}", v, w);
    fmt::print("\n");
  }
  fmt::print("\nthroughput       {:.0f} texts/s ({} texts in {:.4f} s, classification only)\n",
             throughput, m.count, seconds);
  return 0;
}

const Registrar kEval{
    {"eval", "Measure a sentiment model on a labelled file: accuracy, F1, confusion, speed",
     [](Options& o) {
       auto args = std::make_shared<EvalArgs>();
       o.option("-d,--data", &args->data,
                "Labelled texts: .tsv/.txt `text<TAB>label` (header optional) or .jsonl with "
                "\"text\" and \"label\"; labels 0/1 or NEGATIVE/POSITIVE");
       o.require("--data");
       declare_model_options(o, args->model);
       o.flag("--json", &args->json, "Print one JSON object with the metrics at the top level");
       o.option("-n,--limit", &args->limit, "Use only the first N texts (0: all)");
       o.flag(
           "--skip-bad", &args->skip_bad,
           "Skip malformed lines and unknown labels (counted in skipped_bad) instead of failing");
       o.footer(
           "accuracy counts a NEUTRAL answer (the lexicon without evidence) as wrong;\n"
           "binary_accuracy counts it as POSITIVE, the majority class of SST-2's training split,\n"
           "a rule fixed in advance. Per-class precision/recall/F1 and macro F1 use the answers\n"
           "as given. Throughput times the classification calls only, not reading the file.\n\n"
           "Examples:\n"
           "  tensorgraph eval --data ../shared/data/sst2/dev.tsv --model lexicon\n"
           "  tensorgraph eval --data ../shared/data/sst2/dev.tsv --model lexicon \\\n"
           "      --lexicon ../shared/data/afinn/AFINN-en-165.txt --json\n"
           "  tensorgraph eval --data ../shared/data/sentiment_labelled/yelp_labelled.txt \\\n"
           "      --lexicon data/lexicon/sst2-learned.tsv");
       return [args] { return run_eval(*args); };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
