#include "shared_data.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace tensorgraph::testing {

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("TG_SHARED_DIR"); env && *env) return env;
  return TG_SHARED_DIR;
}

std::filesystem::path shared_path(const std::string& relative) { return shared_dir() / relative; }

bool shared_data_required() {
  const char* ci = std::getenv("CI");
  const char* req = std::getenv("TG_REQUIRE_SHARED");
  return (ci && std::string(ci) == "true") || (req && std::string(req) == "1");
}

std::filesystem::path test_data_path(const std::string& relative) {
  return std::filesystem::path(TG_TEST_DATA_DIR) / relative;
}

std::filesystem::path cli_path() { return TG_CLI_PATH; }

std::filesystem::path source_dir() { return TG_SOURCE_DIR; }

TempDir::TempDir() {
  std::random_device rd;
  const auto base = std::filesystem::temp_directory_path();
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = base / ("tg-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::error_code ec;
    if (std::filesystem::create_directory(candidate, ec)) {
      path_ = candidate;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string shell_quote(const std::string& arg) {
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

CommandResult run_command(const std::string& command, const std::string* stdin_text) {
  TempDir dir;
  const auto out = dir / "stdout";
  const auto err = dir / "stderr";
  std::string in = "/dev/null";
  if (stdin_text) {
    in = (dir / "stdin").string();
    std::ofstream(in, std::ios::binary) << *stdin_text;
  }
  const std::string full = "(" + command + ") <" + shell_quote(in) + " >" +
                           shell_quote(out.string()) + " 2>" + shell_quote(err.string());
  const int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace tensorgraph::testing
