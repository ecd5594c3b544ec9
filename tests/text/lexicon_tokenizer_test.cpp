#include "tensorgraph/text/lexicon_tokenizer.hpp"

#include <gtest/gtest.h>

#include "support/alloc_counter.hpp"

namespace tensorgraph::text {
namespace {

using Words = std::vector<std::string>;

TEST(LexiconTokenizer, LowerCasesAndSplitsPunctuation) {
  EXPECT_EQ(split_lexicon_words("This movie was FANTASTIC!"),
            (Words{"this", "movie", "was", "fantastic", "!"}));
  EXPECT_EQ(split_lexicon_words("  good,bad;ok...  "),
            (Words{"good", ",", "bad", ";", "ok", ".", ".", "."}));
  EXPECT_EQ(split_lexicon_words(""), Words{});
  EXPECT_EQ(split_lexicon_words(" \t\r\n "), Words{});
}

TEST(LexiconTokenizer, ContractionsAsPennTreebank) {
  EXPECT_EQ(split_lexicon_words("I didn't like it"), (Words{"i", "did", "n't", "like", "it"}));
  EXPECT_EQ(split_lexicon_words("can't won't isn't"),
            (Words{"ca", "n't", "wo", "n't", "is", "n't"}));
  EXPECT_EQ(split_lexicon_words("it's you're I'm we'll they've she'd"),
            (Words{"it", "'s", "you", "'re", "i", "'m", "we", "'ll", "they", "'ve", "she", "'d"}));
  // SST-2 is already split this way: the same tokens come out.
  EXPECT_EQ(split_lexicon_words("it 's not that it does n't ca n't"),
            (Words{"it", "'s", "not", "that", "it", "does", "n't", "ca", "n't"}));
  // Without the apostrophe, as reviews often write.
  EXPECT_EQ(split_lexicon_words("dont DIDNT cant"),
            (Words{"do", "n't", "did", "n't", "ca", "n't"}));
  EXPECT_EQ(split_lexicon_words("cannot"), (Words{"can", "not"}));
  // Typographic apostrophe.
  EXPECT_EQ(split_lexicon_words("didn\u2019t"), (Words{"did", "n't"}));
  // Apostrophes that are not contractions stay in the word; quotes are tokens of their own.
  EXPECT_EQ(split_lexicon_words("o'clock 'quoted'"), (Words{"o'clock", "'", "quoted", "'"}));
  EXPECT_EQ(split_lexicon_words("`` great ''"), (Words{"`", "`", "great", "'", "'"}));
}

TEST(LexiconTokenizer, HyphensAndNumbers) {
  EXPECT_EQ(
      split_lexicon_words("well-made, slow-moving -- 3.5 stars, 1,000 fans"),
      (Words{"well-made", ",", "slow-moving", "-", "-", "3.5", "stars", ",", "1,000", "fans"}));
  EXPECT_EQ(split_lexicon_words("end. Next"), (Words{"end", ".", "next"}));
}

TEST(LexiconTokenizer, UnicodeLowerCaseAndAccents) {
  EXPECT_EQ(split_lexicon_words("Naïve CAFÉ Ångström"), (Words{"naive", "cafe", "angstrom"}));
  // Decomposed input (e + combining acute) gives the same word.
  EXPECT_EQ(split_lexicon_words("cafe\u0301"), (Words{"cafe"}));
  EXPECT_EQ(split_lexicon_words("ÜBER straße ΑΘΗΝΑ"), (Words{"uber", "straße", "αθηνα"}));
  // Compatibility forms: full-width letters, ligatures.
  EXPECT_EQ(split_lexicon_words("ＧＯＯＤ ﬁne"), (Words{"good", "fine"}));
  // Marks of other scripts are kept (Devanagari vowel signs).
  EXPECT_EQ(split_lexicon_words("नमस्ते"), (Words{"नमस्ते"}));
  // Unicode punctuation and spaces.
  EXPECT_EQ(split_lexicon_words("good\u2026bad\u00A0ok\u3002"),
            (Words{"good", "\u2026", "bad", "ok", "\u3002"}));
  EXPECT_EQ(split_lexicon_words("love \U0001F60D it"), (Words{"love", "\U0001F60D", "it"}));
}

TEST(LexiconTokenizer, KindsAndSpans) {
  LexTokens t;
  split_lexicon_words("Not good, \"really\" bad", t);
  ASSERT_EQ(t.size(), 7u);
  EXPECT_EQ(t.text, "not good , \" really \" bad");
  EXPECT_EQ(t.tokens[0].kind, LexTokenKind::Word);
  EXPECT_EQ(t.tokens[2].kind, LexTokenKind::ClauseBreak);
  EXPECT_EQ(t.tokens[3].kind, LexTokenKind::Other);
  EXPECT_EQ(t.span(0, 1), "not good");
  EXPECT_EQ(t[6], "bad");
}

TEST(LexiconTokenizer, InvalidUtf8IsSkippedNotFatal) {
  EXPECT_EQ(split_lexicon_words("good\xFF\xFE bad \xC3"), (Words{"good", "bad"}));
  EXPECT_EQ(split_lexicon_words("\xE2\x82"), Words{});
}

TEST(LexiconTokenizer, IdempotentOnItsOwnOutput) {
  for (const char* s : {"I didn't like it, can't you see? It's naïve.", "dont cannot o'clock",
                        "well-made 3.5 'quoted'"}) {
    LexTokens once;
    split_lexicon_words(s, once);
    LexTokens twice;
    split_lexicon_words(once.text, twice);
    EXPECT_EQ(once.text, twice.text) << s;
  }
}

TEST(LexiconTokenizer, WarmBuffersDoNotAllocate) {
  LexTokens t;
  const std::string text = "This movie wasn't very good, but the actors are BRILLIANT!";
  split_lexicon_words(text, t);
  testing::AllocationCounter counter;
  for (int k = 0; k < 10; ++k) split_lexicon_words(text, t);
  EXPECT_EQ(counter.count(), 0u);
}

}  // namespace
}  // namespace tensorgraph::text
