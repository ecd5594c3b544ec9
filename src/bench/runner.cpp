#include "tensorgraph/bench/runner.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace tensorgraph::bench {

namespace {

std::size_t argmax(const std::vector<double>& row) {
  return static_cast<std::size_t>(std::max_element(row.begin(), row.end()) - row.begin());
}

// Difference between the largest and the second largest value.
double top_margin(const std::vector<double>& row) {
  if (row.size() < 2) return INFINITY;
  std::vector<double> sorted = row;
  std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<>());
  return sorted[0] - sorted[1];
}

std::string row_text(const std::vector<double>& row) {
  std::string out = "[";
  for (std::size_t i = 0; i < row.size() && i < 6; ++i)
    out += fmt::format("{}{:.6g}", i ? ", " : "", row[i]);
  if (row.size() > 6) out += ", ...";
  return out + "]";
}

}  // namespace

const TimingResult* RunResult::timing(const std::string& case_name, const std::string& impl) const {
  for (const auto& t : timings)
    if (t.case_name == case_name && t.implementation == impl) return &t;
  return nullptr;
}

CheckResult compare_rows(const Case& c, const Rows& expected, const Rows& actual,
                         const std::string& implementation, const std::string& against) {
  CheckResult r;
  r.case_name = c.name;
  r.implementation = implementation;
  r.against = against;
  r.rows = actual.size();
  auto name_of = [&](std::size_t i) {
    return i < c.row_names.size() ? fmt::format("row {} ({})", i, c.row_names[i])
                                  : fmt::format("row {}", i);
  };
  if (expected.size() != actual.size()) {
    r.ok = false;
    r.detail = fmt::format("{} rows, expected {}", actual.size(), expected.size());
    return r;
  }
  std::string worst;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (expected[i].size() != actual[i].size()) {
      r.ok = false;
      r.detail = fmt::format("{} has {} values, expected {}", name_of(i), actual[i].size(),
                             expected[i].size());
      return r;
    }
    for (std::size_t j = 0; j < expected[i].size(); ++j) {
      double d = std::fabs(expected[i][j] - actual[i][j]);
      if (std::isnan(d)) d = INFINITY;
      if (d > r.max_abs_diff || (worst.empty() && d == INFINITY)) {
        r.max_abs_diff = d;
        worst = fmt::format("{}: {} vs expected {}", name_of(i), row_text(actual[i]),
                            row_text(expected[i]));
      }
    }
    if (c.compare_labels && !expected[i].empty() && top_margin(expected[i]) >= c.label_tie &&
        argmax(expected[i]) != argmax(actual[i]))
      ++r.label_mismatches;
  }
  if (r.max_abs_diff > c.tolerance) {
    r.ok = false;
    r.detail = fmt::format("max |difference| {:.3g} > tolerance {:.3g}; worst {}", r.max_abs_diff,
                           c.tolerance, worst);
  }
  if (r.label_mismatches > 0) {
    r.ok = false;
    r.detail += fmt::format("{}{} of {} labels differ", r.detail.empty() ? "" : "; ",
                            r.label_mismatches, r.rows);
  }
  return r;
}

RunResult run_benchmark(std::vector<std::unique_ptr<Implementation>>& implementations,
                        const std::vector<Case>& cases, const RunOptions& options) {
  const auto start_time = std::chrono::steady_clock::now();
  RunResult result;
  result.threads = options.threads;
  const RunSettings& s = options.settings;
  auto progress = [&](const std::string& phase, const std::string& detail, int done, int total) {
    if (options.on_progress) options.on_progress({phase, detail, done, total});
  };

  // Stops every started implementation, also when an error leaves this function.
  std::vector<Implementation*> running;
  struct Stopper {
    std::vector<Implementation*>& list;
    ~Stopper() {
      for (auto* impl : list) {
        try {
          impl->stop();
        } catch (...) {  // already failing; the first error is the one to report
        }
      }
    }
  } stopper{running};

  // 1. start
  std::vector<Implementation*> active;
  std::map<std::string, std::string> skipped;
  int n = 0;
  for (auto& impl : implementations) {
    progress("start", impl->name(), n++, static_cast<int>(implementations.size()));
    try {
      impl->start();
      running.push_back(impl.get());
      active.push_back(impl.get());
    } catch (const Unavailable& e) {
      skipped[impl->name()] = e.what();
    }
  }
  Implementation* reference = nullptr;
  for (auto* impl : active)
    if (impl->name() == options.reference) reference = impl;
  if (!reference && !active.empty()) reference = active.front();

  // 2. correctness, before any timing
  std::map<std::string, Rows> reference_rows;
  auto reference_outputs = [&](const Case& c) -> const Rows* {
    auto it = reference_rows.find(c.name);
    if (it != reference_rows.end()) return &it->second;
    if (!reference || !reference->supports(c)) return nullptr;
    return &(reference_rows[c.name] = reference->outputs(c));
  };
  std::vector<std::string> failures;
  int checks_total = static_cast<int>(cases.size() * active.size()), checks_done = 0;
  for (const Case& c : cases) {
    for (auto* impl : active) {
      progress("check", fmt::format("{} on {}", impl->name(), c.name), checks_done++, checks_total);
      if (!impl->supports(c)) continue;
      const Rows* expected = nullptr;
      std::string against;
      if (c.expected) {
        expected = &*c.expected;
        against = "expected";
      } else if (reference && reference->supports(c) && impl != reference) {
        expected = reference_outputs(c);
        against = reference->name();
      } else if (!c.reference_case.empty()) {
        // The same inputs in another form (text as ids): also checks the reference itself.
        auto ref = std::find_if(cases.begin(), cases.end(),
                                [&](const Case& other) { return other.name == c.reference_case; });
        TG_CHECK(ref != cases.end(), "case '{}': reference case '{}' does not exist", c.name,
                 c.reference_case);
        expected = reference_outputs(*ref);
        against = reference ? fmt::format("{} on {}", reference->name(), ref->name) : "";
      }
      if (!expected) continue;
      const Rows actual = impl == reference && reference_rows.count(c.name) ? reference_rows[c.name]
                                                                            : impl->outputs(c);
      CheckResult check = compare_rows(c, *expected, actual, impl->name(), against);
      if (!check.ok)
        failures.push_back(
            fmt::format("{} on '{}' vs {}: {}", impl->name(), c.name, against, check.detail));
      result.checks.push_back(std::move(check));
    }
  }
  if (!failures.empty()) {
    std::string message =
        fmt::format("correctness check failed ({} of {}), nothing was timed:", failures.size(),
                    result.checks.size());
    constexpr std::size_t kShown = 12;
    for (std::size_t i = 0; i < failures.size() && i < kShown; ++i) message += "\n  " + failures[i];
    if (failures.size() > kShown)
      message += fmt::format("\n  ... and {} more", failures.size() - kShown);
    fail("{}", message);
  }

  // 3. timing, interleaved
  int blocks_total = 0, blocks_done = 0;
  auto is_timed = [&](Implementation* impl) {
    return std::find(options.untimed.begin(), options.untimed.end(), impl->name()) ==
           options.untimed.end();
  };
  auto iterations_of = [&](const Case& c) {
    return std::min(s.iterations, c.max_iterations.value_or(s.iterations));
  };
  auto repeat_of = [&](const Case& c) {
    return std::min(s.repeat, c.max_repeat.value_or(s.repeat));
  };
  for (const Case& c : cases)
    if (c.timed)
      for (auto* impl : active)
        if (impl->supports(c) && is_timed(impl)) blocks_total += repeat_of(c);
  for (const Case& c : cases) {
    if (!c.timed) continue;
    std::vector<Implementation*> runners;
    for (auto* impl : active) {
      if (!is_timed(impl)) {
        result.timings.push_back({c.name, impl->name(), "not timed", {}, {}, {}, 0});
        continue;
      }
      if (impl->supports(c))
        runners.push_back(impl);
      else
        result.timings.push_back({c.name, impl->name(), "not supported", {}, {}, {}, 0});
    }
    std::map<Implementation*, TimingResult> timing;
    for (auto* impl : runners) {
      timing[impl].case_name = c.name;
      timing[impl].implementation = impl->name();
      const int warmup = std::min(s.warmup, c.max_warmup.value_or(s.warmup));
      if (warmup > 0) {
        impl->time(c, warmup, 1);  // the first warm-up; its one timed run is discarded
        result.schedule.push_back({c.name, -1, impl->name()});
      }
    }
    const int repeat = repeat_of(c), iterations = iterations_of(c);
    const int block_warmup = std::min(s.block_warmup, c.max_block_warmup.value_or(s.block_warmup));
    for (int round = 0; round < repeat; ++round) {
      for (auto* impl : runners) {
        progress("time",
                 fmt::format("{} on {}, round {}/{}", impl->name(), c.name, round + 1, repeat),
                 blocks_done++, blocks_total);
        const std::vector<double> times = impl->time(c, block_warmup, iterations);
        TG_CHECK(times.size() == static_cast<std::size_t>(iterations),
                 "{}: {} times for {} iterations", impl->name(), times.size(), iterations);
        auto& t = timing[impl];
        t.samples_ms.insert(t.samples_ms.end(), times.begin(), times.end());
        t.round_medians_ms.push_back(percentile(times, 50));
        result.schedule.push_back({c.name, round, impl->name()});
      }
    }
    for (auto* impl : runners) {
      auto& t = timing[impl];
      t.summary = summarize(t.samples_ms);
      t.throughput = rate(c.throughput, t.summary.mean);
      result.timings.push_back(std::move(t));
    }
  }
  progress("time", "done", blocks_total, blocks_total);

  // 4. stop
  for (auto* impl : running) impl->stop();
  running.clear();
  for (auto& impl : implementations) {
    ImplementationInfo info = impl->info();
    if (auto it = skipped.find(impl->name()); it != skipped.end()) info.status = it->second;
    result.implementations.push_back(std::move(info));
  }
  result.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return result;
}

}  // namespace tensorgraph::bench
