// The CLI skeleton: --help, --version, `info` (text and --json), one-line errors.
#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"

namespace tensorgraph {
namespace {

using tensorgraph::testing::cli_path;
using tensorgraph::testing::run_command;
using tensorgraph::testing::shell_quote;
using ::testing::HasSubstr;

std::string cli() {
  return shell_quote(cli_path().string());
}

TEST(CliInfo, TextNamesCpuThreadsAndLibraries) {
  const auto r = run_command(cli() + " info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  for (const char* part : {"tensorgraph 0.1.0", "cpu ", "isa ", "onednn isa", "threads",
                           "libraries", "oneDNN", "utf8proc", "libcurl", "nlohmann_json", "fmt"})
    EXPECT_THAT(r.out, HasSubstr(part));
}

TEST(CliInfo, JsonIsOneObjectWithTheFacts) {
  const auto r = run_command(cli() + " info --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_object());
  EXPECT_FALSE(j.at("cpu_model").get<std::string>().empty());
  EXPECT_TRUE(j.at("isa_features").is_array());
  EXPECT_GE(j.at("threads").get<int>(), 1);
  EXPECT_GE(j.at("logical_cpus").get<int>(), 1);
  EXPECT_EQ(j.at("version"), "0.1.0");
  EXPECT_THAT(j.at("libraries").at("oneDNN").get<std::string>(), HasSubstr("2."));
  for (const char* lib : {"OpenMP", "utf8proc", "libcurl", "libarchive", "zlib", "OpenSSL",
                          "nlohmann_json", "toml++", "cpp-httplib", "CLI11", "fmt"})
    EXPECT_TRUE(j.at("libraries").contains(lib)) << lib;
  // Features the compiler was told to use (-march=native) must be reported by the CPU.
  const auto features = j.at("isa_features").get<std::vector<std::string>>();
  auto has = [&](const char* f) {
    return std::find(features.begin(), features.end(), f) != features.end();
  };
#ifdef __AVX2__
  EXPECT_TRUE(has("avx2"));
#endif
#ifdef __F16C__
  EXPECT_TRUE(has("f16c"));
#endif
#ifdef __AVX512F__
  EXPECT_TRUE(has("avx512f"));
#endif
  (void)has;
}

TEST(CliInfo, ThreadCountFollowsTheEnvironment) {
  const auto r = run_command("TG_NUM_THREADS=3 " + cli() + " info --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("threads"), 3);
  const auto bad = run_command("TG_NUM_THREADS=zero " + cli() + " info");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("tensorgraph: error: TG_NUM_THREADS must be a whole number"));
}

TEST(CliSkeleton, HelpVersionAndErrors) {
  const auto help = run_command(cli() + " --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("info"));
  const auto version = run_command(cli() + " --version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, HasSubstr("tensorgraph 0.1.0 (commit "));
  const auto none = run_command(cli());
  EXPECT_NE(none.exit_code, 0);
  const auto unknown = run_command(cli() + " no-such-command");
  EXPECT_GE(unknown.exit_code, 2);
  const auto bad_flag = run_command(cli() + " info --no-such-flag");
  EXPECT_GE(bad_flag.exit_code, 2);
  EXPECT_THAT(bad_flag.err, HasSubstr("--no-such-flag"));
}

}  // namespace
}  // namespace tensorgraph
