#pragma once
// A benchmark configuration (benchmarks/NN_name/config.toml):
//
//   [benchmark]            name, task, description, warmup, block_warmup, iterations, repeat,
//                          threads, reference, tolerance, timeout_s
//   [benchmark.quick]      what --quick changes: warmup, block_warmup, iterations, repeat,
//                          threads, cases
//   [model]                task-specific (DistilBERT: path, fixture, fixture_tolerance, ...)
//   [test_data]            benchmark, validation: JSONL files (relative to the config file)
//   [[cases]]              name, label, quick, iterations, repeat (at most), and task-specific
//                          keys (tokens, batch, op, ...)
//   [implementations.NAME] enabled, type, description, timed, options = { ... }
//   [output]               formats, precision, baseline, directory
//
// Parsing is strict: an unknown key, a value of the wrong type or out of range, or a missing
// required key is an Error naming the file, line and column. Which keys a task's cases and an
// implementation type's options accept is part of the schema (see config.cpp); strings may hold
// placeholders ({root}, {models}, {threads}...) that the task expands (bench/placeholders.hpp).
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tensorgraph::bench {

using StringMap = std::map<std::string, std::string>;
using ConfigValue = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>,
                                 std::vector<std::int64_t>, StringMap>;

// Values of one table, already checked against its schema, with where they came from.
class ConfigValues {
 public:
  ConfigValues() = default;
  explicit ConfigValues(std::string where) : where_(std::move(where)) {}

  bool has(std::string_view key) const { return values_.find(key) != values_.end(); }
  std::int64_t get_int(std::string_view key, std::int64_t fallback) const;
  double get_number(std::string_view key, double fallback) const;
  bool get_bool(std::string_view key, bool fallback) const;
  std::string get_string(std::string_view key, std::string fallback = {}) const;
  std::optional<std::string> find_string(std::string_view key) const;
  std::vector<std::string> get_strings(std::string_view key) const;
  std::vector<std::int64_t> get_ints(std::string_view key) const;
  StringMap get_map(std::string_view key) const;
  // Throws Error "<where>: missing required key 'key'" when absent.
  std::int64_t require_int(std::string_view key) const;
  std::string require_string(std::string_view key) const;

  void set(std::string key, ConfigValue value) { values_[std::move(key)] = std::move(value); }
  const std::map<std::string, ConfigValue, std::less<>>& values() const { return values_; }
  // "config.toml:12:1: [[cases]] 'seq16'": for messages.
  const std::string& where() const { return where_; }

 private:
  std::string where_;
  std::map<std::string, ConfigValue, std::less<>> values_;
};

// A command to run before the benchmark when `creates` is missing or older than one of
// `inputs` (an ONNX export, a generated model).
struct PrepareStep {
  std::string description;
  std::vector<std::string> command;
  std::string creates;
  std::vector<std::string> inputs;
};

struct ImplementationConfig {
  std::string name;
  std::string type;  // "peer", "tensorgraph", "onednn", "loop" (which the task accepts)
  std::string description;
  bool enabled = true;
  bool timed = true;  // false: only the correctness reference, never timed
  ConfigValues options;
  std::vector<PrepareStep> prepare;  // options.prepare
};

struct CaseConfig {
  std::string name;
  std::string label;  // for reports; defaults to the name
  bool quick = true;  // also run under --quick (unless [benchmark.quick] cases lists others)
  // At most this many timed runs per block / rounds (for heavy cases; never more than the
  // [benchmark] or [benchmark.quick] values).
  std::optional<int> iterations;
  std::optional<int> repeat;
  ConfigValues params;
};

struct RunSettings {
  int warmup = 3;        // untimed runs of each implementation before its first timed block
  int block_warmup = 1;  // untimed runs at the start of every block
  int iterations = 10;   // timed runs per block
  int repeat = 5;        // rounds; each implementation runs one block per round, interleaved
  std::vector<int> threads{1};
};

struct OutputConfig {
  std::vector<std::string> formats{"console", "markdown", "json", "csv"};
  int precision = 3;     // significant decimals of times in tables
  std::string baseline;  // implementation the speedups are relative to (default: the first)
  std::string directory = "results";  // relative to the config file
};

struct BenchConfig {
  std::filesystem::path path;  // the config file
  std::filesystem::path dir;   // its directory (relative paths start here)
  std::string name;
  std::string task;
  std::string description;
  RunSettings run;
  RunSettings quick;
  std::vector<std::string> quick_cases;  // empty: cases with quick = true
  std::string reference;                 // implementation checked against (default: first)
  double tolerance = 1e-4;               // max abs difference of outputs vs the reference
  double timeout_s = 600;                // longest wait for one answer of a peer
  ConfigValues model;
  std::string benchmark_data;   // [test_data] benchmark, resolved against dir ("" if absent)
  std::string validation_data;  // [test_data] validation
  std::vector<CaseConfig> cases;
  std::vector<ImplementationConfig> implementations;  // in file order
  OutputConfig output;

  // `relative` resolved against the config's directory (absolute paths unchanged).
  std::filesystem::path resolve(const std::string& relative) const;
  const ImplementationConfig* implementation(std::string_view name) const;
};

// The tasks config files may name, and the implementation types each accepts.
std::vector<std::string> known_tasks();

BenchConfig load_config(const std::filesystem::path& path);
// `name` is used in messages and as the config path.
BenchConfig parse_config(std::string_view toml_text, const std::filesystem::path& name);

}  // namespace tensorgraph::bench
