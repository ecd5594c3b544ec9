#include "tensorgraph/serve/model.hpp"

#include <cstdint>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/text/lexicon_tokenizer.hpp"

namespace tensorgraph::serve {
namespace {

void fill_labels(ModelInfo& info, const nn::SentimentClassifier& classifier) {
  if (info.labels.empty()) info.labels = classifier.labels();
  TG_CHECK(info.labels == classifier.labels(), "model info: labels differ from the classifier's");
  if (info.model_id.empty()) info.model_id = classifier.name();
  if (info.description.empty()) info.description = classifier.description();
}

std::vector<nn::Prediction> checked_classify(nn::SentimentClassifier& classifier,
                                             std::span<const std::string> texts) {
  auto predictions = classifier.classify(texts);
  TG_CHECK(predictions.size() == texts.size(), "{} returned {} predictions for {} texts",
           classifier.name(), predictions.size(), texts.size());
  return predictions;
}

class BertModel final : public ServedModel {
 public:
  // `tokenizer` is the classifier's (owned by it, or given as `own_tokenizer`).
  BertModel(std::unique_ptr<nn::SentimentClassifier> classifier,
            std::optional<text::BertTokenizer> own_tokenizer, const text::BertTokenizer* tokenizer,
            ModelInfo info)
      : classifier_(std::move(classifier)),
        own_tokenizer_(std::move(own_tokenizer)),
        tokenizer_(own_tokenizer_ ? *own_tokenizer_ : *tokenizer),
        info_(std::move(info)) {
    TG_CHECK(classifier_ != nullptr, "no classifier");
    fill_labels(info_, *classifier_);
    if (info_.kind.empty()) info_.kind = "bert";
  }

  const ModelInfo& info() const override { return info_; }

  TokenCount count_tokens(std::string_view text, std::size_t limit) const override {
    thread_local std::vector<std::int32_t> ids;
    std::optional<std::size_t> max_length;
    if (limit >= 2) max_length = limit;
    const bool truncated = tokenizer_.encode_into(text, ids, max_length);
    return {ids.size(), truncated};
  }

  std::vector<ApiToken> tokenize(std::string_view text, bool add_special_tokens) const override {
    std::vector<std::int32_t> ids;
    if (add_special_tokens) {
      tokenizer_.encode_into(text, ids);
    } else {
      ids = tokenizer_.word_pieces(text);
    }
    const std::vector<std::string> strings = tokenizer_.tokens(ids);
    std::vector<ApiToken> tokens(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) {
      tokens[i].id = ids[i];
      tokens[i].text = strings[i];
      // The [CLS] and [SEP] the tokenizer adds (HF's special_tokens_mask).
      tokens[i].special = add_special_tokens && (i == 0 || i + 1 == ids.size());
    }
    return tokens;
  }

  std::vector<nn::Prediction> predict(std::span<const std::string> texts) override {
    return checked_classify(*classifier_, texts);
  }

 private:
  std::unique_ptr<nn::SentimentClassifier> classifier_;
  std::optional<text::BertTokenizer> own_tokenizer_;
  const text::BertTokenizer& tokenizer_;
  ModelInfo info_;
};

class WordModel final : public ServedModel {
 public:
  WordModel(std::unique_ptr<nn::SentimentClassifier> classifier, ModelInfo info)
      : classifier_(std::move(classifier)), info_(std::move(info)) {
    TG_CHECK(classifier_ != nullptr, "no classifier");
    fill_labels(info_, *classifier_);
    if (info_.kind.empty()) info_.kind = "lexicon";
  }

  const ModelInfo& info() const override { return info_; }

  TokenCount count_tokens(std::string_view text, std::size_t limit) const override {
    thread_local text::LexTokens words;
    text::split_lexicon_words(text, words);
    return {words.size(), limit > 0 && words.size() > limit};
  }

  std::vector<ApiToken> tokenize(std::string_view text, bool) const override {
    text::LexTokens words;
    text::split_lexicon_words(text, words);
    std::vector<ApiToken> tokens(words.size());
    for (std::size_t i = 0; i < words.size(); ++i) tokens[i].text = std::string(words[i]);
    return tokens;
  }

  std::vector<nn::Prediction> predict(std::span<const std::string> texts) override {
    return checked_classify(*classifier_, texts);
  }

 private:
  std::unique_ptr<nn::SentimentClassifier> classifier_;
  ModelInfo info_;
};

}  // namespace

std::unique_ptr<ServedModel> make_bert_model(std::unique_ptr<nn::SentimentClassifier> classifier,
                                             text::BertTokenizer tokenizer, ModelInfo info) {
  return std::make_unique<BertModel>(std::move(classifier), std::move(tokenizer), nullptr,
                                     std::move(info));
}

std::unique_ptr<ServedModel> make_distilbert_model(
    std::unique_ptr<nn::DistilBertClassifier> classifier, ModelInfo info) {
  TG_CHECK(classifier != nullptr, "no classifier");
  if (info.kind.empty()) info.kind = "distilbert";
  info.max_input_length = classifier->max_length();
  const text::BertTokenizer* tokenizer = &classifier->tokenizer();
  return std::make_unique<BertModel>(std::move(classifier), std::nullopt, tokenizer,
                                     std::move(info));
}

std::unique_ptr<ServedModel> make_word_model(std::unique_ptr<nn::SentimentClassifier> classifier,
                                             ModelInfo info) {
  return std::make_unique<WordModel>(std::move(classifier), std::move(info));
}

}  // namespace tensorgraph::serve
