#pragma once
// `tensorgraph bench CONFIG.toml`: loads the config, prepares the task's cases and
// implementations, runs the correctness gate and the interleaved timing for every thread count,
// and writes the reports (JSON, Markdown, CSV) into the results directory.
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensorgraph/bench/config.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::bench {

struct BenchProgress {
  std::string phase;   // "prepare", "gate", "start", "check", "time", "write"
  std::string detail;  // what is running
  int threads = 0;     // the thread count of the run (0: outside a run)
  int done = 0;
  int total = 0;
};

struct BenchRequest {
  std::filesystem::path config;
  std::optional<std::filesystem::path> out_dir;  // default: the config's [output] directory
  std::vector<std::string> filters;              // keep cases whose name contains one of these
  bool quick = false;
  bool write_files = true;
  std::filesystem::path tensorgraph_executable;  // for {tensorgraph} in peer commands
  std::string command_line;                      // recorded in the report
  std::function<void(const BenchProgress&)> on_progress;
};

struct BenchOutcome {
  nlohmann::json report;
  std::vector<std::filesystem::path> files;  // written reports
  std::vector<std::string> formats;          // the config's [output] formats
};

BenchOutcome run_bench(const BenchRequest& request);

// Writes report JSON, Markdown and CSV files named "<timestamp>_<benchmark>[_quick].<ext>" into
// `dir` (created when missing), each atomically; returns their paths.
std::vector<std::filesystem::path> write_reports(const nlohmann::json& report,
                                                 const std::vector<std::string>& formats,
                                                 const std::filesystem::path& dir);

}  // namespace tensorgraph::bench
