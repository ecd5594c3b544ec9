#include "tensorgraph/nn/lexicon.hpp"

#include <cmath>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/alloc_counter.hpp"
#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::nn {
namespace {

using tensorgraph::testing::shared_path;
using tensorgraph::testing::test_data_path;

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

double score_of(const Lexicon& lex, const std::string& text) {
  return lex.score(text).score;
}

// ---- the built-in lexicon ----------------------------------------------------------------------

TEST(Lexicon, BuiltinEqualsTheCommittedFile) {
  const auto path = tensorgraph::testing::source_dir() / "data/lexicon/mvp.txt";
  ASSERT_TRUE(std::filesystem::exists(path)) << path;
  EXPECT_EQ(Lexicon::builtin_text(), read_file(path))
      << "src/nn/lexicon_mvp.cpp and data/lexicon/mvp.txt differ: edit both together";
}

TEST(Lexicon, BuiltinIsSmallAndInRange) {
  const Lexicon lex = Lexicon::builtin();
  EXPECT_EQ(lex.name(), "mvp");
  EXPECT_GE(lex.size(), 25u);
  EXPECT_LE(lex.size(), 45u);
  EXPECT_EQ(lex.scale(), 1.0);
  for (std::uint32_t i = 0; i < lex.entry_count(); ++i) {
    if (!lex.entry_scored(i)) continue;
    EXPECT_GE(lex.entry_score(i), -1.0) << lex.entry_phrase(i);
    EXPECT_LE(lex.entry_score(i), 1.0) << lex.entry_phrase(i);
  }
  EXPECT_DOUBLE_EQ(*lex.find("Fantastic"), 0.9f);
  EXPECT_FALSE(lex.find("not").has_value());  // a rule word, not an entry
}

// ---- rules, with hand-computed scores (MVP: good 0.5, boring -0.6, fantastic 0.9, love 0.8) -----

TEST(Lexicon, SingleWords) {
  const Lexicon lex = Lexicon::builtin();
  EXPECT_NEAR(score_of(lex, "This movie was fantastic!"), 0.9, 1e-6);
  EXPECT_NEAR(score_of(lex, "good bad"), 0.5 - 0.6, 1e-6);
  const auto s = lex.score("good and boring");
  EXPECT_EQ(s.matches, 2u);
  EXPECT_NEAR(s.positive, 0.5, 1e-6);
  EXPECT_NEAR(s.negative, -0.6, 1e-6);
}

TEST(Lexicon, Negation) {
  const Lexicon lex = Lexicon::builtin();
  EXPECT_NEAR(score_of(lex, "not good at all"), 0.5 * kNegation, 1e-6);
  EXPECT_NEAR(score_of(lex, "I didn't love it"), 0.8 * kNegation, 1e-6);
  EXPECT_NEAR(score_of(lex, "i did n't love it"), 0.8 * kNegation, 1e-6);  // SST-2 style
  EXPECT_NEAR(score_of(lex, "I dont love it"), 0.8 * kNegation, 1e-6);
  EXPECT_NEAR(score_of(lex, "never boring"), -0.6 * kNegation, 1e-6);
  // The scope is 3 words ...
  EXPECT_NEAR(score_of(lex, "not a very good film"), 0.5 * 1.5 * kNegation, 1e-6);
  EXPECT_NEAR(score_of(lex, "not what I would call good"), 0.5, 1e-6);
  // ... and ends at clause punctuation.
  EXPECT_NEAR(score_of(lex, "Not now. Good!"), 0.5, 1e-6);
  EXPECT_NEAR(score_of(lex, "not bad, good"), -0.6 * kNegation + 0.5, 1e-6);
}

TEST(Lexicon, Intensifiers) {
  const Lexicon lex = Lexicon::builtin();
  EXPECT_NEAR(score_of(lex, "very good"), 0.5 * kIntensifier, 1e-6);
  EXPECT_NEAR(score_of(lex, "REALLY very good"), 0.5 * kIntensifier * kIntensifier, 1e-6);
  EXPECT_NEAR(score_of(lex, "extremely, good"), 0.5, 1e-6);  // punctuation ends it
  EXPECT_NEAR(score_of(lex, "slightly boring"), -0.6 * kDiminisher, 1e-6);
  // The window is 2 words: "very much a" ... good is the 3rd word after "very".
  EXPECT_NEAR(score_of(lex, "very much a good"), 0.5, 1e-6);
  EXPECT_NEAR(score_of(lex, "very very very very very good"), 0.5 * kMaxModifier, 1e-6);
}

TEST(Lexicon, ButClause) {
  const Lexicon lex = Lexicon::builtin();
  EXPECT_NEAR(score_of(lex, "good but boring"), 0.5 * kBeforeContrast - 0.6 * kAfterContrast, 1e-6);
  EXPECT_LT(score_of(lex, "good but boring"), 0);
  EXPECT_NEAR(score_of(lex, "boring but good"), -0.6 * kBeforeContrast + 0.5 * kAfterContrast,
              1e-6);
  EXPECT_GT(score_of(lex, "boring but good"), 0);
  EXPECT_NEAR(score_of(lex, "The plot is fantastic. However, the acting is bad."),
              0.9 * kBeforeContrast - 0.6 * kAfterContrast, 1e-6);
  // "but" also ends a negation scope.
  EXPECT_NEAR(score_of(lex, "not long but good"), 0.5 * kAfterContrast, 1e-6);
}

TEST(Lexicon, PhrasesMatchLongestFirst) {
  const Lexicon lex = Lexicon::builtin();
  EXPECT_NEAR(score_of(lex, "Terrible product, waste of money."), -0.9 - 0.9, 1e-6);
  EXPECT_NEAR(score_of(lex, "a waste"), -0.7, 1e-6);
  EXPECT_NEAR(score_of(lex, "waste of"), -0.7, 1e-6);
  EXPECT_NEAR(score_of(lex, "waste, of money"), -0.7, 1e-6);  // not across punctuation
  const auto m = lex.explain("not a waste of time");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].phrase, "waste of time");
  EXPECT_NEAR(m[0].weight, kNegation, 1e-6);
  EXPECT_NEAR(m[0].contribution, -0.9 * kNegation, 1e-6);
}

TEST(Lexicon, UnicodeAndCase) {
  const Lexicon lex = Lexicon::builtin();
  EXPECT_NEAR(score_of(lex, "FANTÁSTIC \U0001F60D"), 0.9, 1e-6);
  EXPECT_NEAR(score_of(lex, "ｇｏｏｄ"), 0.5, 1e-6);  // full-width letters
  EXPECT_NEAR(score_of(lex, "Isn\u2019t good"), 0.5 * kNegation, 1e-6);
}

// ---- the classifier ----------------------------------------------------------------------------

TEST(LexiconClassifier, LabelsScoresAndLogits) {
  LexiconClassifier c(Lexicon::builtin());
  EXPECT_EQ(c.labels(), (std::vector<std::string>{"NEGATIVE", "POSITIVE"}));
  EXPECT_EQ(c.name(), "lexicon:mvp");

  const Prediction pos = c.classify_one("This movie was fantastic!");
  EXPECT_EQ(pos.label, "POSITIVE");
  const double p = 0.5 * (1 + std::tanh(0.9));  // = sigmoid(1.8)
  EXPECT_NEAR(pos.score, p, 1e-6);
  EXPECT_NEAR(p, 1 / (1 + std::exp(-1.8)), 1e-12);
  ASSERT_EQ(pos.probabilities.size(), 2u);
  EXPECT_NEAR(pos.probabilities[0], 1 - p, 1e-6);
  EXPECT_NEAR(pos.probabilities[1], p, 1e-6);
  EXPECT_EQ(pos.logits, (std::vector<float>{-0.9f, 0.9f}));
  EXPECT_FALSE(pos.truncated);

  const Prediction neg = c.classify_one("not good at all");
  EXPECT_EQ(neg.label, "NEGATIVE");
  EXPECT_NEAR(neg.score, 1 / (1 + std::exp(-0.75)), 1e-6);
}

TEST(LexiconClassifier, NoEvidenceIsNeutral) {
  LexiconClassifier c(Lexicon::builtin());
  for (const std::string text : {"", "   ", "The cat sat on the mat.", "not very", "!!!"}) {
    const Prediction p = c.classify_one(text);
    EXPECT_EQ(p.label, "NEUTRAL") << text;
    EXPECT_FLOAT_EQ(p.score, 0.5f);
    EXPECT_EQ(p.probabilities, (std::vector<float>{0.5f, 0.5f}));
    EXPECT_EQ(p.logits, (std::vector<float>{0.0f, 0.0f}));
  }
  // Evidence that cancels exactly is no evidence either.
  EXPECT_EQ(c.classify_one("good. mess.").label, "NEUTRAL");
}

TEST(LexiconClassifier, BatchKeepsOrder) {
  LexiconClassifier c(Lexicon::builtin());
  const std::vector<std::string> texts = {"awful", "great", "table", "not awful"};
  const auto out = c.classify(texts);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].label, "NEGATIVE");
  EXPECT_EQ(out[1].label, "POSITIVE");
  EXPECT_EQ(out[2].label, "NEUTRAL");
  EXPECT_EQ(out[3].label, "POSITIVE");
}

TEST(LexiconClassifier, WarmScratchDoesNotAllocate) {
  const Lexicon lex = Lexicon::builtin();
  LexiconScratch scratch;
  const std::string text = "It wasn't very good, but the ending is really fantastic and fun!";
  const double expected = lex.score(text, scratch).score;
  testing::AllocationCounter counter;
  double s = 0;
  for (int k = 0; k < 20; ++k) s += lex.score(text, scratch).score;
  EXPECT_EQ(counter.count(), 0u);
  EXPECT_NEAR(s, 20 * expected, 1e-9);
}

// ---- files -------------------------------------------------------------------------------------

TEST(LexiconFile, AfinnFormatIsScaledAndMatchesPhrases) {
  // marvellous 5, decent 2, meh -1, rubbish -4, "does not work" -4, "can't stand" -4,
  // "not bad" 2, ":)" 2 (hand-written, in AFINN's format)
  const Lexicon lex = Lexicon::load(test_data_path("lexicon/afinn_format.txt"));
  EXPECT_EQ(lex.name(), "afinn_format");
  EXPECT_EQ(lex.scale(), 5.0);
  EXPECT_EQ(lex.size(), 7u);
  EXPECT_EQ(lex.skipped_entries(), 1u);  // ":)"
  EXPECT_NEAR(*lex.find("marvellous"), 1.0, 1e-6);
  EXPECT_NEAR(*lex.find("decent"), 0.4, 1e-6);
  // A multi-word entry is one unit: its "not" negates nothing.
  EXPECT_NEAR(score_of(lex, "It does not work."), -0.8, 1e-6);
  EXPECT_NEAR(score_of(lex, "It DOES NOT WORK, rubbish"), -0.8 - 0.8, 1e-6);
  // "can't stand" matches every spelling of the contraction.
  EXPECT_NEAR(score_of(lex, "I can't stand it"), -0.8, 1e-6);
  EXPECT_NEAR(score_of(lex, "i ca n't stand it"), -0.8, 1e-6);
  EXPECT_NEAR(score_of(lex, "I cant stand it"), -0.8, 1e-6);
  // "not bad" is an entry; "not decent" uses the negation rule.
  EXPECT_NEAR(score_of(lex, "not bad"), 0.4, 1e-6);
  EXPECT_NEAR(score_of(lex, "not decent"), 0.4 * kNegation, 1e-6);
}

TEST(LexiconFile, LearnedFormatWithBias) {
  const Lexicon lex = Lexicon::load(test_data_path("lexicon/learned_format.txt"));
  EXPECT_EQ(lex.scale(), 1.0);
  EXPECT_EQ(lex.bias(), 0.25);
  EXPECT_NEAR(score_of(lex, "good"), 1.5 + 0.25, 1e-6);
  EXPECT_NEAR(score_of(lex, "not good"), -2 + 0.25, 1e-6);
  EXPECT_NEAR(score_of(lex, "bad but good"), -1.25 * 0.5 + 1.5 * 1.5 + 0.25, 1e-6);
  // No evidence: the bias alone is not evidence.
  const auto s = lex.score("the table");
  EXPECT_EQ(s.score, 0.0);
  EXPECT_FALSE(s.has_evidence());
}

TEST(LexiconFile, Errors) {
  EXPECT_EQ(error_of([] { Lexicon::load(test_data_path("lexicon/missing.txt")); }),
            test_data_path("lexicon/missing.txt").string() + ": no such lexicon file");
  EXPECT_EQ(error_of([] { Lexicon::load(test_data_path("lexicon")); }),
            test_data_path("lexicon").string() + ": is a directory, expected a lexicon file");
  const std::string bad = test_data_path("lexicon/bad_score.txt").string();
  EXPECT_EQ(error_of([] { Lexicon::load(test_data_path("lexicon/bad_score.txt")); }),
            bad + ":3: bad score 'minus-one' for 'bad' (expected a number)");
  const std::string utf8 = test_data_path("lexicon/invalid_utf8.txt").string();
  EXPECT_EQ(error_of([] { Lexicon::load(test_data_path("lexicon/invalid_utf8.txt")); }),
            utf8 + ":2: invalid UTF-8 at byte 3 of the line");
  const std::string dup = test_data_path("lexicon/duplicate.txt").string();
  EXPECT_EQ(error_of([] { Lexicon::load(test_data_path("lexicon/duplicate.txt")); }),
            dup + ":2: 'good' is already defined on line 1 with another score");

  EXPECT_EQ(error_of([] { Lexicon::parse("good\n", "x", "x.txt"); }),
            "x.txt:1: expected 'word<TAB>score' or 'word score', got 'good'");
  EXPECT_EQ(error_of([] { Lexicon::parse("good nan\n", "x", "x.txt"); }),
            "x.txt:1: bad score 'nan' for 'good' (expected a number)");
  EXPECT_EQ(error_of([] { Lexicon::parse("@scale 0\n", "x", "x.txt"); }),
            "x.txt:1: @scale must be positive, got 0");
  EXPECT_EQ(error_of([] { Lexicon::parse("@temperature 2\n", "x", "x.txt"); }),
            "x.txt:1: unknown directive '@temperature' (known: @scale, @bias)");
  EXPECT_EQ(error_of([] { Lexicon::parse("a b c d e f g\t1\n", "x", "x.txt"); }),
            "x.txt:1: 'a b c d e f g' has 7 words; at most 6 are supported");
  // Same phrase with the same score twice (AFINN has "naive" and "naïve"): fine.
  EXPECT_EQ(Lexicon::parse("naive\t-2\nnaïve\t-2\n", "x", "x.txt").size(), 1u);
  // A truncated last line without newline still parses.
  EXPECT_EQ(Lexicon::parse("good 0.5\r\nbad -0.5", "x", "x.txt").size(), 2u);
}

TEST(LexiconFile, RealAfinn165) {
  const auto path = shared_path("data/afinn/AFINN-en-165.txt");
  TG_REQUIRE_SHARED_FILE(path);
  const Lexicon lex = Lexicon::load(path);
  EXPECT_EQ(lex.scale(), 5.0);
  // 3,382 lines; "naive" and "naïve" are one entry after accent folding.
  EXPECT_EQ(lex.size() + lex.skipped_entries(), 3381u);
  EXPECT_NEAR(*lex.find("does not work"), -0.6, 1e-6);
  EXPECT_NEAR(*lex.find("good"), 0.6, 1e-6);
  EXPECT_NEAR(score_of(lex, "This does not work"), -0.6, 1e-6);
  EXPECT_NEAR(score_of(lex, "I don't like it"), -0.4, 1e-6);  // "dont like" entry
  LexiconClassifier c(lex);
  EXPECT_EQ(c.classify_one("This movie was fantastic!").label, "POSITIVE");
  EXPECT_EQ(c.classify_one("not good at all").label, "NEGATIVE");
}

}  // namespace
}  // namespace tensorgraph::nn
