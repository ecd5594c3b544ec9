#include "tensorgraph/train/lexicon_trainer.hpp"

#include <cmath>

#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/text_input.hpp"

namespace tensorgraph::train {
namespace {

struct Data {
  std::vector<std::string> texts;
  std::vector<LabeledText> items;
};

Data tiny() {
  Data d;
  auto input = io::read_text_inputs(testing::test_data_path("lexicon/tiny_train.tsv").string());
  for (auto& r : input.records) d.texts.push_back(r.text);
  for (std::size_t i = 0; i < d.texts.size(); ++i)
    d.items.push_back({d.texts[i], *input.records[i].label == "1"});
  return d;
}

LexiconTrainingOptions small_options() {
  LexiconTrainingOptions o;
  o.min_count = 1;
  o.epochs = 60;
  o.batch_size = 4;
  o.learning_rate = 0.05;
  o.holdout = 0;
  return o;
}

double weight(const LexiconTrainingResult& r, const std::string& phrase) {
  for (const auto& e : r.entries)
    if (e.phrase == phrase) return e.score;
  ADD_FAILURE() << "no entry '" << phrase << "'";
  return 0;
}

TEST(LexiconTrainer, LearnsTheSignsOfAHandMadeSet) {
  const Data d = tiny();
  const auto r = train_lexicon(d.items, small_options());
  EXPECT_EQ(r.train.count, d.items.size());
  EXPECT_EQ(r.holdout.count, 0u);
  EXPECT_DOUBLE_EQ(r.train.accuracy, 1.0);
  EXPECT_LT(r.train.log_loss, 0.2);
  for (const char* w : {"joyful", "funny", "smart", "warm"}) EXPECT_GT(weight(r, w), 0.3) << w;
  for (const char* w : {"dreary", "dull", "clumsy"}) EXPECT_LT(weight(r, w), -0.3) << w;
  // Entries are sorted by phrase; bigrams are in the vocabulary.
  for (std::size_t i = 1; i < r.entries.size(); ++i)
    EXPECT_LT(r.entries[i - 1].phrase, r.entries[i].phrase);
  EXPECT_GT(r.vocabulary_bigrams, 0u);
}

TEST(LexiconTrainer, TheWrittenFileScoresAsTheModelDid) {
  const Data d = tiny();
  const auto r = train_lexicon(d.items, small_options());
  const std::string file = format_learned_lexicon(r, {"a header line", "", "command: x"});
  EXPECT_EQ(file.rfind("# a header line\n#\n# command: x\n@scale\t1\n@bias\t", 0), 0u) << file;
  const nn::Lexicon lexicon = nn::Lexicon::parse(file, "learned", "learned.tsv");
  EXPECT_EQ(lexicon.size(), r.entries.size());
  EXPECT_NEAR(lexicon.bias(), r.bias, 5e-5);
  std::size_t correct = 0;
  for (const auto& item : d.items) {
    const auto s = lexicon.score(item.text);
    correct += (s.score >= 0) == item.positive;
  }
  EXPECT_EQ(correct, d.items.size());
}

TEST(LexiconTrainer, Deterministic) {
  const Data d = tiny();
  auto o = small_options();
  o.holdout = 0.2;
  const auto a = train_lexicon(d.items, o);
  const auto b = train_lexicon(d.items, o);
  EXPECT_EQ(format_learned_lexicon(a, {}), format_learned_lexicon(b, {}));
  EXPECT_EQ(a.holdout.count, 4u);  // floor(22 * 0.2)
  o.seed = 2;
  const auto c = train_lexicon(d.items, o);
  EXPECT_NE(format_learned_lexicon(a, {}), format_learned_lexicon(c, {}));
}

TEST(LexiconTrainer, BadOptionsAndData) {
  const Data d = tiny();
  auto o = small_options();
  EXPECT_THROW(train_lexicon({}, o), Error);
  o.epochs = 0;
  EXPECT_THROW(train_lexicon(d.items, o), Error);
  o = small_options();
  o.holdout = 0.9;
  EXPECT_THROW(train_lexicon(d.items, o), Error);
  o = small_options();
  o.min_count = 1000;  // no word that frequent
  EXPECT_THROW(train_lexicon(d.items, o), Error);
  o = small_options();
  o.learning_rate = -1;
  EXPECT_THROW(train_lexicon(d.items, o), Error);
}

TEST(LexiconTrainer, Sst2Slice) {
  const auto path = testing::shared_path("data/sst2/train.tsv");
  TG_REQUIRE_SHARED_FILE(path);
  io::TextInputOptions in;
  in.limit = 3000;
  auto input = io::read_text_inputs(path.string(), in);
  std::vector<LabeledText> items;
  for (const auto& r : input.records) items.push_back({r.text, *r.label == "1"});
  LexiconTrainingOptions o;
  o.words = 2000;
  o.bigrams = 500;
  o.epochs = 3;
  const auto r = train_lexicon(items, o);
  EXPECT_EQ(r.train.count + r.holdout.count, 3000u);
  EXPECT_EQ(r.holdout.count, 150u);
  // Loose sanity bounds only (a real run is in benchmarks/RESULTS.md).
  EXPECT_GT(r.train.accuracy, 0.8);
  EXPECT_GT(r.holdout.accuracy, 0.6);
}

}  // namespace
}  // namespace tensorgraph::train
