// `tensorgraph bench` on the trained models of examples 04 and 05 (tasks mlp_regression and
// cnn_mnist) end to end with tiny settings: our engine against the reference kernels, a peer that
// is not installed (skipped), a peer with wrong outputs failing the gate before any timing, the
// training case's steps, and the results page's training section. PyTorch is not needed.
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"

namespace tensorgraph {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using testing::run_command;
using testing::shell_quote;

std::string cli() {
  return shell_quote(testing::cli_path().string());
}

void write(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::string common(const std::string& task, const std::string& weights) {
  return R"([benchmark]
name = "tiny_)" +
         task + R"("
task = ")" +
         task +
         R"("
warmup = 1
iterations = 2
repeat = 2
threads = [1]
reference = "reference"
tolerance = 1e-3

[model]
path = ")" +
         (testing::source_dir() / weights).string() +
         R"("
data = ")" +
         testing::shared_path("data").string() +
         R"("
)";
}

std::string implementations(const std::string& peer_inputs, const std::string& perturb) {
  const std::string fake = testing::test_data_path("bench/fake_peer.py").string();
  std::string out = R"(
[implementations.tensorgraph]
type = "tensorgraph"

[implementations.torch]
type = "peer"
options = { command = ["python3", "/nonexistent/peer.py"], available = ["sh", "-c", "echo no torch here >&2; exit 1"] }

[implementations.reference]
type = "tensorgraph"
timed = false
options = { kernels = "reference" }
)";
  if (!perturb.empty())
    out += "\n[implementations.wrong]\ntype = \"peer\"\noptions = { command = [\"python3\", \"" +
           fake + "\", \"--inputs\", \"" + peer_inputs + "\", \"--perturb\", \"" + perturb +
           "\"] }\n";
  return out;
}

const json* result(const json& run, const std::string& c, const std::string& impl) {
  for (const auto& r : run["results"])
    if (r["case"] == c && r["implementation"] == impl) return &r;
  return nullptr;
}

TEST(CliBenchModels, MlpRegression) {
  TG_REQUIRE_SHARED_FILE(testing::shared_path("data/california_housing/cal_housing.data"));
  testing::TempDir dir;
  const std::string cases = R"(
[[cases]]
name = "batch1"
batch = 1

[[cases]]
name = "batch64"
label = "batch 64"
batch = 64
)";
  write(dir / "config.toml",
        common("mlp_regression", "examples/04_mlp_regression/weights/mlp.safetensors") + cases +
            implementations("features", ""));
  auto r = run_command(cli() + " bench " + shell_quote((dir / "config.toml").string()) +
                       " --json --out " + shell_quote((dir / "out").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  const json& run = j["runs"][0];
  EXPECT_EQ(run["implementations"][1]["status"],
            "skipped: not installed (`sh -c 'echo no torch here >&2; exit 1'` failed: no torch "
            "here)");
  ASSERT_EQ(run["checks"].size(), 2u);  // tensorgraph against the reference on 2 cases
  for (const auto& c : run["checks"]) {
    EXPECT_EQ(c["ok"], true);
    EXPECT_LT(c["max_abs_diff"].get<double>(), 1e-4);
  }
  const json* timed = result(run, "batch64", "tensorgraph");
  ASSERT_NE(timed, nullptr);
  EXPECT_EQ((*timed)["status"], "ok");
  EXPECT_EQ((*timed)["n"], 4);
  EXPECT_EQ((*timed)["unit"], "rows/s");
  EXPECT_EQ((*result(run, "batch64", "reference"))["status"], "not timed");

  // A peer answering wrong predictions fails the run before anything is timed.
  write(dir / "wrong.toml",
        common("mlp_regression", "examples/04_mlp_regression/weights/mlp.safetensors") + cases +
            implementations("features", "0.5"));
  r = run_command(cli() + " bench " + shell_quote((dir / "wrong.toml").string()) + " --out " +
                  shell_quote((dir / "wrong-out").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("correctness check failed (2 of 4), nothing was timed"));
  EXPECT_THAT(r.err, HasSubstr("wrong on 'batch1' vs reference: max |difference|"));
  EXPECT_FALSE(std::filesystem::exists(dir / "wrong-out"));
}

TEST(CliBenchModels, CnnInferenceAndTraining) {
  TG_REQUIRE_SHARED_FILE(testing::shared_path("data/mnist/train-images-idx3-ubyte.gz"));
  testing::TempDir dir;
  const std::string cases = R"(
[[cases]]
name = "batch2"
batch = 2

[[cases]]
name = "train"
label = "training"
train = true
batch = 4
steps = 3
quick_steps = 1
check_steps = 2
check_batch = 2
iterations = 1
repeat = 2
)";
  write(dir / "config.toml", common("cnn_mnist", "examples/05_cnn_mnist/weights/cnn.safetensors") +
                                 cases + implementations("images,train", ""));
  std::filesystem::create_directories(dir / "benchmarks/05_x");
  auto r = run_command(cli() + " bench " + shell_quote((dir / "config.toml").string()) +
                       " --quick --json --out " +
                       shell_quote((dir / "benchmarks/05_x/results").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  const json& run = j["runs"][0];
  ASSERT_EQ(run["checks"].size(), 2u);
  for (const auto& c : run["checks"]) EXPECT_EQ(c["ok"], true) << c.dump();
  // The training case under --quick: quick_steps steps per run, no warm-up runs, 2 rounds.
  ASSERT_EQ(j["cases"][1]["name"], "train");
  EXPECT_EQ(j["cases"][1]["info"]["steps"], 1);
  EXPECT_EQ(j["cases"][1]["info"]["kind"], "training");
  const json* train = result(run, "train", "tensorgraph");
  ASSERT_NE(train, nullptr);
  EXPECT_EQ((*train)["status"], "ok");
  EXPECT_EQ((*train)["n"], 2);
  int train_blocks = 0;
  for (const auto& s : run["schedule"]) {
    if (s.get<std::string>().rfind("train ", 0) == 0) ++train_blocks;
  }
  EXPECT_EQ(train_blocks, 2);  // no initial warm-up block for the training case

  // The results page gets the training section the README links to.
  r = run_command(cli() + " bench --update-results --benchmarks-dir " +
                  shell_quote((dir / "benchmarks").string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(dir / "benchmarks" / "RESULTS.md");
  std::stringstream page;
  page << in.rdbuf();
  EXPECT_THAT(page.str(), HasSubstr("## Training (issue 8)"));
  EXPECT_THAT(page.str(), HasSubstr("| tiny_cnn_mnist | 1 | tensorgraph | 1 x 4 |"));

  // Wrong logits and wrong training losses fail the gate.
  write(dir / "wrong.toml", common("cnn_mnist", "examples/05_cnn_mnist/weights/cnn.safetensors") +
                                cases + implementations("images,train", "0.25"));
  r = run_command(cli() + " bench " + shell_quote((dir / "wrong.toml").string()) +
                  " --quick --out " + shell_quote((dir / "wrong-out").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("nothing was timed"));
  EXPECT_THAT(r.err, HasSubstr("wrong on 'batch2' vs reference"));
  EXPECT_THAT(r.err, HasSubstr("wrong on 'train' vs reference"));
}

}  // namespace
}  // namespace tensorgraph
