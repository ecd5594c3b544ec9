#include "tensorgraph/bench/results_page.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "tensorgraph/bench/report.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::bench {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A member array or object by reference (json::value() returns copies, to which pointers would
// dangle); an empty one when absent or of another type.
const nlohmann::json& arr(const nlohmann::json& j, const char* key) {
  static const nlohmann::json empty = nlohmann::json::array();
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : empty;
}
const nlohmann::json& obj(const nlohmann::json& j, const char* key) {
  static const nlohmann::json empty = nlohmann::json::object();
  if (!j.is_object()) return empty;
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : empty;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  TG_CHECK(in, "{}: cannot read", path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<fs::path> sorted_dirs(const fs::path& root) {
  std::vector<fs::path> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.is_directory(ec)) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const json* result_of(const json& run, const std::string& c, const std::string& impl) {
  for (const auto& r : arr(run, "results"))
    if (str(r, "case") == c && str(r, "implementation") == impl && str(r, "status") == "ok")
      return &r;
  return nullptr;
}

// For benchmarks against other frameworks (peer processes): the p50 of every other
// implementation divided by the first one's (the subject, e.g. tensorgraph): how many times
// faster the subject is. Columns without any value are left out.
std::string ratio_table(const json& report, const json& run) {
  std::vector<std::string> impls;
  bool peers = false;
  for (const auto& i : arr(run, "implementations")) {
    peers = peers || str(i, "type") == "peer";
    if (str(i, "status") == "ok" || !i.contains("status")) impls.push_back(str(i, "name"));
  }
  if (!peers || impls.size() < 2) return {};
  const std::string subject = impls[0];
  std::vector<std::string> columns;
  for (std::size_t i = 1; i < impls.size(); ++i) {
    bool any = false;
    for (const auto& c : arr(report, "cases"))
      any = any || (c.value("timed", true) && result_of(run, str(c, "name"), impls[i]) &&
                    result_of(run, str(c, "name"), subject));
    if (any) columns.push_back(impls[i]);
  }
  if (columns.empty()) return {};
  std::string out = "| case |";
  std::string rule = "| --- |";
  for (const auto& col : columns) {
    out += fmt::format(" {} p50 / {} p50 |", col, subject);
    rule += " ---: |";
  }
  out += "\n" + rule + "\n";
  for (const auto& c : arr(report, "cases")) {
    if (!c.value("timed", true)) continue;
    const json* s = result_of(run, str(c, "name"), subject);
    if (!s) continue;
    out += "| " + str(c, "label") + " |";
    for (const auto& col : columns) {
      const json* r = result_of(run, str(c, "name"), col);
      if (r && s->value("p50_ms", 0.0) > 0)
        out += fmt::format(" {:.2f} |", r->value("p50_ms", 0.0) / s->value("p50_ms", 0.0));
      else
        out += " - |";
    }
    out += "\n";
  }
  return out;
}

std::string load_text(const json& report) {
  if (!report.contains("load_average") || !report["load_average"].is_array()) return {};
  const auto& l = report["load_average"];
  if (l.size() != 2 || !l[0].is_number() || !l[1].is_number()) return {};
  const double cpus = obj(report, "machine").value("logical_cpus", 1);
  const double a = l[0].get<double>(), b = l[1].get<double>();
  std::string out = fmt::format("load average {:.1f} before, {:.1f} after", a, b);
  if (std::max(a, b) > 0.5 * cpus) out += " (**measured while the machine was busy**: noisy)";
  return out;
}

// Issue 8's comparison: seconds per training epoch of every implementation, extrapolated from the
// timed runs of the training cases (case info "kind": "training") of every report. Empty when
// no report has one. Its heading is linked from the README (#training-issue-8).
std::string training_section(const std::vector<json>& reports) {
  std::string rows;
  std::string sources;
  for (const auto& r : reports) {
    bool any = false;
    for (const auto& c : arr(r, "cases")) {
      const json& info = obj(c, "info");
      if (str(info, "kind") != "training") continue;
      const double steps = info.value("steps", 0.0), batch = info.value("batch", 0.0);
      const double epoch = info.value("epoch_images", 0.0);
      if (steps <= 0 || batch <= 0 || epoch <= 0) continue;
      for (const auto& run : arr(r, "runs")) {
        const int threads = run.value("threads", 0);
        std::string subject;
        double subject_p50 = 0;
        for (const auto& res : arr(run, "results")) {
          if (str(res, "case") != str(c, "name") || str(res, "status") != "ok") continue;
          const double p50 = res.value("p50_ms", 0.0);
          if (subject.empty()) subject = str(res, "implementation"), subject_p50 = p50;
          const double per_step = p50 / 1e3 / steps;
          rows += fmt::format(
              "| {} | {} | {} | {:.0f} x {:.0f} | {:.3f} s | {:.1f} ms | **{:.1f} s** | {} |\n",
              str(r, "benchmark"), threads, str(res, "implementation"), steps, batch, p50 / 1e3,
              per_step * 1e3, per_step * epoch / batch,
              subject_p50 > 0 ? fmt::format("{:.2f}", p50 / subject_p50) : "-");
          any = true;
        }
      }
    }
    if (any)
      sources += fmt::format(
          "{}`{}` ({}{}, commit {}{})", sources.empty() ? "" : "; ", str(r, "command"),
          str(r, "timestamp"), r.value("quick", false) ? ", quick run" : "",
          str(obj(r, "machine"), "git_commit"), load_text(r).empty() ? "" : "; " + load_text(r));
  }
  if (rows.empty()) return {};
  return "## Training (issue 8)\n\n"
         "Seconds per training epoch of the CNN of example 05 (55,000 MNIST images, batch 64, "
         "AdamW + cosine schedule, the settings of `tensorgraph train cnn`), tensorgraph and "
         "PyTorch 1.13 training the same network from the same weights on the same images, "
         "measured in the same run, interleaved. **Extrapolated**: each timed run is a fixed "
         "number of steps; seconds per epoch = p50 of a run / steps x 55,000 / 64 (the epoch's "
         "validation pass not included). Before timing, every implementation's losses over a few "
         "steps (from the committed weights, classifier zeroed) matched our reference kernels'. "
         "Ratio: p50 / the first implementation's p50 (above 1: slower than it). From " +
         sources +
         ".\n\n"
         "| benchmark | threads | implementation | steps x batch per run | run p50 | per step | "
         "per epoch | ratio |\n"
         "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n" +
         rows + "\n";
}

}  // namespace

std::vector<fs::path> latest_reports(const fs::path& benchmarks_dir) {
  std::vector<fs::path> out;
  for (const auto& dir : sorted_dirs(benchmarks_dir)) {
    std::error_code ec;
    const fs::path results = dir / "results";
    if (!fs::is_directory(results, ec)) continue;
    std::vector<fs::path> full, quick;
    for (const auto& e : fs::directory_iterator(results, ec)) {
      const fs::path p = e.path();
      if (p.extension() != ".json") continue;
      (p.stem().string().ends_with("_quick") ? quick : full).push_back(p);
    }
    // Names start with the UTC timestamp: the greatest is the newest.
    auto& pick = full.empty() ? quick : full;
    if (!pick.empty()) out.push_back(*std::max_element(pick.begin(), pick.end()));
  }
  return out;
}

std::vector<fs::path> note_files(const fs::path& benchmarks_dir) {
  std::vector<fs::path> out;
  for (const auto& dir : sorted_dirs(benchmarks_dir)) {
    std::error_code ec;
    if (fs::is_regular_file(dir / "NOTES.md", ec)) out.push_back(dir / "NOTES.md");
  }
  return out;
}

std::string results_page(const std::vector<json>& reports, const std::vector<Note>& notes) {
  std::string out =
      "# Benchmark results\n\n"
      "<!-- Generated by `scripts/bench` (`tensorgraph bench --update-results`): do not edit. -->\n"
      "Generated from the latest report of each benchmark (`benchmarks/*/results/*.json`, written "
      "by `tensorgraph bench`), followed by the hand-written notes kept in "
      "`benchmarks/*/NOTES.md`. "
      "Regenerate with `scripts/bench` (runs every benchmark) or `scripts/bench --refresh` (this "
      "page only). Each section names its date, commit, machine and command; numbers measured "
      "while other work ran on the same cores say so.\n\n"
      "Method: per case, warm-up runs, then rounds in which every implementation runs one block "
      "of timed runs in turn (A B C, A B C, ...), so that drift hits all alike; p50/p95/p99 "
      "interpolate between closest ranks (NumPy's default); speedup = baseline p50 / p50. Peers "
      "(PyTorch, ONNX Runtime) run in their own processes with the same inputs, thread counts "
      "and timed region (model forward only), and must reproduce the reference outputs before "
      "any timing.\n\n";
  if (reports.empty()) out += "No benchmark report yet: run `scripts/bench`.\n\n";
  for (const auto& r : reports) {
    const json& m = obj(r, "machine");
    out += fmt::format("## {}{}\n\n", str(r, "benchmark"),
                       r.value("quick", false) ? " (quick run)" : "");
    if (!str(r, "description").empty()) out += str(r, "description") + "\n\n";
    out += fmt::format("Measured {} on {} ({} logical CPUs), commit {}, {}; `{}`.",
                       str(r, "timestamp"), str(m, "cpu_model"), m.value("logical_cpus", 0),
                       str(m, "git_commit"), str(m, "build_type"), str(r, "command"));
    const std::string load = load_text(r);
    if (!load.empty()) out += " Machine " + load + ".";
    out += "\n\n";
    for (const auto& run : arr(r, "runs")) {
      const int threads = run.value("threads", 0);
      out += fmt::format(
          "**{} thread{}** (p50; in parentheses the speedup over {}, the baseline):\n\n", threads,
          threads == 1 ? "" : "s", str(r, "baseline"));
      out += markdown_speed_table(r, run) + "\n";
      const std::string ratios = ratio_table(r, run);
      if (!ratios.empty()) out += ratios + "\n";
    }
    // Peers and their settings, once per benchmark (from the last run).
    if (!arr(r, "runs").empty()) {
      std::string peers;
      for (const auto& run : r["runs"]) {
        for (const auto& i : arr(run, "implementations")) {
          const int threads = i.value("threads", 0);
          std::string line =
              fmt::format("- {} ({} thread{}): ", str(i, "name"), threads, threads == 1 ? "" : "s");
          line += implementation_summary(i);
          peers += line + "\n";
        }
      }
      out += "Implementations:\n\n" + peers + "\n";
    }
    std::size_t checks = 0, failed = 0;
    for (const auto& c : arr(obj(r, "gate"), "checks"))
      ++checks, failed += c.value("ok", false) ? 0 : 1;
    std::size_t gate_checks = checks;
    for (const auto& run : arr(r, "runs"))
      for (const auto& c : arr(run, "checks")) ++checks, failed += c.value("ok", false) ? 0 : 1;
    if (checks > 0)
      out += fmt::format(
          "Correctness before timing: {} checks ({} against golden outputs), {} "
          "failed.\n\n",
          checks, gate_checks, failed);
  }
  out += training_section(reports);
  if (!reports.empty()) {
    const json& m = obj(reports.back(), "machine");
    std::string isa;
    for (const auto& f : arr(m, "isa_features"))
      isa += (isa.empty() ? "" : " ") + f.get<std::string>();
    out += "## Machine (latest report)\n\n";
    out += fmt::format("- CPU: {}; ISA: {}; {} logical CPUs; {:.1f} GiB\n", str(m, "cpu_model"),
                       isa, m.value("logical_cpus", 0), m.value("memory_gib", 0.0));
    out += fmt::format("- OS: {}\n- compiler: {}, {} `{}`\n", str(m, "os"), str(m, "compiler"),
                       str(m, "build_type"), str(m, "build_flags"));
    std::string onednn;
    if (m.contains("libraries") && m["libraries"].contains("oneDNN"))
      onednn = m["libraries"]["oneDNN"].get<std::string>();
    out += fmt::format("- oneDNN {} (ISA {}); tensorgraph {} commit {}\n\n", onednn,
                       str(m, "onednn_isa"), str(m, "version"), str(m, "git_commit"));
  }
  for (const auto& n : notes) {
    out += fmt::format("<!-- carried over from {} -->\n", n.source);
    out += n.markdown;
    if (!out.ends_with("\n")) out += "\n";
    out += "\n";
  }
  while (out.ends_with("\n\n")) out.pop_back();
  return out;
}

std::string generate_results_page(const fs::path& benchmarks_dir) {
  std::error_code ec;
  TG_CHECK(fs::is_directory(benchmarks_dir, ec), "{}: not a directory", benchmarks_dir.string());
  std::vector<json> reports;
  for (const auto& p : latest_reports(benchmarks_dir)) {
    json j = json::parse(read_file(p), nullptr, false);
    TG_CHECK(j.is_object() && j.value("format", "") == "tensorgraph-bench-report",
             "{}: not a tensorgraph bench report", p.string());
    reports.push_back(std::move(j));
  }
  std::vector<Note> notes;
  for (const auto& p : note_files(benchmarks_dir))
    notes.push_back({fs::relative(p, benchmarks_dir.parent_path(), ec).string(), read_file(p)});
  return results_page(reports, notes);
}

}  // namespace tensorgraph::bench
