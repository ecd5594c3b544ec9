#include "tensorgraph/nn/metrics.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::nn {
namespace {

const std::vector<std::string> kLabels = {"NEGATIVE", "POSITIVE"};

// Gold NEGATIVE: 3 answered NEGATIVE, 1 POSITIVE, 1 NEUTRAL.
// Gold POSITIVE: 1 answered NEGATIVE, 2 POSITIVE, 2 NEUTRAL.
MetricsAccumulator hand_made(std::string tie = "POSITIVE") {
  MetricsAccumulator m(kLabels, std::move(tie));
  for (int k = 0; k < 3; ++k) m.add(0, "NEGATIVE");
  m.add(0, "POSITIVE");
  m.add(0, "NEUTRAL");
  m.add(1, "NEGATIVE");
  for (int k = 0; k < 2; ++k) m.add(1, "POSITIVE");
  for (int k = 0; k < 2; ++k) m.add(1, "NEUTRAL");
  return m;
}

TEST(Metrics, HandComputedConfusion) {
  const EvaluationMetrics m = hand_made().result();
  EXPECT_EQ(m.count, 10);
  EXPECT_EQ(m.correct, 5);
  EXPECT_EQ(m.neutral, 3);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
  // NEUTRAL -> POSITIVE: the 2 gold-POSITIVE NEUTRAL answers become right.
  EXPECT_EQ(m.binary_correct, 7);
  EXPECT_DOUBLE_EQ(m.binary_accuracy, 0.7);
  EXPECT_EQ(m.tie_label, "POSITIVE");
  EXPECT_EQ(m.predicted_labels, (std::vector<std::string>{"NEGATIVE", "POSITIVE", "NEUTRAL"}));
  EXPECT_EQ(m.confusion, (std::vector<std::vector<std::int64_t>>{{3, 1, 1}, {1, 2, 2}}));
  ASSERT_EQ(m.per_class.size(), 2u);
  // NEGATIVE: precision 3/4, recall 3/5, F1 2PR/(P+R) = 2/3.
  EXPECT_EQ(m.per_class[0].label, "NEGATIVE");
  EXPECT_DOUBLE_EQ(m.per_class[0].precision, 0.75);
  EXPECT_DOUBLE_EQ(m.per_class[0].recall, 0.6);
  EXPECT_NEAR(m.per_class[0].f1, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(m.per_class[0].support, 5);
  EXPECT_EQ(m.per_class[0].predicted, 4);
  // POSITIVE: precision 2/3, recall 2/5, F1 = 0.5.
  EXPECT_NEAR(m.per_class[1].precision, 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(m.per_class[1].recall, 0.4);
  EXPECT_NEAR(m.per_class[1].f1, 0.5, 1e-12);
  EXPECT_NEAR(m.macro_f1, (2.0 / 3.0 + 0.5) / 2, 1e-12);
}

TEST(Metrics, TieRuleIsAParameter) {
  const EvaluationMetrics m = hand_made("NEGATIVE").result();
  EXPECT_EQ(m.binary_correct, 6);  // the 1 gold-NEGATIVE NEUTRAL answer
  EXPECT_DOUBLE_EQ(m.binary_accuracy, 0.6);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);  // unchanged
}

TEST(Metrics, UndefinedRatiosAreZero) {
  MetricsAccumulator acc(kLabels);
  acc.add(1, "POSITIVE");
  acc.add(1, "NEUTRAL");
  const EvaluationMetrics m = acc.result();
  // No NEGATIVE text and no NEGATIVE answer: precision, recall and F1 are 0, not NaN.
  EXPECT_EQ(m.per_class[0].precision, 0.0);
  EXPECT_EQ(m.per_class[0].recall, 0.0);
  EXPECT_EQ(m.per_class[0].f1, 0.0);
  EXPECT_DOUBLE_EQ(m.per_class[1].precision, 1.0);
  EXPECT_DOUBLE_EQ(m.per_class[1].recall, 0.5);
  EXPECT_NEAR(m.macro_f1, (0 + 2.0 / 3.0) / 2, 1e-12);
  const EvaluationMetrics empty = MetricsAccumulator(kLabels).result();
  EXPECT_EQ(empty.count, 0);
  EXPECT_EQ(empty.accuracy, 0.0);
}

TEST(Metrics, BadInput) {
  MetricsAccumulator acc(kLabels);
  EXPECT_THROW(acc.add(2, "POSITIVE"), Error);
  EXPECT_THROW(acc.add(0, "MIXED"), Error);
  EXPECT_THROW(MetricsAccumulator(kLabels, "NEUTRAL"), Error);
  EXPECT_THROW(MetricsAccumulator({}), Error);
}

TEST(Metrics, ResolveLabel) {
  EXPECT_EQ(resolve_label("0", kLabels), 0u);
  EXPECT_EQ(resolve_label("1", kLabels), 1u);
  EXPECT_EQ(resolve_label("POSITIVE", kLabels), 1u);
  EXPECT_EQ(resolve_label("negative", kLabels), 0u);
  EXPECT_EQ(resolve_label("Pos", kLabels), 1u);
  EXPECT_EQ(resolve_label("NEG", kLabels), 0u);
  EXPECT_FALSE(resolve_label("2", kLabels));
  EXPECT_FALSE(resolve_label("-1", kLabels));
  EXPECT_FALSE(resolve_label("1.0", kLabels));
  EXPECT_FALSE(resolve_label("neutral", kLabels));
  EXPECT_FALSE(resolve_label("", kLabels));
}

TEST(Metrics, Json) {
  const nlohmann::json j = to_json(hand_made().result());
  EXPECT_EQ(j["count"], 10);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["binary_accuracy"].get<double>(), 0.7);
  EXPECT_EQ(j["neutral"], 3);
  EXPECT_EQ(j["neutral_counts_as"], "POSITIVE");
  EXPECT_DOUBLE_EQ(j["per_class"]["NEGATIVE"]["precision"].get<double>(), 0.75);
  EXPECT_EQ(j["per_class"]["POSITIVE"]["support"], 5);
  EXPECT_EQ(j["confusion_matrix"]["counts"], nlohmann::json::parse("[[3,1,1],[1,2,2]]"));
  EXPECT_EQ(j["confusion_matrix"]["columns"][2], "NEUTRAL");
}

}  // namespace
}  // namespace tensorgraph::nn
