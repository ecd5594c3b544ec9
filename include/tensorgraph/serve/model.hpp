#pragma once
// What the service needs from a model: a SentimentClassifier plus what the HTTP threads may ask
// without touching it (token counts for the length limit and for grouping texts of similar
// length, the tokens of /tokenize, the facts of /info).
//
// Threads: count_tokens() and tokenize() are called by many HTTP threads at once and must be
// thread-safe; predict() is called by the one inference thread only (nn::SentimentClassifier
// and runtime::Session are not thread-safe, and one OpenMP team per process is what the CPU
// can feed).
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensorgraph/nn/classifier.hpp"
#include "tensorgraph/nn/distilbert_classifier.hpp"
#include "tensorgraph/serve/api.hpp"
#include "tensorgraph/text/bert_tokenizer.hpp"

namespace tensorgraph::serve {

struct ModelInfo {
  std::string model_id;     // /info model_id: "lexicon:mvp", "distilbert-base-uncased-..."
  std::string kind;         // "lexicon", "distilbert", ...
  std::string description;  // one line for humans (startup message)
  std::string dtype = "float32";
  std::vector<std::string> labels;  // id2label order
  // Tokens a text may have, [CLS] and [SEP] included (BERT's 512); 0: no limit (lexicon).
  std::size_t max_input_length = 0;
  // What one more forward pass costs, in padded tokens: the batcher splits a batch into groups of
  // similar length when the padding it saves is worth more than this. 0: batches are never split
  // (the cost of a text does not depend on the others, as for the lexicon).
  double batch_overhead_tokens = 0;
};

struct TokenCount {
  std::size_t tokens = 0;  // at most `limit` (see count_tokens)
  bool over_limit = false;
};

class ServedModel {
 public:
  virtual ~ServedModel() = default;
  virtual const ModelInfo& info() const = 0;
  // Tokens of `text` as the model sees it (before truncation), counting at most up to
  // `limit + 1`: over_limit says there are more than `limit`. Thread-safe.
  virtual TokenCount count_tokens(std::string_view text, std::size_t limit) const = 0;
  // /tokenize. Thread-safe.
  virtual std::vector<ApiToken> tokenize(std::string_view text, bool add_special_tokens) const = 0;
  // One prediction per text, in order; texts longer than max_input_length are truncated.
  // Called by the inference thread only.
  virtual std::vector<nn::Prediction> predict(std::span<const std::string> texts) = 0;
};

// A classifier whose inputs are BERT WordPiece tokens (DistilBERT): counts and /tokenize come
// from `tokenizer`, which must be the classifier's own. `info.labels` defaults to the
// classifier's labels.
std::unique_ptr<ServedModel> make_bert_model(std::unique_ptr<nn::SentimentClassifier> classifier,
                                             text::BertTokenizer tokenizer, ModelInfo info);

// DistilBERT (nn/distilbert_classifier.hpp), with its own tokenizer; max_input_length is the
// classifier's max_length(), `info.kind` "distilbert".
std::unique_ptr<ServedModel> make_distilbert_model(
    std::unique_ptr<nn::DistilBertClassifier> classifier, ModelInfo info = {});

// A classifier of words (the lexicon): tokens are its normalised words and punctuation
// (text/lexicon_tokenizer.hpp), without ids (there is no vocabulary) and without a length limit.
std::unique_ptr<ServedModel> make_word_model(std::unique_ptr<nn::SentimentClassifier> classifier,
                                             ModelInfo info = {});

}  // namespace tensorgraph::serve
