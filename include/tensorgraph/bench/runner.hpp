#pragma once
// Runs implementations on cases: first the correctness gate, then interleaved timing.
//
//   1. start() every implementation (one that throws Unavailable is reported as skipped);
//   2. correctness, before any timing: every implementation's outputs on every case are compared
//      with the case's expected rows or with the reference implementation's outputs; any
//      mismatch throws Error listing every failure (the benchmark fails loudly);
//   3. timing, case by case: each implementation runs `warmup` untimed iterations, then `repeat`
//      rounds in which every implementation runs one block (`block_warmup` untimed and
//      `iterations` timed runs) in turn: A B C, A B C, ... so that a drift of the machine (other
//      work, frequency, heat) hits every implementation alike;
//   4. stop() every implementation (peers quit; their peak RSS is read).
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensorgraph/bench/config.hpp"
#include "tensorgraph/bench/implementation.hpp"
#include "tensorgraph/bench/statistics.hpp"

namespace tensorgraph::bench {

struct CheckResult {
  std::string case_name;
  std::string implementation;
  std::string against;  // "expected" (e.g. HuggingFace) or the reference implementation's name
  std::size_t rows = 0;
  double max_abs_diff = 0;
  std::size_t label_mismatches = 0;
  bool ok = true;
  std::string detail;  // what differed, when not ok
};

struct TimingResult {
  std::string case_name;
  std::string implementation;
  std::string status = "ok";       // or "not supported", "skipped: ..."
  std::vector<double> samples_ms;  // every timed run, in order
  std::vector<double> round_medians_ms;
  Summary summary;
  double throughput = 0;  // case.throughput per second, from the mean time
};

struct ScheduleEntry {
  std::string case_name;
  int round = 0;  // -1: the initial warm-up
  std::string implementation;
};

struct RunResult {
  int threads = 0;
  std::vector<ImplementationInfo> implementations;
  std::vector<CheckResult> checks;
  std::vector<TimingResult> timings;
  std::vector<ScheduleEntry> schedule;  // the order in which blocks ran
  double wall_s = 0;

  const TimingResult* timing(const std::string& case_name, const std::string& impl) const;
};

struct RunProgress {
  std::string phase;  // "start", "check", "time"
  std::string detail;
  int done = 0;
  int total = 0;
};

struct RunOptions {
  RunSettings settings;
  int threads = 0;        // recorded in the result
  std::string reference;  // empty: the first implementation that started
  // Implementations that are only a correctness reference: checked, never timed.
  std::vector<std::string> untimed;
  std::function<void(const RunProgress&)> on_progress;
};

// Compares `actual` with `expected` (same shape, max |diff| <= tolerance, labels when asked).
CheckResult compare_rows(const Case& c, const Rows& expected, const Rows& actual,
                         const std::string& implementation, const std::string& against);

RunResult run_benchmark(std::vector<std::unique_ptr<Implementation>>& implementations,
                        const std::vector<Case>& cases, const RunOptions& options);

}  // namespace tensorgraph::bench
