// Task "distilbert": the full-size model forward on synthetic ids of exact lengths and batches,
// and end to end from text, run by peers (our engine through `tensorgraph bench-peer distilbert`,
// PyTorch, ONNX Runtime), after a gate on the tiny fixture's HuggingFace logits.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "tasks.hpp"
#include "tensorgraph/io/text_input.hpp"
#include "tensorgraph/text/bert_tokenizer.hpp"

namespace tensorgraph::bench {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

struct Sentence {
  std::string text;
  std::string category;
};

// The texts through the shared reader; each line's "category" (short, medium, long) from the
// same JSONL line.
std::vector<Sentence> read_sentences(const std::string& path) {
  const auto result = io::read_text_inputs(path);
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::vector<Sentence> out;
  for (const auto& r : result.records) {
    Sentence s{r.text, ""};
    if (r.line >= 1 && r.line <= lines.size()) {
      const json j = json::parse(lines[r.line - 1], nullptr, false);
      if (j.is_object() && j.contains("category") && j["category"].is_string())
        s.category = j["category"].get<std::string>();
    }
    out.push_back(std::move(s));
  }
  TG_CHECK(!out.empty(), "{}: no texts", path);
  return out;
}

Rows rows_of(const json& j, const std::string& where) {
  Rows rows;
  TG_CHECK(j.is_array(), "{}: expected an array", where);
  for (const auto& row : j) {
    std::vector<double> r;
    for (const auto& x : row) r.push_back(x.get<double>());
    rows.push_back(std::move(r));
  }
  return rows;
}

json ids_json(const Tensor& t) {
  json rows = json::array();
  const std::int64_t n = t.shape()[0], s = t.shape()[1];
  const std::int64_t* p = t.data<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i)
    rows.push_back(std::vector<std::int64_t>(p + i * s, p + (i + 1) * s));
  return rows;
}

// Checks of the tiny fixture: every line of logits.jsonl alone, every batch of
// batch_logits.jsonl, against HuggingFace's logits.
std::vector<Case> fixture_cases(const fs::path& dir, double tolerance) {
  std::vector<Case> cases;
  const fs::path singles = dir / "logits.jsonl";
  std::ifstream in(singles);
  TG_CHECK(in, "{}: cannot read the fixture (set TG_SHARED_DIR to the shared data directory)",
           singles.string());
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    Case c;
    c.name = fmt::format("fixture{}", n++);
    c.label = j.value("text", c.name);
    c.request = {{"input_ids", json::array({j["input_ids"]})}};
    c.request["attention_mask"] = json::array({std::vector<int>(j["input_ids"].size(), 1)});
    c.timed = false;
    c.expected = Rows{rows_of(json::array({j["logits"]}), singles.string())};
    c.tolerance = tolerance;
    c.compare_labels = true;
    c.row_names = {j.value("text", "")};
    cases.push_back(std::move(c));
  }
  const fs::path batches = dir / "batch_logits.jsonl";
  std::ifstream bin(batches);
  int b = 0;
  for (std::string line; bin && std::getline(bin, line);) {
    if (line.empty()) continue;
    const json j = json::parse(line);
    Case c;
    c.name = fmt::format("fixture_batch{}", b++);
    c.label = c.name;
    c.request = {{"input_ids", j["input_ids"]}, {"attention_mask", j["attention_mask"]}};
    c.timed = false;
    c.expected = rows_of(j["logits"], batches.string());
    c.tolerance = tolerance;
    c.compare_labels = true;
    for (const auto& t : j.value("texts", json::array()))
      c.row_names.push_back(t.get<std::string>());
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace

TaskSetup setup_distilbert(const TaskContext& context) {
  const BenchConfig& config = context.config;
  Placeholders vars = context.placeholders;
  const fs::path model_dir =
      config.resolve(expand(config.model.require_string("path"), vars, "[model] path"));
  std::error_code ec;
  if (!fs::exists(model_dir / "model.safetensors", ec))
    fail(
        "{}: no model.safetensors: create the full-size random model with `tensorgraph "
        "make-random-model --like distilbert-base-uncased-finetuned-sst-2-english --vocab "
        "{}/fixtures/bert-base-uncased/vocab.txt --out {}` (scripts/bench does it)",
        model_dir.string(), vars["shared"], model_dir.string());
  vars["model"] = model_dir.string();
  vars["model_id"] = model_dir.filename().string();

  // Vocabulary size and positions from config.json (for synthetic ids).
  std::ifstream cfg_in(model_dir / "config.json");
  TG_CHECK(cfg_in, "{}: cannot read config.json", model_dir.string());
  json model_config = json::parse(cfg_in, nullptr, false);
  TG_CHECK(model_config.is_object(), "{}/config.json: not JSON", model_dir.string());
  const std::int64_t vocab_size = model_config.value("vocab_size", std::int64_t{30522});
  const std::int64_t positions = model_config.value("max_position_embeddings", std::int64_t{512});
  const auto max_length = static_cast<std::size_t>(config.model.get_int("max_length", positions));
  const text::BertTokenizer tokenizer = text::BertTokenizer::from_directory(model_dir);

  TaskSetup setup;
  setup.inputs = {{"model", model_dir.string()},
                  {"model_layers", model_config.value("n_layers", 0)},
                  {"model_dim", model_config.value("dim", 0)}};

  std::vector<Sentence> sentences;
  if (!config.benchmark_data.empty()) {
    sentences = read_sentences(config.benchmark_data);
    setup.inputs["benchmark_data"] = config.benchmark_data;
  }

  // Timed cases.
  for (const CaseConfig& cc : config.cases) {
    if (!context.selected(cc)) continue;
    Case c;
    c.name = cc.name;
    c.label = cc.label;
    c.max_iterations = cc.iterations;
    c.max_repeat = cc.repeat;
    c.tolerance = config.tolerance;
    c.compare_labels = true;
    const std::int64_t batch = cc.params.get_int("batch", 1);
    if (auto category = cc.params.find_string("text")) {
      TG_CHECK(!cc.params.has("tokens"), "{}: give either tokens or text, not both",
               cc.params.where());
      TG_CHECK(!sentences.empty(), "{}: text cases need [test_data] benchmark", cc.params.where());
      std::vector<std::string> texts;
      for (const auto& s : sentences)
        if (*category == "all" || s.category == *category) texts.push_back(s.text);
      TG_CHECK(!texts.empty(),
               "{}: no sentence of category '{}' in {} (categories: short, medium, long, all)",
               cc.params.where(), *category, config.benchmark_data);
      c.input = "text";
      c.request = {{"texts", texts}, {"batch_size", batch}};
      c.throughput = {static_cast<double>(texts.size()), 1, "sentences/s"};
      c.info = {{"texts", texts.size()}, {"category", *category}, {"batch", batch}};
      // The same texts as ids (one padded batch), for the reference, which may not tokenize.
      Case ids;
      ids.name = c.name + "~ids";
      ids.label = c.label + " (ids)";
      const text::BatchEncoding enc =
          tokenizer.encode_batch(std::span<const std::string>(texts), max_length);
      ids.request = {{"input_ids", ids_json(enc.input_ids)},
                     {"attention_mask", ids_json(enc.attention_mask)}};
      ids.timed = false;
      ids.tolerance = config.tolerance;
      ids.compare_labels = true;
      ids.row_names = texts;
      c.reference_case = ids.name;
      c.row_names = texts;
      setup.cases.push_back(std::move(ids));
    } else {
      const std::int64_t tokens = cc.params.require_int("tokens");
      TG_CHECK(tokens <= positions, "{}: tokens = {} exceeds the model's {} positions",
               cc.params.where(), tokens, positions);
      std::mt19937_64 rng(case_seed(cc));
      std::uniform_int_distribution<std::int64_t> word(1000, vocab_size - 1);
      json ids = json::array(), mask = json::array();
      for (std::int64_t b = 0; b < batch; ++b) {
        std::vector<std::int64_t> row{tokenizer.cls_id()};
        for (std::int64_t t = 0; t + 2 < tokens; ++t) row.push_back(word(rng));
        row.push_back(tokenizer.sep_id());
        ids.push_back(row);
        mask.push_back(std::vector<int>(static_cast<std::size_t>(tokens), 1));
      }
      c.request = {{"input_ids", ids}, {"attention_mask", mask}};
      c.throughput = {static_cast<double>(batch), 1, "seq/s"};
      c.info = {{"batch", batch}, {"tokens", tokens}};
    }
    setup.cases.push_back(std::move(c));
  }

  // Validation set: padded batches of 8, every implementation against the reference, labels
  // included.
  if (!config.validation_data.empty()) {
    const auto validation = read_sentences(config.validation_data);
    setup.inputs["validation_data"] = config.validation_data;
    for (std::size_t begin = 0; begin < validation.size(); begin += 8) {
      std::vector<std::string> texts;
      for (std::size_t i = begin; i < std::min(validation.size(), begin + 8); ++i)
        texts.push_back(validation[i].text);
      const text::BatchEncoding enc =
          tokenizer.encode_batch(std::span<const std::string>(texts), max_length);
      Case c;
      c.name = fmt::format("validation{}", begin / 8);
      c.label = c.name;
      c.request = {{"input_ids", ids_json(enc.input_ids)},
                   {"attention_mask", ids_json(enc.attention_mask)}};
      c.timed = false;
      c.tolerance = config.tolerance;
      c.compare_labels = true;
      c.row_names = texts;
      setup.cases.push_back(std::move(c));
    }
  }

  auto factory = std::make_shared<PeerFactory>(context);
  std::vector<ImplementationConfig> impls;
  for (const auto& i : config.implementations)
    if (i.enabled) impls.push_back(i);
  TG_CHECK(!impls.empty(), "{}: every implementation is disabled", config.path.string());

  setup.make_implementations = [factory, impls, vars](int threads) {
    Implementations out;
    for (const auto& i : impls) out.push_back(factory->make(i, vars, threads));
    return out;
  };

  // The gate: every implementation reproduces HuggingFace's logits of the tiny fixture.
  if (auto fixture = config.model.find_string("fixture")) {
    const fs::path dir = config.resolve(expand(*fixture, vars, "[model] fixture"));
    const double tolerance = config.model.get_number("fixture_tolerance", 1e-4);
    setup.inputs["fixture"] = dir.string();
    const int threads = context.settings().threads.front();
    setup.gate = [factory, impls, vars, dir, tolerance, threads, &context]() {
      const std::vector<Case> cases = fixture_cases(dir, tolerance);
      Placeholders fixture_vars = vars;
      fixture_vars["model"] = dir.string();
      fixture_vars["model_id"] = dir.filename().string();
      Implementations peers;
      for (const auto& i : impls) peers.push_back(factory->make(i, fixture_vars, threads));
      RunOptions options;
      options.settings = context.settings();
      options.threads = threads;
      options.on_progress = [&](const RunProgress& p) {
        if (context.on_progress) context.on_progress({"gate", p.detail, threads, p.done, p.total});
      };
      RunResult r = with_context(fmt::format("gate on {} (HuggingFace's logits)", dir.string()),
                                 [&] { return run_benchmark(peers, cases, options); });
      return Gate{r.checks, r.implementations};
    };
  }
  return setup;
}

}  // namespace tensorgraph::bench
