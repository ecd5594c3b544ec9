// `tensorgraph bench` end to end: tiny configs (element-wise kernels; DistilBERT with fake peers
// and with our engine on the tiny fixture), reports on disk, --json, --filter, the correctness
// gate failing a run, skipped peers, --show and --update-results.
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"

namespace tensorgraph {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;
using testing::run_command;
using testing::shell_quote;

std::string cli() {
  return shell_quote(testing::cli_path().string());
}

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

const char* kElementwise = R"([benchmark]
name = "tiny_elementwise"
task = "elementwise"
warmup = 1
iterations = 3
repeat = 2
threads = [1]
reference = "reference"

[[cases]]
name = "relu"
label = "relu(x*2+1) [8,33]"
op = "relu_affine"
rows = 8
cols = 33

[[cases]]
name = "ln"
op = "layer_norm"
rows = 4
cols = 64
quick = false

[implementations.tensorgraph]
type = "tensorgraph"

[implementations.loop]
type = "loop"

[implementations.reference]
type = "tensorgraph"
options = { kernels = "reference" }

[output]
baseline = "loop"
)";

TEST(CliBench, ElementwiseEndToEnd) {
  testing::TempDir dir;
  write(dir / "config.toml", kElementwise);
  const auto r = run_command(cli() + " bench " + shell_quote((dir / "config.toml").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("tiny_elementwise"));
  EXPECT_THAT(r.out, HasSubstr("1 thread: p50 (speedup over loop), best marked *"));
  EXPECT_THAT(r.out, HasSubstr("relu(x*2+1) [8,33]"));
  EXPECT_THAT(r.out, HasSubstr("checked tensorgraph against reference: 2 cases"));
  EXPECT_THAT(r.out, HasSubstr("CPU: "));
  EXPECT_THAT(r.err, HasSubstr("bench: 1 thread: timing"));  // plain progress lines off a terminal
  const auto files = files_in(dir / "results");
  ASSERT_EQ(files.size(), 3u) << r.out;
  EXPECT_EQ(files[0].extension(), ".csv");
  EXPECT_EQ(files[1].extension(), ".json");
  EXPECT_EQ(files[2].extension(), ".md");
  const json report = read_json(files[1]);
  EXPECT_EQ(report["benchmark"], "tiny_elementwise");
  EXPECT_EQ(report["runs"].size(), 1u);
  EXPECT_EQ(report["runs"][0]["results"].size(), 6u);
  EXPECT_EQ(report["runs"][0]["results"][0]["n"], 6);  // 2 rounds of 3
  EXPECT_FALSE(report["machine"]["cpu_model"].get<std::string>().empty());
  EXPECT_EQ(report["settings"]["repeat"], 2);
  // Interleaved: each round runs every implementation once.
  EXPECT_EQ(report["runs"][0]["schedule"][3], "relu r1 tensorgraph");
  EXPECT_EQ(report["runs"][0]["schedule"][4], "relu r1 loop");
  EXPECT_EQ(report["runs"][0]["schedule"][5], "relu r1 reference");
  EXPECT_EQ(report["runs"][0]["schedule"][6], "relu r2 tensorgraph");
  std::ifstream md(files[2]);
  std::stringstream text;
  text << md.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("| relu(x*2+1) [8,33] |"));
  EXPECT_THAT(text.str(), HasSubstr("oneDNN"));

  // --show renders a saved report; --json prints the report and the files.
  const auto shown = run_command(cli() + " bench --show " + shell_quote(files[1].string()));
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_THAT(shown.out, HasSubstr("relu(x*2+1) [8,33]"));
  const auto quick = run_command(cli() + " bench " + shell_quote(dir.path().string()) +
                                 " --quick --json --out " + shell_quote((dir / "q").string()));
  ASSERT_EQ(quick.exit_code, 0) << quick.err;
  const json j = json::parse(quick.out);
  EXPECT_EQ(j["quick"], true);
  EXPECT_EQ(j["files"].size(), 3u);
  EXPECT_EQ(j["cases"].size(), 1u);  // ln has quick = false
  EXPECT_EQ(j["settings"]["iterations"], 3);
  EXPECT_THAT(j["files"][0].get<std::string>(), HasSubstr("_quick.json"));
}

TEST(CliBench, ErrorsAreOneClearLine) {
  testing::TempDir dir;
  write(dir / "config.toml", kElementwise);
  auto r = run_command(cli() + " bench " + shell_quote((dir / "config.toml").string()) +
                       " --filter nothing --out " + shell_quote((dir / "out").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("tensorgraph: error: no case to run matches --filter (cases: relu, ln)"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));

  r = run_command(cli() + " bench /nonexistent/config.toml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "tensorgraph: error: /nonexistent/config.toml: no such config file\n");

  std::string bad = kElementwise;
  bad.replace(bad.find("repeat = 2"), 10, "repaet = 2");
  write(dir / "bad.toml", bad);
  r = run_command(cli() + " bench " + shell_quote((dir / "bad.toml").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(
      r.err,
      HasSubstr("bad.toml:6:1: unknown key 'repaet' in [benchmark] (did you mean 'repeat'?)"));

  r = run_command(cli() + " bench");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no config"));
}

// A DistilBERT config on the tiny fixture; `peers` are [implementations.*] tables.
std::string distilbert_config(const std::string& peers, const std::string& extra_cases = "") {
  const std::string fixture = testing::shared_path("fixtures/distilbert-tiny").string();
  return R"([benchmark]
name = "tiny_distilbert"
task = "distilbert"
warmup = 1
iterations = 2
repeat = 2
threads = [1]
tolerance = 1e-4

[model]
path = ")" +
         fixture + R"("
fixture = ")" +
         fixture + R"("

[[cases]]
name = "seq8"
tokens = 8
)" + extra_cases +
         peers;
}

std::string fake_peer(const std::string& name, const std::string& args) {
  const std::string fixture = testing::shared_path("fixtures/distilbert-tiny").string();
  return "\n[implementations." + name +
         "]\ntype = \"peer\"\noptions = { command = [\"python3\", \"" +
         testing::test_data_path("bench/fake_peer.py").string() + "\", \"--replay\", \"" + fixture +
         "\", \"--name\", \"" + name + "\"" + args + "] }\n";
}

TEST(CliBench, DistilBertWithFakePeersAndTheGate) {
  TG_REQUIRE_SHARED_FILE(testing::shared_path("fixtures/distilbert-tiny/logits.jsonl"));
  testing::TempDir dir;
  write(dir / "good.toml", distilbert_config(fake_peer("a", "") + fake_peer("b", "") +
                                             fake_peer("gone", ", \"--mode\", \"skipped\"")));
  auto r = run_command(cli() + " bench " + shell_quote((dir / "good.toml").string()) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j["gate"]["checks"].size(),
            2u * 68u);  // 60 single and 8 batched fixture inputs, per peer
  for (const auto& c : j["gate"]["checks"]) EXPECT_EQ(c["ok"], true);
  const json& run = j["runs"][0];
  EXPECT_EQ(run["implementations"][2]["status"], "skipped: not installed (fake)");
  EXPECT_EQ(run["results"][0]["case"], "seq8");
  EXPECT_EQ(run["results"][0]["samples_ms"], json({1.0, 1.1, 1.0, 1.1}));
  EXPECT_EQ(run["implementations"][0]["settings"]["reported"]["peer"], "a");
  EXPECT_GT(run["implementations"][0]["cold_start_s"].get<double>(), 0);
  EXPECT_GT(run["implementations"][0]["peak_rss_mib"].get<double>(), 0);

  // A peer whose logits are off by 0.01 fails the run at the gate, before any timing.
  write(dir / "wrong.toml",
        distilbert_config(fake_peer("a", "") + fake_peer("wrong", ", \"--perturb\", \"0.01\"")));
  r = run_command(cli() + " bench " + shell_quote((dir / "wrong.toml").string()) + " --out " +
                  shell_quote((dir / "wrong-out").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("tensorgraph: error: gate on "));
  EXPECT_THAT(r.err, HasSubstr("correctness check failed (68 of 136), nothing was timed"));
  EXPECT_THAT(
      r.err,
      HasSubstr("wrong on 'fixture0' vs expected: max |difference| 0.01 > tolerance 0.0001"));
  EXPECT_FALSE(std::filesystem::exists(dir / "wrong-out"));
}

TEST(CliBench, DistilBertOnOurEngine) {
  TG_REQUIRE_SHARED_FILE(testing::shared_path("fixtures/distilbert-tiny/logits.jsonl"));
  testing::TempDir dir;
  write(dir / "sentences.jsonl",
        "{\"text\": \"It was okay.\", \"category\": \"short\"}\n"
        "{\"text\": \"A long and winding sentence about nothing in particular at all.\", "
        "\"category\": \"long\"}\n");
  const std::string config =
      distilbert_config(
          "\n[implementations.tensorgraph]\ntype = \"peer\"\noptions = { command = "
          "[\"{tensorgraph}\", \"bench-peer\", \"distilbert\", \"--model\", \"{model}\", "
          "\"--threads\", \"{threads}\"] }\n",
          "\n[[cases]]\nname = \"text_all\"\ntext = \"all\"\nbatch = 2\n") +
      "\n[test_data]\nbenchmark = \"sentences.jsonl\"\nvalidation = \"sentences.jsonl\"\n";
  write(dir / "config.toml", config);
  const auto r = run_command(cli() + " bench " + shell_quote((dir / "config.toml").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("checked tensorgraph against expected: 68 cases"));
  // The text case was checked against the same texts as ids (tokenizer included).
  EXPECT_THAT(r.out, HasSubstr("checked tensorgraph against tensorgraph on text_all~ids: 1 case"));
  const auto files = files_in(dir / "results");
  ASSERT_EQ(files.size(), 3u);
  const json j = read_json(files[1]);
  const json& run = j["runs"][0];
  bool text_timed = false;
  for (const auto& res : run["results"])
    if (res["case"] == "text_all" && res["implementation"] == "tensorgraph") {
      text_timed = res["status"] == "ok";
      EXPECT_EQ(res["unit"], "sentences/s");
    }
  EXPECT_TRUE(text_timed);
  EXPECT_EQ(run["implementations"][0]["settings"]["reported"]["peer"], "tensorgraph");
}

TEST(CliBench, UpdateResultsWritesThePage) {
  testing::TempDir dir;
  write(dir / "config.toml", kElementwise);
  std::filesystem::create_directories(dir / "benchmarks" / "01_x");
  auto r = run_command(cli() + " bench " + shell_quote((dir / "config.toml").string()) +
                       " --quick --out " + shell_quote((dir / "benchmarks/01_x/results").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  write(dir / "benchmarks" / "01_x" / "NOTES.md", "## Old numbers\n\nkept.\n");
  r = run_command(cli() + " bench --update-results --benchmarks-dir " +
                  shell_quote((dir / "benchmarks").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("from 1 report"));
  std::ifstream in(dir / "benchmarks" / "RESULTS.md");
  std::stringstream page;
  page << in.rdbuf();
  EXPECT_THAT(page.str(), HasSubstr("## tiny_elementwise (quick run)"));
  EXPECT_THAT(page.str(), HasSubstr("## Old numbers"));
  EXPECT_THAT(page.str(), Not(HasSubstr("No benchmark report yet")));
}

}  // namespace
}  // namespace tensorgraph
