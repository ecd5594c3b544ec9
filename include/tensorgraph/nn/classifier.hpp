#pragma once
// The interface every sentiment model implements (the lexicon baseline, DistilBERT), so that the
// CLI (`classify`, `eval`) and the HTTP service use any of them the same way.
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tensorgraph::nn {

// The label a classifier answers when it has no evidence either way (the lexicon on a text with
// no sentiment word). It is never one of labels(); see Prediction.
inline constexpr std::string_view kNeutralLabel = "NEUTRAL";

struct Prediction {
  // One of labels(), or kNeutralLabel when the model abstains (then every probability is equal).
  std::string label;
  // The probability of `label` (for NEUTRAL: the probability of each label, 1 / labels().size()).
  float score = 0;
  // Per label, in labels() order; they sum to 1.
  std::vector<float> probabilities;
  // Raw per-label scores, in labels() order, such that probabilities = softmax(logits): the
  // logits of a neural model, [-s, s] for a lexicon score s (nn/lexicon.hpp).
  std::vector<float> logits;
  // The text was longer than the model's input and was cut (neural models; never the lexicon).
  bool truncated = false;
};

class SentimentClassifier {
 public:
  virtual ~SentimentClassifier() = default;

  // One prediction per text, in order. Texts must be valid UTF-8 (the readers check it). A
  // classifier may batch the texts internally; calls on one object must not overlap unless the
  // implementation says it is thread-safe.
  virtual std::vector<Prediction> classify(std::span<const std::string> texts) = 0;

  // The classes, in the order of Prediction::probabilities and ::logits (e.g. NEGATIVE, POSITIVE
  // as DistilBERT's id2label 0 and 1).
  virtual const std::vector<std::string>& labels() const = 0;

  // Short model identifier for machine-readable output ("lexicon:mvp", "distilbert-...").
  virtual std::string name() const = 0;
  // One line for humans: what the model is and where it came from.
  virtual std::string description() const = 0;

  // Convenience: classify({text})[0].
  Prediction classify_one(const std::string& text);
};

// Fills label, score and probabilities of `p` from `p.logits` (softmax, numerically stable);
// `abstain` makes the label kNeutralLabel. Shared by the implementations.
void finish_prediction(Prediction& p, const std::vector<std::string>& labels, bool abstain = false);

}  // namespace tensorgraph::nn
