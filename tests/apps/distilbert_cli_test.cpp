// DistilBERT through the CLI: classify with a model folder, the auto fallback, corrupt or
// inconsistent model folders (one clear error line, a normal non-zero exit, never a crash), and
// make-random-model's refusals.
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"
#include "tensorgraph/io/safetensors.hpp"

namespace tensorgraph {
namespace {

using testing::cli_path;
using testing::CommandResult;
using ::testing::HasSubstr;
using testing::run_command;
using testing::shared_path;
using testing::shell_quote;
using ::testing::StartsWith;
using testing::TempDir;

std::string cli() {
  return shell_quote(cli_path().string());
}
std::filesystem::path tiny() {
  return shared_path("fixtures/distilbert-tiny");
}
std::string q(const std::filesystem::path& p) {
  return shell_quote(p.string());
}

// A fresh, writable copy of the tiny model to damage.
void copy_tiny(const std::filesystem::path& to) {
  std::filesystem::create_directories(to);
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"})
    std::filesystem::copy_file(tiny() / f, to / f);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void write_file(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << s;
}

// A failure the way users should see it: exit 1, exactly one line on stderr, no crash.
void expect_one_line_error(const CommandResult& r, const std::string& fragment) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(r.err, StartsWith("tensorgraph: error: "));
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(fragment));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("terminate")));
}

TEST(DistilBertCli, ClassifiesWithAModelFolder) {
  TG_REQUIRE_SHARED_FILE(tiny() / "model.safetensors");
  const auto r = run_command(cli() + " classify --json --model-dir " + q(tiny()) +
                             " 'I hate this so much!' 'This movie was fantastic!'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream in(r.out);
  std::string line;
  std::getline(in, line);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["text"], "I hate this so much!");
  EXPECT_EQ(j["model"], "distilbert:distilbert-tiny");
  EXPECT_EQ(j["label"], "NEGATIVE");
  // logits.jsonl, second line: [1.5357619524002075, 0.9377474784851074]
  EXPECT_NEAR(j["logits"][0].get<double>(), 1.5357619524002075, 1e-4);
  EXPECT_NEAR(j["logits"][1].get<double>(), 0.9377474784851074, 1e-4);
  EXPECT_NEAR(j["scores"]["NEGATIVE"].get<double>(), 0.6452019214630127, 1e-4);
  EXPECT_EQ(j["truncated"], false);
  std::getline(in, line);
  EXPECT_EQ(nlohmann::json::parse(line)["text"], "This movie was fantastic!");
  EXPECT_EQ(r.err, "");  // no note: the model was named
}

TEST(DistilBertCli, LongTextsAreTruncatedOrChunkedNeverFatal) {
  TG_REQUIRE_SHARED_FILE(tiny() / "model.safetensors");
  std::string text;
  for (int i = 0; i < 700; ++i) text += "great ";
  for (const char* mode : {"truncate", "chunk"}) {
    const auto r = run_command(cli() + " classify --json --long-text " + mode + " --model-dir " +
                               q(tiny()) + " " + shell_quote(text));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["truncated"], std::string(mode) == "truncate") << mode;
  }
}

TEST(DistilBertCli, AutoFallsBackToTheLexiconAndSaysWhy) {
  TempDir empty;
  const auto r = run_command("TG_MODELS_DIR=" + q(empty.path()) + " HF_HUB_OFFLINE=1 " + cli() +
                             " classify 'This movie was fantastic!'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("POSITIVE"));
  EXPECT_THAT(r.err, HasSubstr("using the lexicon baseline"));
  EXPECT_THAT(r.err, HasSubstr("HF_HUB_OFFLINE"));
  // --model distilbert makes the same situation an error.
  expect_one_line_error(run_command("TG_MODELS_DIR=" + q(empty.path()) + " HF_HUB_OFFLINE=1 " +
                                    cli() + " classify --model distilbert 'x'"),
                        "offline");
}

TEST(DistilBertCli, CorruptModelFoldersGiveOneClearError) {
  TG_REQUIRE_SHARED_FILE(tiny() / "model.safetensors");
  const std::string original = read_file(tiny() / "model.safetensors");
  struct Case {
    std::string name;
    std::function<void(const std::filesystem::path&)> damage;
    std::string fragment;
  };
  const std::vector<Case> cases = {
      {"truncated safetensors",
       [&](const auto& d) { write_file(d / "model.safetensors", original.substr(0, 5000)); },
       "model.safetensors"},
      {"garbled header",
       [&](const auto& d) {
         std::string s = original;
         s[20] = '\x01';
         s[21] = '{';
         write_file(d / "model.safetensors", s);
       },
       "model.safetensors"},
      {"empty file", [&](const auto& d) { write_file(d / "model.safetensors", ""); },
       "model.safetensors"},
      {"tensor missing",
       [&](const auto& d) {
         const auto f = io::SafeTensorsFile::open(tiny() / "model.safetensors");
         std::vector<std::pair<std::string, Tensor>> kept;
         for (const auto& info : f.tensors())
           if (info.name != "classifier.weight")
             kept.emplace_back(info.name, f.tensor(info).clone());
         io::write_safetensors(d / "model.safetensors", kept);
       },
       "no tensor 'classifier.weight'"},
      {"tensor of the wrong shape",
       [&](const auto& d) {
         const auto f = io::SafeTensorsFile::open(tiny() / "model.safetensors");
         std::vector<std::pair<std::string, Tensor>> kept;
         for (const auto& info : f.tensors())
           kept.emplace_back(info.name, info.name == "pre_classifier.bias"
                                            ? Tensor::zeros(DType::F32, Shape{63})
                                            : f.tensor(info).clone());
         io::write_safetensors(d / "model.safetensors", kept);
       },
       "tensor 'pre_classifier.bias' has shape [63], config.json expects [64]"},
      {"config disagrees with the weights",
       [&](const auto& d) {
         std::string c = read_file(d / "config.json");
         c.replace(c.find("\"dim\": 64"), 9, "\"dim\": 96");
         write_file(d / "config.json", c);
       },
       "config.json expects"},
      {"config.json not JSON", [&](const auto& d) { write_file(d / "config.json", "{dim: 64"); },
       "config.json: not valid JSON"},
      {"vocab.txt missing", [&](const auto& d) { std::filesystem::remove(d / "vocab.txt"); },
       "not a model folder"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir tmp;
    copy_tiny(tmp / "m");
    c.damage(tmp / "m");
    expect_one_line_error(
        run_command(cli() + " classify --model distilbert --model-dir " + q(tmp / "m") + " 'x'"),
        c.fragment);
  }
}

TEST(DistilBertCli, InvalidUtf8InputIsAnError) {
  TG_REQUIRE_SHARED_FILE(tiny() / "model.safetensors");
  TempDir tmp;
  write_file(tmp / "in.txt", "good\nbad \xC3\x28 text\n");
  expect_one_line_error(
      run_command(cli() + " classify --model-dir " + q(tiny()) + " --file " + q(tmp / "in.txt")),
      "in.txt:2: invalid UTF-8 at byte 4");
  expect_one_line_error(
      run_command(cli() + " classify --model-dir " + q(tiny()) + " $(printf 'a\\377b')"),
      "invalid UTF-8 at byte 1");
}

TEST(DistilBertCli, MakeRandomModelRefusesARealModelAndNeedsAVocab) {
  TG_REQUIRE_SHARED_FILE(tiny() / "model.safetensors");
  TempDir tmp;
  copy_tiny(tmp / "m");
  expect_one_line_error(run_command(cli() + " make-random-model --vocab " +
                                    q(tiny() / "vocab.txt") + " --out " + q(tmp / "m")),
                        "refusing to overwrite");
  expect_one_line_error(run_command(cli() + " make-random-model --vocab " + q(tmp / "none.txt") +
                                    " --out " + q(tmp / "r")),
                        "vocabulary file not found");
  EXPECT_FALSE(std::filesystem::exists(tmp / "r" / "model.safetensors"));
  EXPECT_NE(run_command(cli() + " make-random-model --out " + q(tmp / "r")).exit_code, 0);
}

}  // namespace
}  // namespace tensorgraph
