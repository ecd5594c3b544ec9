#pragma once
// Benchmark reports. A report is one JSON document (the JSON file written to
// benchmarks/NN_name/results/); the Markdown, CSV and console forms are rendered from it, and
// benchmarks/RESULTS.md is generated from the latest reports (results_page.hpp).
//
// Layout (version 1):
//   format, version, benchmark, task, description, config, timestamp (UTC, ISO 8601), command,
//   quick, settings {warmup, block_warmup, iterations, repeat, threads}, baseline, precision,
//   statistics {percentiles, std, throughput}, machine (machine_info.hpp), inputs (task facts),
//   cases [{name, label, input, timed, unit, info}],
//   gate {checks, implementations} (checks against golden outputs before the run, if any),
//   runs [{threads, wall_s, implementations [...], checks [...], results [...], schedule [...]}]
// where a result is {case, implementation, status, n, mean_ms, median_ms, p50_ms, p95_ms,
// p99_ms, min_ms, max_ms, std_ms, cv, throughput, unit, round_medians_ms, samples_ms}.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensorgraph/bench/config.hpp"
#include "tensorgraph/bench/implementation.hpp"
#include "tensorgraph/bench/runner.hpp"

namespace tensorgraph::bench {

struct ReportHeader {
  std::string benchmark;
  std::string task;
  std::string description;
  std::string config;     // the config path as given
  std::string timestamp;  // "2026-11-26T01:02:03Z"
  std::string command;    // the command line that produced the report
  bool quick = false;
  RunSettings settings;
  std::string baseline;
  int precision = 3;
  nlohmann::json machine = nlohmann::json::object();
  nlohmann::json inputs = nlohmann::json::object();
};

struct Gate {
  std::vector<CheckResult> checks;
  std::vector<ImplementationInfo> implementations;
};

nlohmann::json make_report(const ReportHeader& header, const std::vector<Case>& cases,
                           const std::vector<RunResult>& runs, const Gate& gate = {});

// The current time as "2026-11-26T01:02:03Z", and as used in file names ("20261126T010203Z").
std::string utc_timestamp();
std::string file_timestamp(const std::string& iso_timestamp);

// Renderings of a report.
std::string report_markdown(const nlohmann::json& report);
std::string report_csv(const nlohmann::json& report);
// Tables for a terminal; `color`: ANSI bold/green for the best time of each row.
std::string report_console(const nlohmann::json& report, bool color);

// The main table of one run as Markdown: a row per timed case, a column per implementation with
// p50 and the speedup over the baseline (baseline p50 / p50); the best p50 of a row in bold.
std::string markdown_speed_table(const nlohmann::json& report, const nlohmann::json& run);

// One implementation of a run in a line: version, cold start (or load time), peak RSS and its
// settings (environment set and unset, what the peer reported), or its skip reason.
std::string implementation_summary(const nlohmann::json& info);

// Formatting helpers (also for tests): durations in ns/µs/ms/s with `digits` significant
// digits; rates with k/M/G prefixes.
std::string format_ms(double ms, int digits);
std::string format_rate(double value, const std::string& unit, int digits);

}  // namespace tensorgraph::bench
