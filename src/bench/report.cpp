#include "tensorgraph/bench/report.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <set>

#include <fmt/format.h>

namespace tensorgraph::bench {

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

using json = nlohmann::json;

json check_json(const CheckResult& c) {
  return {{"case", c.case_name},
          {"implementation", c.implementation},
          {"against", c.against},
          {"rows", c.rows},
          {"max_abs_diff", c.max_abs_diff},
          {"label_mismatches", c.label_mismatches},
          {"ok", c.ok},
          {"detail", c.detail}};
}

json info_json(const ImplementationInfo& i) {
  json j = {{"name", i.name},       {"type", i.type},          {"description", i.description},
            {"version", i.version}, {"threads", i.threads},    {"settings", i.settings},
            {"status", i.status},   {"rss_scope", i.rss_scope}};
  j["cold_start_s"] = i.cold_start_s ? json(*i.cold_start_s) : json(nullptr);
  j["self_load_s"] = i.self_load_s ? json(*i.self_load_s) : json(nullptr);
  j["peak_rss_mib"] = i.peak_rss_mib ? json(*i.peak_rss_mib) : json(nullptr);
  return j;
}

std::string str(const json& j, const char* key, const std::string& fallback = "") {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

double num(const json& j, const char* key, double fallback = NAN) {
  if (!j.is_object()) return fallback;
  auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return fallback;
  return it->get<double>();
}

// Names of the implementations of a run, in config order.
std::vector<std::string> implementation_names(const json& run) {
  std::vector<std::string> names;
  for (const auto& i : arr(run, "implementations")) names.push_back(str(i, "name"));
  return names;
}

const json* find_result(const json& run, const std::string& case_name, const std::string& impl) {
  for (const auto& r : arr(run, "results"))
    if (str(r, "case") == case_name && str(r, "implementation") == impl) return &r;
  return nullptr;
}

const json* find_info(const json& run, const std::string& impl) {
  for (const auto& i : arr(run, "implementations"))
    if (str(i, "name") == impl) return &i;
  return nullptr;
}

std::string status_of(const json& run, const std::string& impl) {
  const json* i = find_info(run, impl);
  return i ? str(*i, "status", "ok") : "missing";
}

// A value for humans: strings unquoted, arrays space-separated.
std::string plain(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : " ") + plain(x);
    return out;
  }
  return v.dump();
}

std::string settings_text(const json& info) {
  std::vector<std::string> parts;
  const json& s = obj(info, "settings");
  if (s.contains("env_set"))
    for (const auto& [k, v] : s["env_set"].items()) parts.push_back(k + "=" + v.get<std::string>());
  if (s.contains("env_unset"))
    for (const auto& k : s["env_unset"]) parts.push_back("unset " + k.get<std::string>());
  if (s.contains("reported")) {
    const json& r = s["reported"];
    for (const auto& [k, v] : r.items()) {
      if (k == "env" && v.is_object()) {
        for (const auto& [ek, ev] : v.items())
          parts.push_back(
              fmt::format("{}={}", ek, ev.is_string() ? ev.get<std::string>() : ev.dump()));
      } else if (k != "peer" && k != "version" && k != "inputs" && k != "env") {
        parts.push_back(fmt::format("{}={}", k, plain(v)));
      }
    }
  }
  for (const auto& [k, v] : s.items()) {
    if (k == "env_set" || k == "env_unset" || k == "reported" || k == "command") continue;
    parts.push_back(fmt::format("{}={}", k, v.is_string() ? v.get<std::string>() : v.dump()));
  }
  std::string out;
  for (const auto& p : parts) {
    if (std::find(parts.begin(), parts.end(), p) != parts.begin() + (&p - parts.data())) continue;
    out += (out.empty() ? "" : ", ") + p;
  }
  return out.empty() ? "-" : out;
}

// "3.67", "0.61", "0.0072": two decimals, or two significant digits below 0.1.
std::string format_speedup(double x) {
  return x >= 0.1 ? fmt::format("{:.2f}", x) : fmt::format("{:.2g}", x);
}

// "cold start 1.23 s" (a process, start to first answer) or "load 0.01 s (in process)".
std::string start_text(const json& info) {
  const double cold = num(info, "cold_start_s");
  if (std::isfinite(cold)) return fmt::format("cold start {:.2f} s", cold);
  const double load = num(info, "self_load_s");
  if (std::isfinite(load)) return fmt::format("load {:.3f} s (in process)", load);
  return "-";
}

std::string display_name(const json& report, const std::string& impl) {
  return impl == str(report, "baseline") ? impl + " (baseline)" : impl;
}

// The p50 cell of one case and implementation: text, and whether it is the best of its row.
struct Cell {
  std::string text;
  bool best = false;
};

std::vector<Cell> speed_row(const json& report, const json& run, const std::string& case_name,
                            const std::vector<std::string>& impls) {
  const int digits = static_cast<int>(num(report, "precision", 3));
  const std::string baseline = str(report, "baseline");
  const json* base = find_result(run, case_name, baseline);
  const double base_p50 = base && str(*base, "status") == "ok" ? num(*base, "p50_ms") : NAN;
  double best = INFINITY;
  for (const auto& impl : impls)
    if (const json* r = find_result(run, case_name, impl); r && str(*r, "status") == "ok")
      best = std::min(best, num(*r, "p50_ms"));
  std::vector<Cell> cells;
  for (const auto& impl : impls) {
    const json* r = find_result(run, case_name, impl);
    const std::string status = status_of(run, impl);
    if (status != "ok") {
      cells.push_back({"skipped", false});
    } else if (!r) {
      cells.push_back({"-", false});
    } else if (str(*r, "status") != "ok") {
      cells.push_back({str(*r, "status"), false});
    } else {
      const double p50 = num(*r, "p50_ms");
      std::string text = format_ms(p50, digits);
      if (impl != baseline && std::isfinite(base_p50) && p50 > 0)
        text += fmt::format(" ({}x)", format_speedup(base_p50 / p50));
      cells.push_back({text, p50 == best});
    }
  }
  return cells;
}

std::vector<const json*> timed_cases(const json& report) {
  std::vector<const json*> out;
  for (const auto& c : arr(report, "cases"))
    if (c.value("timed", true)) out.push_back(&c);
  return out;
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n')
      out += ' ';
    else
      out += c;
  }
  return out;
}

// Check results grouped by implementation and what they were compared with.
struct CheckGroup {
  std::string implementation, against;
  int cases = 0;
  std::size_t rows = 0, label_mismatches = 0;
  double max_abs_diff = 0;
  bool ok = true;
};

std::vector<CheckGroup> group_checks(const json& checks) {
  std::vector<CheckGroup> groups;
  for (const auto& c : checks) {
    std::string against = str(c, "against");
    // "pytorch on text_ids" -> "pytorch"
    const std::string impl = str(c, "implementation");
    auto g = std::find_if(groups.begin(), groups.end(), [&](const CheckGroup& x) {
      return x.implementation == impl && x.against == against;
    });
    if (g == groups.end()) {
      groups.push_back({impl, against});
      g = groups.end() - 1;
    }
    g->cases += 1;
    g->rows += c.value("rows", std::size_t{0});
    g->label_mismatches += c.value("label_mismatches", std::size_t{0});
    g->max_abs_diff = std::max(g->max_abs_diff, num(c, "max_abs_diff", 0));
    g->ok = g->ok && c.value("ok", false);
  }
  return groups;
}

// "1 case", "3 cases"
std::string count(long n, const char* noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

std::string machine_lines(const json& m, const char* prefix) {
  std::string isa;
  for (const auto& f : arr(m, "isa_features"))
    isa += (isa.empty() ? "" : " ") + f.get<std::string>();
  std::string onednn;
  if (m.contains("libraries") && m["libraries"].contains("oneDNN"))
    onednn = m["libraries"]["oneDNN"].get<std::string>();
  std::string out;
  out += fmt::format("{}CPU: {} ({}), {} logical CPUs, {:.1f} GiB RAM\n", prefix,
                     str(m, "cpu_model", "?"), isa, m.value("logical_cpus", 0),
                     num(m, "memory_gib", 0));
  out += fmt::format("{}OS: {}\n", prefix, str(m, "os", "?"));
  out += fmt::format("{}build: tensorgraph {} (commit {}), {} with {}, flags `{}`\n", prefix,
                     str(m, "version"), str(m, "git_commit"), str(m, "build_type"),
                     str(m, "compiler"), str(m, "build_flags"));
  out += fmt::format("{}oneDNN {} (ISA {})\n", prefix, onednn, str(m, "onednn_isa"));
  return out;
}

// A plain-text table with aligned columns; cells may carry ANSI codes (not counted in widths).
std::size_t visible_width(const std::string& s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++w;
  }
  return w;
}

std::string text_table(const std::vector<std::vector<std::string>>& rows,
                       const std::vector<bool>& right_align) {
  if (rows.empty()) return {};
  std::vector<std::size_t> width(rows[0].size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], visible_width(r[i]));
  std::string out;
  for (std::size_t ri = 0; ri < rows.size(); ++ri) {
    std::string line = "  ";
    for (std::size_t i = 0; i < rows[ri].size() && i < width.size(); ++i) {
      const std::string& cell = rows[ri][i];
      const std::size_t pad = width[i] - visible_width(cell);
      const bool right = i < right_align.size() && right_align[i];
      if (i) line += "  ";
      if (right) line += std::string(pad, ' ');
      line += cell;
      if (!right && i + 1 < rows[ri].size()) line += std::string(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (ri == 0) {
      std::size_t total = 0;
      for (std::size_t i = 0; i < width.size(); ++i) total += width[i] + (i ? 2 : 0);
      out += "  " + std::string(total, '-') + "\n";
    }
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_number(double x) {
  if (!std::isfinite(x)) return "";
  return fmt::format("{:.9g}", x);
}

}  // namespace

// ---- formatting -------------------------------------------------------------------------------

std::string format_ms(double ms, int digits) {
  if (!std::isfinite(ms)) return "-";
  double value = ms;
  const char* unit = "ms";
  if (ms >= 1000) {
    value = ms / 1000;
    unit = "s";
  } else if (ms < 0.001) {
    value = ms * 1e6;
    unit = "ns";
  } else if (ms < 1) {
    value = ms * 1000;
    unit = "µs";
  }
  const int magnitude = value > 0 ? static_cast<int>(std::floor(std::log10(value))) : 0;
  const int decimals = std::max(0, digits - 1 - magnitude);
  return fmt::format("{:.{}f} {}", value, decimals, unit);
}

std::string format_rate(double value, const std::string& unit, int digits) {
  if (!std::isfinite(value)) return "-";
  const char* prefix = "";
  if (value >= 1e9) {
    value /= 1e9;
    prefix = "G ";
  } else if (value >= 1e6) {
    value /= 1e6;
    prefix = "M ";
  } else if (value >= 1e4) {
    value /= 1e3;
    prefix = "k ";
  }
  const int magnitude = value > 0 ? static_cast<int>(std::floor(std::log10(value))) : 0;
  const int decimals = std::max(0, digits - 1 - magnitude);
  return fmt::format("{:.{}f} {}{}", value, decimals, prefix, unit);
}

std::string utc_timestamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string file_timestamp(const std::string& iso) {
  std::string out;
  for (char c : iso)
    if (c != '-' && c != ':') out += c;
  return out;
}

// ---- the report -------------------------------------------------------------------------------

json make_report(const ReportHeader& h, const std::vector<Case>& cases,
                 const std::vector<RunResult>& runs, const Gate& gate) {
  json r;
  r["format"] = "tensorgraph-bench-report";
  r["version"] = 1;
  r["benchmark"] = h.benchmark;
  r["task"] = h.task;
  r["description"] = h.description;
  r["config"] = h.config;
  r["timestamp"] = h.timestamp;
  r["command"] = h.command;
  r["quick"] = h.quick;
  r["settings"] = {{"warmup", h.settings.warmup},
                   {"block_warmup", h.settings.block_warmup},
                   {"iterations", h.settings.iterations},
                   {"repeat", h.settings.repeat},
                   {"threads", h.settings.threads}};
  r["baseline"] = h.baseline;
  r["precision"] = h.precision;
  r["statistics"] = {
      {"percentiles",
       "linear interpolation between closest ranks (NumPy's default, Hyndman-Fan type 7) over "
       "all timed runs of all rounds"},
      {"std", "sample standard deviation (n - 1); cv = std / mean"},
      {"throughput", "work per run / mean time"},
      {"speedup", "baseline p50 / p50"}};
  r["machine"] = h.machine;
  r["inputs"] = h.inputs;
  json cs = json::array();
  for (const auto& c : cases)
    cs.push_back({{"name", c.name},
                  {"label", c.label},
                  {"input", c.input},
                  {"timed", c.timed},
                  {"unit", c.throughput.unit},
                  {"info", c.info}});
  r["cases"] = cs;
  json g = {{"checks", json::array()}, {"implementations", json::array()}};
  for (const auto& c : gate.checks) g["checks"].push_back(check_json(c));
  for (const auto& i : gate.implementations) g["implementations"].push_back(info_json(i));
  r["gate"] = g;
  json rs = json::array();
  for (const auto& run : runs) {
    json j;
    j["threads"] = run.threads;
    j["wall_s"] = run.wall_s;
    j["implementations"] = json::array();
    for (const auto& i : run.implementations) j["implementations"].push_back(info_json(i));
    j["checks"] = json::array();
    for (const auto& c : run.checks) j["checks"].push_back(check_json(c));
    j["results"] = json::array();
    for (const auto& t : run.timings) {
      auto c = std::find_if(cases.begin(), cases.end(),
                            [&](const Case& x) { return x.name == t.case_name; });
      json x = {{"case", t.case_name}, {"implementation", t.implementation}, {"status", t.status}};
      if (t.status == "ok") {
        const Summary& s = t.summary;
        x.update({{"n", s.count},
                  {"mean_ms", s.mean},
                  {"median_ms", s.median},
                  {"p50_ms", s.p50},
                  {"p95_ms", s.p95},
                  {"p99_ms", s.p99},
                  {"min_ms", s.min},
                  {"max_ms", s.max},
                  {"std_ms", s.stddev},
                  {"cv", s.cv},
                  {"throughput", t.throughput},
                  {"unit", c != cases.end() ? c->throughput.unit : ""},
                  {"round_medians_ms", t.round_medians_ms},
                  {"samples_ms", t.samples_ms}});
      }
      j["results"].push_back(x);
    }
    j["schedule"] = json::array();
    for (const auto& s : run.schedule)
      j["schedule"].push_back(fmt::format("{} {} {}", s.case_name,
                                          s.round < 0 ? "warmup" : fmt::format("r{}", s.round + 1),
                                          s.implementation));
    rs.push_back(j);
  }
  r["runs"] = rs;
  return r;
}

std::string markdown_speed_table(const json& report, const json& run) {
  const std::vector<std::string> impls = implementation_names(run);
  std::string out = "| case |";
  std::string rule = "| --- |";
  for (const auto& i : impls) {
    out += " " + md_escape(display_name(report, i)) + " |";
    rule += " ---: |";
  }
  out += "\n" + rule + "\n";
  for (const json* c : timed_cases(report)) {
    out += "| " + md_escape(str(*c, "label", str(*c, "name"))) + " |";
    for (const Cell& cell : speed_row(report, run, str(*c, "name"), impls))
      out += " " + (cell.best ? "**" + cell.text + "**" : cell.text) + " |";
    out += "\n";
  }
  return out;
}

std::string report_markdown(const json& report) {
  const int digits = static_cast<int>(num(report, "precision", 3));
  std::string out;
  out += fmt::format("# Benchmark {}{}\n\n", str(report, "benchmark"),
                     report.value("quick", false) ? " (quick run)" : "");
  if (!str(report, "description").empty()) out += str(report, "description") + "\n\n";
  const json& s = obj(report, "settings");
  out += fmt::format("- date: {}\n- command: `{}`\n- config: `{}`\n", str(report, "timestamp"),
                     str(report, "command"), str(report, "config"));
  out += fmt::format(
      "- method: per case, {} warm-up runs per implementation, then {} rounds; in each round every "
      "implementation runs {} untimed + {} timed runs in turn (interleaved); statistics over all "
      "timed runs\n",
      s.value("warmup", 0), s.value("repeat", 0), s.value("block_warmup", 0),
      s.value("iterations", 0));
  out +=
      "- percentiles: linear interpolation between closest ranks (NumPy default); std: sample "
      "(n - 1); throughput: work / mean time; speedup: baseline p50 / p50\n";
  out += machine_lines(obj(report, "machine"), "- ");
  if (report.contains("inputs") && !report["inputs"].empty()) {
    out += "- inputs:";
    for (const auto& [k, v] : report["inputs"].items())
      out += fmt::format(" {}={};", k, v.is_string() ? v.get<std::string>() : v.dump());
    out.pop_back();
    out += "\n";
  }
  out += "\n";

  const json& gate = obj(report, "gate");
  if (!arr(gate, "checks").empty()) {
    out += "## Checked against golden outputs before timing\n\n";
    out +=
        "| implementation | against | cases | rows | max abs diff | label mismatches | result |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | --- |\n";
    for (const auto& g : group_checks(gate["checks"]))
      out += fmt::format("| {} | {} | {} | {} | {:.2g} | {} | {} |\n", g.implementation,
                         md_escape(g.against), g.cases, g.rows, g.max_abs_diff, g.label_mismatches,
                         g.ok ? "ok" : "FAILED");
    out += "\n";
  }

  for (const auto& run : arr(report, "runs")) {
    const int threads = run.value("threads", 0);
    out += fmt::format("## {} thread{}\n\n", threads, threads == 1 ? "" : "s");
    out += "p50 per run (speedup over the baseline); the best of each row in bold.\n\n";
    out += markdown_speed_table(report, run) + "\n";

    out +=
        "| case | implementation | n | mean | p50 | p95 | p99 | min | max | std | CV | "
        "throughput |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | "
        "---: | ---: |\n";
    for (const json* c : timed_cases(report)) {
      for (const auto& r : arr(run, "results")) {
        if (str(r, "case") != str(*c, "name") || str(r, "status") != "ok") continue;
        out +=
            fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1f}% | {} |\n",
                        md_escape(str(*c, "label")), str(r, "implementation"), r.value("n", 0),
                        format_ms(num(r, "mean_ms"), digits), format_ms(num(r, "p50_ms"), digits),
                        format_ms(num(r, "p95_ms"), digits), format_ms(num(r, "p99_ms"), digits),
                        format_ms(num(r, "min_ms"), digits), format_ms(num(r, "max_ms"), digits),
                        format_ms(num(r, "std_ms"), digits), 100 * num(r, "cv", 0),
                        format_rate(num(r, "throughput"), str(r, "unit"), digits));
      }
    }
    out += "\n";

    out +=
        "| implementation | version | threads | cold start / load | peak RSS | settings |\n"
        "| --- | --- | ---: | ---: | ---: | --- |\n";
    for (const auto& i : arr(run, "implementations")) {
      const std::string status = str(i, "status", "ok");
      const double rss = num(i, "peak_rss_mib");
      out += fmt::format(
          "| {} | {} | {} | {} | {} | {} |\n", str(i, "name"),
          status == "ok" ? md_escape(str(i, "version", "-")) : md_escape(status),
          i.value("threads", 0), start_text(i),
          std::isfinite(rss) ? fmt::format("{:.0f} MiB ({})", rss, str(i, "rss_scope")) : "-",
          md_escape(settings_text(i)));
    }
    out += "\n";
    const auto groups = group_checks(arr(run, "checks"));
    if (!groups.empty()) {
      out += "Correctness before timing:";
      for (const auto& g : groups)
        out += fmt::format(
            " {} vs {}: {}, {} rows, max abs diff {:.2g}, {} label "
            "mismatches ({});",
            g.implementation, g.against, count(g.cases, "case"), g.rows, g.max_abs_diff,
            g.label_mismatches, g.ok ? "ok" : "FAILED");
      out.pop_back();
      out += ".\n\n";
    }
  }
  return out;
}

std::string report_csv(const json& report) {
  std::string out =
      "benchmark,timestamp,commit,threads,case,label,implementation,status,n,mean_ms,median_ms,"
      "p50_ms,p95_ms,p99_ms,min_ms,max_ms,std_ms,cv,throughput,unit,speedup_vs_baseline,"
      "cold_start_s,peak_rss_mib\n";
  const std::string commit = str(obj(report, "machine"), "git_commit");
  const std::string baseline = str(report, "baseline");
  std::map<std::string, std::string> labels;
  for (const auto& c : arr(report, "cases")) labels[str(c, "name")] = str(c, "label");
  for (const auto& run : arr(report, "runs")) {
    for (const auto& r : arr(run, "results")) {
      const std::string impl = str(r, "implementation");
      const json* info = find_info(run, impl);
      const json* base = find_result(run, str(r, "case"), baseline);
      const double speedup = base && str(*base, "status") == "ok" && str(r, "status") == "ok"
                                 ? num(*base, "p50_ms") / num(r, "p50_ms")
                                 : NAN;
      out += fmt::format(
          "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
          csv_field(str(report, "benchmark")), str(report, "timestamp"), csv_field(commit),
          run.value("threads", 0), csv_field(str(r, "case")), csv_field(labels[str(r, "case")]),
          csv_field(impl), csv_field(str(r, "status")),
          r.contains("n") ? std::to_string(r.value("n", 0)) : "", csv_number(num(r, "mean_ms")),
          csv_number(num(r, "median_ms")), csv_number(num(r, "p50_ms")),
          csv_number(num(r, "p95_ms")), csv_number(num(r, "p99_ms")), csv_number(num(r, "min_ms")),
          csv_number(num(r, "max_ms")), csv_number(num(r, "std_ms")), csv_number(num(r, "cv")),
          csv_number(num(r, "throughput")), csv_field(str(r, "unit")), csv_number(speedup),
          info ? csv_number(num(*info, "cold_start_s")) : "",
          info ? csv_number(num(*info, "peak_rss_mib")) : "");
    }
  }
  return out;
}

std::string implementation_summary(const json& i) {
  const std::string status = str(i, "status", "ok");
  if (status != "ok") return status;
  const double rss = num(i, "peak_rss_mib");
  std::string out;
  if (!str(i, "version").empty()) out += str(i, "version") + "; ";
  out += start_text(i);
  if (std::isfinite(rss))
    out += fmt::format("; peak RSS {:.0f} MiB ({})", rss, str(i, "rss_scope"));
  const std::string settings = settings_text(i);
  if (settings != "-") out += "; " + settings;
  return out;
}

std::string report_console(const json& report, bool color) {
  const int digits = static_cast<int>(num(report, "precision", 3));
  const char* bold = color ? "\x1b[1;32m" : "";
  const char* reset = color ? "\x1b[0m" : "";
  std::string out;
  out += fmt::format("{}{}\n", str(report, "benchmark"),
                     report.value("quick", false) ? " (quick run)" : "");
  out += machine_lines(obj(report, "machine"), "  ");
  const json& gate = obj(report, "gate");
  for (const auto& g : group_checks(arr(gate, "checks")))
    out += fmt::format("  checked {} against {}: {}, max abs diff {:.2g}: {}\n", g.implementation,
                       g.against, count(g.cases, "case"), g.max_abs_diff, g.ok ? "ok" : "FAILED");
  for (const auto& run : arr(report, "runs")) {
    const int threads = run.value("threads", 0);
    out += fmt::format("\n{} thread{}: p50 (speedup over {}){}\n", threads, threads == 1 ? "" : "s",
                       str(report, "baseline"), color ? ", best in green" : ", best marked *");
    const std::vector<std::string> impls = implementation_names(run);
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> header{"case"};
    for (const auto& i : impls) header.push_back(display_name(report, i));
    rows.push_back(header);
    for (const json* c : timed_cases(report)) {
      std::vector<std::string> row{str(*c, "label", str(*c, "name"))};
      for (const Cell& cell : speed_row(report, run, str(*c, "name"), impls))
        row.push_back(cell.best ? (color ? bold + cell.text + reset : "*" + cell.text) : cell.text);
      rows.push_back(row);
    }
    std::vector<bool> right(header.size(), true);
    right[0] = false;
    out += text_table(rows, right);

    // Throughput and spread of each implementation.
    std::vector<std::vector<std::string>> detail{
        {"case", "implementation", "mean", "p95", "p99", "CV", "throughput"}};
    for (const json* c : timed_cases(report))
      for (const auto& r : arr(run, "results"))
        if (str(r, "case") == str(*c, "name") && str(r, "status") == "ok")
          detail.push_back(
              {str(*c, "label"), str(r, "implementation"), format_ms(num(r, "mean_ms"), digits),
               format_ms(num(r, "p95_ms"), digits), format_ms(num(r, "p99_ms"), digits),
               fmt::format("{:.1f}%", 100 * num(r, "cv", 0)),
               format_rate(num(r, "throughput"), str(r, "unit"), digits)});
    out += "\n" + text_table(detail, {false, false, true, true, true, true, true});

    out += "\n";
    for (const auto& i : arr(run, "implementations"))
      out += fmt::format("  {}: {}\n", str(i, "name"), implementation_summary(i));
    for (const auto& g : group_checks(arr(run, "checks")))
      out += fmt::format(
          "  checked {} against {}: {}, {} rows, max abs diff {:.2g}, {} label "
          "mismatches: {}\n",
          g.implementation, g.against, count(g.cases, "case"), g.rows, g.max_abs_diff,
          g.label_mismatches, g.ok ? "ok" : "FAILED");
  }
  return out;
}

}  // namespace tensorgraph::bench
