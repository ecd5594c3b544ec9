#include "tensorgraph/text/bert_tokenizer.hpp"

#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/alloc_counter.hpp"
#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::text {
namespace {

using tensorgraph::testing::shared_path;
using tensorgraph::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Ids = std::vector<std::int32_t>;

const char* const kVocabRelative = "fixtures/bert-base-uncased/vocab.txt";

// The real bert-base-uncased tokenizer (loaded once), or a skip/fail when ../shared is missing.
const BertTokenizer* bert(bool fast_path = true) {
  if (!std::filesystem::exists(shared_path(kVocabRelative))) return nullptr;
  static const BertTokenizer fast = BertTokenizer::from_vocab_file(shared_path(kVocabRelative));
  static const BertTokenizer general = [] {
    BertTokenizerConfig config;
    config.ascii_fast_path = false;
    return BertTokenizer::from_vocab_file(shared_path(kVocabRelative), config);
  }();
  return fast_path ? &fast : &general;
}

#define REQUIRE_BERT() TG_REQUIRE_SHARED_FILE(shared_path(kVocabRelative))

// A small vocabulary for tests that need no fixture.
const char* const kTinyVocab =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\nun\n##aff\n##able\n,\n!\n.\nthe\n";

BertTokenizer tiny(BertTokenizerConfig config = {}) {
  return BertTokenizer(WordPieceVocab::from_text(kTinyVocab, "tiny"), config);
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

struct Case {
  std::string group, text;
  std::optional<std::size_t> max_length;
  Ids ids;
  std::vector<std::string> tokens;
};

std::vector<Case> fixture_cases() {
  std::vector<Case> cases;
  std::ifstream in(shared_path("fixtures/tokenizer_cases.jsonl"));
  std::string line;
  while (std::getline(in, line)) {
    const auto j = nlohmann::json::parse(line);
    Case c;
    c.group = j.at("group");
    c.text = j.at("text");
    if (j.value("truncation", false)) c.max_length = j.at("max_length").get<std::size_t>();
    c.ids = j.at("ids").get<Ids>();
    c.tokens = j.at("tokens").get<std::vector<std::string>>();
    cases.push_back(std::move(c));
  }
  return cases;
}

// ---- parity with HuggingFace ---------------------------------------------------------------

TEST(BertTokenizer, EveryFixtureCaseMatchesHuggingFace) {
  TG_REQUIRE_SHARED_FILE(shared_path("fixtures/tokenizer_cases.jsonl"));
  REQUIRE_BERT();
  const auto cases = fixture_cases();
  ASSERT_EQ(cases.size(), 350u);
  for (const bool fast : {true, false}) {
    for (const Case& c : cases) {
      EncodeOptions options;
      options.max_length = c.max_length;
      options.with_tokens = true;
      const Encoding e = bert(fast)->encode(c.text, options);
      ASSERT_EQ(e.ids, c.ids) << c.group << ": " << c.text << (fast ? "" : " (general path)");
      ASSERT_EQ(e.tokens, c.tokens) << c.group << ": " << c.text;
      if (c.max_length) {
        EXPECT_EQ(e.truncated, c.ids.size() < bert()->encode(c.text).ids.size());
      }
    }
  }
}

TEST(BertTokenizer, CafeNaiveResume) {
  REQUIRE_BERT();
  // cafe 7668, naive 15743, resume 13746 (the fixture "Café résumé naïve" has the same words).
  const Encoding e = bert()->encode("Café naïve résumé", {.max_length = {}, .with_tokens = true});
  EXPECT_THAT(e.ids, ElementsAre(101, 7668, 15743, 13746, 102));
  EXPECT_THAT(e.tokens, ElementsAre("[CLS]", "cafe", "naive", "resume", "[SEP]"));
  EXPECT_FALSE(e.truncated);
}

TEST(BertTokenizer, RulesPortsGetWrong) {
  REQUIRE_BERT();
  const auto ids = [](std::string_view text) { return bert()->encode(text).ids; };
  // Special tokens anywhere, case-sensitive; [PAD] in text is id 0.
  EXPECT_THAT(ids("hello[SEP]world"), ElementsAre(101, 7592, 102, 2088, 102));
  EXPECT_THAT(ids("[MASK]ed language model"), ElementsAre(101, 103, 3968, 2653, 2944, 102));
  EXPECT_THAT(ids("[PAD]"), ElementsAre(101, 0, 102));
  EXPECT_THAT(ids("[cls]"), ElementsAre(101, 1031, 18856, 2015, 1033, 102));
  // A special hidden by a deleted character is not special once lower-cased.
  EXPECT_THAT(ids("[\u200BSEP]"), ElementsAre(101, 1031, 19802, 1033, 102));
  // Capital sigma always becomes the medial sigma.
  EXPECT_THAT(ids("ΟΔΟΣ οδός"),
              ElementsAre(101, 1169, 29722, 29730, 29733, 1169, 29722, 15297, 102));
  // U+2028 splits words (Python str.split), \v \f U+0085 are deleted (category Cc) and join.
  EXPECT_THAT(ids("line\u2028separator"), ElementsAre(101, 2240, 19802, 25879, 2953, 102));
  EXPECT_THAT(ids("vt\x0b"
                  "ff\x0c"
                  "chars"),
              ElementsAre(101, 28879, 4246, 7507, 2869, 102));
  EXPECT_THAT(ids("nel\u0085char"), ElementsAre(101, 11265, 29358, 2906, 102));
  EXPECT_THAT(ids("foo\u200Bbar"), ElementsAre(101, 29379, 8237, 102));
  // Zs are spaces; whitespace-only and empty texts are [CLS] [SEP].
  EXPECT_THAT(ids("\u00A0\u3000"), ElementsAre(101, 102));
  EXPECT_THAT(ids(""), ElementsAre(101, 102));
  // One [UNK] per word with an unknown rest; an enclosing mark (Me) is kept.
  EXPECT_THAT(ids("Great film!👏👏"), ElementsAre(101, 2307, 2143, 999, 100, 102));
  EXPECT_THAT(ids("x\u20DD"), ElementsAre(101, 100, 102));
  EXPECT_THAT(ids("\u0301abc"), ElementsAre(101, 5925, 102));
  // CJK ideographs one per token, kana not split.
  EXPECT_THAT(ids("中文English混合"), ElementsAre(101, 1746, 1861, 2394, 100, 1792, 102));
  // U+0130 lower-cases to i + combining dot, which accent stripping removes.
  EXPECT_THAT(ids("İstanbul ısırgan"), ElementsAre(101, 9960, 1104, 2015, 11722, 16998, 102));
}

TEST(BertTokenizer, CharactersAssignedAfterUnicode14AreDeletedLikePython311) {
  REQUIRE_BERT();
  // utf8proc knows Unicode 15; the reference (Python 3.11) sees these as unassigned (Cn) and
  // deletes them: U+1FAE8 SHAKING FACE, U+2B739 (a CJK ideograph), U+31350 (CJK Extension H).
  EXPECT_EQ(bert()->encode("a\U0001FAE8b").ids, bert()->encode("ab").ids);
  EXPECT_THAT(bert()->encode("a\U0001FAE8b").ids, ElementsAre(101, 11113, 102));
  EXPECT_THAT(bert()->encode("x\U0002B739y").ids, ElementsAre(101, 1060, 2100, 102));
  EXPECT_THAT(bert()->encode("\U00031350").ids, ElementsAre(101, 102));
}

TEST(BertTokenizer, LongWords) {
  REQUIRE_BERT();
  const std::string a100(100, 'a'), a101(101, 'a');
  EXPECT_GT(bert()->encode(a100).ids.size(), 3u);  // word-pieced
  EXPECT_THAT(bert()->encode(a101).ids, ElementsAre(101, 100, 102));
  std::string e101;
  for (int i = 0; i < 101; ++i) e101 += "é";
  EXPECT_THAT(bert()->encode(e101).ids, ElementsAre(101, 100, 102));
  EXPECT_THAT(bert()->encode(a101 + " hello").ids, ElementsAre(101, 100, 7592, 102));
}

// ---- cased and configured tokenizers (expected ids from the HF algorithm under Python 3.11) --

TEST(BertTokenizer, CasedWithoutLowerCasing) {
  REQUIRE_BERT();
  BertTokenizerConfig config;
  config.do_lower_case = false;
  const auto cased = BertTokenizer::from_vocab_file(shared_path(kVocabRelative), config);
  EXPECT_THAT(cased.encode("Hello World").ids, ElementsAre(101, 100, 100, 102));
  EXPECT_THAT(cased.encode("hello world").ids, ElementsAre(101, 7592, 2088, 102));
  // Without lower-casing, a special token hidden by a deleted character is never split.
  EXPECT_THAT(cased.encode("[\u200BSEP]").ids, ElementsAre(101, 102, 102));
  config.ascii_fast_path = false;
  const auto general = BertTokenizer::from_vocab_file(shared_path(kVocabRelative), config);
  EXPECT_THAT(general.encode("[\u200BSEP]").ids, ElementsAre(101, 102, 102));
  EXPECT_THAT(general.encode("Hello World").ids, ElementsAre(101, 100, 100, 102));
}

TEST(BertTokenizer, CasedWithAccentStripping) {
  REQUIRE_BERT();
  BertTokenizerConfig config;
  config.do_lower_case = false;
  config.strip_accents = true;
  const auto t = BertTokenizer::from_vocab_file(shared_path(kVocabRelative), config);
  // "[SÉP]" becomes "[SEP]" after stripping: HF keeps a word equal to a special token whole.
  EXPECT_THAT(t.encode("[SÉP]").ids, ElementsAre(101, 102, 102));
  EXPECT_THAT(t.encode("Café").ids, ElementsAre(101, 100, 102));
  EXPECT_THAT(t.encode("cafe\u0301").ids, ElementsAre(101, 7668, 102));
}

TEST(BertTokenizer, WithoutChineseCharacterSplitting) {
  BertTokenizerConfig config;
  config.tokenize_chinese_chars = false;
  const auto t = BertTokenizer(
      WordPieceVocab::from_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n中\n##文\n文\n", "v"), config);
  EXPECT_THAT(t.encode("中文").ids, ElementsAre(2, 5, 6, 3));
  EXPECT_THAT(tiny().encode("中文").ids, ElementsAre(2, 1, 1, 3));  // split, both unknown
}

// ---- errors ---------------------------------------------------------------------------------

TEST(BertTokenizer, InvalidUtf8NamesTheByteOffset) {
  const auto t = tiny();
  EXPECT_EQ(error_of([&] { t.encode("abc\xFF"); }), "invalid UTF-8 at byte 3");
  EXPECT_EQ(error_of([&] { t.encode("hello world \xE2\x82"); }), "invalid UTF-8 at byte 12");
  EXPECT_EQ(error_of([&] { t.encode("\xC0\xAF"); }), "invalid UTF-8 at byte 0");        // overlong
  EXPECT_EQ(error_of([&] { t.encode("ab\xED\xA0\x80"); }), "invalid UTF-8 at byte 2");  // surrogate
  EXPECT_EQ(error_of([&] { t.encode("\xC3\xA9\xFF"); }), "invalid UTF-8 at byte 2");    // after é
  EXPECT_EQ(error_of([&] { t.encode("0123456789abcdef\x80"); }), "invalid UTF-8 at byte 16");
  EXPECT_EQ(error_of([&] { t.encode("\xF4\x90\x80\x80"); }),
            "invalid UTF-8 at byte 0");  // > U+10FFFF
  EXPECT_EQ(error_of([&] { t.word_pieces("ok \xFE"); }), "invalid UTF-8 at byte 3");
  const std::vector<std::string> batch = {"fine", "bad \xFF"};
  EXPECT_EQ(error_of([&] { t.encode_batch(batch); }), "text 1: invalid UTF-8 at byte 4");
}

TEST(BertTokenizer, MissingSpecialTokens) {
  EXPECT_EQ(error_of([] { BertTokenizer(WordPieceVocab::from_text("[PAD]\n[CLS]\n", "v.txt")); }),
            "v.txt: the special token [UNK] is not in the vocabulary");
  EXPECT_EQ(error_of([] {
              BertTokenizer(WordPieceVocab::from_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n", "v.txt"));
            }),
            "v.txt: the special token [MASK] is not in the vocabulary");
}

TEST(BertTokenizer, MissingFilesAndDirectories) {
  TempDir dir;
  EXPECT_EQ(error_of([&] { BertTokenizer::from_vocab_file(dir / "vocab.txt"); }),
            (dir / "vocab.txt").string() + ": no such file");
  EXPECT_EQ(error_of([&] { BertTokenizer::from_directory(dir / "nope"); }),
            (dir / "nope").string() + ": no such directory");
  EXPECT_THAT(error_of([&] { BertTokenizer::from_directory(dir.path()); }),
              HasSubstr("no vocab.txt in this directory"));
  std::ofstream(dir / "vocab.txt").close();
  EXPECT_THAT(error_of([&] { BertTokenizer::from_directory(dir.path()); }),
              HasSubstr("vocab.txt: empty vocabulary"));
}

// ---- tokenizer_config.json ------------------------------------------------------------------

TEST(TokenizerConfig, ReadsTheSettings) {
  auto c = parse_tokenizer_config(R"({"do_lower_case": true, "model_max_length": 512})", "c");
  EXPECT_TRUE(c.do_lower_case);
  EXPECT_EQ(c.model_max_length, 512u);
  EXPECT_FALSE(c.strip_accents.has_value());
  c = parse_tokenizer_config(
      R"({"do_lower_case": false, "strip_accents": true, "tokenize_chinese_chars": false,
          "model_max_length": 1e30, "tokenizer_class": "DistilBertTokenizer",
          "cls_token": "[CLS]", "never_split": null, "do_basic_tokenize": true,
          "unk_token": {"__type": "AddedToken", "content": "[UNK]", "lstrip": false},
          "added_tokens_decoder": {"0": {"content": "[PAD]", "special": true}},
          "clean_up_tokenization_spaces": true})",
      "c");
  EXPECT_FALSE(c.do_lower_case);
  EXPECT_EQ(c.strip_accents, true);
  EXPECT_FALSE(c.tokenize_chinese_chars);
  EXPECT_FALSE(c.model_max_length.has_value());  // HF's "no limit"
  EXPECT_TRUE(parse_tokenizer_config("{}", "c").do_lower_case);
}

TEST(TokenizerConfig, RejectsWhatItCannotHonour) {
  const auto error = [](const char* json) {
    return error_of([json] { parse_tokenizer_config(json, "tokenizer_config.json"); });
  };
  EXPECT_THAT(error("{"), HasSubstr("tokenizer_config.json: invalid JSON"));
  EXPECT_EQ(error("[]"), "tokenizer_config.json: expected a JSON object");
  EXPECT_EQ(error(R"({"do_lower_case": "yes"})"),
            "tokenizer_config.json: \"do_lower_case\" must be true or false, got \"yes\"");
  EXPECT_THAT(error(R"({"model_max_length": -3})"), HasSubstr("positive integer"));
  EXPECT_THAT(error(R"({"tokenizer_class": "RobertaTokenizer"})"),
              HasSubstr("tokenizer_class \"RobertaTokenizer\" is not supported"));
  EXPECT_THAT(error(R"({"cls_token": "<s>"})"),
              HasSubstr("\"cls_token\" \"<s>\" is not supported"));
  EXPECT_THAT(error(R"({"do_basic_tokenize": false})"), HasSubstr("do_basic_tokenize"));
  EXPECT_THAT(error(R"({"never_split": ["foo"]})"), HasSubstr("never_split"));
  EXPECT_THAT(error(R"({"added_tokens_decoder": {"30522": {"content": "<new>"}}})"),
              HasSubstr("added token {\"content\":\"<new>\"} (id 30522) is not supported"));
}

TEST(TokenizerConfig, FromModelDirectory) {
  const auto dir = shared_path("fixtures/distilbert-tiny");
  TG_REQUIRE_SHARED_FILE(dir / "tokenizer_config.json");
  const auto t = BertTokenizer::from_directory(dir);
  EXPECT_EQ(t.config().model_max_length, 512u);
  EXPECT_TRUE(t.config().do_lower_case);
  EXPECT_EQ(t.vocab().size(), 30522u);
  EXPECT_THAT(t.encode("Café naïve résumé").ids, ElementsAre(101, 7668, 15743, 13746, 102));
}

// ---- truncation -----------------------------------------------------------------------------

TEST(BertTokenizer, TruncationEdgeCases) {
  const auto t = tiny();
  // "hello, world!" is 4 pieces: hello , world !
  const std::string text = "hello, world!";
  EXPECT_THAT(t.encode(text).ids, ElementsAre(2, 5, 10, 6, 11, 3));
  auto e = t.encode(text, {.max_length = 2});
  EXPECT_THAT(e.ids, ElementsAre(2, 3));
  EXPECT_TRUE(e.truncated);
  e = t.encode(text, {.max_length = 3});
  EXPECT_THAT(e.ids, ElementsAre(2, 5, 3));
  EXPECT_TRUE(e.truncated);
  e = t.encode(text, {.max_length = 5});
  EXPECT_THAT(e.ids, ElementsAre(2, 5, 10, 6, 3));
  EXPECT_TRUE(e.truncated);
  e = t.encode(text, {.max_length = 6});  // exactly fits
  EXPECT_THAT(e.ids, ElementsAre(2, 5, 10, 6, 11, 3));
  EXPECT_FALSE(e.truncated);
  e = t.encode(text, {.max_length = 100});
  EXPECT_EQ(e.ids.size(), 6u);
  EXPECT_FALSE(e.truncated);
  // Cuts inside a word: unaffable = un ##aff ##able.
  e = t.encode("unaffable hello", {.max_length = 4});
  EXPECT_THAT(e.ids, ElementsAre(2, 7, 8, 3));
  EXPECT_TRUE(e.truncated);
  e = t.encode("", {.max_length = 2});
  EXPECT_THAT(e.ids, ElementsAre(2, 3));
  EXPECT_FALSE(e.truncated);
  EXPECT_EQ(error_of([&] { t.encode(text, {.max_length = 1}); }),
            "max_length must be at least 2 (room for [CLS] and [SEP]), got 1");
  EXPECT_THAT(error_of([&] { t.encode(text, {.max_length = 0}); }), HasSubstr("got 0"));
}

TEST(BertTokenizer, TruncationIsAPrefixOfTheFullEncoding) {
  REQUIRE_BERT();
  // The early stop (at a chunk boundary) must never change the kept pieces.
  const std::string text =
      "The movie, which I saw twice, was über-long; 中文 and naïve cafés aside, it's great!!!";
  const Ids full = bert()->encode(text).ids;
  for (std::size_t m = 2; m <= full.size() + 1; ++m) {
    const Encoding e = bert()->encode(text, {.max_length = m});
    const std::size_t kept = std::min(m, full.size()) - 2;
    Ids expected(full.begin(), full.begin() + 1 + static_cast<std::ptrdiff_t>(kept));
    expected.push_back(102);
    EXPECT_EQ(e.ids, expected) << m;
    EXPECT_EQ(e.truncated, m < full.size()) << m;
  }
}

TEST(BertTokenizer, NoTruncationByDefaultPastModelMaxLength) {
  REQUIRE_BERT();
  std::string text;
  for (int i = 0; i < 300; ++i) text += "hello world ";
  EXPECT_EQ(bert()->encode(text).ids.size(), 602u);
}

// ---- word pieces, tokens, batches -----------------------------------------------------------

TEST(BertTokenizer, WordPiecesWithoutSpecials) {
  const auto t = tiny();
  EXPECT_THAT(t.word_pieces("hello unaffable"), ElementsAre(5, 7, 8, 9));
  std::vector<std::int32_t> out = {42};
  t.append_word_pieces("world", out);
  t.append_word_pieces("", out);
  t.append_word_pieces("[SEP] !", out);
  EXPECT_THAT(out, ElementsAre(42, 6, 3, 11));
  EXPECT_THAT(t.tokens(std::span<const std::int32_t>(out).subspan(1)),
              ElementsAre("world", "[SEP]", "!"));
}

TEST(BertTokenizer, TokensOfIds) {
  const auto t = tiny();
  EXPECT_THAT(t.encode("hello unaffable", {.max_length = {}, .with_tokens = true}).tokens,
              ElementsAre("[CLS]", "hello", "un", "##aff", "##able", "[SEP]"));
  const std::vector<std::int32_t> bad = {99};
  EXPECT_THROW(t.tokens(bad), Error);
  EXPECT_TRUE(t.encode("hello").tokens.empty());  // only on request
}

TEST(BertTokenizer, BatchPaddingAndMasks) {
  const auto t = tiny();
  const std::vector<std::string> texts = {"hello", "", "hello, world! unaffable", "[PAD]"};
  const BatchEncoding b = t.encode_batch(texts);
  ASSERT_EQ(b.input_ids.dtype(), DType::I64);
  ASSERT_EQ(b.input_ids.shape(), (Shape{4, 9}));
  ASSERT_EQ(b.attention_mask.shape(), (Shape{4, 9}));
  EXPECT_THAT(b.input_ids.to_vector<std::int64_t>(), ElementsAre(2, 5, 3, 0, 0, 0, 0, 0, 0,    //
                                                                 2, 3, 0, 0, 0, 0, 0, 0, 0,    //
                                                                 2, 5, 10, 6, 11, 7, 8, 9, 3,  //
                                                                 2, 0, 3, 0, 0, 0, 0, 0, 0));
  // [PAD] written in the text is a real token: its mask is 1.
  EXPECT_THAT(b.attention_mask.to_vector<std::int64_t>(), ElementsAre(1, 1, 1, 0, 0, 0, 0, 0, 0,  //
                                                                      1, 1, 0, 0, 0, 0, 0, 0, 0,  //
                                                                      1, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                                                      1, 1, 1, 0, 0, 0, 0, 0, 0));
  EXPECT_THAT(b.lengths, ElementsAre(3, 2, 9, 3));
  EXPECT_THAT(b.truncated, ElementsAre(0, 0, 0, 0));

  const std::vector<std::string_view> views = {"hello, world! unaffable", "world"};
  const BatchEncoding c = t.encode_batch(views, 4);
  ASSERT_EQ(c.input_ids.shape(), (Shape{2, 4}));
  EXPECT_THAT(c.input_ids.to_vector<std::int64_t>(), ElementsAre(2, 5, 10, 3, 2, 6, 3, 0));
  EXPECT_THAT(c.attention_mask.to_vector<std::int64_t>(), ElementsAre(1, 1, 1, 1, 1, 1, 1, 0));
  EXPECT_THAT(c.truncated, ElementsAre(1, 0));

  const BatchEncoding empty = t.encode_batch(std::span<const std::string>());
  EXPECT_EQ(empty.input_ids.shape(), (Shape{0, 0}));
  EXPECT_TRUE(empty.lengths.empty());
}

// ---- the two paths --------------------------------------------------------------------------

// Random texts from pieces that exercise every rule.
std::string random_text(std::mt19937& rng, bool ascii_only) {
  static const std::vector<std::string> ascii = {
      "hello", "World", "UNAFFABLE", "the",     "a",    "x",     "running", "q",      "zzzzqqq",
      "42",    "3.14",  ",",         "!",       "?",    "'",     "-",       "[",      "]",
      "#",     "##",    "$",         "~",       " ",    "  ",    "\t",      "\n",     "\r\n",
      "\x0b",  "\x0c",  "\x01",      "\x7f",    "\x1f", "[SEP]", "[CLS]",   "[MASK]", "[PAD]",
      "[UNK]", "[SEP",  "[sep]",     "[[CLS]]", "SEP]"};
  static const std::vector<std::string> unicode = {
      "é",      "e\u0301",    "Ç",          "ß",      "ẞ",      "İ",
      "Σ",      "ς",          "ΟΔΟΣ",       "ёлка",   "中",     "文",
      "𠀀",     "豈",         "안녕",       "が",     "ガ",     "नमस्ते",
      "ि",      "\u0301",     "\u20DD",     "\uFE0F", "😀",      "👨‍👩‍👧‍👦",
      "\u200B", "\u200D",     "\uFEFF",     "\u00AD", "\u0085", "\u2028",
      "\u2029", "\u00A0",     "\u3000",     "\u2000", "\uE000", "\u0378",
      "\uFFFD", "\U0001FAE8", "\U00031350", "’",      "—",      "«",
      "…",      "¿",          "£",          "€",      "°",      "²",
      "−",      "Ω",          "µ",          "ﬁ",      "Ｆ",     "\u0345",
      "\u0F73", "\U0001D15E", "ᄀ",         "ᅡ",     "ᆨ"};
  std::string text;
  const int n = std::uniform_int_distribution<int>(0, 24)(rng);
  for (int i = 0; i < n; ++i) {
    const bool pick_unicode = !ascii_only && std::uniform_int_distribution<int>(0, 2)(rng) == 0;
    const auto& pool = pick_unicode ? unicode : ascii;
    text += pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)];
  }
  return text;
}

TEST(BertTokenizer, FastPathEqualsGeneralPathOnRandomAsciiAndUnicode) {
  REQUIRE_BERT();
  std::mt19937 rng(20261125);
  for (int i = 0; i < 3000; ++i) {
    const std::string text = random_text(rng, i % 2 == 0);
    ASSERT_EQ(bert(true)->encode(text).ids, bert(false)->encode(text).ids) << text;
  }
  // Random bytes (valid UTF-8 ones only) from the whole ASCII range.
  for (int i = 0; i < 2000; ++i) {
    std::string text(std::uniform_int_distribution<std::size_t>(0, 40)(rng), ' ');
    for (char& c : text) c = static_cast<char>(std::uniform_int_distribution<int>(0, 127)(rng));
    ASSERT_EQ(bert(true)->encode(text).ids, bert(false)->encode(text).ids) << text;
  }
}

// ---- speed-related guarantees ---------------------------------------------------------------

TEST(BertTokenizer, EncodeIntoDoesNotAllocateOnceWarm) {
  REQUIRE_BERT();
  const BertTokenizer& t = *bert();
  std::vector<std::int32_t> ids;
  const std::string ascii = "it 's a charming and often affecting journey . [SEP] UNBELIEVABLE!";
  const std::string unicode = "Café naïve résumé, 中文 and ΟΔΟΣ";
  for (int i = 0; i < 3; ++i) {  // grows the ids and the scratch buffers of this thread
    t.encode_into(ascii, ids);
    t.encode_into(unicode, ids);
  }
  tensorgraph::testing::AllocationCounter counter;
  for (int i = 0; i < 10; ++i) {
    t.encode_into(ascii, ids);
    t.encode_into(unicode, ids);
  }
  EXPECT_EQ(counter.count(), 0u);
}

TEST(BertTokenizer, SharedBetweenThreads) {
  REQUIRE_BERT();
  const std::vector<std::string> texts = {"Café naïve résumé", "hello[SEP]world", "中文English混合",
                                          "The movie was absolutely wonderful!"};
  std::vector<Ids> expected;
  for (const auto& t : texts) expected.push_back(bert()->encode(t).ids);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      std::vector<std::int32_t> ids;
      for (int r = 0; r < 200; ++r)
        for (std::size_t i = 0; i < texts.size(); ++i) {
          bert()->encode_into(texts[i], ids);
          if (ids != expected[i]) ++mismatches[static_cast<std::size_t>(k)];
        }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

}  // namespace
}  // namespace tensorgraph::text
