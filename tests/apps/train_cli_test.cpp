// `train mlp|cnn` and `predict mlp|cnn` end to end (the built binary): the committed weights of
// examples 04 and 05 reach their targets, small training runs write weights, log and checkpoint,
// Ctrl-C (SIGINT) saves a checkpoint that --resume continues to the same weights, and mistakes
// give one-line errors before any long work.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"

namespace tensorgraph {
namespace {

using testing::cli_path;
using testing::run_command;
using testing::shared_path;
using testing::shell_quote;
using testing::source_dir;
using testing::TempDir;

std::string cli() {
  return shell_quote(cli_path().string());
}
std::string data_dir() {
  return shell_quote(shared_path("data").string());
}
std::string q(const std::filesystem::path& p) {
  return shell_quote(p.string());
}
std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
std::size_t count_lines_starting(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.rfind(prefix, 0) == 0;
  return n;
}

TEST(PredictCli, CommittedMlpReachesR2Of80Percent) {
  TG_REQUIRE_SHARED_FILE(shared_path("data/california_housing/cal_housing.data"));
  const auto weights = source_dir() / "examples/04_mlp_regression/weights/mlp.safetensors";
  ASSERT_TRUE(std::filesystem::exists(weights)) << weights;
  const auto r = run_command(cli() + " predict mlp --weights " + q(weights) + " --data " +
                             data_dir() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GE(j.at("r2").get<double>(), 0.80);
  EXPECT_GT(j.at("rmse").get<double>(), 40000);  // dollars
  EXPECT_LT(j.at("rmse").get<double>(), 55000);
  EXPECT_EQ(j.at("rows"), 4128);
  // The human form says the same.
  const auto h = run_command(cli() + " predict mlp --data " + data_dir());
  ASSERT_EQ(h.exit_code, 0) << h.err;
  EXPECT_NE(h.out.find("R^2 0.80"), std::string::npos) << h.out;
}

TEST(PredictCli, CommittedCnnReaches99Percent) {
  TG_REQUIRE_SHARED_FILE(shared_path("data/mnist/t10k-images-idx3-ubyte.gz"));
  const auto weights = source_dir() / "examples/05_cnn_mnist/weights/cnn.safetensors";
  ASSERT_TRUE(std::filesystem::exists(weights)) << weights;
  const auto r = run_command(cli() + " predict cnn --weights " + q(weights) + " --data " +
                             data_dir() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("images"), 10000);
  EXPECT_GE(j.at("accuracy").get<double>(), 0.99);
  EXPECT_EQ(j.at("correct").get<int>(), static_cast<int>(j.at("accuracy").get<double>() * 10000 + 0.5));
}

TEST(TrainCli, SmallMlpRunWritesWeightsLogAndCheckpoint) {
  TG_REQUIRE_SHARED_FILE(shared_path("data/california_housing/cal_housing.data"));
  TempDir dir;
  const auto r = run_command(cli() + " train mlp --data " + data_dir() + " --limit 500 --epochs 3" +
                             " --threads 1 --json --out " + q(dir / "m.safetensors"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("epochs_run"), 3);
  EXPECT_EQ(j.at("test").at("count"), 100);
  EXPECT_TRUE(std::filesystem::exists(dir / "m.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(dir / "m.checkpoint.safetensors"));
  const std::string log = read_file(dir / "m.train.log");
  EXPECT_EQ(count_lines_starting(log, "epoch "), 3u) << log;
  EXPECT_NE(log.find("command: tensorgraph train mlp"), std::string::npos) << log;
  EXPECT_NE(log.find("test          100 rows  R^2"), std::string::npos) << log;
  // Epoch lines on stderr (no terminal: no progress bar).
  EXPECT_EQ(count_lines_starting(r.err, "epoch "), 3u) << r.err;
  // predict reads the split back from the weight file (500 rows -> 100 test rows).
  const auto p = run_command(cli() + " predict mlp --weights " + q(dir / "m.safetensors") +
                             " --data " + data_dir() + " --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(nlohmann::json::parse(p.out).at("rows"), 100);
  EXPECT_NEAR(nlohmann::json::parse(p.out).at("r2").get<double>(),
              j.at("test").at("r2").get<double>(), 1e-4);
}

TEST(TrainCli, CtrlCSavesACheckpointAndResumeEndsWithTheSameWeights) {
  TG_REQUIRE_SHARED_FILE(shared_path("data/california_housing/cal_housing.data"));
  TempDir dir;
  const std::string common = " train mlp --data " + data_dir() +
                             " --limit 3000 --epochs 300 --patience 0 --threads 1 --json";
  const auto whole = run_command(cli() + common + " --out " + q(dir / "whole.safetensors"));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;

  // SIGINT after half a second: well inside training (loading takes a few milliseconds).
  const std::string out = q(dir / "cut.safetensors");
  const auto cut = run_command("timeout --preserve-status -s INT 0.5 " + cli() + common + " --out " + out);
  ASSERT_EQ(cut.exit_code, 130) << cut.out << cut.err;
  EXPECT_NE(cut.err.find("interrupted: checkpoint saved to"), std::string::npos) << cut.err;
  EXPECT_NE(cut.err.find("--resume"), std::string::npos) << cut.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "cut.safetensors"));
  EXPECT_TRUE(std::filesystem::exists(dir / "cut.checkpoint.safetensors"));

  const auto resumed = run_command(cli() + common + " --out " + out + " --resume");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto a = nlohmann::json::parse(whole.out), b = nlohmann::json::parse(resumed.out);
  EXPECT_EQ(b.at("epochs_run"), 300);
  EXPECT_EQ(a.at("test").at("r2"), b.at("test").at("r2"));
  EXPECT_EQ(a.at("train").at("rmse"), b.at("train").at("rmse"));
  EXPECT_EQ(a.at("best_epoch"), b.at("best_epoch"));
  const std::string log = read_file(dir / "cut.train.log");
  EXPECT_EQ(count_lines_starting(log, "epoch "), 300u);
  EXPECT_NE(log.find("resumed from"), std::string::npos);

  // Resuming with other settings is refused, naming the setting.
  const auto other = run_command(cli() + " train mlp --data " + data_dir() +
                                 " --limit 3000 --epochs 300 --patience 0 --threads 1 --lr 0.1" +
                                 " --out " + out + " --resume");
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.err.find("learning_rate"), std::string::npos) << other.err;
}

TEST(TrainCli, SmallCnnRun) {
  TG_REQUIRE_SHARED_FILE(shared_path("data/mnist/train-images-idx3-ubyte.gz"));
  TempDir dir;
  const auto r = run_command(cli() + " train cnn --data " + data_dir() +
                             " --limit 300 --validation 50 --epochs 1 --test-limit 100 --threads 1" +
                             " --json --out " + q(dir / "c.safetensors"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("test").at("count"), 100);
  EXPECT_EQ(j.at("validation").at("count"), 50);
  EXPECT_GT(j.at("seconds_per_epoch").get<double>(), 0);
  const auto p = run_command(cli() + " predict cnn --weights " + q(dir / "c.safetensors") +
                             " --data " + data_dir() + " --limit 100 --json");
  ASSERT_EQ(p.exit_code, 0) << p.err;
  EXPECT_EQ(nlohmann::json::parse(p.out).at("accuracy"), j.at("test").at("accuracy"));
}

TEST(TrainCli, MistakesAreOneLineErrors) {
  TempDir dir;
  auto expect_error = [&](const std::string& args, const std::string& message) {
    const auto r = run_command(cli() + " " + args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("tensorgraph: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  };
  expect_error("train mlp --data " + q(dir.path()) + " --out " + q(dir / "m.safetensors"),
               "cal_housing.data: not found");
  expect_error("train cnn --data " + q(dir.path()) + " --out " + q(dir / "c.safetensors"),
               "train-images-idx3-ubyte.gz: not found");
  expect_error("train mlp --out " + q(dir / "no/such/dir/m.safetensors"), "does not exist");
  expect_error("train mlp --epochs 0 --out " + q(dir / "m.safetensors"), "--epochs must be");
  expect_error("train cnn --lr -1 --out " + q(dir / "c.safetensors"), "--lr must be > 0");
  expect_error("train mlp --layers 8,x,1 --data " + data_dir() + " --out " + q(dir / "m.safetensors"),
               "'x' is not a positive size");
  expect_error("predict cnn --weights " + q(dir / "missing.safetensors"), "no such weight file");
  std::ofstream(dir / "junk.safetensors") << "not a safetensors file";
  expect_error("predict mlp --weights " + q(dir / "junk.safetensors"), "junk.safetensors");
  if (std::filesystem::exists(shared_path("data/california_housing/cal_housing.data")))
    expect_error("train mlp --data " + data_dir() + " --out " + q(dir / "m.safetensors") +
                     " --resume",
                 "no checkpoint to resume from");
}

}  // namespace
}  // namespace tensorgraph
