// The `download` and `download-data` commands, run as the built binary against our fake hub and
// against a plain static server (python3 -m http.server).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "archives.hpp"
#include "fake_hub.hpp"
#include "hub_test_util.hpp"
#include "support/shared_data.hpp"
#include "tensorgraph/hub/models.hpp"
#include "tensorgraph/hub/paths.hpp"
#include "tensorgraph/hub/sha256.hpp"

namespace tensorgraph::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

fs::path fixture(const std::string& name) {
  return shared_path("fixtures/distilbert-tiny/" + name);
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

// Runs the CLI with a clean hub environment plus `env` ("NAME=value ...").
CommandResult tg(const std::string& env, const std::string& args) {
  const std::string command =
      "env -u HF_TOKEN -u HF_HUB_OFFLINE -u HF_ENDPOINT -u TG_MODELS_DIR -u TG_DATA_DIR "
      "-u TG_DATA_ENDPOINT -u https_proxy -u http_proxy -u HTTPS_PROXY -u HTTP_PROXY -u ALL_PROXY "
      "TG_NO_PROGRESS=1 " +
      env + " " + shell_quote(cli_path().string()) + " " + args;
  return run_command(command);
}

// `python3 -m http.server` on 127.0.0.1 (an ephemeral port) serving `root`: a plain static
// server that knows nothing of Range, ETags or the hub.
class StaticServer {
 public:
  explicit StaticServer(const fs::path& root) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      const int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, STDERR_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      ::execlp("python3", "python3", "-u", "-m", "http.server", "--bind", "127.0.0.1",
               "--directory", root.c_str(), "0", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    // "Serving HTTP on 127.0.0.1 port 43567 (http://127.0.0.1:43567/) ..."
    std::string out;
    for (int i = 0; i < 100 && out.find('\n') == std::string::npos; ++i) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, 100) > 0) {
        char buf[256];
        const auto n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
      }
    }
    // The read end stays open while the server runs: a closed pipe would kill python with
    // BrokenPipeError on its next write to stdout.
    out_fd_ = fds[0];
    const auto at = out.find(" port ");
    if (out.find('\n') == std::string::npos || at == std::string::npos) {
      stop();
      throw std::runtime_error("python3 -m http.server did not start: " + out);
    }
    port_ = std::atoi(out.c_str() + at + 6);
  }
  ~StaticServer() { stop(); }
  StaticServer(const StaticServer&) = delete;
  StaticServer& operator=(const StaticServer&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void stop() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    if (out_fd_ >= 0) ::close(out_fd_);
    out_fd_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
};

#define REQUIRE_FIXTURE_MODEL() TG_REQUIRE_SHARED_FILE(fixture("model.safetensors"))

// ---- what the issue must show ------------------------------------------------------------

TEST(CliDownload, PlainStaticServerThenServerStopped) {
  REQUIRE_FIXTURE_MODEL();
  TempDir tmp;
  // The hub's layout, the files being links to the fixtures (read from ../shared, not copied).
  const auto served = tmp / "www" / "acme" / "tiny" / "resolve" / "main";
  fs::create_directories(served);
  for (const auto& f : hub::model_files()) fs::create_symlink(fixture(f), served / f);
  StaticServer server(tmp / "www");

  const auto dir = tmp / "out";
  auto r = tg("HF_ENDPOINT=" + server.endpoint(),
              "download acme/tiny --dir " + shell_quote(dir.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& f : hub::model_files()) {
    EXPECT_EQ(read_file(dir / f), read_file(fixture(f))) << f;
    EXPECT_THAT(r.out, HasSubstr(f));
    EXPECT_THAT(r.out, HasSubstr("sha256 " + hub::sha256_file(fixture(f))));
    EXPECT_FALSE(fs::exists(dir / (f + ".part")));
  }
  EXPECT_THAT(r.out, HasSubstr("unverified (no sha256 announced)"));
  EXPECT_THAT(r.out, HasSubstr("4 downloaded, 0 already present"));

  server.stop();
  const auto dir2 = tmp / "out2";
  r = tg("HF_ENDPOINT=" + server.endpoint(),
         "download acme/tiny --dir " + shell_quote(dir2.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(line_count(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, StartsWith("tensorgraph: error: cannot download " + server.endpoint() +
                                "/acme/tiny/resolve/main/model.safetensors: connection refused"));
  EXPECT_FALSE(fs::exists(dir2 / "model.safetensors"));
  EXPECT_FALSE(fs::exists(dir2 / "model.safetensors.part"));
}

TEST(CliDownload, CutTransferResumesByteIdentical) {
  REQUIRE_FIXTURE_MODEL();
  FakeHub hub;
  ASSERT_TRUE(hub.add_fixture_model("acme/tiny"));
  FakeHub::Behaviour b;
  b.hub_like = true;  // model.safetensors: 302 with X-Linked-Etag, then the "CDN"
  b.cut_after = 4'000'000;
  hub.set_behaviour(b);
  TempDir tmp;
  const auto dir = tmp / "m";
  const std::string env = "HF_ENDPOINT=" + hub.endpoint();
  auto r = tg(env, "download acme/tiny --dir " + shell_quote(dir.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(line_count(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr("the connection was closed after 4000000 bytes of 8366760 bytes"));
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
  ASSERT_EQ(fs::file_size(dir / "model.safetensors.part"), 4'000'000u);

  b.cut_after.reset();
  hub.set_behaviour(b);
  hub.clear_requests();
  r = tg(env, "download acme/tiny --dir " + shell_quote(dir.string()) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto requests = hub.requests();
  ASSERT_GE(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/acme/tiny/resolve/main/model.safetensors");
  EXPECT_EQ(requests[0].range, "bytes=4000000-");
  EXPECT_EQ(requests[1].path, "/cdn/acme/tiny/resolve/main/model.safetensors");
  EXPECT_EQ(requests[1].range, "bytes=4000000-");  // the Range follows the redirect
  EXPECT_EQ(requests[1].status, 206);
  EXPECT_EQ(read_file(dir / "model.safetensors"), read_file(fixture("model.safetensors")));
  const auto json = nlohmann::json::parse(r.out);
  const auto& model = json["files"][0];
  EXPECT_EQ(model["name"], "model.safetensors");
  EXPECT_EQ(model["resumed_from"], 4'000'000);
  EXPECT_EQ(model["verified"], true);
  EXPECT_EQ(model["verification"], "X-Linked-Etag");
  EXPECT_EQ(model["sha256"], hub::sha256_file(fixture("model.safetensors")));
  EXPECT_EQ(json["files"][1]["verified"], false);
  EXPECT_EQ(json["files"][1]["verification"], "git SHA-1 ETag only");
}

// ---- the rest of the command --------------------------------------------------------------

TEST(CliDownload, DefaultLocationsAlreadyPresentAndForce) {
  REQUIRE_FIXTURE_MODEL();
  FakeHub hub;
  ASSERT_TRUE(hub.add_fixture_model(std::string(hub::kDefaultModelRepo)));
  ASSERT_TRUE(hub.add_fixture_model("acme/tiny"));
  TempDir tmp;
  const std::string env =
      "HF_ENDPOINT=" + hub.endpoint() + " TG_MODELS_DIR=" + shell_quote(tmp.path().string());
  auto r = tg(env, "download");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(hub::model_present(tmp / "distilbert-sentiment"));
  EXPECT_THAT(r.out, HasSubstr("verified (X-Linked-Etag)"));

  hub.clear_requests();
  r = tg(env, "download");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("already present (use --force to download again)"));
  EXPECT_THAT(r.out, HasSubstr("0 downloaded, 4 already present"));
  EXPECT_TRUE(hub.requests().empty());

  r = tg(env, "download --force");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("4 downloaded, 0 already present"));
  EXPECT_EQ(hub.requests().size(), 4u);

  // --models-dir beats TG_MODELS_DIR; other repositories get OWNER--NAME.
  const auto other = tmp / "other";
  r = tg(env, "download acme/tiny --models-dir " + shell_quote(other.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(hub::model_present(other / "acme--tiny"));
}

TEST(CliDownload, ModelsDirFoundFromTheExecutableInAnotherDirectory) {
  // Offline, so nothing is fetched: the error (or, if a developer downloaded the model, the
  // JSON) names the folder the binary chose from its own location.
  const auto r = run_command("cd / && env -u TG_MODELS_DIR HF_HUB_OFFLINE=1 TG_NO_PROGRESS=1 " +
                             shell_quote(cli_path().string()) + " download acme/nowhere --json");
  const auto expected = (fs::weakly_canonical(source_dir()) / "models" / "acme--nowhere").string();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(expected + "/model.safetensors is not there"));
  EXPECT_THAT(r.err, HasSubstr("HF_HUB_OFFLINE"));
}

TEST(CliDownload, OfflineMode) {
  REQUIRE_FIXTURE_MODEL();
  FakeHub hub;
  ASSERT_TRUE(hub.add_fixture_model("acme/tiny"));
  TempDir tmp;
  const auto dir = tmp / "m";
  auto r = tg("HF_HUB_OFFLINE=1 HF_ENDPOINT=" + hub.endpoint(),
              "download acme/tiny --dir " + shell_quote(dir.string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(line_count(r.err), 1u);
  EXPECT_THAT(r.err, HasSubstr("offline mode (HF_HUB_OFFLINE=1)"));
  EXPECT_TRUE(hub.requests().empty());
  EXPECT_FALSE(fs::exists(dir / "model.safetensors"));

  ASSERT_EQ(
      tg("HF_ENDPOINT=" + hub.endpoint(), "download acme/tiny --dir " + shell_quote(dir.string()))
          .exit_code,
      0);
  hub.clear_requests();
  r = tg("HF_HUB_OFFLINE=1 HF_ENDPOINT=" + hub.endpoint(),
         "download acme/tiny --dir " + shell_quote(dir.string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("already present"));
  EXPECT_TRUE(hub.requests().empty());
}

TEST(CliDownload, ShaMismatch404TokenAndBadArguments) {
  FakeHub hub;
  for (const auto& f : hub::model_files()) hub.add_file("acme/tiny", "main", f, "content " + f);
  TempDir tmp;
  const std::string env = "HF_ENDPOINT=" + hub.endpoint();

  FakeHub::Behaviour b;
  b.wrong_sha = true;
  hub.set_behaviour(b);
  auto r = tg(env, "download acme/tiny --dir " + shell_quote((tmp / "a").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(line_count(r.err), 1u);
  EXPECT_THAT(r.err, HasSubstr("cannot download " + hub.endpoint() +
                               "/acme/tiny/resolve/main/model.safetensors: sha256 mismatch"));
  EXPECT_FALSE(fs::exists(tmp / "a" / "model.safetensors"));
  EXPECT_FALSE(fs::exists(tmp / "a" / "model.safetensors.part"));

  hub.set_behaviour({});
  r = tg(env, "download acme/tiny --file missing.bin --dir " + shell_quote((tmp / "b").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/acme/tiny/resolve/main/missing.bin: HTTP 404"));
  EXPECT_TRUE(fs::exists(tmp / "b" / "config.json"));  // the files before it are complete

  b = {};
  b.required_token = "hf_abc";
  hub.set_behaviour(b);
  r = tg(env, "download acme/tiny --dir " + shell_quote((tmp / "c").string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("HTTP 401"));
  EXPECT_THAT(r.err, HasSubstr("HF_TOKEN"));
  r = tg(env + " HF_TOKEN=hf_abc", "download acme/tiny --dir " + shell_quote((tmp / "c").string()));
  EXPECT_EQ(r.exit_code, 0) << r.err;

  r = tg(env, "download 'not/a/repo'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("invalid repository id 'not/a/repo'"));
  r = tg(env, "download --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("Examples:"));
  EXPECT_THAT(r.out, HasSubstr("HF_HUB_OFFLINE"));
}

// ---- download-data --------------------------------------------------------------------------

// Serves the real data of ../shared/data the way the canonical archives hold it (built here in
// memory: a tgz with CaliforniaHousing/, a zip with SST-2/, the MNIST .gz files as they are).
bool serve_real_data(FakeHub& hub) {
  const auto d = shared_path("data");
  for (const char* f :
       {"california_housing/cal_housing.data", "sst2/train.tsv", "mnist/t10k-labels-idx1-ubyte.gz"})
    if (!fs::exists(d / f)) return false;
  hub.add_path("/files/5976036",
               make_tar_gz({{"CaliforniaHousing/", ""},
                            {"CaliforniaHousing/cal_housing.data",
                             read_file(d / "california_housing/cal_housing.data")},
                            {"CaliforniaHousing/cal_housing.domain",
                             read_file(d / "california_housing/cal_housing.domain")}}));
  hub.add_path("/glue/data/SST-2.zip",
               make_zip({{"SST-2/dev.tsv", read_file(d / "sst2/dev.tsv")},
                         {"SST-2/train.tsv", read_file(d / "sst2/train.tsv")},
                         {"SST-2/test.tsv", "index\tsentence\n0\tx\n"}}));
  for (const char* f : {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"})
    hub.add_path(std::string("/mnist/") + f, read_file(d / "mnist" / f));
  return true;
}

TEST(CliDownloadData, AllDataSetsVerifiedInTheSharedLayout) {
  FakeHub hub;
  if (!serve_real_data(hub))
    TG_REQUIRE_SHARED_FILE(shared_path("data/mnist/t10k-labels-idx1-ubyte.gz"));
  FakeHub::Behaviour b;
  b.sha_header = FakeHub::ShaHeader::None;
  hub.set_behaviour(b);
  TempDir tmp;
  const std::string env = "TG_DATA_ENDPOINT=" + hub.endpoint();
  auto r = tg(env, "download-data all --data-dir " + shell_quote(tmp.path().string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"california_housing/cal_housing.data",
                        "california_housing/cal_housing.domain", "sst2/train.tsv", "sst2/dev.tsv",
                        "mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz",
                        "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"}) {
    EXPECT_EQ(read_file(tmp / f), read_file(shared_path(std::string("data/") + f))) << f;
    EXPECT_THAT(r.out, HasSubstr(fs::path(f).filename().string()));
  }
  EXPECT_FALSE(fs::exists(tmp / "sst2" / "test.tsv"));
  EXPECT_FALSE(fs::exists(tmp / "sst2" / "SST-2.zip"));
  EXPECT_THAT(
      r.out,
      HasSubstr(
          "sha256 54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0  verified"));

  hub.clear_requests();
  r = tg("TG_DATA_DIR=" + shell_quote(tmp.path().string()) + " " + env,
         "download-data sst2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  EXPECT_EQ(json["datasets"][0]["status"], "already present");
  EXPECT_EQ(json["datasets"][0]["files"].size(), 2u);
  EXPECT_TRUE(hub.requests().empty());
}

TEST(CliDownloadData, MismatchFailsWithOneLine) {
  FakeHub hub;
  hub.add_path("/glue/data/SST-2.zip",
               make_zip({{"SST-2/dev.tsv", "sentence\tlabel\nfake \t1\n"},
                         {"SST-2/train.tsv", "sentence\tlabel\nfake \t0\n"}}));
  TempDir tmp;
  auto r = tg("TG_DATA_ENDPOINT=" + hub.endpoint(),
              "download-data sst2 --data-dir " + shell_quote(tmp.path().string()));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(line_count(r.err), 1u) << r.err;
  EXPECT_THAT(r.err, HasSubstr(hub.endpoint() + "/glue/data/SST-2.zip"));
  EXPECT_THAT(r.err, HasSubstr("dev.tsv: sha256"));
  EXPECT_TRUE(fs::is_empty(tmp / "sst2"));

  r = tg("", "download-data imagenet");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("unknown data set 'imagenet'"));
}

}  // namespace
}  // namespace tensorgraph::testing
