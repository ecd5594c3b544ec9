#include "tensorgraph/bench/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"

extern char** environ;

namespace tensorgraph::bench {

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

ExitStatus make_status(int status, const rusage& usage) {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  s.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
  s.user_s = static_cast<double>(usage.ru_utime.tv_sec) + usage.ru_utime.tv_usec / 1e6;
  s.system_s = static_cast<double>(usage.ru_stime.tv_sec) + usage.ru_stime.tv_usec / 1e6;
  return s;
}

bool needs_quotes(const std::string& s) {
  if (s.empty()) return true;
  return s.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
             "-_./=:,+@%") != std::string::npos;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (exit_code >= 0) return fmt::format("exit code {}", exit_code);
  return fmt::format("killed by signal {} ({})", signal, ::strsignal(signal));
}

std::string quote_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    if (!needs_quotes(a)) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'')
        out += "'\\''";
      else
        out += c;
    }
    out += '\'';
  }
  return out;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const ProcessOptions& options)
    : argv_(argv) {
  TG_CHECK(!argv.empty() && !argv[0].empty(), "empty command");
  // The environment of the child.
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    const std::string key = entry.substr(0, entry.find('='));
    if (options.set_env.count(key)) continue;
    if (std::find(options.unset_env.begin(), options.unset_env.end(), key) !=
        options.unset_env.end())
      continue;
    env.push_back(entry);
  }
  for (const auto& [k, v] : options.set_env) env.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& a : args) argp.push_back(a.data());
  argp.push_back(nullptr);

  int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
  char temp[] = "/tmp/tensorgraph-bench-stderr-XXXXXX";
  const int err_fd = ::mkostemp(temp, O_CLOEXEC);
  TG_CHECK(err_fd >= 0, "cannot create a temporary file for the standard error of {}: {}", argv[0],
           std::strerror(errno));
  stderr_path_ = temp;
  if (::pipe2(in_pipe, O_CLOEXEC) != 0 || ::pipe2(out_pipe, O_CLOEXEC) != 0) {
    const int saved = errno;
    ::close(err_fd);
    fail("cannot create pipes for {}: {}", argv[0], std::strerror(saved));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], 0);
  posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
  if (options.capture_stdout)
    posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  else
    posix_spawn_file_actions_adddup2(&actions, err_fd, 1);
  started_ = std::chrono::steady_clock::now();
  const int rc = ::posix_spawnp(&pid_, argp[0], &actions, nullptr, argp.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_fd);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    std::error_code ec;
    std::filesystem::remove(stderr_path_, ec);
    pid_ = -1;
    fail("cannot run {}: {}", argv[0], std::strerror(rc));
  }
  stdin_fd_ = in_pipe[1];
  stdout_fd_ = out_pipe[0];
}

ChildProcess::~ChildProcess() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    rusage usage{};
    while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
    }
  }
  std::error_code ec;
  if (!stderr_path_.empty()) std::filesystem::remove(stderr_path_, ec);
}

std::string ChildProcess::command_line() const {
  return quote_command(argv_);
}

void ChildProcess::write_line(const std::string& line) {
  TG_CHECK(stdin_fd_ >= 0, "{}: its input is closed", argv_[0]);
  std::string data = line + "\n";
  // A child that exited makes write() raise SIGPIPE, which would kill this process: block it
  // while writing and consume it if it came.
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  std::size_t done = 0;
  int error = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(stdin_fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = errno;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  if (error == EPIPE) {
    const timespec zero{0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  if (error != 0)
    fail("{}: cannot write to the process ({}): it exited?{}", argv_[0], std::strerror(error),
         stderr_tail().empty() ? "" : " Its standard error ends with:\n" + stderr_tail());
}

std::optional<std::string> ChildProcess::read_line(double timeout_s) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    const auto nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      return line;
    }
    if (eof_) {
      if (buffer_.empty()) return std::nullopt;
      std::string line = std::move(buffer_);
      buffer_.clear();
      return line;
    }
    const double left = timeout_s - seconds_since(start);
    if (left <= 0)
      fail("{}: no answer within {:.0f} s{}", command_line(), timeout_s,
           stderr_tail().empty() ? "" : "; its standard error ends with:\n" + stderr_tail());
    pollfd p{stdout_fd_, POLLIN, 0};
    const int ms = static_cast<int>(std::min(left * 1000.0, 1e9)) + 1;
    const int rc = ::poll(&p, 1, ms);
    if (rc < 0) {
      if (errno == EINTR) continue;
      fail("{}: poll failed: {}", argv_[0], std::strerror(errno));
    }
    if (rc == 0) continue;
    char chunk[1 << 16];
    const ssize_t n = ::read(stdout_fd_, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      fail("{}: read failed: {}", argv_[0], std::strerror(errno));
    }
    if (n == 0)
      eof_ = true;
    else
      buffer_.append(chunk, static_cast<std::size_t>(n));
  }
}

std::string ChildProcess::read_all(double timeout_s) {
  std::string out;
  while (auto line = read_line(timeout_s)) out += *line + "\n";
  return out;
}

void ChildProcess::close_stdin() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

bool ChildProcess::running() {
  if (status_ || pid_ <= 0) return false;
  int status = 0;
  rusage usage{};
  const pid_t r = ::wait4(pid_, &status, WNOHANG, &usage);
  if (r == pid_) {
    status_ = make_status(status, usage);
    return false;
  }
  return true;
}

ExitStatus ChildProcess::wait(double timeout_s) {
  if (status_) return *status_;
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  rusage usage{};
  for (;;) {
    const pid_t r = ::wait4(pid_, &status, WNOHANG, &usage);
    if (r == pid_) break;
    if (r < 0 && errno != EINTR) fail("{}: wait failed: {}", argv_[0], std::strerror(errno));
    if (seconds_since(start) > timeout_s) {
      ::kill(pid_, SIGKILL);
      while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  status_ = make_status(status, usage);
  return *status_;
}

std::string ChildProcess::stderr_tail(std::size_t lines) const {
  std::ifstream in(stderr_path_, std::ios::binary);
  if (!in) return {};
  std::vector<std::string> all;
  std::string line;
  while (std::getline(in, line)) {
    all.push_back(line);
    if (all.size() > lines * 4) all.erase(all.begin(), all.begin() + static_cast<long>(lines));
  }
  std::string out;
  const std::size_t first = all.size() > lines ? all.size() - lines : 0;
  for (std::size_t i = first; i < all.size(); ++i) out += "    " + all[i] + "\n";
  if (!out.empty()) out.pop_back();
  return out;
}

CommandOutcome run_to_end(const std::vector<std::string>& argv, const ProcessOptions& options,
                          double timeout_s) {
  ProcessOptions o = options;
  o.capture_stdout = false;
  const auto start = std::chrono::steady_clock::now();
  ChildProcess child(argv, o);
  child.close_stdin();
  CommandOutcome outcome;
  outcome.status = child.wait(timeout_s);
  outcome.seconds = seconds_since(start);
  outcome.output = child.stderr_tail(40);
  return outcome;
}

}  // namespace tensorgraph::bench
