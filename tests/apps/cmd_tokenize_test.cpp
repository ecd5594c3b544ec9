// `tensorgraph tokenize`, run as a user runs it.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"

namespace tensorgraph {
namespace {

using testing::cli_path;
using ::testing::HasSubstr;
using testing::run_command;
using testing::shared_path;
using testing::shell_quote;
using ::testing::StartsWith;
using testing::TempDir;

const char* const kVocabRelative = "fixtures/bert-base-uncased/vocab.txt";

std::string tokenize(const std::string& args) {
  return shell_quote(cli_path().string()) + " tokenize " + args;
}
std::string vocab_arg() {
  return "--vocab " + shell_quote(shared_path(kVocabRelative).string());
}

std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line, '\n')) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(CliTokenize, EveryFixtureCaseMatchesHuggingFace) {
  const auto cases_path = shared_path("fixtures/tokenizer_cases.jsonl");
  TG_REQUIRE_SHARED_FILE(cases_path);
  TG_REQUIRE_SHARED_FILE(shared_path(kVocabRelative));
  std::vector<nlohmann::json> cases;
  {
    std::ifstream in(cases_path);
    std::string line;
    while (std::getline(in, line)) cases.push_back(nlohmann::json::parse(line));
  }
  ASSERT_EQ(cases.size(), 350u);
  // One file of every text, and one of the truncation cases (all max_length 16).
  TempDir dir;
  std::ofstream all(dir / "all.jsonl"), truncation(dir / "truncation.jsonl");
  std::vector<const nlohmann::json*> truncation_cases;
  for (const auto& c : cases) {
    all << nlohmann::json{{"text", c["text"]}}.dump() << "\n";
    if (c.value("truncation", false)) {
      ASSERT_EQ(c["max_length"], 16);
      truncation << nlohmann::json{{"text", c["text"]}}.dump() << "\n";
      truncation_cases.push_back(&c);
    }
  }
  all.close();
  truncation.close();

  const auto r = run_command(
      tokenize(vocab_arg() + " --json --file " + shell_quote((dir / "all.jsonl").string())));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = json_lines(r.out);
  ASSERT_EQ(out.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(out[i]["text"], cases[i]["text"]) << i;
    if (cases[i].value("truncation", false)) continue;  // checked below
    EXPECT_EQ(out[i]["ids"], cases[i]["ids"]) << cases[i]["text"];
    EXPECT_EQ(out[i]["tokens"], cases[i]["tokens"]) << cases[i]["text"];
    EXPECT_FALSE(out[i].contains("truncated"));
  }

  const auto t = run_command(tokenize(vocab_arg() + " --json --max-length 16 --file " +
                                      shell_quote((dir / "truncation.jsonl").string())));
  ASSERT_EQ(t.exit_code, 0) << t.err;
  const auto truncated = json_lines(t.out);
  ASSERT_EQ(truncated.size(), truncation_cases.size());
  ASSERT_EQ(truncated.size(), 20u);
  for (std::size_t i = 0; i < truncated.size(); ++i) {
    EXPECT_EQ(truncated[i]["text"], (*truncation_cases[i])["text"]);
    EXPECT_EQ(truncated[i]["ids"], (*truncation_cases[i])["ids"]) << truncated[i]["text"];
    EXPECT_EQ(truncated[i]["tokens"], (*truncation_cases[i])["tokens"]);
    EXPECT_TRUE(truncated[i]["truncated"].is_boolean());
  }
}

TEST(CliTokenize, CafeNaiveResumeJson) {
  TG_REQUIRE_SHARED_FILE(shared_path(kVocabRelative));
  const auto r = run_command(tokenize(vocab_arg() + " --json \"Café naïve résumé\""));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"text\":\"Café naïve résumé\",\"ids\":[101,7668,15743,13746,102],"
            "\"tokens\":[\"[CLS]\",\"cafe\",\"naive\",\"resume\",\"[SEP]\"]}\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliTokenize, HumanOutputAlignsTokensOverIds) {
  TG_REQUIRE_SHARED_FILE(shared_path(kVocabRelative));
  const auto r = run_command(tokenize(vocab_arg() + " 'Hello, world!' 'line\nbreak'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Hello, world!\n"
            "  [CLS]  hello  ,     world  !    [SEP]\n"
            "  101    7592   1010  2088   999  102\n"
            "\n"
            "line\\nbreak\n"
            "  [CLS]  line  break  [SEP]\n"
            "  101    2240  3338   102\n");
}

TEST(CliTokenize, MaxLengthTruncatesAndReports) {
  TG_REQUIRE_SHARED_FILE(shared_path(kVocabRelative));
  auto r = run_command(tokenize(vocab_arg() + " --json -n 4 'hello big world' 'hi'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = json_lines(r.out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["ids"], nlohmann::json::parse("[101, 7592, 2502, 102]"));
  EXPECT_EQ(out[0]["truncated"], true);
  EXPECT_EQ(out[1]["ids"], nlohmann::json::parse("[101, 7632, 102]"));
  EXPECT_EQ(out[1]["truncated"], false);
  r = run_command(tokenize(vocab_arg() + " --max-length 3 'hello big world'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(truncated to 3 tokens)"));
  r = run_command(tokenize(vocab_arg() + " --max-length 1 'hello'"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "tensorgraph: error: --max-length must be at least 2 (room for [CLS] and [SEP]), got "
            "1\n");
}

TEST(CliTokenize, NoTruncationWithoutMaxLength) {
  TG_REQUIRE_SHARED_FILE(shared_path(kVocabRelative));
  std::string text;
  for (int i = 0; i < 300; ++i) text += "hello world ";
  const auto r = run_command(tokenize(vocab_arg() + " --json " + shell_quote(text)));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto out = json_lines(r.out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["ids"].size(), 602u);
  EXPECT_FALSE(out[0].contains("truncated"));
}

TEST(CliTokenize, InputsInOrderFromArgumentsFileAndStdin) {
  TG_REQUIRE_SHARED_FILE(shared_path(kVocabRelative));
  TempDir dir;
  std::ofstream(dir / "texts.tsv") << "sentence\tlabel\nhello \t1\nworld\t0\n";
  auto r = run_command(
      tokenize(vocab_arg() + " --json first --file " + shell_quote((dir / "texts.tsv").string())));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto out = json_lines(r.out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0]["text"], "first");
  EXPECT_EQ(out[1]["text"], "hello");
  EXPECT_EQ(out[2]["text"], "world");
  EXPECT_EQ(out[2]["ids"], nlohmann::json::parse("[101, 2088, 102]"));

  const std::string stdin_text = "from stdin\nsecond line\n";
  r = run_command(tokenize(vocab_arg() + " --json --file -"), &stdin_text);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  out = json_lines(r.out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["tokens"],
            nlohmann::json::parse(R"(["[CLS]", "from", "st", "##din", "[SEP]"])"));
  EXPECT_EQ(out[1]["text"], "second line");
}

TEST(CliTokenize, ModelDirectory) {
  const auto dir = shared_path("fixtures/distilbert-tiny");
  TG_REQUIRE_SHARED_FILE(dir / "vocab.txt");
  const auto r = run_command(
      tokenize("--model-dir " + shell_quote(dir.string()) + " --json 'THE [MASK] WAS GREAT'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_lines(r.out).at(0)["ids"],
            nlohmann::json::parse("[101, 1996, 103, 2001, 2307, 102]"));
  EXPECT_EQ(r.err, "");

  // Longer than the model's 512 positions: encoded whole (as HF does), with a warning.
  std::string text;
  for (int i = 0; i < 300; ++i) text += "hello world ";
  const auto l = run_command(
      tokenize("--model-dir " + shell_quote(dir.string()) + " --json short " + shell_quote(text)));
  ASSERT_EQ(l.exit_code, 0) << l.err;
  EXPECT_EQ(json_lines(l.out).at(1)["ids"].size(), 602u);
  EXPECT_EQ(l.err,
            "tensorgraph: warning: 1 text(s) longer than the model's 512 tokens were not "
            "truncated (use --max-length 512)\n");
}

TEST(CliTokenize, InvalidUtf8IsAnErrorWithTheByteOffset) {
  TG_REQUIRE_SHARED_FILE(shared_path(kVocabRelative));
  auto r = run_command(tokenize(vocab_arg() + " ok $(printf 'ab\\377cd')"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "tensorgraph: error: argument 2 (\"ab\"): invalid UTF-8 at byte 2\n");
  TempDir dir;
  std::ofstream(dir / "bad.txt") << "good line\nbad \xC3\x28 line\n";
  r = run_command(tokenize(vocab_arg() + " --file " + shell_quote((dir / "bad.txt").string())));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("bad.txt:2: invalid UTF-8 at byte 4"));
}

TEST(CliTokenize, HelpfulErrors) {
  TempDir dir;
  auto r = run_command(tokenize("hello"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("tensorgraph: error: no tokenizer: give --model-dir DIR"));
  r = run_command(tokenize("--vocab " + shell_quote((dir / "missing.txt").string()) + " hello"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "tensorgraph: error: " + (dir / "missing.txt").string() + ": no such file\n");
  std::ofstream(dir / "empty.txt").close();
  r = run_command(tokenize("--vocab " + shell_quote((dir / "empty.txt").string()) + " hello"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("empty.txt: empty vocabulary"));
  std::ofstream(dir / "nospecial.txt") << "hello\nworld\n";
  r = run_command(tokenize("--vocab " + shell_quote((dir / "nospecial.txt").string()) + " hello"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("the special token [UNK] is not in the vocabulary"));
  r = run_command(tokenize("--model-dir " + shell_quote(dir.path().string()) + " hello"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no vocab.txt in this directory"));
  r = run_command(tokenize("--model-dir a --vocab b hello"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "tensorgraph: error: give either --model-dir or --vocab, not both\n");

  std::ofstream(dir / "vocab.txt") << "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n";
  const std::string vocab = "--vocab " + shell_quote((dir / "vocab.txt").string());
  r = run_command(tokenize(vocab));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "tensorgraph: error: no input: give TEXT arguments or --file PATH (- for standard "
            "input)\n");
  r = run_command(tokenize(vocab + " --file " + shell_quote((dir / "none.jsonl").string())));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("none.jsonl: no such file"));
  // A tiny vocabulary works too: unknown words are [UNK].
  r = run_command(tokenize(vocab + " --json 'hello there'"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json_lines(r.out).at(0)["ids"], nlohmann::json::parse("[2, 5, 1, 3]"));
}

TEST(CliTokenize, HelpHasExamples) {
  const auto r = run_command(tokenize("--help"));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("--max-length"));
  EXPECT_THAT(r.out, HasSubstr("Examples:"));
  EXPECT_THAT(r.out, HasSubstr("tensorgraph tokenize --vocab"));
}

}  // namespace
}  // namespace tensorgraph
