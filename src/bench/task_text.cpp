// Tasks "tokenizer" (BERT WordPiece, MB/s) and "lexicon" (sentences/s): single-threaded text
// processing on files read through the shared text reader.
#include <fmt/format.h>

#include "inprocess.hpp"
#include "tensorgraph/io/text_input.hpp"
#include "tensorgraph/nn/lexicon.hpp"
#include "tensorgraph/text/bert_tokenizer.hpp"

namespace tensorgraph::bench {

namespace fs = std::filesystem;

namespace {

struct TextData {
  std::string source;
  std::vector<std::string> texts;
  double bytes = 0;
  std::string lexicon;  // lexicon task: "mvp" or a path
};
using DataMap = std::map<std::string, std::shared_ptr<const TextData>>;

std::shared_ptr<TextData> read_case_texts(const TaskContext& context, const CaseConfig& cc) {
  auto d = std::make_shared<TextData>();
  const std::string path = context.config
                               .resolve(expand(cc.params.require_string("data"),
                                               context.placeholders, cc.params.where()))
                               .string();
  io::TextInputOptions options;
  options.limit = static_cast<std::size_t>(cc.params.get_int("limit", 0));
  auto result =
      with_context(cc.params.where(), [&] { return io::read_text_inputs(path, options); });
  for (auto& r : result.records) {
    d->bytes += static_cast<double>(r.text.size());
    d->texts.push_back(std::move(r.text));
  }
  TG_CHECK(!d->texts.empty(), "{}: {} holds no text", cc.params.where(), path);
  d->source = path;
  return d;
}

std::vector<ImplementationConfig> enabled(const BenchConfig& config) {
  std::vector<ImplementationConfig> out;
  for (const auto& i : config.implementations)
    if (i.enabled) out.push_back(i);
  return out;
}

// ---- tokenizer ------------------------------------------------------------------------------

class TokenizerImplementation final : public InProcessImplementation {
 public:
  TokenizerImplementation(const ImplementationConfig& config, std::shared_ptr<const DataMap> data,
                          fs::path vocab, std::optional<fs::path> tokenizer_config)
      : InProcessImplementation(config, 1),
        data_(std::move(data)),
        vocab_(std::move(vocab)),
        tokenizer_config_(std::move(tokenizer_config)) {
    fast_path_ = config.options.get_bool("ascii_fast_path", true);
    info_.settings["ascii_fast_path"] = fast_path_;
  }

 private:
  void load() override {
    text::BertTokenizerConfig c = tokenizer_config_
                                      ? text::read_tokenizer_config(*tokenizer_config_)
                                      : text::BertTokenizerConfig{};
    c.ascii_fast_path = fast_path_;
    tokenizer_.emplace(text::BertTokenizer::from_vocab_file(vocab_, c));
  }
  void run(const Case& c) override {
    const TextData& d = *data_->at(c.name);
    std::size_t pieces = 0;
    for (const auto& t : d.texts) {
      tokenizer_->encode_into(t, ids_);
      pieces += ids_.size();
    }
    pieces_ = pieces;
  }
  Rows result(const Case& c) override {
    Rows rows;
    for (const auto& t : data_->at(c.name)->texts) {
      tokenizer_->encode_into(t, ids_);
      rows.emplace_back(ids_.begin(), ids_.end());
    }
    return rows;
  }

  std::shared_ptr<const DataMap> data_;
  fs::path vocab_;
  std::optional<fs::path> tokenizer_config_;
  bool fast_path_ = true;
  std::optional<text::BertTokenizer> tokenizer_;
  std::vector<std::int32_t> ids_;
  std::size_t pieces_ = 0;
};

// ---- lexicon --------------------------------------------------------------------------------

class LexiconImplementation final : public InProcessImplementation {
 public:
  LexiconImplementation(const ImplementationConfig& config, std::shared_ptr<const DataMap> data)
      : InProcessImplementation(config, 1), data_(std::move(data)) {
    api_ = config.options.get_string("api", "score");
    TG_CHECK(api_ == "score" || api_ == "classify",
             "[implementations.{}] options.api must be \"score\" or \"classify\", got \"{}\"",
             config.name, api_);
    info_.settings["api"] = api_ == "score" ? "Lexicon::score, one text at a time"
                                            : "LexiconClassifier::classify, batches of 256";
  }

 private:
  void load() override {
    for (const auto& [name, d] : *data_) {
      if (classifiers_.count(d->lexicon)) continue;
      nn::Lexicon lexicon =
          d->lexicon == "mvp" ? nn::Lexicon::builtin() : nn::Lexicon::load(d->lexicon);
      classifiers_.emplace(d->lexicon, std::make_unique<nn::LexiconClassifier>(std::move(lexicon)));
    }
  }
  void run(const Case& c) override {
    const TextData& d = *data_->at(c.name);
    auto& classifier = *classifiers_.at(d.lexicon);
    double sum = 0;
    if (api_ == "score") {
      for (const auto& t : d.texts) sum += classifier.lexicon().score(t, scratch_).score;
    } else {
      const std::span<const std::string> all(d.texts);
      for (std::size_t begin = 0; begin < all.size(); begin += 256) {
        const auto predictions =
            classifier.classify(all.subspan(begin, std::min<std::size_t>(256, all.size() - begin)));
        for (const auto& p : predictions) sum += p.logits[1];
      }
    }
    sink_ += sum;
  }
  Rows result(const Case& c) override {
    const TextData& d = *data_->at(c.name);
    auto& classifier = *classifiers_.at(d.lexicon);
    Rows rows;
    if (api_ == "score") {
      for (const auto& t : d.texts) {
        const nn::LexiconScore s = classifier.lexicon().score(t, scratch_);
        const double z = s.has_evidence() ? static_cast<double>(static_cast<float>(s.score)) : 0.0;
        rows.push_back({-z, z});
      }
    } else {
      for (const auto& p : classifier.classify(std::span<const std::string>(d.texts)))
        rows.push_back({p.logits[0], p.logits[1]});
    }
    return rows;
  }

  std::shared_ptr<const DataMap> data_;
  std::string api_;
  std::map<std::string, std::unique_ptr<nn::LexiconClassifier>> classifiers_;
  nn::LexiconScratch scratch_;
  double sink_ = 0;
};

}  // namespace

TaskSetup setup_tokenizer(const TaskContext& context) {
  const BenchConfig& config = context.config;
  const fs::path vocab = config.resolve(
      expand(config.model.require_string("vocab"), context.placeholders, "[model] vocab"));
  std::optional<fs::path> tokenizer_config;
  if (auto t = config.model.find_string("tokenizer_config"))
    tokenizer_config = config.resolve(expand(*t, context.placeholders, "[model] tokenizer_config"));
  TaskSetup setup;
  auto data = std::make_shared<DataMap>();
  for (const CaseConfig& cc : config.cases) {
    if (!context.selected(cc)) continue;
    auto d = read_case_texts(context, cc);
    Case c;
    c.name = cc.name;
    c.label = cc.label;
    c.input = "data";
    c.max_iterations = cc.iterations;
    c.max_repeat = cc.repeat;
    c.tolerance = 0;  // ids are exact
    c.throughput = {d->bytes, 1e-6, "MB/s"};
    c.info = {{"data", d->source}, {"texts", d->texts.size()}, {"bytes", d->bytes}};
    setup.cases.push_back(std::move(c));
    (*data)[cc.name] = std::move(d);
  }
  std::shared_ptr<const DataMap> shared = data;
  const auto impls = enabled(config);
  setup.make_implementations = [impls, shared, vocab, tokenizer_config](int) {
    Implementations out;
    for (const auto& i : impls)
      out.push_back(std::make_unique<TokenizerImplementation>(i, shared, vocab, tokenizer_config));
    return out;
  };
  setup.inputs = {{"vocab", vocab.string()}};
  return setup;
}

TaskSetup setup_lexicon(const TaskContext& context) {
  const BenchConfig& config = context.config;
  TaskSetup setup;
  auto data = std::make_shared<DataMap>();
  for (const CaseConfig& cc : config.cases) {
    if (!context.selected(cc)) continue;
    auto d = read_case_texts(context, cc);
    const std::string lexicon = cc.params.require_string("lexicon");
    d->lexicon =
        lexicon == "mvp"
            ? lexicon
            : config.resolve(expand(lexicon, context.placeholders, cc.params.where())).string();
    Case c;
    c.name = cc.name;
    c.label = cc.label;
    c.input = "data";
    c.max_iterations = cc.iterations;
    c.max_repeat = cc.repeat;
    c.tolerance = 1e-6;
    c.throughput = {static_cast<double>(d->texts.size()), 1, "sentences/s"};
    c.info = {{"data", d->source}, {"texts", d->texts.size()}, {"lexicon", d->lexicon}};
    setup.cases.push_back(std::move(c));
    (*data)[cc.name] = std::move(d);
  }
  std::shared_ptr<const DataMap> shared = data;
  const auto impls = enabled(config);
  setup.make_implementations = [impls, shared](int) {
    Implementations out;
    for (const auto& i : impls) out.push_back(std::make_unique<LexiconImplementation>(i, shared));
    return out;
  };
  return setup;
}

}  // namespace tensorgraph::bench
