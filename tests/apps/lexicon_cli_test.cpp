// The lexicon commands end to end: classify, eval, train lexicon (the built binary).
#include <cctype>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"

namespace tensorgraph {
namespace {

using testing::cli_path;
using testing::CommandResult;
using testing::run_command;
using testing::shared_path;
using testing::shell_quote;
using testing::TempDir;
using testing::test_data_path;

std::string cli() {
  return shell_quote(cli_path().string());
}
std::string data(const std::string& name) {
  return shell_quote(test_data_path("lexicon/" + name).string());
}
std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
std::vector<nlohmann::json> json_lines(const std::string& out) {
  std::vector<nlohmann::json> v;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}
// The line of `text` that starts with `prefix` (without its newline), or "" (no std::regex: GCC 12
// warns inside it under the sanitizers).
std::string line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}
// "-?digits.dddd"
bool is_fixed4(std::string s) {
  if (!s.empty() && s[0] == '-') s.erase(0, 1);
  const auto dot = s.find('.');
  if (dot == std::string::npos || dot == 0 || s.size() - dot - 1 != 4) return false;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != dot && !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}
// Runs of spaces collapsed to one.
std::string squeeze(const std::string& s) {
  std::string out;
  for (char c : s)
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out.push_back(c);
  return out;
}

// One line on stderr, "tensorgraph: error: ...", exit 1.
void expect_error(const CommandResult& r, const std::string& fragment) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err.rfind("tensorgraph: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// ---- classify ----------------------------------------------------------------------------------

TEST(ClassifyCli, IssueExamplesWithTheBuiltinLexicon) {
  const auto r = run_command(cli() +
                             " classify --model lexicon 'This movie was fantastic!' "
                             "'not good at all' 'The cat sat.'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // an explicit model: no notice
  EXPECT_EQ(r.out,
            "LABEL     SCORE  TEXT\n"
            "POSITIVE  0.858  This movie was fantastic!\n"
            "NEGATIVE  0.679  not good at all\n"
            "NEUTRAL   0.500  The cat sat.\n");
}

TEST(ClassifyCli, JsonOnePerInputInOrder) {
  const auto r = run_command(cli() + " classify --model lexicon --json 'I loved it' 'awful' ''");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  const auto& a = lines[0];
  EXPECT_EQ(a["text"], "I loved it");
  EXPECT_EQ(a["label"], "POSITIVE");
  EXPECT_EQ(a["model"], "lexicon:mvp");
  EXPECT_EQ(a["truncated"], false);
  EXPECT_NEAR(a["score"].get<double>(), 1 / (1 + std::exp(-1.6)), 1e-6);  // "loved" 0.8
  EXPECT_NEAR(a["scores"]["POSITIVE"].get<double>() + a["scores"]["NEGATIVE"].get<double>(), 1,
              1e-6);
  EXPECT_EQ(a["logits"], nlohmann::json::parse("[-0.8, 0.8]"));
  EXPECT_EQ(lines[1]["label"], "NEGATIVE");
  EXPECT_EQ(lines[2]["label"], "NEUTRAL");
  EXPECT_EQ(lines[2]["score"], 0.5);
}

TEST(ClassifyCli, AutoSaysWhyItUsesTheLexicon) {
  TempDir models;
  // Offline, so that the automatic download fails at once (tests never use the network).
  const auto r =
      run_command("TG_MODELS_DIR=" + shell_quote(models.path().string()) + " HF_HUB_OFFLINE=1 " +
                  cli() + " classify 'This movie was fantastic!'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("POSITIVE"), std::string::npos);
  EXPECT_EQ(r.err.rfind("tensorgraph: note: DistilBERT is not available (model not found: " +
                            (models.path() / "distilbert-sentiment").string(),
                        0),
            0u)
      << r.err;
  EXPECT_NE(r.err.find("; using the lexicon baseline (--model lexicon to choose it and hide this "
                       "note)\n"),
            std::string::npos);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1);
}

TEST(ClassifyCli, FileAndStdin) {
  auto r = run_command(cli() + " classify --model lexicon --json --file " + data("tiny_eval.tsv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 8u);  // header skipped
  EXPECT_EQ(lines[0]["text"], "This movie was fantastic!");
  EXPECT_EQ(lines[7]["text"], "great fun");
  const std::string input = "good\nterrible\n\nnot bad\n";
  r = run_command(cli() + " classify --model lexicon --json --file -", &input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lines = json_lines(r.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[2]["label"], "POSITIVE");  // "not bad"
  // Arguments first, then the file.
  r = run_command(cli() + " classify --model lexicon --json great --file -", &input);
  EXPECT_EQ(json_lines(r.out).size(), 4u);
}

TEST(ClassifyCli, OtherLexicons) {
  auto r = run_command(cli() + " classify --json --lexicon " + data("afinn_format.txt") +
                       " 'It does not work.' 'marvellous'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");  // --lexicon is an explicit choice
  auto lines = json_lines(r.out);
  EXPECT_EQ(lines[0]["label"], "NEGATIVE");
  EXPECT_EQ(lines[0]["logits"], nlohmann::json::parse("[0.8, -0.8]"));
  EXPECT_EQ(lines[1]["model"], "lexicon:afinn_format");
  const auto afinn = shared_path("data/afinn/AFINN-en-165.txt");
  TG_REQUIRE_SHARED_FILE(afinn);
  r = run_command(cli() + " classify --json --lexicon " + shell_quote(afinn.string()) +
                  " 'This movie was fantastic!' 'not good at all' 'It does not work'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lines = json_lines(r.out);
  EXPECT_EQ(lines[0]["label"], "POSITIVE");
  EXPECT_EQ(lines[1]["label"], "NEGATIVE");
  EXPECT_EQ(lines[2]["label"], "NEGATIVE");
}

TEST(ClassifyCli, Errors) {
  expect_error(run_command(cli() + " classify --model lexicon"), "nothing to classify");
  expect_error(run_command(cli() + " classify --model lexicon $(printf 'bad\\377')"),
               "argument 1: invalid UTF-8");
  expect_error(run_command(cli() + " classify --lexicon /nonexistent/lex.txt good"),
               "/nonexistent/lex.txt: no such lexicon file");
  expect_error(run_command(cli() + " classify --lexicon " + data("bad_score.txt") + " good"),
               "bad_score.txt:3: bad score 'minus-one'");
  expect_error(run_command(cli() + " classify --model lexicon --file /nonexistent.txt"),
               "/nonexistent.txt: no such file");
  const std::string invalid = "good\n\xC3\x28 bad\n";
  expect_error(run_command(cli() + " classify --model lexicon --file -", &invalid),
               "<stdin>:2: invalid UTF-8");
  // Bad arguments: CLI11's exit code (not 0, not 1).
  const auto r = run_command(cli() + " classify --model gpt good");
  EXPECT_GE(r.exit_code, 2);
}

TEST(ClassifyCli, HelpHasExamples) {
  const auto r = run_command(cli() + " classify --help");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos);
  EXPECT_NE(r.out.find("--lexicon"), std::string::npos);
  EXPECT_NE(r.out.find("--json"), std::string::npos);
}

// ---- eval --------------------------------------------------------------------------------------

// tiny_eval: gold NEGATIVE answered NEG, NEG, POS, NEUTRAL; gold POSITIVE answered POS, NEUTRAL,
// NEG, POS (see tests/data/lexicon/tiny_eval.tsv and the MVP lexicon).
void expect_tiny_metrics(const nlohmann::json& j) {
  EXPECT_EQ(j["count"], 8);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(j["binary_accuracy"].get<double>(), 0.625);
  EXPECT_EQ(j["neutral"], 2);
  EXPECT_NEAR(j["macro_f1"].get<double>(), 4.0 / 7.0, 1e-12);
  EXPECT_NEAR(j["per_class"]["NEGATIVE"]["precision"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(j["per_class"]["POSITIVE"]["recall"].get<double>(), 0.5);
  EXPECT_EQ(j["confusion_matrix"]["counts"], nlohmann::json::parse("[[2,1,1],[1,2,1]]"));
  EXPECT_EQ(j["model"], "lexicon:mvp");
  EXPECT_EQ(j["skipped_bad"], 0);
  EXPECT_GT(j["throughput_sentences_per_s"].get<double>(), 0);
}

TEST(EvalCli, HandMadeFileExactValues) {
  auto r = run_command(cli() + " eval --model lexicon --json --data " + data("tiny_eval.tsv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_tiny_metrics(nlohmann::json::parse(r.out));
  // The same texts as JSON lines with label names.
  r = run_command(cli() + " eval --model lexicon --json --data " + data("tiny_eval.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  expect_tiny_metrics(nlohmann::json::parse(r.out));
}

TEST(EvalCli, HumanOutput) {
  const auto r = run_command(cli() + " eval --model lexicon --data " + data("tiny_eval.tsv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("accuracy         0.5000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("binary_accuracy  0.6250  (NEUTRAL answers count as POSITIVE)"),
            std::string::npos);
  EXPECT_NE(r.out.find("macro_f1         0.5714"), std::string::npos);
  EXPECT_NE(r.out.find("neutral          2 of 8 answers"), std::string::npos);
  EXPECT_NE(squeeze(r.out).find("\nNEGATIVE 2 1 1\n"), std::string::npos) << r.out;
  EXPECT_NE(line_starting(r.out, "throughput").find(" texts/s ("), std::string::npos);
}

TEST(EvalCli, LimitAndBadLines) {
  auto r =
      run_command(cli() + " eval --model lexicon --json --limit 3 --data " + data("tiny_eval.tsv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["count"], 3);

  const std::string bad = test_data_path("lexicon/bad_label.tsv").string();
  expect_error(run_command(cli() + " eval --model lexicon --data " + data("bad_label.tsv")),
               bad + ":3: label '7' is not one of NEGATIVE, POSITIVE");
  r = run_command(cli() + " eval --model lexicon --json --skip-bad --data " +
                  data("bad_label.tsv"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["skipped_bad"], 1);

  const std::string missing = test_data_path("lexicon/missing_label.txt").string();
  expect_error(run_command(cli() + " eval --model lexicon --data " + data("missing_label.txt")),
               missing + ":3: no label");
  r = run_command(cli() + " eval --model lexicon --json --skip-bad --data " +
                  data("missing_label.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["skipped_bad"], 1);

  expect_error(run_command(cli() + " eval --model lexicon --data /nonexistent.tsv"),
               "/nonexistent.tsv: no such file");
  EXPECT_GE(run_command(cli() + " eval --model lexicon").exit_code, 2);  // --data is required
}

TEST(EvalCli, Sst2DevSanity) {
  const auto dev = shared_path("data/sst2/dev.tsv");
  const auto afinn = shared_path("data/afinn/AFINN-en-165.txt");
  TG_REQUIRE_SHARED_FILE(dev);
  TG_REQUIRE_SHARED_FILE(afinn);
  const auto learned = testing::source_dir() / "data/lexicon/sst2-learned.tsv";
  auto r = run_command(cli() + " eval --json --data " + shell_quote(dev.string()) + " --lexicon " +
                       shell_quote(afinn.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["count"], 872);
  // Loose bounds: the measured values are in benchmarks/RESULTS.md.
  EXPECT_GT(j["binary_accuracy"].get<double>(), 0.6);
  r = run_command(cli() + " eval --json --data " + shell_quote(dev.string()) + " --lexicon " +
                  shell_quote(learned.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["binary_accuracy"].get<double>(), 0.7);
}

// ---- train lexicon -----------------------------------------------------------------------------

TEST(TrainLexiconCli, WritesAUsableLexiconWithAHeader) {
  TempDir dir;
  const auto out = dir / "learned.tsv";
  const std::string command = cli() + " train lexicon --data " + data("tiny_train.tsv") +
                              " --out " + shell_quote(out.string()) +
                              " --min-count 1 --epochs 40 --batch-size 4 --lr 0.05 --holdout 0";
  auto r = run_command(command);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("wrote " + out.string()), std::string::npos) << r.out;
  const std::string file = read_file(out);
  const std::string cmd = line_starting(file, "# command: ");
  EXPECT_EQ(cmd.rfind("# command: tensorgraph train lexicon --data ", 0), 0u) << cmd;
  EXPECT_NE(cmd.find("tiny_train.tsv --out "), std::string::npos) << cmd;
  EXPECT_NE(cmd.find("learned.tsv --words 10000 --bigrams 5000 --min-count 1 --epochs 40 "
                     "--batch-size 4 --lr 0.05 --l2 0 --holdout 0 --seed 1"),
            std::string::npos)
      << cmd;
  const std::string data_line = line_starting(file, "# data: ");
  const std::string prefix =
      "# data: tiny_train.tsv, 22 labelled texts (10 positive, 12 negative), sha256 ";
  ASSERT_EQ(data_line.rfind(prefix, 0), 0u) << data_line;
  const std::string sha = data_line.substr(prefix.size());
  EXPECT_EQ(sha.size(), 64u);
  EXPECT_EQ(sha.find_first_not_of("0123456789abcdef"), std::string::npos) << sha;
  EXPECT_NE(file.find("\n# seed: 1\n"), std::string::npos);
  EXPECT_EQ(
      line_starting(file, "# train: ").rfind("# train: 22 texts, accuracy 1.0000, log-loss", 0),
      0u);
  EXPECT_NE(file.find("\n# held-out: none (--holdout 0)\n"), std::string::npos);
  EXPECT_NE(file.find("\n@scale\t1\n@bias\t"), std::string::npos);
  EXPECT_TRUE(is_fixed4(line_starting(file, "@bias\t").substr(6)));
  const std::string joyful = line_starting(file, "joyful\t").substr(7);
  EXPECT_TRUE(is_fixed4(joyful) && joyful[0] != '-') << joyful;
  const std::string dull = line_starting(file, "dull\t").substr(5);
  EXPECT_TRUE(is_fixed4(dull) && dull[0] == '-') << dull;
  // No temporary file left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()),
                          std::filesystem::directory_iterator()),
            1);

  // Usable with --lexicon, and the same command writes the same file.
  r = run_command(cli() + " classify --json --lexicon " + shell_quote(out.string()) +
                  " 'a joyful and smart film' 'clumsy and dull'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = json_lines(r.out);
  EXPECT_EQ(lines[0]["label"], "POSITIVE");
  EXPECT_EQ(lines[1]["label"], "NEGATIVE");
  ASSERT_EQ(run_command(command).exit_code, 0);
  EXPECT_EQ(read_file(out), file);
}

TEST(TrainLexiconCli, Errors) {
  TempDir dir;
  expect_error(run_command(cli() + " train lexicon --data " + data("tiny_train.tsv") + " --out " +
                           shell_quote((dir / "missing/x.tsv").string())),
               "does not exist");
  expect_error(run_command(cli() + " train lexicon --data " + data("missing_label.txt") +
                           " --out " + shell_quote((dir / "x.tsv").string())),
               "missing_label.txt:3: no label");
  expect_error(run_command(cli() + " train lexicon --data " + data("tiny_train.tsv") +
                           " --epochs 0 --out " + shell_quote((dir / "x.tsv").string())),
               "--epochs must be in 1..1000");
  EXPECT_FALSE(std::filesystem::exists(dir / "x.tsv"));
}

TEST(TrainLexiconCli, Sst2Slice) {
  const auto train = shared_path("data/sst2/train.tsv");
  TG_REQUIRE_SHARED_FILE(train);
  TempDir dir;
  const auto out = dir / "slice.tsv";
  const auto r = run_command(cli() + " train lexicon --json --data " + shell_quote(train.string()) +
                             " --limit 2000 --words 1000 --bigrams 200 --epochs 2 --out " +
                             shell_quote(out.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["train"]["count"].get<int>() + j["holdout"]["count"].get<int>(), 2000);
  EXPECT_EQ(j["data_sha256"], "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1");
  EXPECT_NE(read_file(out).find("--limit 2000"), std::string::npos);
}

TEST(LearnedLexicon, CommittedFileHeader) {
  const auto path = testing::source_dir() / "data/lexicon/sst2-learned.tsv";
  ASSERT_TRUE(std::filesystem::exists(path));
  const std::string file = read_file(path);
  EXPECT_NE(file.find("\n# command: tensorgraph train lexicon --data "
                      "../shared/data/sst2/train.tsv --out data/lexicon/sst2-learned.tsv"),
            std::string::npos);
  EXPECT_NE(file.find("67349 labelled texts (37569 positive, 29780 negative), sha256 "
                      "48eac26399f8456935f81dd9e3a745c1430adb6c62e233ccfe22db4a0d15d1d1\n"),
            std::string::npos);
  EXPECT_NE(file.find("\n# seed: 1\n"), std::string::npos);
  EXPECT_NE(line_starting(file, "# train: ").find(" texts, accuracy 0."), std::string::npos);
  EXPECT_NE(line_starting(file, "# held-out: ").find(" texts of train.tsv never trained on"),
            std::string::npos);
  EXPECT_NE(file.find("\n@scale\t1\n@bias\t"), std::string::npos);
  EXPECT_TRUE(is_fixed4(line_starting(file, "@bias\t").substr(6)));
}

}  // namespace
}  // namespace tensorgraph
