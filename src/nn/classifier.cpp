#include "tensorgraph/nn/classifier.hpp"

#include <algorithm>
#include <cmath>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::nn {

Prediction SentimentClassifier::classify_one(const std::string& text) {
  auto predictions = classify(std::span<const std::string>(&text, 1));
  TG_CHECK(predictions.size() == 1, "{}: expected 1 prediction, got {}", name(),
           predictions.size());
  return std::move(predictions.front());
}

void finish_prediction(Prediction& p, const std::vector<std::string>& labels, bool abstain) {
  TG_CHECK(p.logits.size() == labels.size() && !labels.empty(),
           "prediction has {} logits for {} labels", p.logits.size(), labels.size());
  const float top = *std::max_element(p.logits.begin(), p.logits.end());
  p.probabilities.resize(p.logits.size());
  double sum = 0;
  for (std::size_t i = 0; i < p.logits.size(); ++i) {
    const double e = std::exp(static_cast<double>(p.logits[i]) - top);
    p.probabilities[i] = static_cast<float>(e);
    sum += e;
  }
  std::size_t best = 0;
  for (std::size_t i = 0; i < p.probabilities.size(); ++i) {
    p.probabilities[i] = static_cast<float>(p.probabilities[i] / sum);
    if (p.probabilities[i] > p.probabilities[best]) best = i;
  }
  if (abstain) {
    p.label = std::string(kNeutralLabel);
    p.score = 1.0f / static_cast<float>(labels.size());
  } else {
    p.label = labels[best];
    p.score = p.probabilities[best];
  }
}

}  // namespace tensorgraph::nn
