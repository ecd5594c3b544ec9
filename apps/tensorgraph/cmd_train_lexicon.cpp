// `tensorgraph train lexicon`: learns a lexicon (logistic regression over words and bigrams) from
// labelled texts and writes it as a lexicon file for `--lexicon`.
#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "file_output.hpp"
#include "progress.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/text_input.hpp"
#include "tensorgraph/nn/metrics.hpp"
#include "tensorgraph/train/lexicon_trainer.hpp"

namespace tensorgraph::cli {
namespace {

struct TrainLexiconArgs {
  std::string data;
  std::string out = "lexicon-learned.tsv";
  std::int64_t words = 10000;
  std::int64_t bigrams = 5000;
  std::int64_t min_count = 2;
  std::int64_t epochs = 5;
  std::int64_t batch_size = 32;
  double learning_rate = 0.01;
  double l2 = 0;
  double holdout = 0.05;
  std::int64_t seed = 1;
  std::int64_t limit = 0;
  bool json = false;
};

// sha256 of a file, hex (hub will offer one; train sits below hub, so the CLI computes it).
std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TG_CHECK(in.good(), "{}: cannot open for reading", path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  TG_CHECK(ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1, "sha256: init failed");
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0)
      EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  TG_CHECK(!in.bad(), "{}: read error", path);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &size);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

int run_train_lexicon(const TrainLexiconArgs& a) {
  TG_CHECK(a.words >= 1, "--words must be >= 1, got {}", a.words);
  TG_CHECK(a.bigrams >= 0, "--bigrams must be >= 0, got {}", a.bigrams);
  TG_CHECK(a.min_count >= 1, "--min-count must be >= 1, got {}", a.min_count);
  TG_CHECK(a.epochs >= 1 && a.epochs <= 1000, "--epochs must be in 1..1000, got {}", a.epochs);
  TG_CHECK(a.batch_size >= 1, "--batch-size must be >= 1, got {}", a.batch_size);
  TG_CHECK(a.limit >= 0, "--limit must be >= 0, got {}", a.limit);
  TG_CHECK(a.seed >= 0, "--seed must be >= 0, got {}", a.seed);

  io::TextInputOptions input_options;
  input_options.require_label = true;
  input_options.limit = static_cast<std::size_t>(a.limit);
  const auto input = io::read_text_inputs(a.data, input_options);
  const std::vector<std::string> labels = {"NEGATIVE", "POSITIVE"};
  std::vector<train::LabeledText> data;
  data.reserve(input.records.size());
  std::size_t positives = 0;
  for (const auto& r : input.records) {
    const auto g = nn::resolve_label(*r.label, labels);
    if (!g) fail("{}:{}: label '{}' is not 0/1 or NEGATIVE/POSITIVE", a.data, r.line, *r.label);
    data.push_back({r.text, *g == 1});
    positives += *g == 1;
  }
  TG_CHECK(!data.empty(), "{}: no labelled text", a.data);
  const std::string sha = sha256_file(a.data);

  train::LexiconTrainingOptions o;
  o.words = static_cast<std::size_t>(a.words);
  o.bigrams = static_cast<std::size_t>(a.bigrams);
  o.min_count = static_cast<std::size_t>(a.min_count);
  o.epochs = static_cast<int>(a.epochs);
  o.batch_size = static_cast<std::size_t>(a.batch_size);
  o.learning_rate = a.learning_rate;
  o.l2 = a.l2;
  o.holdout = a.holdout;
  o.seed = static_cast<std::uint64_t>(a.seed);

  std::unique_ptr<ProgressBar> bar;
  int bar_epoch = 0;
  const auto result = train::train_lexicon(
      data, o, [&](int epoch, std::size_t done, std::size_t total, double loss) {
        if (epoch != bar_epoch) {
          if (bar) bar->finish();
          bar = std::make_unique<ProgressBar>(fmt::format("epoch {}/{}", epoch, o.epochs),
                                              static_cast<std::int64_t>(total));
          bar_epoch = epoch;
        }
        bar->update(static_cast<std::int64_t>(done), fmt::format("loss {:.4f}", loss));
      });
  if (bar) bar->finish();

  // The command that reproduces the file, with every option spelled out.
  std::string command = fmt::format(
      "tensorgraph train lexicon --data {} --out {} --words {} --bigrams {} --min-count {} "
      "--epochs {} --batch-size {} --lr {} --l2 {} --holdout {} --seed {}",
      a.data, a.out, a.words, a.bigrams, a.min_count, a.epochs, a.batch_size, a.learning_rate, a.l2,
      a.holdout, a.seed);
  if (a.limit) command += fmt::format(" --limit {}", a.limit);
  const std::string file_name = std::filesystem::path(a.data).filename().string();
  const std::vector<std::string> header = {
      "tensorgraph learned lexicon: logistic regression over words and bigrams.",
      "Weights are half-logits: P(POSITIVE) = (1 + tanh(s)) / 2, s = bias + sum(weight x rule",
      "factor), with the rules of nn/lexicon.hpp (negation, intensifiers, but-clauses) applied in",
      "training exactly as when the lexicon is used. Use: tensorgraph classify --lexicon FILE",
      "",
      "command: " + command,
      fmt::format("data: {}, {} labelled texts ({} positive, {} negative), sha256 {}", file_name,
                  data.size(), positives, data.size() - positives, sha),
      fmt::format("seed: {}", a.seed),
      fmt::format("vocabulary: {} words + {} bigrams (the most frequent, count >= {}, in the "
                  "training part)",
                  result.vocabulary_words, result.vocabulary_bigrams, a.min_count),
      fmt::format("train: {} texts, accuracy {:.4f}, log-loss {:.4f} ({} texts with no "
                  "vocabulary word)",
                  result.train.count, result.train.accuracy, result.train.log_loss,
                  result.without_features),
      result.holdout.count
          ? fmt::format("held-out: {} texts of {} never trained on, accuracy {:.4f}, log-loss "
                        "{:.4f}",
                        result.holdout.count, file_name, result.holdout.accuracy,
                        result.holdout.log_loss)
          : std::string("held-out: none (--holdout 0)"),
      "(accuracy as `eval` reports binary_accuracy: a text without evidence counts as POSITIVE)",
  };
  write_file_atomically(a.out, train::format_learned_lexicon(result, header));

  if (a.json) {
    nlohmann::json j = {
        {"out", a.out},
        {"entries", result.entries.size()},
        {"vocabulary_words", result.vocabulary_words},
        {"vocabulary_bigrams", result.vocabulary_bigrams},
        {"bias", result.bias},
        {"data_sha256", sha},
        {"train",
         {{"count", result.train.count},
          {"accuracy", result.train.accuracy},
          {"log_loss", result.train.log_loss}}},
        {"holdout",
         {{"count", result.holdout.count},
          {"accuracy", result.holdout.accuracy},
          {"log_loss", result.holdout.log_loss}}},
    };
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  fmt::print("wrote {}: {} entries ({} words + {} bigrams), bias {:.4f}\n", a.out,
             result.entries.size(), result.vocabulary_words, result.vocabulary_bigrams,
             result.bias);
  fmt::print("train     {} texts, accuracy {:.4f}, log-loss {:.4f}\n", result.train.count,
             result.train.accuracy, result.train.log_loss);
  if (result.holdout.count)
    fmt::print("held-out  {} texts, accuracy {:.4f}, log-loss {:.4f}\n", result.holdout.count,
               result.holdout.accuracy, result.holdout.log_loss);
  return 0;
}

const Registrar kTrainLexicon{
    {"train lexicon",
     "Learn a sentiment lexicon (logistic regression over words and bigrams) from labelled texts",
     [](Options& o) {
       auto a = std::make_shared<TrainLexiconArgs>();
       o.option("-d,--data", &a->data,
                "Labelled texts (.tsv/.txt `text<TAB>label`, or .jsonl), labels 0/1 or names");
       o.require("--data");
       o.option("-o,--out", &a->out, "The lexicon file to write (atomically)");
       o.option("--words", &a->words, "Unigram vocabulary size (most frequent words)");
       o.option("--bigrams", &a->bigrams, "Bigram vocabulary size (most frequent word pairs)");
       o.option("--min-count", &a->min_count, "Minimum count of a vocabulary entry");
       o.option("--epochs", &a->epochs, "Passes over the training texts");
       o.option("--batch-size", &a->batch_size, "Texts per Adam step");
       o.option("--lr", &a->learning_rate, "Adam learning rate");
       o.option("--l2", &a->l2, "L2 penalty on the weights");
       o.option("--holdout", &a->holdout,
                "Fraction of the texts held out (never trained on) to report metrics on");
       o.option("--seed", &a->seed, "Seed of the split and the example order");
       o.option("-n,--limit", &a->limit, "Use only the first N texts (0: all)");
       o.flag("--json", &a->json, "Print a JSON summary");
       o.footer(
           "The defaults are the settings of data/lexicon/sst2-learned.tsv, chosen on the "
           "held-out\n"
           "part of SST-2's training split (never on its dev split). The same command writes the\n"
           "same file.\n\n"
           "Examples:\n"
           "  tensorgraph train lexicon --data ../shared/data/sst2/train.tsv --out "
           "data/lexicon/sst2-learned.tsv\n"
           "  tensorgraph eval --data ../shared/data/sst2/dev.tsv --lexicon "
           "data/lexicon/sst2-learned.tsv");
       return [a] { return run_train_lexicon(*a); };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
