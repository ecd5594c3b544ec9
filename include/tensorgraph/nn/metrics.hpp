#pragma once
// Metrics of a classifier on labelled texts, the one honest way `eval` measures every model.
//   accuracy         NEUTRAL answers count as wrong
//   binary_accuracy  NEUTRAL answers resolved to kNeutralTieLabel (fixed in advance, never chosen
//                    on the evaluation set)
//   per class        precision, recall, F1 of the answers as given (a NEUTRAL answer is a miss
//                    for recall and predicts no class); 0 when undefined (no prediction of the
//                    class, or no text of it), as scikit-learn's zero_division=0
//   macro_f1         the mean of the per-class F1
//   confusion        rows: gold labels; columns: the labels, then NEUTRAL
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tensorgraph::nn {

// NEUTRAL -> POSITIVE for binary_accuracy: POSITIVE is the majority class of SST-2's training
// split (37,569 of 67,349 texts), a rule fixed before any evaluation.
inline constexpr std::string_view kNeutralTieLabel = "POSITIVE";

struct ClassMetrics {
  std::string label;
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  std::int64_t support = 0;    // texts whose gold label is this class
  std::int64_t predicted = 0;  // texts answered with this class
};

struct EvaluationMetrics {
  std::vector<std::string> labels;                   // gold classes: the confusion rows
  std::vector<std::string> predicted_labels;         // the confusion columns: labels, then NEUTRAL
  std::vector<std::vector<std::int64_t>> confusion;  // [gold][predicted]
  std::int64_t count = 0;
  std::int64_t correct = 0;
  std::int64_t binary_correct = 0;
  std::int64_t neutral = 0;  // NEUTRAL answers
  double accuracy = 0;
  double binary_accuracy = 0;
  double macro_f1 = 0;
  std::vector<ClassMetrics> per_class;
  std::string tie_label;  // what NEUTRAL counts as in binary_accuracy
};

class MetricsAccumulator {
 public:
  // `tie_label` must be one of `labels`.
  explicit MetricsAccumulator(std::vector<std::string> labels,
                              std::string tie_label = std::string(kNeutralTieLabel));
  // `gold` indexes labels; `predicted` is one of labels or NEUTRAL.
  void add(std::size_t gold, std::string_view predicted);
  EvaluationMetrics result() const;

 private:
  std::vector<std::string> labels_;
  std::size_t tie_ = 0;
  std::vector<std::vector<std::int64_t>> confusion_;
};

// A gold label as written in a data file -> an index into `labels`: an integer i (0 and 1 are
// NEGATIVE and POSITIVE, as DistilBERT's id2label), or a label name, case-insensitive, with the
// short forms "pos" and "neg". nullopt when it is neither.
std::optional<std::size_t> resolve_label(std::string_view raw,
                                         const std::vector<std::string>& labels);

// {"count", "accuracy", "binary_accuracy", "neutral", "neutral_counts_as", "macro_f1",
//  "per_class": {LABEL: {"precision", "recall", "f1", "support", "predicted"}},
//  "confusion_matrix": {"rows", "columns", "counts"}}
nlohmann::json to_json(const EvaluationMetrics& metrics);

}  // namespace tensorgraph::nn
