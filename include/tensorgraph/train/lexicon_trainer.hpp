#pragma once
// Learning a lexicon: logistic regression over a word and bigram vocabulary, whose features are
// exactly what nn::Lexicon computes when it scores a text (longest-match phrases, negation,
// intensifiers, but-clauses, fallbacks), so the written file scores texts as the model did in
// training. Weights are half-logits: the lexicon's P(POSITIVE) = (1 + tanh(s)) / 2 = sigmoid(2s).
//
// Deterministic: the same data and options give the same weights (one thread, a portable
// random generator, a fixed order of operations).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tensorgraph/nn/lexicon.hpp"

namespace tensorgraph::train {

struct LexiconTrainingOptions {
  std::size_t words = 10000;   // unigram vocabulary: the most frequent words of the training part
  std::size_t bigrams = 5000;  // bigram vocabulary: the most frequent word pairs
  std::size_t min_count = 2;   // a vocabulary entry occurs at least this often
  int epochs = 5;
  std::size_t batch_size = 32;
  double learning_rate = 0.01;  // Adam
  double l2 = 0;                // L2 penalty on the weights (not the bias), per example
  double holdout = 0.05;        // fraction held out (never trained on) to report metrics on
  std::uint64_t seed = 1;       // the split and the order of examples
};

struct LabeledText {
  std::string_view text;
  bool positive = false;
};

// Metrics of the learned lexicon as `eval` computes binary_accuracy (NEUTRAL -> POSITIVE).
struct SplitMetrics {
  std::size_t count = 0;
  double accuracy = 0;
  double log_loss = 0;  // of P(POSITIVE) = sigmoid(2s); 0.5 for texts without evidence
};

struct LexiconTrainingResult {
  std::vector<nn::LexiconEntry> entries;  // phrase -> half-logit weight, sorted by phrase
  double bias = 0;
  std::size_t vocabulary_words = 0;
  std::size_t vocabulary_bigrams = 0;
  std::size_t without_features = 0;  // training texts with no vocabulary word (not trained on)
  SplitMetrics train;
  SplitMetrics holdout;
};

// Called after every batch: epoch (1-based), batches done in it, batches per epoch, mean loss of
// the epoch so far.
using LexiconTrainingProgress =
    std::function<void(int epoch, std::size_t done, std::size_t total, double loss)>;

LexiconTrainingResult train_lexicon(const std::vector<LabeledText>& data,
                                    const LexiconTrainingOptions& options,
                                    const LexiconTrainingProgress& progress = {});

// The lexicon file: `header` lines as "# " comments, then "@scale\t1", "@bias\tB" and one
// "phrase\tweight" line per entry (weights with 4 decimals).
std::string format_learned_lexicon(const LexiconTrainingResult& result,
                                   const std::vector<std::string>& header);

}  // namespace tensorgraph::train
