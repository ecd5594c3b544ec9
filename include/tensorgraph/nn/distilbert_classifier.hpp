#pragma once
// DistilBERT as a SentimentClassifier: the BERT tokenizer + DistilBertModel, batching texts of
// similar length together (sorted by token count, padded to the longest of each batch).
//
// Long texts never fail: the model accepts max_position_embeddings (512) tokens.
//   truncate (default)  [CLS] + the first max_length - 2 word pieces + [SEP]
//                       (Prediction::truncated = true), as HF's truncation=True
//   chunk               windows of max_length - 2 word pieces, each overlapping the previous
//                       one by a quarter of a window, classified separately; the text's
//                       probabilities (and logits) are the mean over its windows
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "tensorgraph/nn/classifier.hpp"
#include "tensorgraph/nn/distilbert.hpp"
#include "tensorgraph/text/bert_tokenizer.hpp"

namespace tensorgraph::nn {

enum class LongTextMode { Truncate, Chunk };

struct DistilBertClassifierOptions {
  DistilBertOptions model;
  // Tokens per sequence, [CLS] and [SEP] included; nullopt: the model's maximum (the smaller of
  // max_position_embeddings and the tokenizer's model_max_length).
  std::optional<std::size_t> max_length;
  std::size_t batch_size = 32;
  LongTextMode long_text = LongTextMode::Truncate;
};

class DistilBertClassifier final : public SentimentClassifier {
 public:
  // vocab.txt, tokenizer_config.json (optional), config.json and model.safetensors of `dir`.
  static std::unique_ptr<DistilBertClassifier> load(
      const std::filesystem::path& dir, const DistilBertClassifierOptions& options = {});
  DistilBertClassifier(text::BertTokenizer tokenizer, DistilBertModel model,
                       DistilBertClassifierOptions options, std::string name);

  std::vector<Prediction> classify(std::span<const std::string> texts) override;
  const std::vector<std::string>& labels() const override { return labels_; }
  std::string name() const override { return name_; }
  std::string description() const override;

  // The largest sequence this classifier builds ([CLS] and [SEP] included).
  std::size_t max_length() const { return max_length_; }
  // Token count of `text` with [CLS] and [SEP], before any truncation.
  std::size_t token_count(std::string_view text) const;
  bool is_random() const { return model_.is_random(); }
  DistilBertModel& model() { return model_; }
  const text::BertTokenizer& tokenizer() const { return tokenizer_; }

 private:
  text::BertTokenizer tokenizer_;
  DistilBertModel model_;
  DistilBertClassifierOptions options_;
  std::string name_;
  std::vector<std::string> labels_;
  std::size_t max_length_ = 512;
};

}  // namespace tensorgraph::nn
