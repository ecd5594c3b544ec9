#include "tensorgraph/text/wordpiece_vocab.hpp"

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::text {
namespace {

using tensorgraph::testing::shared_path;
using tensorgraph::testing::TempDir;

std::string error_of(std::string_view text) {
  try {
    WordPieceVocab::from_text(text, "vocab.txt");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(WordPieceVocab, IdsAreLineNumbers) {
  const auto v = WordPieceVocab::from_text("[PAD]\nhello\n##llo\nworld\n", "v");
  EXPECT_EQ(v.size(), 4u);
  EXPECT_EQ(v.find("[PAD]"), 0);
  EXPECT_EQ(v.find("hello"), 1);
  EXPECT_EQ(v.find("##llo"), 2);
  EXPECT_EQ(v.find_continuation("llo"), 2);
  EXPECT_EQ(v.find_initial("llo"), -1);
  EXPECT_EQ(v.find_continuation("hello"), -1);
  EXPECT_EQ(v.find("world"), 3);
  EXPECT_EQ(v.find("worl"), -1);
  EXPECT_EQ(v.find(""), -1);
  EXPECT_EQ(v.token(1), "hello");
  EXPECT_EQ(v.token(2), "##llo");
  EXPECT_EQ(v.max_initial_bytes(), 5u);
  EXPECT_EQ(v.max_continuation_bytes(), 3u);
}

TEST(WordPieceVocab, LineEndsAsPythonUniversalNewlines) {
  // \r\n and a lone \r end a line, like \n; the last line needs no line end.
  const auto v = WordPieceVocab::from_text("a\r\nb\rc\nd", "v");
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v.find("a"), 0);
  EXPECT_EQ(v.find("b"), 1);
  EXPECT_EQ(v.find("c"), 2);
  EXPECT_EQ(v.find("d"), 3);
  // An empty line is an (unmatchable) empty token that still takes its id; spaces are kept.
  const auto w = WordPieceVocab::from_text("x\n\ny \n", "v");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w.token(1), "");
  EXPECT_EQ(w.find("y "), 2);
  EXPECT_EQ(w.find("y"), -1);
}

TEST(WordPieceVocab, DuplicateTokenKeepsTheLastIdLikeHuggingFace) {
  // HF load_vocab fills a dict line by line, so the last line of a duplicate wins.
  const auto v = WordPieceVocab::from_text("a\nhello\nb\nhello\n##x\n##x\n", "v");
  EXPECT_EQ(v.size(), 6u);
  EXPECT_EQ(v.find("hello"), 3);
  EXPECT_EQ(v.find_continuation("x"), 5);
  EXPECT_EQ(v.token(1), "hello");  // the line itself is still there
}

TEST(WordPieceVocab, LongTokensBeyondThePackedBytes) {
  // Keys longer than the 11 packed bytes are compared in full.
  const auto v = WordPieceVocab::from_text(
      "internationalization\ninternationalizatiom\n##abcdefghijklmnop\nshort\n", "v");
  EXPECT_EQ(v.find("internationalization"), 0);
  EXPECT_EQ(v.find("internationalizatiom"), 1);
  EXPECT_EQ(v.find("internationalizatioo"), -1);
  EXPECT_EQ(v.find("internationalizatio"), -1);
  EXPECT_EQ(v.find_continuation("abcdefghijklmnop"), 2);
  EXPECT_EQ(v.find_continuation("abcdefghijklmnoq"), -1);
  EXPECT_EQ(v.max_initial_bytes(), 20u);
}

TEST(WordPieceVocab, Errors) {
  EXPECT_EQ(error_of(""), "vocab.txt: empty vocabulary (expected one token per line)");
  EXPECT_EQ(error_of("ok\nbad\xFF\n"), "vocab.txt:2: invalid UTF-8 at byte 6 of the file");
  EXPECT_EQ(error_of("a\r\nb\r\n\xC3"), "vocab.txt:3: invalid UTF-8 at byte 6 of the file");
  const auto v = WordPieceVocab::from_text("a\n", "v");
  EXPECT_THROW(v.token(1), Error);
  EXPECT_THROW(v.token(-1), Error);
}

TEST(WordPieceVocab, FileErrorsNameThePath) {
  TempDir dir;
  try {
    WordPieceVocab::from_file(dir / "missing.txt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "missing.txt").string() + ": no such file");
  }
  try {
    WordPieceVocab::from_file(dir.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "empty.txt").close();
  try {
    WordPieceVocab::from_file(dir / "empty.txt");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("empty.txt: empty vocabulary"), std::string::npos)
        << e.what();
  }
}

TEST(WordPieceVocab, BertBaseUncased) {
  const auto path = shared_path("fixtures/bert-base-uncased/vocab.txt");
  TG_REQUIRE_SHARED_FILE(path);
  const auto v = WordPieceVocab::from_file(path);
  EXPECT_EQ(v.size(), 30522u);
  EXPECT_EQ(v.find("[PAD]"), 0);
  EXPECT_EQ(v.find("[UNK]"), 100);
  EXPECT_EQ(v.find("[CLS]"), 101);
  EXPECT_EQ(v.find("[SEP]"), 102);
  EXPECT_EQ(v.find("[MASK]"), 103);
  EXPECT_EQ(v.find("the"), 1996);
  EXPECT_EQ(v.find("##ing"), 2075);
  EXPECT_EQ(v.find_continuation("ing"), 2075);
  EXPECT_EQ(v.token(7592), "hello");
  EXPECT_EQ(v.max_initial_bytes(), 18u);
  EXPECT_EQ(v.max_continuation_bytes(), 10u);
  // Every line maps back to its own id (the file has no duplicates).
  for (std::int32_t id = 0; id < static_cast<std::int32_t>(v.size()); ++id)
    ASSERT_EQ(v.find(v.token(id)), id) << v.token(id);
}

}  // namespace
}  // namespace tensorgraph::text
