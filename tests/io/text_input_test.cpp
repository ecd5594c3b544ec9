#include "tensorgraph/io/text_input.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::io {
namespace {

using tensorgraph::testing::shared_path;
using tensorgraph::testing::TempDir;

TextInputResult read_string(const std::string& content, TextFormat format,
                            TextInputOptions options = {}) {
  std::istringstream in(content);
  return read_text_inputs(in, "test.txt", format, options);
}

std::string error_of(const std::string& content, TextFormat format, TextInputOptions options = {}) {
  try {
    read_string(content, format, options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TextInput, TsvWithHeaderAndLabels) {
  auto r = read_string("sentence\tlabel\nit 's good . \t1\nbad movie\t0\n\n", TextFormat::Tsv);
  EXPECT_TRUE(r.had_header);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].text, "it 's good .");  // trailing whitespace trimmed
  EXPECT_EQ(r.records[0].label, "1");
  EXPECT_EQ(r.records[0].line, 2u);
  EXPECT_EQ(r.records[1].text, "bad movie");
  EXPECT_EQ(r.records[1].label, "0");
}

TEST(TextInput, OneTextPerLineWithoutHeader) {
  auto r = read_string("first text\r\nsecond text  \n", TextFormat::Tsv);
  EXPECT_FALSE(r.had_header);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].text, "first text");
  EXPECT_FALSE(r.records[0].label.has_value());
}

TEST(TextInput, SplitsOnNewlineOnly) {
  // U+0085 (NEL) and U+2028 stay inside the text.
  auto r = read_string("a\xC2\x85" "b\tPOSITIVE\nc\xE2\x80\xA8" "d\n", TextFormat::Tsv);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].text, "a\xC2\x85" "b");
  EXPECT_EQ(r.records[0].label, "POSITIVE");
  EXPECT_EQ(r.records[1].text, "c\xE2\x80\xA8" "d");
}

TEST(TextInput, Jsonl) {
  auto r = read_string(
      "{\"text\": \"I love it\", \"label\": 1}\n{\"text\": \"meh\", \"label\": \"NEGATIVE\"}\n"
      "{\"text\": \"no label\"}\n",
      TextFormat::Jsonl);
  ASSERT_EQ(r.records.size(), 3u);
  EXPECT_EQ(r.records[0].label, "1");
  EXPECT_EQ(r.records[1].label, "NEGATIVE");
  EXPECT_FALSE(r.records[2].label.has_value());
}

TEST(TextInput, ErrorsNameFileAndLine) {
  EXPECT_EQ(error_of("{\"text\": \"ok\"}\n{\"txt\": 1}\n", TextFormat::Jsonl),
            "test.txt:2: missing \"text\" field");
  EXPECT_EQ(error_of("{\"text\": 5}\n", TextFormat::Jsonl), "test.txt:1: \"text\" must be a string");
  EXPECT_EQ(error_of("[1,2]\n", TextFormat::Jsonl),
            "test.txt:1: expected a JSON object with a \"text\" field");
  EXPECT_NE(error_of("{\"text\": \n", TextFormat::Jsonl).find("test.txt:1: invalid JSON"),
            std::string::npos);
  EXPECT_EQ(error_of("good\nba\xFF" "d\n", TextFormat::Tsv), "test.txt:2: invalid UTF-8 at byte 2");
  TextInputOptions need_label;
  need_label.require_label = true;
  EXPECT_EQ(error_of("text\t1\nno label here\n", TextFormat::Tsv, need_label),
            "test.txt:2: no label (expected text<TAB>label)");
}

TEST(TextInput, JsonNumbersOutOfRange) {
  // nlohmann reports a number too large for a double as out_of_range, not parse_error (found by
  // fuzzing): it is a bad line like any other, named by file and line, and skippable.
  EXPECT_NE(error_of("{\"text\": \"a\"}\n{\"text\": \"b\", \"x\": 5E555}\n", TextFormat::Jsonl)
                .find("test.txt:2: invalid JSON"),
            std::string::npos);
  TextInputOptions o;
  o.skip_bad = true;
  auto r =
      read_string("{\"text\": \"b\", \"x\": -1e999}\n{\"text\": \"c\"}\n", TextFormat::Jsonl, o);
  ASSERT_EQ(r.records.size(), 1u);
  EXPECT_EQ(r.skipped_bad, 1u);
  // Integer labels are kept exactly, even past the int64 range.
  auto big = read_string("{\"text\": \"t\", \"label\": 18446744073709551615}\n"
                         "{\"text\": \"u\", \"label\": -3}\n",
                         TextFormat::Jsonl);
  EXPECT_EQ(big.records.at(0).label, "18446744073709551615");
  EXPECT_EQ(big.records.at(1).label, "-3");
}

TEST(TextInput, SkipBadAndLimit) {
  TextInputOptions o;
  o.skip_bad = true;
  auto r = read_string("{\"text\": \"a\"}\nnot json\n{\"text\": \"b\"}\n", TextFormat::Jsonl, o);
  EXPECT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.skipped_bad, 1u);
  TextInputOptions lim;
  lim.limit = 1;
  EXPECT_EQ(read_string("a\nb\nc\n", TextFormat::Tsv, lim).records.size(), 1u);
}

TEST(TextInput, AutoFormatAndMissingFile) {
  auto r = read_string("{\"text\": \"json line\"}\n", TextFormat::Auto);
  EXPECT_EQ(r.records.at(0).text, "json line");
  EXPECT_THROW(read_text_inputs("/nonexistent/file.tsv"), Error);
  TempDir dir;
  EXPECT_THROW(read_text_inputs(dir.path().string()), Error);
  std::ofstream(dir / "in.jsonl") << "{\"text\": \"x\", \"label\": 0}\n";
  EXPECT_EQ(read_text_inputs((dir / "in.jsonl").string()).records.at(0).label, "0");
}

TEST(TextInput, LabelDetection) {
  EXPECT_TRUE(looks_like_label("0"));
  EXPECT_TRUE(looks_like_label("-1"));
  EXPECT_TRUE(looks_like_label("Positive"));
  EXPECT_TRUE(looks_like_label("neg"));
  EXPECT_FALSE(looks_like_label("label"));
  EXPECT_FALSE(looks_like_label(""));
  EXPECT_FALSE(looks_like_label("-"));
  EXPECT_FALSE(looks_like_label("1.5"));
}

TEST(TextInput, RealSst2DevAndUciFiles) {
  const auto dev = shared_path("data/sst2/dev.tsv");
  TG_REQUIRE_SHARED_FILE(dev);
  auto r = read_text_inputs(dev.string());
  EXPECT_TRUE(r.had_header);
  ASSERT_EQ(r.records.size(), 872u);
  std::size_t positive = 0;
  for (const auto& rec : r.records) positive += rec.label == "1";
  EXPECT_EQ(positive, 444u);
  EXPECT_EQ(r.records[0].text, "it 's a charming and often affecting journey .");

  const auto amazon = shared_path("data/sentiment_labelled/amazon_cells_labelled.txt");
  TG_REQUIRE_SHARED_FILE(amazon);
  auto u = read_text_inputs(amazon.string());
  EXPECT_FALSE(u.had_header);
  EXPECT_EQ(u.records.size(), 1000u);
}

}  // namespace
}  // namespace tensorgraph::io
