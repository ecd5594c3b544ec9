// `tensorgraph serve` as a process: options and --config, the access log, port conflicts, and
// SIGTERM/SIGINT with requests in flight (they are answered, the exit status is 0).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"
#include "tensorgraph/nn/lexicon.hpp"

extern char** environ;

namespace tensorgraph {
namespace {

using json = nlohmann::json;
using testing::cli_path;
using ::testing::HasSubstr;
using testing::run_command;
using testing::shell_quote;
using testing::TempDir;

// `tensorgraph serve ARGS...` with its stderr read through a pipe.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& args) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    std::vector<std::string> argv{cli_path().string(), "serve"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, cargv[0], &actions, &attr, cargv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(fds[1]);
    err_fd_ = fds[0];
  }
  ~ServeProcess() {
    if (pid_ > 0 && status_ < 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (err_fd_ >= 0) ::close(err_fd_);
  }

  // The port of the "listening on http://HOST:PORT" line; 0 if the process ended first.
  int wait_listening(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      for (const std::string marker : {"listening on http://", "\"url\":\"http://"}) {
        const auto at = err_.find(marker);
        if (at == std::string::npos) continue;
        const auto colon = err_.find(':', at + marker.size());
        if (colon != std::string::npos && err_.find_first_of(";\"", colon) != std::string::npos)
          return std::atoi(err_.c_str() + colon + 1);
      }
      if (!read_some(100)) return 0;
    }
    return 0;
  }
  void signal(int sig) { ::kill(pid_, sig); }
  // Exit status (128 + signal when killed by one); reads the rest of stderr.
  int wait_exit() {
    while (read_some(1000)) {
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return status_;
  }
  const std::string& err() const { return err_; }

 private:
  // False at the end of the stream.
  bool read_some(int timeout_ms) {
    pollfd p{err_fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return true;
    char buf[4096];
    const ssize_t n = ::read(err_fd_, buf, sizeof buf);
    if (n <= 0) return false;
    err_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int err_fd_ = -1;
  int status_ = -1;
  std::string err_;
};

std::unique_ptr<httplib::Client> client(int port) {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
  c->set_read_timeout(30, 0);
  return c;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(ServeCli, HelpShowsTheApiAndExamples) {
  const auto r = run_command(shell_quote(cli_path().string()) + " serve --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* s :
       {"POST /predict", "POST /tokenize", "GET  /metrics", "--max-batch", "--max-wait-ms",
        "--max-input-chars", "--max-request-bytes", "--max-concurrent-requests", "--config",
        "--host", "--log-inputs", "Examples:", "curl -s localhost:8080/predict", "SIGTERM"})
    EXPECT_THAT(r.out, HasSubstr(s)) << s;
}

TEST(ServeCli, BadOptionsAreOneLineErrors) {
  const std::string cli = shell_quote(cli_path().string());
  auto r = run_command(cli + " serve --model lexicon --max-batch 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "tensorgraph: error: --max-batch must be between 1 and 4096, got 0\n");
  r = run_command(cli + " serve --model lexicon --config /nonexistent/serve.toml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent/serve.toml: cannot open the configuration file"));
  TempDir dir;
  std::ofstream(dir / "serve.toml") << "port = 0\nmax_bach = 3\n";
  r = run_command(cli + " serve --model lexicon --config " +
                  shell_quote((dir / "serve.toml").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("serve.toml:2: unknown key `max_bach`"));
  r = run_command(cli + " serve --model lexicon --port 70000");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--port must be between 0 and 65535"));
}

TEST(ServeCli, ConfigFileWithTheCommandLineOverIt) {
  TempDir dir;
  std::ofstream(dir / "serve.toml") << "model = \"lexicon\"\nport = 0\n[server]\nmax_batch = 3\n"
                                       "max-client-batch-size = 10\n";
  ServeProcess p({"--config", (dir / "serve.toml").string(), "--max-batch", "5"});
  const int port = p.wait_listening();
  ASSERT_GT(port, 0) << p.err();
  const json info = json::parse(client(port)->Get("/info")->body);
  EXPECT_EQ(info["model_id"], "lexicon:mvp");
  EXPECT_EQ(info["max_batch"], 5);
  EXPECT_EQ(info["max_client_batch_size"], 10);
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(), 0);
}

TEST(ServeCli, APortInUseIsAnError) {
  ServeProcess first({"--model", "lexicon", "--port", "0"});
  const int port = first.wait_listening();
  ASSERT_GT(port, 0) << first.err();
  const auto r = run_command(shell_quote(cli_path().string()) + " serve --model lexicon --port " +
                             std::to_string(port));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("tensorgraph: error: cannot listen on 127.0.0.1:" +
                               std::to_string(port) + ": Address already in use"));
  first.signal(SIGTERM);
  EXPECT_EQ(first.wait_exit(), 0);
}

TEST(ServeCli, SigtermAnswersTheRequestsInFlightThenExitsZero) {
  // Texts wait up to 30 s for batch-mates: they are surely in flight when SIGTERM comes.
  ServeProcess p(
      {"--model", "lexicon", "--port", "0", "--max-wait-ms", "30000", "--max-batch", "100"});
  const int port = p.wait_listening();
  ASSERT_GT(port, 0) << p.err();
  const std::vector<std::string> texts{"I love it", "I hate it", "not good at all", "great fun"};
  std::vector<std::future<httplib::Result>> in_flight;
  for (const auto& t : texts)
    in_flight.push_back(std::async(std::launch::async, [port, t] {
      return client(port)->Post("/predict", json{{"inputs", t}}.dump(), "application/json");
    }));
  bool queued = false;
  for (int i = 0; i < 300 && !queued; ++i) {
    const auto m = client(port)->Get("/metrics");
    queued = m && m->body.find("tensorgraph_queue_depth 4\n") != std::string::npos;
    if (!queued) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(queued) << p.err();

  p.signal(SIGTERM);
  nn::LexiconClassifier reference(nn::Lexicon::builtin());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const auto r = in_flight[i].get();
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
    const json answer = json::parse(r->body);
    const nn::Prediction expected = reference.classify_one(texts[i]);
    EXPECT_EQ(static_cast<float>(answer[0]["score"].get<double>()),
              std::max(expected.probabilities[0], expected.probabilities[1]));
  }
  EXPECT_EQ(p.wait_exit(), 0) << p.err();
  EXPECT_THAT(p.err(), HasSubstr("SIGTERM: finishing the requests in flight"));
  EXPECT_THAT(p.err(), HasSubstr("tensorgraph serve: stopped\n"));
  EXPECT_EQ(count(p.err(), " POST /predict 200 "), texts.size());
  // The texts are not in the log.
  EXPECT_THAT(p.err(), ::testing::Not(HasSubstr("I hate it")));
  EXPECT_FALSE(client(port)->Get("/health"));  // gone
}

TEST(ServeCli, SigintStopsItToo) {
  ServeProcess p({"--model", "lexicon", "--port", "0"});
  const int port = p.wait_listening();
  ASSERT_GT(port, 0) << p.err();
  EXPECT_EQ(client(port)->Get("/health")->status, 200);
  p.signal(SIGINT);
  EXPECT_EQ(p.wait_exit(), 0) << p.err();
  EXPECT_THAT(p.err(), HasSubstr("SIGINT: finishing the requests in flight"));
}

TEST(ServeCli, JsonLogsAndLoggedInputs) {
  ServeProcess p({"--model", "lexicon", "--port", "0", "--json", "--log-inputs"});
  const int port = p.wait_listening();
  ASSERT_GT(port, 0) << p.err();
  EXPECT_EQ(
      client(port)->Post("/predict", R"({"inputs": ["I love it"]})", "application/json")->status,
      200);
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(), 0);
  std::istringstream lines(p.err());
  std::vector<json> events;
  for (std::string line; std::getline(lines, line);) events.push_back(json::parse(line));
  ASSERT_GE(events.size(), 3u) << p.err();
  EXPECT_EQ(events[0]["event"], "listening");
  EXPECT_EQ(events[0]["port"], port);
  const json& request = events[1];
  EXPECT_EQ(request["method"], "POST");
  EXPECT_EQ(request["path"], "/predict");
  EXPECT_EQ(request["status"], 200);
  EXPECT_EQ(request["batch_size"], 1);
  EXPECT_EQ(request["texts"], json::array({"I love it"}));
}

TEST(ServeCli, ServesTheTinyDistilBert) {
  const auto tiny = tensorgraph::testing::shared_path("fixtures/distilbert-tiny");
  TG_REQUIRE_SHARED_FILE(tiny / "logits.jsonl");
  std::ifstream in(tiny / "logits.jsonl");
  std::string line;
  std::getline(in, line);
  const json row = json::parse(line);
  ServeProcess p({"--model", "distilbert", "--model-dir", tiny.string(), "--port", "0"});
  const int port = p.wait_listening();
  ASSERT_GT(port, 0) << p.err();
  const auto r = client(port)->Post(
      "/predict", json{{"inputs", row["text"]}, {"raw_scores", true}}.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json answer = json::parse(r->body);
  const auto expected = row["logits"].get<std::vector<double>>();
  for (const auto& entry : answer) {
    const std::size_t k = entry["label"] == "POSITIVE" ? 1 : 0;
    EXPECT_NEAR(entry["score"].get<double>(), expected[k], 1e-4);
  }
  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(), 0) << p.err();
}

}  // namespace
}  // namespace tensorgraph
