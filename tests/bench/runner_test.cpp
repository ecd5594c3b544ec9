// The runner with in-process fake implementations: interleaving order, the correctness gate
// (a wrong implementation fails the run before anything is timed), skipped and partial
// implementations, reference cases and label checks.
#include <memory>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tensorgraph/bench/runner.hpp"

namespace tensorgraph::bench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Answers `rows` (plus `offset`) for every case; records every call in a shared log.
class Fake final : public Implementation {
 public:
  Fake(std::string name, std::vector<std::string>* log, double offset = 0)
      : name_(std::move(name)), log_(log), offset_(offset) {}
  std::string name() const override { return name_; }
  void start() override {
    if (unavailable_) throw Unavailable("skipped: not installed (fake)");
    log_->push_back(name_ + " start");
  }
  bool supports(const Case& c) const override { return c.input != "text" || text_; }
  Rows outputs(const Case& c) override {
    log_->push_back(name_ + " outputs " + c.name);
    Rows rows = c.request.contains("rows") ? c.request["rows"].get<Rows>() : Rows{{1.0, 2.0}};
    for (auto& r : rows)
      for (auto& x : r) x += offset_;
    return rows;
  }
  std::vector<double> time(const Case& c, int warmup, int iterations) override {
    log_->push_back(fmt::format("{} time {} w{} i{}", name_, c.name, warmup, iterations));
    std::vector<double> t;
    for (int i = 0; i < iterations; ++i) t.push_back(base_ms_ + i);
    return t;
  }
  void stop() override { log_->push_back(name_ + " stop"); }
  ImplementationInfo info() const override {
    ImplementationInfo i;
    i.name = name_;
    return i;
  }

  bool unavailable_ = false;
  bool text_ = false;
  double base_ms_ = 1;

 private:
  std::string name_;
  std::vector<std::string>* log_;
  double offset_;
};

Case timed_case(const std::string& name) {
  Case c;
  c.name = name;
  c.label = name;
  c.throughput = {4, 1, "seq/s"};
  return c;
}

RunOptions settings(int warmup, int block_warmup, int iterations, int repeat) {
  RunOptions o;
  o.settings.warmup = warmup;
  o.settings.block_warmup = block_warmup;
  o.settings.iterations = iterations;
  o.settings.repeat = repeat;
  o.threads = 2;
  return o;
}

std::vector<std::string> only(const std::vector<std::string>& log, const std::string& what) {
  std::vector<std::string> out;
  for (const auto& l : log)
    if (l.find(what) != std::string::npos) out.push_back(l);
  return out;
}

TEST(Runner, InterleavesImplementationsInRounds) {
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Implementation>> impls;
  impls.push_back(std::make_unique<Fake>("A", &log));
  impls.push_back(std::make_unique<Fake>("B", &log));
  const std::vector<Case> cases{timed_case("x"), timed_case("y")};
  const RunResult r = run_benchmark(impls, cases, settings(2, 1, 3, 3));
  // Warm-up of each, then A B A B A B per case; nothing is timed before every check ran.
  EXPECT_THAT(only(log, " time "),
              ElementsAre("A time x w2 i1", "B time x w2 i1", "A time x w1 i3", "B time x w1 i3",
                          "A time x w1 i3", "B time x w1 i3", "A time x w1 i3", "B time x w1 i3",
                          "A time y w2 i1", "B time y w2 i1", "A time y w1 i3", "B time y w1 i3",
                          "A time y w1 i3", "B time y w1 i3", "A time y w1 i3", "B time y w1 i3"));
  const auto first_time = std::find_if(log.begin(), log.end(), [](const std::string& l) {
    return l.find(" time ") != std::string::npos;
  });
  const auto last_check = std::find_if(log.rbegin(), log.rend(), [](const std::string& l) {
    return l.find(" outputs ") != std::string::npos;
  });
  EXPECT_LE(std::distance(log.begin(), last_check.base()), std::distance(log.begin(), first_time));
  EXPECT_EQ(log.back(), "B stop");
  ASSERT_EQ(r.schedule.size(), 16u);
  EXPECT_EQ(r.schedule[2].round, 0);
  EXPECT_EQ(r.schedule[3].implementation, "B");
  // 3 rounds x 3 iterations pooled: times 1 2 3 per block.
  const TimingResult* t = r.timing("x", "A");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->samples_ms, (std::vector<double>{1, 2, 3, 1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(t->round_medians_ms, (std::vector<double>{2, 2, 2}));
  EXPECT_DOUBLE_EQ(t->summary.median, 2);
  EXPECT_DOUBLE_EQ(t->throughput, 2000);  // 4 per 2 ms
  EXPECT_EQ(r.threads, 2);
  // B was checked against A (the reference by default): equal outputs.
  ASSERT_EQ(r.checks.size(), 2u);
  EXPECT_EQ(r.checks[0].implementation, "B");
  EXPECT_EQ(r.checks[0].against, "A");
  EXPECT_TRUE(r.checks[0].ok);
}

TEST(Runner, WrongOutputsFailBeforeAnyTiming) {
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Implementation>> impls;
  impls.push_back(std::make_unique<Fake>("good", &log));
  impls.push_back(std::make_unique<Fake>("wrong", &log, 0.01));
  Case c = timed_case("x");
  c.tolerance = 1e-3;
  try {
    run_benchmark(impls, {c}, settings(1, 1, 2, 2));
    FAIL() << "a wrong implementation must fail the run";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("correctness check failed (1 of 1), nothing was timed"));
    EXPECT_THAT(e.what(),
                HasSubstr("wrong on 'x' vs good: max |difference| 0.01 > tolerance 0.001"));
    EXPECT_THAT(e.what(), HasSubstr("row 0: [1.01, 2.01] vs expected [1, 2]"));
  }
  EXPECT_TRUE(only(log, " time ").empty());
  // Started implementations are stopped also when the run fails.
  EXPECT_EQ(only(log, " stop").size(), 2u);
}

TEST(Runner, ExpectedOutputsAndLabels) {
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Implementation>> impls;
  impls.push_back(std::make_unique<Fake>("A", &log));
  Case probe = timed_case("golden");
  probe.timed = false;
  probe.request["rows"] = Rows{{0.5, 0.1}, {0.30, 0.3000001}};
  probe.expected = Rows{{0.5, 0.1}, {0.3000001, 0.30}};  // second row: a near-tie, labels flip
  probe.tolerance = 1e-6;
  probe.compare_labels = true;
  RunResult r = run_benchmark(impls, {probe}, settings(0, 0, 1, 1));
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_TRUE(r.checks[0].ok) << r.checks[0].detail;  // a tie may flip
  EXPECT_EQ(r.checks[0].against, "expected");
  EXPECT_TRUE(r.timings.empty());

  probe.expected = Rows{{0.1, 0.5}, {0.30, 0.3000001}};
  probe.tolerance = 1.0;  // values within tolerance, but the first label differs
  EXPECT_THROW(
      {
        try {
          run_benchmark(impls, {probe}, settings(0, 0, 1, 1));
        } catch (const Error& e) {
          EXPECT_THAT(e.what(), HasSubstr("1 of 2 labels differ"));
          throw;
        }
      },
      Error);
}

TEST(Runner, ShapeMismatchFails) {
  Case c = timed_case("x");
  const CheckResult r = compare_rows(c, Rows{{1, 2}}, Rows{{1, 2}, {3, 4}}, "B", "A");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "2 rows, expected 1");
  const CheckResult r2 = compare_rows(c, Rows{{1, 2}}, Rows{{1}}, "B", "A");
  EXPECT_EQ(r2.detail, "row 0 has 1 values, expected 2");
  const CheckResult r3 = compare_rows(c, Rows{{1, 2}}, Rows{{1, NAN}}, "B", "A");
  EXPECT_FALSE(r3.ok);
}

TEST(Runner, SkipsUnavailableAndUnsupported) {
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Implementation>> impls;
  auto a = std::make_unique<Fake>("A", &log);
  a->text_ = true;
  auto missing = std::make_unique<Fake>("missing", &log);
  missing->unavailable_ = true;
  impls.push_back(std::move(a));
  impls.push_back(std::make_unique<Fake>("B", &log));
  impls.push_back(std::move(missing));
  Case ids = timed_case("text~ids");
  ids.timed = false;
  Case text = timed_case("text");
  text.input = "text";
  text.reference_case = "text~ids";
  RunOptions o = settings(0, 0, 2, 2);
  o.reference = "B";
  const RunResult r = run_benchmark(impls, {ids, text}, o);
  ASSERT_EQ(r.implementations.size(), 3u);
  EXPECT_EQ(r.implementations[2].status, "skipped: not installed (fake)");
  EXPECT_EQ(r.implementations[0].status, "ok");
  // A's text case was checked against B's outputs on the same inputs as ids.
  bool checked = false;
  for (const auto& c : r.checks)
    if (c.case_name == "text" && c.implementation == "A") {
      checked = true;
      EXPECT_EQ(c.against, "B on text~ids");
      EXPECT_TRUE(c.ok);
    }
  EXPECT_TRUE(checked);
  ASSERT_NE(r.timing("text", "B"), nullptr);
  EXPECT_EQ(r.timing("text", "B")->status, "not supported");
  EXPECT_EQ(r.timing("text", "A")->status, "ok");
  EXPECT_EQ(r.timing("text", "missing"), nullptr);
  EXPECT_TRUE(only(log, "missing").empty());
}

TEST(Runner, UntimedReferenceAndPerCaseLimits) {
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Implementation>> impls;
  impls.push_back(std::make_unique<Fake>("fast", &log));
  impls.push_back(std::make_unique<Fake>("oracle", &log));
  Case heavy = timed_case("heavy");
  heavy.max_iterations = 2;
  heavy.max_repeat = 1;
  RunOptions o = settings(0, 0, 5, 3);
  o.reference = "oracle";
  o.untimed = {"oracle"};
  const RunResult r = run_benchmark(impls, {heavy}, o);
  EXPECT_THAT(only(log, " time "), ElementsAre("fast time heavy w0 i2"));
  EXPECT_EQ(r.timing("heavy", "oracle")->status, "not timed");
  EXPECT_EQ(r.timing("heavy", "fast")->samples_ms.size(), 2u);
  ASSERT_EQ(r.checks.size(), 1u);
  EXPECT_EQ(r.checks[0].against, "oracle");
}

}  // namespace
}  // namespace tensorgraph::bench
