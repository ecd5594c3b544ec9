#pragma once
// Access to ../shared (real data and golden fixtures) from tests.
//
// A test that needs a shared file calls TG_REQUIRE_SHARED_FILE(path): when the file is missing
// the test is SKIPPED with a message on a developer's machine, but FAILS when CI=true or
// TG_REQUIRE_SHARED=1, so that a wrong path can never turn parity tests into silent skips.
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace tensorgraph::testing {

// The shared directory (TG_SHARED_DIR at build time, overridable with the environment variable
// TG_SHARED_DIR at run time).
std::filesystem::path shared_dir();
// shared_dir() / relative
std::filesystem::path shared_path(const std::string& relative);
// True when missing shared data must fail the test rather than skip it.
bool shared_data_required();
// Small test inputs committed under tests/data (never copies of ../shared).
std::filesystem::path test_data_path(const std::string& relative);
// The built `tensorgraph` executable.
std::filesystem::path cli_path();
// The repository root.
std::filesystem::path source_dir();

// A fresh temporary directory removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Result of running a command through the shell.
struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `command` with /bin/sh; stdin is /dev/null unless `stdin_text` is given.
CommandResult run_command(const std::string& command, const std::string* stdin_text = nullptr);
// Quotes an argument for /bin/sh.
std::string shell_quote(const std::string& arg);

}  // namespace tensorgraph::testing

// Skips (developer machine) or fails (CI) when a shared file or directory is missing.
#define TG_REQUIRE_SHARED_FILE(path_expr)                                                      \
  do {                                                                                         \
    const std::filesystem::path tg_required_path_ = (path_expr);                               \
    if (!std::filesystem::exists(tg_required_path_)) {                                         \
      if (::tensorgraph::testing::shared_data_required()) {                                    \
        FAIL() << "shared fixture missing: " << tg_required_path_                              \
               << " (CI=true or TG_REQUIRE_SHARED=1: missing fixtures fail instead of skip)";  \
      } else {                                                                                 \
        GTEST_SKIP() << "shared fixture missing: " << tg_required_path_                        \
                     << " (set TG_SHARED_DIR; CI fails instead of skipping)";                  \
      }                                                                                        \
    }                                                                                          \
  } while (false)
