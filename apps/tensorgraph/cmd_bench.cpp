// `tensorgraph bench CONFIG.toml`: a configured benchmark (correctness gate, interleaved timing
// of our engine and its peers, statistics), its reports, and benchmarks/RESULTS.md.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "command.hpp"
#include "file_output.hpp"
#include "output_format.hpp"
#include "progress.hpp"
#include "tensorgraph/bench/bench.hpp"
#include "tensorgraph/bench/report.hpp"
#include "tensorgraph/bench/results_page.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/paths.hpp"

namespace tensorgraph::cli {
namespace {

namespace fs = std::filesystem;

struct BenchArgs {
  std::string config;
  std::optional<std::string> out;
  std::vector<std::string> filters;
  bool quick = false;
  bool json = false;
  bool markdown = false;
  bool update_results = false;
  std::optional<std::string> show;
  std::optional<std::string> benchmarks_dir;
  std::vector<std::string> argv;  // for the report
};

fs::path self_executable() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path("tensorgraph") : p;
}

// Progress on stderr: a bar per phase of a run on a terminal; otherwise a line per phase.
class BenchProgressView {
 public:
  void operator()(const bench::BenchProgress& p) {
    if (p.phase == "prepare" || p.phase == "write") {
      bar_.reset();
      std::fprintf(stderr, "bench: %s %s\n", p.phase == "prepare" ? "preparing" : "writing",
                   p.detail.c_str());
      return;
    }
    const std::string key = fmt::format("{}/{}", p.threads, p.phase);
    if (key != key_) {
      bar_.reset();
      key_ = key;
      const char* what = p.phase == "gate"    ? "checking golden outputs"
                         : p.phase == "start" ? "starting"
                         : p.phase == "check" ? "checking outputs"
                                              : "timing";
      const std::string label = p.threads > 0 ? fmt::format("bench: {} thread{}: {}", p.threads,
                                                            p.threads == 1 ? "" : "s", what)
                                              : fmt::format("bench: {}", what);
      if (!ProgressBar::stderr_is_terminal()) std::fprintf(stderr, "%s\n", label.c_str());
      if (p.total > 0)
        bar_ = std::make_unique<ProgressBar>(label, p.total, ProgressBar::Unit::Items, 0);
    }
    if (bar_ && p.total > 0) bar_->update(p.done, p.detail);
  }
  void finish() { bar_.reset(); }

 private:
  std::string key_;
  std::unique_ptr<ProgressBar> bar_;
};

int update_results(const BenchArgs& args) {
  const fs::path dir =
      args.benchmarks_dir ? fs::path(*args.benchmarks_dir) : hub::project_dir() / "benchmarks";
  const std::string page = bench::generate_results_page(dir);
  const fs::path out = dir / "RESULTS.md";
  write_file_atomically(out.string(), page + "\n");
  const auto reports = bench::latest_reports(dir);
  if (args.json) {
    nlohmann::json j = {{"results", out.string()}, {"reports", nlohmann::json::array()}};
    for (const auto& r : reports) j["reports"].push_back(r.string());
    std::cout << j.dump(2) << "\n";
  } else {
    fmt::print("wrote {} from {} report{}\n", out.string(), reports.size(),
               reports.size() == 1 ? "" : "s");
    for (const auto& r : reports) fmt::print("  {}\n", r.string());
  }
  return 0;
}

bool color_output() {
  const char* no_color = std::getenv("NO_COLOR");
  return stdout_is_terminal() && !(no_color && *no_color);
}

// Prints a saved JSON report as tables (or as Markdown).
int show_report(const std::string& path, bool markdown) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot read the report", path);
  const nlohmann::json report = nlohmann::json::parse(in, nullptr, false);
  if (!report.is_object() || report.value("format", "") != "tensorgraph-bench-report")
    fail("{}: not a tensorgraph bench report (JSON written by `tensorgraph bench`)", path);
  std::cout << (markdown ? bench::report_markdown(report)
                         : bench::report_console(report, color_output()));
  return 0;
}

int run_bench_command(const BenchArgs& args) {
  if (args.show) {
    TG_CHECK(args.config.empty(), "--show prints a saved report: give no config with it");
    return show_report(*args.show, args.markdown);
  }
  if (args.update_results && args.config.empty()) return update_results(args);
  if (args.config.empty())
    fail(
        "no config: give CONFIG.toml (e.g. benchmarks/03_distilbert_sentiment/config.toml), or "
        "--update-results to regenerate benchmarks/RESULTS.md");
  bench::BenchRequest request;
  request.config = args.config;
  if (args.out) request.out_dir = fs::path(*args.out);
  request.filters = args.filters;
  request.quick = args.quick;
  request.tensorgraph_executable = self_executable();
  std::string command = "tensorgraph bench";
  for (const auto& a : args.argv) command += " " + a;
  request.command_line = command;
  auto view = std::make_shared<BenchProgressView>();
  request.on_progress = [view](const bench::BenchProgress& p) { (*view)(p); };
  bench::BenchOutcome outcome;
  try {
    outcome = bench::run_bench(request);
  } catch (...) {
    view->finish();
    throw;
  }
  view->finish();

  if (args.json) {
    nlohmann::json j = outcome.report;
    j["files"] = nlohmann::json::array();
    for (const auto& f : outcome.files) j["files"].push_back(f.string());
    std::cout << j.dump(1) << "\n";
  } else {
    const bool console = std::find(outcome.formats.begin(), outcome.formats.end(), "console") !=
                         outcome.formats.end();
    if (console) {
      std::cout << bench::report_console(outcome.report, color_output());
    }
    if (!outcome.files.empty()) {
      std::cout << "\nreports:\n";
      for (const auto& f : outcome.files) std::cout << "  " << f.string() << "\n";
    }
  }
  std::cout.flush();
  if (args.update_results) {
    BenchArgs page_args;
    page_args.benchmarks_dir = args.benchmarks_dir;
    return update_results(page_args);
  }
  return 0;
}

const Registrar kBench{
    {"bench",
     "Run a configured benchmark: correctness gate, interleaved timing with peers, reports",
     [](Options& o) {
       auto args = std::make_shared<BenchArgs>();
       o.positional("config", &args->config,
                    "Benchmark config (benchmarks/NN_name/config.toml, or its directory)", false);
       o.option("-o,--out", &args->out,
                "Directory for the reports (default: results/ beside the config)");
       o.option("-f,--filter", &args->filters, "Only cases whose name contains NAME (repeatable)");
       o.flag("--quick", &args->quick,
              "Fewer cases, rounds and iterations ([benchmark.quick] of the config)");
       o.flag("--json", &args->json, "Print the report as JSON instead of tables");
       o.flag("--update-results", &args->update_results,
              "Regenerate benchmarks/RESULTS.md from the latest reports (after the run, if a "
              "config is given)");
       o.option("--show", &args->show, "Print a saved JSON report as tables (no run)");
       o.flag("--markdown", &args->markdown, "With --show: print the report as Markdown");
       o.option("--benchmarks-dir", &args->benchmarks_dir,
                "Benchmarks directory for --update-results (default: benchmarks/ of the project)");
       o.footer(R"(
Every implementation's outputs are checked against the reference (golden logits within
tolerance, same labels on the validation set) before anything is timed; a mismatch fails the
run. Implementations are then timed in interleaved rounds (A B C, A B C, ...) on the same
inputs and thread counts. Reports (JSON, Markdown, CSV, with machine info and each peer's
settings) go to results/ beside the config, named by UTC time. Exit status: 0 done, 1 failed
(including a correctness mismatch), 2 bad arguments, 3 the config's task needs a feature this
build does not have yet.

Examples:
  tensorgraph bench benchmarks/03_distilbert_sentiment/config.toml
  tensorgraph bench benchmarks/03_distilbert_sentiment --quick --filter seq16
  tensorgraph bench benchmarks/tokenizer/config.toml --json > tokenizer.json
  tensorgraph bench --update-results          # benchmarks/RESULTS.md from the latest reports
  tensorgraph bench --show benchmarks/tokenizer/results/20261126T010203Z_tokenizer.json
  scripts/bench [--quick]                     # every benchmark, then RESULTS.md)");
       return [args] {
         // Recorded in the report as it was given.
         args->argv.clear();
         if (!args->config.empty()) args->argv.push_back(args->config);
         if (args->out) args->argv.insert(args->argv.end(), {"--out", *args->out});
         for (const auto& f : args->filters) args->argv.insert(args->argv.end(), {"--filter", f});
         if (args->quick) args->argv.push_back("--quick");
         return run_bench_command(*args);
       };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
