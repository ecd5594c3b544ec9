#include "tensorgraph/bench/config.hpp"

#include <algorithm>
#include <climits>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::bench {

// ---- ConfigValues -----------------------------------------------------------------------------

namespace {

template <typename T>
const T* find_as(const std::map<std::string, ConfigValue, std::less<>>& values,
                 std::string_view key) {
  auto it = values.find(key);
  if (it == values.end()) return nullptr;
  return std::get_if<T>(&it->second);
}

}  // namespace

std::int64_t ConfigValues::get_int(std::string_view key, std::int64_t fallback) const {
  const auto* v = find_as<std::int64_t>(values_, key);
  return v ? *v : fallback;
}

double ConfigValues::get_number(std::string_view key, double fallback) const {
  if (const auto* d = find_as<double>(values_, key)) return *d;
  if (const auto* i = find_as<std::int64_t>(values_, key)) return static_cast<double>(*i);
  return fallback;
}

bool ConfigValues::get_bool(std::string_view key, bool fallback) const {
  const auto* v = find_as<bool>(values_, key);
  return v ? *v : fallback;
}

std::string ConfigValues::get_string(std::string_view key, std::string fallback) const {
  const auto* v = find_as<std::string>(values_, key);
  return v ? *v : fallback;
}

std::optional<std::string> ConfigValues::find_string(std::string_view key) const {
  const auto* v = find_as<std::string>(values_, key);
  return v ? std::optional<std::string>(*v) : std::nullopt;
}

std::vector<std::string> ConfigValues::get_strings(std::string_view key) const {
  const auto* v = find_as<std::vector<std::string>>(values_, key);
  return v ? *v : std::vector<std::string>{};
}

std::vector<std::int64_t> ConfigValues::get_ints(std::string_view key) const {
  const auto* v = find_as<std::vector<std::int64_t>>(values_, key);
  return v ? *v : std::vector<std::int64_t>{};
}

StringMap ConfigValues::get_map(std::string_view key) const {
  const auto* v = find_as<StringMap>(values_, key);
  return v ? *v : StringMap{};
}

std::int64_t ConfigValues::require_int(std::string_view key) const {
  const auto* v = find_as<std::int64_t>(values_, key);
  TG_CHECK(v, "{}: missing required key '{}'", where_, key);
  return *v;
}

std::string ConfigValues::require_string(std::string_view key) const {
  const auto* v = find_as<std::string>(values_, key);
  TG_CHECK(v, "{}: missing required key '{}'", where_, key);
  return *v;
}

std::filesystem::path BenchConfig::resolve(const std::string& relative) const {
  std::filesystem::path p(relative);
  if (p.is_absolute() || relative.empty()) return p;
  return (dir / p).lexically_normal();
}

const ImplementationConfig* BenchConfig::implementation(std::string_view impl_name) const {
  for (const auto& impl : implementations)
    if (impl.name == impl_name) return &impl;
  return nullptr;
}

// ---- schema -----------------------------------------------------------------------------------

namespace {

enum class Kind { Bool, Int, Number, String, Strings, Ints, Map, Table, TableArray };

struct Key {
  std::string_view name;
  Kind kind;
  bool required = false;
  std::int64_t min = INT64_MIN;
  std::int64_t max = INT64_MAX;
};

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Bool:
      return "a boolean";
    case Kind::Int:
      return "an integer";
    case Kind::Number:
      return "a number";
    case Kind::String:
      return "a string";
    case Kind::Strings:
      return "an array of strings";
    case Kind::Ints:
      return "an array of integers";
    case Kind::Map:
      return "a table of strings";
    case Kind::Table:
      return "a table";
    case Kind::TableArray:
      return "an array of tables";
  }
  return "?";
}

const char* toml_type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date/time";
    default:
      return "nothing";
  }
}

// One task: the keys of [model] and of each [[cases]] entry, and the implementation types.
struct TaskSchema {
  std::string_view name;
  std::vector<Key> model;
  std::vector<Key> cases;
  std::vector<std::string_view> types;
};

const std::vector<TaskSchema>& task_schemas() {
  static const std::vector<TaskSchema> schemas = {
      {"distilbert",
       {{"path", Kind::String, true},
        {"fixture", Kind::String},
        {"fixture_tolerance", Kind::Number},
        {"max_length", Kind::Int, false, 2, 1 << 20}},
       {{"tokens", Kind::Int, false, 2, 1 << 20},
        {"batch", Kind::Int, false, 1, 1 << 20},
        {"text", Kind::String},
        {"seed", Kind::Int, false, 0}},
       {"peer"}},
      {"elementwise",
       {},
       {{"op", Kind::String, true},
        {"rows", Kind::Int, true, 1, 1 << 30},
        {"cols", Kind::Int, true, 1, 1 << 30},
        {"seed", Kind::Int, false, 0}},
       {"tensorgraph", "loop"}},
      {"linear",
       {},
       {{"m", Kind::Int, true, 1, 1 << 24},
        {"k", Kind::Int, true, 1, 1 << 24},
        {"n", Kind::Int, true, 1, 1 << 24},
        {"activation", Kind::String},
        {"seed", Kind::Int, false, 0}},
       {"tensorgraph", "onednn"}},
      {"tokenizer",
       {{"vocab", Kind::String, true}, {"tokenizer_config", Kind::String}},
       {{"data", Kind::String, true}, {"limit", Kind::Int, false, 0}},
       {"tensorgraph"}},
      {"lexicon",
       {},
       {{"lexicon", Kind::String, true},
        {"data", Kind::String, true},
        {"limit", Kind::Int, false, 0}},
       {"tensorgraph"}},
      {"mlp_regression",
       {{"path", Kind::String}, {"data", Kind::String}},
       {{"batch", Kind::Int, true, 1, 1 << 20}},
       {"tensorgraph", "peer"}},
      {"cnn_mnist",
       {{"path", Kind::String}, {"data", Kind::String}},
       {{"batch", Kind::Int, true, 1, 1 << 20},
        {"train", Kind::Bool},
        {"steps", Kind::Int, false, 1, 1 << 20},
        {"quick_steps", Kind::Int, false, 1, 1 << 20},
        {"check_steps", Kind::Int, false, 1, 1000},
        {"check_batch", Kind::Int, false, 1, 1 << 20},
        {"learning_rate", Kind::Number},
        {"tolerance", Kind::Number}},
       {"tensorgraph", "peer"}},
  };
  return schemas;
}

const std::vector<Key>& option_schema(std::string_view type) {
  static const std::vector<Key> peer = {
      {"command", Kind::Strings, true}, {"env", Kind::Map},
      {"unset_env", Kind::Strings},     {"available", Kind::Strings},
      {"prepare", Kind::TableArray},    {"startup_timeout_s", Kind::Number}};
  static const std::vector<Key> tensorgraph = {
      {"kernels", Kind::String}, {"ascii_fast_path", Kind::Bool}, {"api", Kind::String}};
  static const std::vector<Key> none = {};
  if (type == "peer") return peer;
  if (type == "tensorgraph") return tensorgraph;
  return none;
}

const std::vector<Key> kBenchmarkKeys = {
    {"name", Kind::String},
    {"task", Kind::String, true},
    {"description", Kind::String},
    {"warmup", Kind::Int, false, 0, 1000000},
    {"block_warmup", Kind::Int, false, 0, 1000000},
    {"iterations", Kind::Int, false, 1, 10000000},
    {"repeat", Kind::Int, false, 1, 100000},
    {"threads", Kind::Ints},
    {"reference", Kind::String},
    {"tolerance", Kind::Number},
    {"timeout_s", Kind::Number},
    {"quick", Kind::Table},
};
const std::vector<Key> kQuickKeys = {
    {"warmup", Kind::Int, false, 0, 1000000},
    {"block_warmup", Kind::Int, false, 0, 1000000},
    {"iterations", Kind::Int, false, 1, 10000000},
    {"repeat", Kind::Int, false, 1, 100000},
    {"threads", Kind::Ints},
    {"cases", Kind::Strings},
};
const std::vector<Key> kTestDataKeys = {{"benchmark", Kind::String}, {"validation", Kind::String}};
const std::vector<Key> kImplementationKeys = {{"enabled", Kind::Bool},
                                              {"type", Kind::String, true},
                                              {"description", Kind::String},
                                              {"timed", Kind::Bool},
                                              {"options", Kind::Table}};
const std::vector<Key> kOutputKeys = {{"formats", Kind::Strings},
                                      {"precision", Kind::Int, false, 0, 9},
                                      {"baseline", Kind::String},
                                      {"directory", Kind::String}};
const std::vector<Key> kPrepareKeys = {{"description", Kind::String},
                                       {"command", Kind::Strings, true},
                                       {"creates", Kind::String, true},
                                       {"inputs", Kind::Strings}};
const std::vector<Key> kTopKeys = {{"benchmark", Kind::Table, true},
                                   {"model", Kind::Table},
                                   {"test_data", Kind::Table},
                                   {"cases", Kind::TableArray, true},
                                   {"implementations", Kind::Table, true},
                                   {"output", Kind::Table}};
const std::vector<std::string_view> kFormats = {"console", "markdown", "json", "csv"};

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  std::string at(const toml::node& node) const {
    const auto& begin = node.source().begin;
    if (begin.line == 0) return file_;
    return fmt::format("{}:{}:{}", file_, begin.line, begin.column);
  }

  // Checks every key of `table` against `schema` (unknown keys, types, ranges, required keys)
  // and returns the scalar values; nested tables are left to the caller.
  ConfigValues read(const toml::table& table, const std::vector<Key>& schema,
                    const std::string& section) const {
    ConfigValues out(fmt::format("{}: {}", at(table), section));
    for (auto&& [key_node, node] : table) {
      const std::string_view key = key_node.str();
      auto spec =
          std::find_if(schema.begin(), schema.end(), [&](const Key& k) { return k.name == key; });
      if (spec == schema.end()) unknown_key(key_node, key, schema, section);
      if (auto value = convert(node, *spec, section)) out.set(std::string(key), std::move(*value));
    }
    for (const Key& k : schema)
      if (k.required && !table.contains(k.name))
        fail("{}: {}: missing required key '{}' ({})", at(table), section, k.name,
             kind_name(k.kind));
    return out;
  }

  [[noreturn]] void unknown_key(const toml::key& key_node, std::string_view key,
                                const std::vector<Key>& schema, const std::string& section) const {
    std::string known, suggestion;
    std::size_t best = 3;
    for (const Key& k : schema) {
      known += (known.empty() ? "" : ", ") + std::string(k.name);
      const std::size_t d = edit_distance(key, k.name);
      if (d < best) best = d, suggestion = std::string(k.name);
    }
    const auto& b = key_node.source().begin;
    const std::string where = b.line ? fmt::format("{}:{}:{}", file_, b.line, b.column) : file_;
    if (schema.empty()) fail("{}: unknown key '{}' in {} (it takes no keys)", where, key, section);
    fail("{}: unknown key '{}' in {}{} (known keys: {})", where, key, section,
         suggestion.empty() ? "" : fmt::format(" (did you mean '{}'?)", suggestion), known);
  }

  [[noreturn]] void wrong_type(const toml::node& node, const Key& k, const std::string& section,
                               const std::string& detail = {}) const {
    fail("{}: {}: '{}' must be {}, got {}{}", at(node), section, k.name, kind_name(k.kind),
         toml_type_name(node.type()), detail);
  }

  std::optional<ConfigValue> convert(const toml::node& node, const Key& k,
                                     const std::string& section) const {
    switch (k.kind) {
      case Kind::Bool:
        if (auto v = node.as_boolean()) return ConfigValue(v->get());
        wrong_type(node, k, section);
      case Kind::Int:
        if (auto v = node.as_integer()) {
          const std::int64_t x = v->get();
          if (x < k.min || x > k.max)
            fail("{}: {}: '{}' = {} is out of range [{}, {}]", at(node), section, k.name, x, k.min,
                 k.max);
          return ConfigValue(x);
        }
        wrong_type(node, k, section);
      case Kind::Number:
        if (auto v = node.as_floating_point()) return ConfigValue(v->get());
        if (auto v = node.as_integer()) return ConfigValue(static_cast<double>(v->get()));
        wrong_type(node, k, section);
      case Kind::String:
        if (auto v = node.as_string()) return ConfigValue(v->get());
        wrong_type(node, k, section);
      case Kind::Strings: {
        const auto* arr = node.as_array();
        if (!arr) wrong_type(node, k, section);
        std::vector<std::string> out;
        for (const auto& item : *arr) {
          const auto* s = item.as_string();
          if (!s) wrong_type(item, k, section, fmt::format(" at index {}", out.size()));
          out.push_back(s->get());
        }
        return ConfigValue(std::move(out));
      }
      case Kind::Ints: {
        const auto* arr = node.as_array();
        if (!arr) wrong_type(node, k, section);
        std::vector<std::int64_t> out;
        for (const auto& item : *arr) {
          const auto* i = item.as_integer();
          if (!i) wrong_type(item, k, section, fmt::format(" at index {}", out.size()));
          out.push_back(i->get());
        }
        return ConfigValue(std::move(out));
      }
      case Kind::Map: {
        const auto* t = node.as_table();
        if (!t) wrong_type(node, k, section);
        StringMap out;
        for (auto&& [key, value] : *t) {
          const auto* s = value.as_string();
          if (!s)
            fail("{}: {}: '{}.{}' must be a string, got {}", at(value), section, k.name, key.str(),
                 toml_type_name(value.type()));
          out[std::string(key.str())] = s->get();
        }
        return ConfigValue(std::move(out));
      }
      case Kind::Table:
        if (!node.is_table()) wrong_type(node, k, section);
        return std::nullopt;
      case Kind::TableArray:
        if (!node.is_array_of_tables()) wrong_type(node, k, section);
        return std::nullopt;
    }
    return std::nullopt;
  }

  RunSettings read_run(const ConfigValues& v, const toml::node* threads_node, RunSettings base,
                       const std::string& section) const {
    base.warmup = static_cast<int>(v.get_int("warmup", base.warmup));
    base.block_warmup = static_cast<int>(v.get_int("block_warmup", base.block_warmup));
    base.iterations = static_cast<int>(v.get_int("iterations", base.iterations));
    base.repeat = static_cast<int>(v.get_int("repeat", base.repeat));
    if (v.has("threads")) {
      std::vector<int> threads;
      for (std::int64_t t : v.get_ints("threads")) {
        if (t < 1 || t > 4096)
          fail("{}: {}: threads must be between 1 and 4096, got {}", at(*threads_node), section, t);
        threads.push_back(static_cast<int>(t));
      }
      TG_CHECK(!threads.empty(), "{}: {}: threads must not be empty", at(*threads_node), section);
      base.threads = threads;
    }
    return base;
  }

  BenchConfig parse(const toml::table& root, const std::filesystem::path& path) const {
    BenchConfig c;
    c.path = path;
    c.dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    read(root, kTopKeys, "the top level");

    // [benchmark]
    const toml::table& b = *root["benchmark"].as_table();
    const ConfigValues bv = read(b, kBenchmarkKeys, "[benchmark]");
    c.task = bv.require_string("task");
    const auto& schemas = task_schemas();
    auto task = std::find_if(schemas.begin(), schemas.end(),
                             [&](const TaskSchema& s) { return s.name == c.task; });
    if (task == schemas.end()) {
      std::string known;
      for (const auto& s : schemas) known += (known.empty() ? "" : ", ") + std::string(s.name);
      fail("{}: [benchmark]: unknown task '{}' (known tasks: {})", at(*b.get("task")), c.task,
           known);
    }
    c.name = bv.get_string("name", path.parent_path().filename().string());
    c.description = bv.get_string("description");
    c.run = read_run(bv, b.get("threads"), RunSettings{}, "[benchmark]");
    c.reference = bv.get_string("reference");
    c.tolerance = bv.get_number("tolerance", c.tolerance);
    TG_CHECK(c.tolerance >= 0, "{}: [benchmark]: tolerance must be >= 0", at(b));
    c.timeout_s = bv.get_number("timeout_s", c.timeout_s);
    TG_CHECK(c.timeout_s > 0, "{}: [benchmark]: timeout_s must be > 0", at(b));
    c.quick = c.run;
    c.quick.warmup = std::min(c.quick.warmup, 1);
    c.quick.iterations = std::min(c.quick.iterations, 3);
    c.quick.repeat = std::min(c.quick.repeat, 2);
    if (const auto* q = b["quick"].as_table()) {
      const ConfigValues qv = read(*q, kQuickKeys, "[benchmark.quick]");
      c.quick = read_run(qv, q->get("threads"), c.quick, "[benchmark.quick]");
      c.quick_cases = qv.get_strings("cases");
    }

    // [model]
    if (const auto* m = root["model"].as_table())
      c.model = read(*m, task->model, "[model]");
    else
      for (const Key& k : task->model)
        TG_CHECK(!k.required, "{}: a [model] section with '{}' is required for task '{}'", file_,
                 k.name, c.task);

    // [test_data]
    if (const auto* t = root["test_data"].as_table()) {
      const ConfigValues tv = read(*t, kTestDataKeys, "[test_data]");
      if (auto s = tv.find_string("benchmark")) c.benchmark_data = c.resolve(*s).string();
      if (auto s = tv.find_string("validation")) c.validation_data = c.resolve(*s).string();
    }

    // [[cases]]
    const auto* cases = root["cases"].as_array();
    TG_CHECK(!cases->empty(), "{}: [[cases]] is empty: give at least one case", at(*cases));
    std::vector<Key> case_keys = task->cases;
    case_keys.push_back({"name", Kind::String, true});
    case_keys.push_back({"label", Kind::String});
    case_keys.push_back({"quick", Kind::Bool});
    case_keys.push_back({"iterations", Kind::Int, false, 1, 10000000});
    case_keys.push_back({"repeat", Kind::Int, false, 1, 100000});
    for (std::size_t i = 0; i < cases->size(); ++i) {
      const auto* t = (*cases)[i].as_table();
      const std::string section = fmt::format("[[cases]] #{}", i + 1);
      CaseConfig cc;
      const ConfigValues all = read(*t, case_keys, section);
      cc.name = all.require_string("name");
      TG_CHECK(!cc.name.empty() && cc.name.find_first_of(" \t,/") == std::string::npos,
               "{}: {}: case name '{}' must be non-empty, without spaces, commas or slashes",
               at(*t), section, cc.name);
      for (const auto& other : c.cases)
        TG_CHECK(other.name != cc.name, "{}: {}: duplicate case name '{}'", at(*t), section,
                 cc.name);
      cc.label = all.get_string("label", cc.name);
      cc.quick = all.get_bool("quick", true);
      if (all.has("iterations")) cc.iterations = static_cast<int>(all.get_int("iterations", 1));
      if (all.has("repeat")) cc.repeat = static_cast<int>(all.get_int("repeat", 1));
      cc.params = ConfigValues(fmt::format("{}: [[cases]] '{}'", at(*t), cc.name));
      for (const auto& [k, v] : all.values())
        if (k != "name" && k != "label" && k != "quick" && k != "iterations" && k != "repeat")
          cc.params.set(k, v);
      c.cases.push_back(std::move(cc));
    }
    for (const auto& name : c.quick_cases) {
      bool found = std::any_of(c.cases.begin(), c.cases.end(),
                               [&](const CaseConfig& cc) { return cc.name == name; });
      TG_CHECK(found, "{}: [benchmark.quick]: cases names '{}', which is not a case", file_, name);
    }

    // [implementations.NAME]
    const auto* impls = root["implementations"].as_table();
    TG_CHECK(!impls->empty(), "{}: [implementations] is empty", at(*impls));
    for (auto&& [name_key, node] : *impls) {
      const std::string name(name_key.str());
      const std::string section = fmt::format("[implementations.{}]", name);
      const auto* t = node.as_table();
      if (!t)
        fail("{}: {} must be a table, got {}", at(node), section, toml_type_name(node.type()));
      const ConfigValues iv = read(*t, kImplementationKeys, section);
      ImplementationConfig ic;
      ic.name = name;
      ic.type = iv.require_string("type");
      if (std::find(task->types.begin(), task->types.end(), ic.type) == task->types.end()) {
        std::string known;
        for (auto s : task->types) known += (known.empty() ? "" : ", ") + std::string(s);
        fail("{}: {}: type '{}' is not one the task '{}' runs (types: {})", at(*t->get("type")),
             section, ic.type, c.task, known);
      }
      ic.enabled = iv.get_bool("enabled", true);
      ic.timed = iv.get_bool("timed", true);
      ic.description = iv.get_string("description");
      if (const auto* o = (*t)["options"].as_table()) {
        ic.options = read(*o, option_schema(ic.type), section + ".options");
        if (const auto* steps = (*o)["prepare"].as_array()) {
          for (std::size_t i = 0; i < steps->size(); ++i) {
            const auto& st = *(*steps)[i].as_table();
            const ConfigValues sv =
                read(st, kPrepareKeys, fmt::format("{}.options.prepare #{}", section, i + 1));
            PrepareStep step;
            step.description = sv.get_string("description");
            step.command = sv.get_strings("command");
            TG_CHECK(!step.command.empty(), "{}: {}.options.prepare #{}: command is empty", at(st),
                     section, i + 1);
            step.creates = sv.require_string("creates");
            step.inputs = sv.get_strings("inputs");
            ic.prepare.push_back(std::move(step));
          }
        }
      } else {
        ic.options = ConfigValues(section + ".options");
        for (const Key& k : option_schema(ic.type))
          TG_CHECK(!k.required, "{}: {}: options.{} is required for type '{}'", at(*t), section,
                   k.name, ic.type);
      }
      if (ic.type == "peer")
        TG_CHECK(!ic.options.get_strings("command").empty(), "{}: {}: options.command is empty",
                 at(*t), section);
      c.implementations.push_back(std::move(ic));
    }
    // toml++ keeps tables sorted by key; report implementations in the order of the file.
    std::stable_sort(c.implementations.begin(), c.implementations.end(),
                     [&](const ImplementationConfig& x, const ImplementationConfig& y) {
                       const auto& sa = (*impls)[x.name].node()->source().begin;
                       const auto& sb = (*impls)[y.name].node()->source().begin;
                       return sa.line != sb.line ? sa.line < sb.line : sa.column < sb.column;
                     });
    if (!c.reference.empty())
      TG_CHECK(c.implementation(c.reference),
               "{}: [benchmark]: reference '{}' is not an implementation", file_, c.reference);

    // [output]
    if (const auto* o = root["output"].as_table()) {
      const ConfigValues ov = read(*o, kOutputKeys, "[output]");
      if (ov.has("formats")) {
        c.output.formats = ov.get_strings("formats");
        for (const auto& f : c.output.formats)
          TG_CHECK(std::find(kFormats.begin(), kFormats.end(), f) != kFormats.end(),
                   "{}: [output]: unknown format '{}' (formats: console, markdown, json, csv)",
                   at(*o->get("formats")), f);
      }
      c.output.precision = static_cast<int>(ov.get_int("precision", c.output.precision));
      c.output.baseline = ov.get_string("baseline");
      c.output.directory = ov.get_string("directory", c.output.directory);
      if (!c.output.baseline.empty())
        TG_CHECK(c.implementation(c.output.baseline),
                 "{}: [output]: baseline '{}' is not an implementation", at(*o->get("baseline")),
                 c.output.baseline);
    }
    return c;
  }

 private:
  std::string file_;
};

}  // namespace

std::vector<std::string> known_tasks() {
  std::vector<std::string> out;
  for (const auto& s : task_schemas()) out.emplace_back(s.name);
  return out;
}

BenchConfig parse_config(std::string_view toml_text, const std::filesystem::path& name) {
  const std::string file = name.string();
  toml::table root;
  try {
    root = toml::parse(toml_text, file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    fail("{}:{}:{}: invalid TOML: {}", file, b.line, b.column, e.description());
  }
  return Parser(file).parse(root, name);
}

BenchConfig load_config(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("{}: no such config file", path.string());
  if (std::filesystem::is_directory(path, ec)) {
    const auto inner = path / "config.toml";
    if (std::filesystem::exists(inner, ec)) return load_config(inner);
    fail("{}: is a directory without config.toml", path.string());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot read the config file", path.string());
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail("{}: cannot read the config file", path.string());
  return parse_config(text.str(), path);
}

}  // namespace tensorgraph::bench
