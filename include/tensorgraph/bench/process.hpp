#pragma once
// Child processes for benchmark peers and preparation steps: spawned with a modified
// environment, talked to by lines on stdin/stdout (with timeouts), waited for with their own
// resource usage (wait4: peak RSS, CPU time). Standard error goes to a temporary file whose tail
// error messages quote.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tensorgraph/bench/config.hpp"

namespace tensorgraph::bench {

struct ProcessOptions {
  StringMap set_env;                   // added or replaced
  std::vector<std::string> unset_env;  // removed
  bool capture_stdout = true;          // false: stdout goes to the stderr file too
};

struct ExitStatus {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  double peak_rss_mib = 0;  // ru_maxrss of this child
  double user_s = 0, system_s = 0;
  std::string describe() const;  // "exit code 1", "killed by signal 9 (Killed)"
};

class ChildProcess {
 public:
  // Starts argv[0] (looked up in PATH) with stdin/stdout pipes. Throws Error "not found" (with
  // errno's reason) when it cannot be executed.
  ChildProcess(const std::vector<std::string>& argv, const ProcessOptions& options = {});
  ~ChildProcess();  // kills (SIGKILL) and reaps the child if it still runs
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  const std::vector<std::string>& argv() const { return argv_; }
  // When spawn was called.
  std::chrono::steady_clock::time_point started() const { return started_; }

  // Writes `line` and '\n'. Throws Error when the child has closed its input (it exited).
  void write_line(const std::string& line);
  // The next line of stdout without its '\n'; nullopt at end of file. Throws Error when nothing
  // arrives within `timeout_s` seconds.
  std::optional<std::string> read_line(double timeout_s);
  // Reads stdout to its end (for short commands).
  std::string read_all(double timeout_s);
  void close_stdin();
  // True once the child closed its standard output (it is exiting).
  bool output_closed() const { return eof_ && buffer_.empty(); }

  // Waits for the exit; after `timeout_s` kills it (SIGKILL) and reports that.
  ExitStatus wait(double timeout_s);
  bool running();
  // The last `lines` lines of the child's standard error so far.
  std::string stderr_tail(std::size_t lines = 20) const;
  // "python3 peer.py serve ..." for messages.
  std::string command_line() const;

 private:
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  std::filesystem::path stderr_path_;
  std::string buffer_;
  bool eof_ = false;
  std::optional<ExitStatus> status_;
  std::chrono::steady_clock::time_point started_;
};

// Runs a command to its end, returning its exit status and output (stdout and stderr together).
struct CommandOutcome {
  ExitStatus status;
  std::string output;
  double seconds = 0;
  bool ok() const { return status.exit_code == 0; }
};
CommandOutcome run_to_end(const std::vector<std::string>& argv, const ProcessOptions& options,
                          double timeout_s);

// Shell-like quoting for showing commands in messages and reports.
std::string quote_command(const std::vector<std::string>& argv);

}  // namespace tensorgraph::bench
