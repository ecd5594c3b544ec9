// Child processes and the peer protocol, with a fake peer (tests/data/bench/fake_peer.py): the
// hello, logits and times, environment, every way a peer can fail, and a run in which a peer
// with wrong outputs fails before anything is timed.
#include <chrono>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/bench/peer.hpp"
#include "tensorgraph/bench/process.hpp"
#include "tensorgraph/bench/runner.hpp"

namespace tensorgraph::bench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string fake_peer() {
  return testing::test_data_path("bench/fake_peer.py").string();
}

PeerOptions fake(const std::string& name, std::vector<std::string> extra = {}) {
  PeerOptions o;
  o.name = name;
  o.command = {"python3", fake_peer(), "--name", name};
  o.command.insert(o.command.end(), extra.begin(), extra.end());
  o.threads = 1;
  o.startup_timeout_s = 30;
  o.timeout_s = 30;
  return o;
}

Case ids_case(const std::string& name, std::vector<std::vector<int>> ids) {
  Case c;
  c.name = name;
  c.label = name;
  c.request = {{"input_ids", ids}};
  c.tolerance = 1e-6;
  c.compare_labels = true;
  return c;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Unavailable& e) {
    return std::string("Unavailable: ") + e.what();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

std::vector<std::string> lines_of(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST(Process, ExitCodesSignalsOutputAndTimeouts) {
  CommandOutcome r = run_to_end({"sh", "-c", "echo out; echo err >&2; exit 3"}, {}, 30);
  EXPECT_EQ(r.status.exit_code, 3);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.output, HasSubstr("out"));
  EXPECT_THAT(r.output, HasSubstr("err"));
  EXPECT_EQ(r.status.describe(), "exit code 3");

  r = run_to_end({"sh", "-c", "kill -9 $$"}, {}, 30);
  EXPECT_EQ(r.status.exit_code, -1);
  EXPECT_EQ(r.status.signal, 9);
  EXPECT_THAT(r.status.describe(), HasSubstr("killed by signal 9"));

  const auto t0 = std::chrono::steady_clock::now();
  r = run_to_end({"sleep", "30"}, {}, 0.3);
  EXPECT_EQ(r.status.signal, 9);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10);

  ProcessOptions env;
  env.set_env["TG_BENCH_TEST"] = "yes";
  env.unset_env = {"HOME"};
  r = run_to_end({"sh", "-c", "echo \"[$TG_BENCH_TEST] [${HOME-unset}]\""}, env, 30);
  EXPECT_THAT(r.output, HasSubstr("[yes] [unset]"));

  EXPECT_THAT(error_of([] { run_to_end({"/nonexistent/program"}, {}, 1); }),
              HasSubstr("cannot run /nonexistent/program: No such file or directory"));
  EXPECT_EQ(quote_command({"a b", "it's", "plain"}), "'a b' 'it'\\''s' plain");
}

TEST(Process, WritingToAnExitedChildIsAnErrorNotASignal) {
  ChildProcess child({"sh", "-c", "echo bye >&2; exit 0"});
  child.wait(30);
  std::string big(1 << 20, 'x');  // more than a pipe holds
  EXPECT_THAT(error_of([&] { child.write_line(big); }), HasSubstr("cannot write to the process"));
  EXPECT_THAT(child.stderr_tail(), HasSubstr("bye"));
}

TEST(Process, ReadLineTimesOut) {
  ChildProcess child({"sleep", "30"});
  EXPECT_THAT(error_of([&] { child.read_line(0.2); }), HasSubstr("no answer within 0 s"));
}

TEST(Peer, SpeaksTheProtocol) {
  PeerOptions o = fake("alpha", {"--threads", "2"});
  o.process.set_env["FAKE_SET"] = "on";
  o.process.unset_env = {"FAKE_UNSET"};
  setenv("FAKE_UNSET", "should not reach the peer", 1);
  PeerImplementation peer(o);
  peer.start();
  unsetenv("FAKE_UNSET");
  const ImplementationInfo info = peer.info();
  EXPECT_EQ(info.version, "9.9");
  ASSERT_TRUE(info.cold_start_s.has_value());
  EXPECT_GT(*info.cold_start_s, 0);
  EXPECT_DOUBLE_EQ(info.self_load_s.value_or(0), 0.01);
  EXPECT_EQ(info.settings["reported"]["threads"], 2);
  EXPECT_EQ(info.settings["reported"]["env"]["FAKE_SET"], "on");
  EXPECT_TRUE(info.settings["reported"]["env"]["FAKE_UNSET"].is_null());
  EXPECT_EQ(info.settings["env_set"]["FAKE_SET"], "on");

  // (101 + 102) % 97 = 9 -> [0.9, -0.9]
  const Rows rows = peer.outputs(ids_case("x", {{101, 102}, {1, 2, 3}}));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_DOUBLE_EQ(rows[0][0], 0.9);
  EXPECT_DOUBLE_EQ(rows[0][1], -0.9);
  EXPECT_DOUBLE_EQ(rows[1][0], 0.6);
  EXPECT_THAT(peer.time(ids_case("x", {{1}}), 1, 3), ElementsAre(1.0, 1.1, 1.2));
  Case text;
  text.input = "text";
  EXPECT_FALSE(peer.supports(text));  // no "inputs" in its hello: ids only
  peer.stop();
  EXPECT_GT(peer.info().peak_rss_mib.value_or(0), 1.0);
  EXPECT_FALSE(peer.info().settings.contains("exit"));
}

TEST(Peer, FailuresAreClear) {
  EXPECT_EQ(error_of([] {
              PeerImplementation(fake("s", {"--mode", "skipped"})).start();
            }),
            "Unavailable: skipped: not installed (fake)");
  EXPECT_THAT(error_of([] {
                PeerOptions o = fake("n");
                o.command = {"/nonexistent/peer"};
                PeerImplementation(o).start();
              }),
              HasSubstr("Unavailable: skipped: not installed (cannot run /nonexistent/peer"));
  EXPECT_THAT(error_of([] {
                PeerImplementation(fake("b", {"--mode", "broken"})).start();
              }),
              HasSubstr("peer 'b' is not ready: cannot load the model"));
  EXPECT_THAT(error_of([] {
                PeerImplementation(fake("g", {"--mode", "garbage"})).start();
              }),
              HasSubstr("said something that is not JSON instead of ready: this is not json"));
  EXPECT_THAT(error_of([] {
                PeerOptions o = fake("q", {"--mode", "silent"});
                o.startup_timeout_s = 0.3;
                PeerImplementation(o).start();
              }),
              HasSubstr("did not start"));
  EXPECT_THAT(error_of([] {
                PeerImplementation p(fake("c", {"--mode", "crash-on-time"}));
                p.start();
                p.time(ids_case("x", {{1}}), 0, 2);
              }),
              ::testing::AllOf(HasSubstr("peer 'c' exited instead of answering op 'time'"),
                               HasSubstr("exit code 7"), HasSubstr("crashing on purpose")));
  EXPECT_THAT(error_of([] {
                PeerImplementation p(fake("e", {"--mode", "error-on-logits"}));
                p.start();
                p.outputs(ids_case("x", {{1}}));
              }),
              HasSubstr("peer 'e' answered an error to op 'logits': no logits today"));
}

TEST(Peer, RunInterleavesProcessesAndAWrongPeerFailsBeforeTiming) {
  testing::TempDir dir;
  const std::string log = (dir / "log").string();
  {
    std::vector<std::unique_ptr<Implementation>> impls;
    impls.push_back(std::make_unique<PeerImplementation>(fake("A", {"--log", log})));
    impls.push_back(std::make_unique<PeerImplementation>(fake("B", {"--log", log})));
    RunOptions o;
    o.settings = {1, 0, 2, 2, {1}};
    const RunResult r = run_benchmark(impls, {ids_case("x", {{5, 6, 7}})}, o);
    EXPECT_THAT(lines_of(log), ElementsAre("A logits", "B logits", "A time", "B time", "A time",
                                           "B time", "A time", "B time"));
    ASSERT_EQ(r.implementations.size(), 2u);
    EXPECT_GT(r.implementations[1].peak_rss_mib.value_or(0), 0);
    EXPECT_EQ(r.timing("x", "B")->samples_ms, (std::vector<double>{1.0, 1.1, 1.0, 1.1}));
  }
  std::filesystem::remove(log);
  std::vector<std::unique_ptr<Implementation>> impls;
  impls.push_back(std::make_unique<PeerImplementation>(fake("A", {"--log", log})));
  impls.push_back(
      std::make_unique<PeerImplementation>(fake("B", {"--log", log, "--perturb", "0.5"})));
  RunOptions o;
  o.settings = {1, 0, 2, 2, {1}};
  EXPECT_THAT(error_of([&] {
                run_benchmark(impls, {ids_case("x", {{5, 6, 7}})}, o);
              }),
              HasSubstr("B on 'x' vs A: max |difference| 0.5 > tolerance 1e-06"));
  for (const auto& line : lines_of(log)) EXPECT_THAT(line, ::testing::Not(HasSubstr("time")));
}

}  // namespace
}  // namespace tensorgraph::bench
