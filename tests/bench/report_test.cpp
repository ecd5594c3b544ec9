// Report writers against small golden files (tests/data/bench/golden_report.*), number
// formatting, and RESULTS.md generation from report files.
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/bench/bench.hpp"
#include "tensorgraph/bench/report.hpp"
#include "tensorgraph/bench/results_page.hpp"

namespace tensorgraph::bench {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Compares with a golden file; TG_UPDATE_GOLDEN=1 rewrites it instead.
void expect_golden(const std::string& actual, const std::string& name) {
  const auto path = testing::test_data_path("bench/" + name);
  const char* update = std::getenv("TG_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << path;
  }
  EXPECT_EQ(actual, read(path)) << "golden file " << path
                                << " differs (TG_UPDATE_GOLDEN=1 rewrites it)";
}

TimingResult timing(const std::string& c, const std::string& impl, std::vector<double> samples,
                    double items) {
  TimingResult t;
  t.case_name = c;
  t.implementation = impl;
  t.samples_ms = samples;
  t.round_medians_ms = {samples.front(), samples.back()};
  t.summary = summarize(samples);
  t.throughput = rate({items, 1, "seq/s"}, t.summary.mean);
  return t;
}

ImplementationInfo info(const std::string& name, int threads, double cold, double rss) {
  ImplementationInfo i;
  i.name = name;
  i.type = "peer";
  i.version = name == "tg" ? "0.1.0" : "1.13";
  i.threads = threads;
  i.cold_start_s = cold;
  i.peak_rss_mib = rss;
  i.rss_scope = "peer process";
  if (name == "torch") {
    i.settings["env_set"] = {{"OMP_WAIT_POLICY", "PASSIVE"}};
    i.settings["env_unset"] = {"OPENBLAS_CORETYPE"};
    i.settings["reported"] = {{"threads", threads}};
  }
  return i;
}

json small_report() {
  ReportHeader h;
  h.benchmark = "demo";
  h.task = "distilbert";
  h.description = "A small report for the golden files.";
  h.config = "benchmarks/demo/config.toml";
  h.timestamp = "2026-11-26T01:02:03Z";
  h.command = "tensorgraph bench benchmarks/demo/config.toml";
  h.settings = {2, 1, 4, 2, {2}};
  h.baseline = "torch";
  h.precision = 3;
  h.machine = {{"cpu_model", "Test CPU"}, {"isa_features", {"avx2", "fma"}},
               {"logical_cpus", 2},       {"memory_gib", 23.5},
               {"os", "Debian 12"},       {"compiler", "GNU 12.2.0"},
               {"build_type", "Release"}, {"build_flags", "-O3 -march=native"},
               {"version", "0.1.0"},      {"git_commit", "abcdef123456"},
               {"onednn_isa", "avx2"},    {"libraries", {{"oneDNN", "2.6.3 (OpenMP)"}}}};
  h.inputs = {{"model", "models/m"}};
  Case seq16;
  seq16.name = "seq16";
  seq16.label = "16 tokens";
  seq16.throughput = {1, 1, "seq/s"};
  Case text;
  text.name = "text";
  text.label = "text, short";
  text.input = "text";
  text.throughput = {1, 1, "seq/s"};
  Case probe;
  probe.name = "validation0";
  probe.label = "validation0";
  probe.timed = false;
  RunResult run;
  run.threads = 2;
  run.wall_s = 12.5;
  run.implementations = {info("tg", 2, 0.5, 400), info("torch", 2, 2.25, 760.4)};
  ImplementationInfo ort = info("ort", 2, 0, 0);
  ort.cold_start_s.reset();
  ort.peak_rss_mib.reset();
  ort.status = "skipped: not installed (onnxruntime-node)";
  run.implementations.push_back(ort);
  CheckResult check;
  check.case_name = "validation0";
  check.implementation = "tg";
  check.against = "torch";
  check.rows = 8;
  check.max_abs_diff = 3.5e-7;
  run.checks = {check};
  run.timings = {timing("seq16", "tg", {5.0, 5.5, 6.0, 5.25}, 1),
                 timing("seq16", "torch", {19.0, 20.0, 19.5, 21.0}, 1),
                 timing("text", "tg", {0.75, 0.8, 0.7, 0.9}, 1)};
  TimingResult unsupported;
  unsupported.case_name = "text";
  unsupported.implementation = "torch";
  unsupported.status = "not supported";
  run.timings.push_back(unsupported);
  run.schedule = {{"seq16", -1, "tg"}, {"seq16", 0, "tg"}, {"seq16", 0, "torch"}};
  Gate gate;
  CheckResult golden;
  golden.case_name = "fixture0";
  golden.implementation = "tg";
  golden.against = "expected";
  golden.rows = 1;
  golden.max_abs_diff = 7.7e-6;
  gate.checks = {golden};
  return make_report(h, {seq16, text, probe}, {run}, gate);
}

TEST(Report, FormatsNumbers) {
  EXPECT_EQ(format_ms(5.4321, 3), "5.43 ms");
  EXPECT_EQ(format_ms(123.4, 3), "123 ms");
  EXPECT_EQ(format_ms(0.0425, 3), "42.5 µs");
  EXPECT_EQ(format_ms(0.0000425, 3), "42.5 ns");
  EXPECT_EQ(format_ms(1500, 3), "1.50 s");
  EXPECT_EQ(format_ms(NAN, 3), "-");
  EXPECT_EQ(format_rate(181.2, "seq/s", 3), "181 seq/s");
  EXPECT_EQ(format_rate(95.24, "MB/s", 3), "95.2 MB/s");
  EXPECT_EQ(format_rate(1.15e6, "sentences/s", 3), "1.15 M sentences/s");
  EXPECT_EQ(format_rate(36700, "sentences/s", 3), "36.7 k sentences/s");
  EXPECT_EQ(file_timestamp("2026-11-26T01:02:03Z"), "20261126T010203Z");
  EXPECT_EQ(utc_timestamp().size(), 20u);
}

TEST(Report, JsonHoldsEverything) {
  const json r = small_report();
  EXPECT_EQ(r["format"], "tensorgraph-bench-report");
  EXPECT_EQ(r["runs"][0]["results"][0]["p50_ms"], 5.375);
  EXPECT_EQ(r["runs"][0]["results"][0]["samples_ms"].size(), 4u);
  EXPECT_EQ(r["runs"][0]["results"][3]["status"], "not supported");
  EXPECT_FALSE(r["runs"][0]["results"][3].contains("p50_ms"));
  EXPECT_EQ(r["runs"][0]["schedule"][0], "seq16 warmup tg");
  EXPECT_EQ(r["runs"][0]["schedule"][2], "seq16 r1 torch");
  EXPECT_EQ(r["runs"][0]["implementations"][2]["status"],
            "skipped: not installed (onnxruntime-node)");
  EXPECT_TRUE(r["runs"][0]["implementations"][2]["cold_start_s"].is_null());
  EXPECT_EQ(r["cases"][2]["timed"], false);
  EXPECT_EQ(r["gate"]["checks"][0]["against"], "expected");
  EXPECT_THAT(r["statistics"]["percentiles"].get<std::string>(), HasSubstr("type 7"));
}

TEST(Report, MarkdownGolden) {
  expect_golden(report_markdown(small_report()), "golden_report.md");
}

TEST(Report, CsvGolden) {
  expect_golden(report_csv(small_report()), "golden_report.csv");
}

TEST(Report, ConsoleGolden) {
  expect_golden(report_console(small_report(), false), "golden_report.txt");
  // With color, the best time of a row is bold green and nothing is starred.
  const std::string colored = report_console(small_report(), true);
  EXPECT_THAT(colored, HasSubstr("\x1b[1;32m5.38 ms (3.67x)\x1b[0m"));
  EXPECT_THAT(colored, ::testing::Not(HasSubstr("*5.38")));
}

TEST(Report, WritesFilesAtomically) {
  testing::TempDir dir;
  const auto files = write_reports(small_report(), {"markdown", "csv"}, dir / "results");
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].filename(), "20261126T010203Z_demo.json");
  EXPECT_EQ(files[1].filename(), "20261126T010203Z_demo.md");
  EXPECT_EQ(files[2].filename(), "20261126T010203Z_demo.csv");
  EXPECT_EQ(json::parse(read(files[0])), small_report());
  for (const auto& e : std::filesystem::directory_iterator(dir / "results"))
    EXPECT_THAT(e.path().filename().string(), ::testing::Not(HasSubstr("tmp")));
  // JSON only when no other format is asked for.
  EXPECT_EQ(write_reports(small_report(), {"console"}, dir / "other").size(), 1u);
}

TEST(ResultsPage, LatestFullReportsAndNotes) {
  testing::TempDir dir;
  const auto bench = dir / "benchmarks";
  json older = small_report();
  json newer_quick = small_report();
  newer_quick["timestamp"] = "2026-11-27T00:00:00Z";
  newer_quick["quick"] = true;
  json newest = small_report();
  newest["timestamp"] = "2026-11-28T00:00:00Z";
  newest["benchmark"] = "demo";
  newest["load_average"] = {3.5, 4.0};
  write_reports(older, {}, bench / "demo" / "results");
  write_reports(newer_quick, {}, bench / "demo" / "results");
  std::filesystem::create_directories(bench / "zz_quick_only" / "results");
  json only_quick = newer_quick;
  only_quick["benchmark"] = "zz";
  write_reports(only_quick, {}, bench / "zz_quick_only" / "results");
  { std::ofstream(bench / "demo" / "NOTES.md") << "## Demo notes\n\nHand-written.\n"; }
  auto latest = latest_reports(bench);
  ASSERT_EQ(latest.size(), 2u);
  EXPECT_EQ(latest[0].filename(), "20261126T010203Z_demo.json");  // the full run, not the quick one
  EXPECT_EQ(latest[1].filename(), "20261127T000000Z_zz_quick.json");
  write_reports(newest, {}, bench / "demo" / "results");
  latest = latest_reports(bench);
  EXPECT_EQ(latest[0].filename(), "20261128T000000Z_demo.json");

  const std::string page = generate_results_page(bench);
  EXPECT_THAT(page, HasSubstr("# Benchmark results"));
  EXPECT_THAT(page, HasSubstr("do not edit"));
  EXPECT_THAT(page, HasSubstr("## demo\n"));
  EXPECT_THAT(page, HasSubstr("## zz (quick run)"));
  EXPECT_THAT(page, HasSubstr("Measured 2026-11-28T00:00:00Z on Test CPU"));
  EXPECT_THAT(page, HasSubstr("measured while the machine was busy"));
  EXPECT_THAT(page, HasSubstr("| 16 tokens | **5.38 ms (3.67x)** | 19.8 ms | skipped |"));
  // The ratio table: torch p50 / tg p50 = 19.75 / 5.375.
  EXPECT_THAT(page, HasSubstr("| case | torch p50 / tg p50 |"));
  EXPECT_THAT(page, HasSubstr("| 16 tokens | 3.67 |"));
  EXPECT_THAT(page, HasSubstr("- torch (2 threads): 1.13; cold start 2.25 s; peak RSS 760 MiB "
                              "(peer process); OMP_WAIT_POLICY=PASSIVE, unset OPENBLAS_CORETYPE"));
  EXPECT_THAT(page, HasSubstr("- ort (2 threads): skipped: not installed (onnxruntime-node)"));
  EXPECT_THAT(page,
              HasSubstr("<!-- carried over from benchmarks/demo/NOTES.md -->\n## Demo notes"));
  EXPECT_THAT(
      page, HasSubstr("Correctness before timing: 2 checks (1 against golden outputs), 0 failed."));

  std::ofstream(bench / "demo" / "results" / "20991231T000000Z_bad.json") << "{\"x\": 1}";
  EXPECT_THROW(generate_results_page(bench), Error);
}

}  // namespace
}  // namespace tensorgraph::bench
