#include "tensorgraph/nn/metrics.hpp"

#include <algorithm>
#include <charconv>

#include <nlohmann/json.hpp>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/nn/classifier.hpp"

namespace tensorgraph::nn {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

double ratio(std::int64_t a, std::int64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

}  // namespace

MetricsAccumulator::MetricsAccumulator(std::vector<std::string> labels, std::string tie_label)
    : labels_(std::move(labels)) {
  TG_CHECK(!labels_.empty(), "metrics need at least one label");
  const auto it = std::find(labels_.begin(), labels_.end(), tie_label);
  TG_CHECK(it != labels_.end(), "the NEUTRAL tie label '{}' is not one of the model's labels",
           tie_label);
  tie_ = static_cast<std::size_t>(it - labels_.begin());
  confusion_.assign(labels_.size(), std::vector<std::int64_t>(labels_.size() + 1, 0));
}

void MetricsAccumulator::add(std::size_t gold, std::string_view predicted) {
  TG_CHECK(gold < labels_.size(), "gold label index {} out of range ({} labels)", gold,
           labels_.size());
  std::size_t column = labels_.size();  // NEUTRAL
  if (predicted != kNeutralLabel) {
    const auto it = std::find(labels_.begin(), labels_.end(), predicted);
    TG_CHECK(it != labels_.end(), "predicted label '{}' is not one of the model's labels",
             predicted);
    column = static_cast<std::size_t>(it - labels_.begin());
  }
  ++confusion_[gold][column];
}

EvaluationMetrics MetricsAccumulator::result() const {
  EvaluationMetrics m;
  const std::size_t k = labels_.size();
  m.labels = labels_;
  m.predicted_labels = labels_;
  m.predicted_labels.emplace_back(kNeutralLabel);
  m.confusion = confusion_;
  m.tie_label = labels_[tie_];
  for (std::size_t g = 0; g < k; ++g) {
    for (std::size_t p = 0; p <= k; ++p) m.count += confusion_[g][p];
    m.correct += confusion_[g][g];
    m.neutral += confusion_[g][k];
  }
  m.binary_correct = m.correct + confusion_[tie_][k];
  m.accuracy = ratio(m.correct, m.count);
  m.binary_accuracy = ratio(m.binary_correct, m.count);
  for (std::size_t c = 0; c < k; ++c) {
    ClassMetrics cm;
    cm.label = labels_[c];
    for (std::size_t p = 0; p <= k; ++p) cm.support += confusion_[c][p];
    for (std::size_t g = 0; g < k; ++g) cm.predicted += confusion_[g][c];
    cm.precision = ratio(confusion_[c][c], cm.predicted);
    cm.recall = ratio(confusion_[c][c], cm.support);
    cm.f1 = cm.precision + cm.recall > 0 ? 2 * cm.precision * cm.recall / (cm.precision + cm.recall)
                                         : 0.0;
    m.macro_f1 += cm.f1 / static_cast<double>(k);
    m.per_class.push_back(std::move(cm));
  }
  return m;
}

std::optional<std::size_t> resolve_label(std::string_view raw,
                                         const std::vector<std::string>& labels) {
  if (raw.empty()) return std::nullopt;
  std::int64_t index = -1;
  const auto [ptr, ec] = std::from_chars(raw.data(), raw.data() + raw.size(), index);
  if (ec == std::errc() && ptr == raw.data() + raw.size())
    return index >= 0 && static_cast<std::size_t>(index) < labels.size()
               ? std::optional<std::size_t>(static_cast<std::size_t>(index))
               : std::nullopt;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (iequals(raw, labels[i])) return i;
    if (iequals(labels[i], "POSITIVE") && iequals(raw, "pos")) return i;
    if (iequals(labels[i], "NEGATIVE") && iequals(raw, "neg")) return i;
  }
  return std::nullopt;
}

nlohmann::json to_json(const EvaluationMetrics& m) {
  nlohmann::json j;
  j["count"] = m.count;
  j["accuracy"] = m.accuracy;
  j["binary_accuracy"] = m.binary_accuracy;
  j["neutral"] = m.neutral;
  j["neutral_counts_as"] = m.tie_label;
  j["macro_f1"] = m.macro_f1;
  nlohmann::json per_class = nlohmann::json::object();
  for (const auto& c : m.per_class)
    per_class[c.label] = {{"precision", c.precision},
                          {"recall", c.recall},
                          {"f1", c.f1},
                          {"support", c.support},
                          {"predicted", c.predicted}};
  j["per_class"] = per_class;
  j["confusion_matrix"] = {
      {"rows", m.labels}, {"columns", m.predicted_labels}, {"counts", m.confusion}};
  return j;
}

}  // namespace tensorgraph::nn
