// Config parsing: a complete config, and one clear error (file:line:column) per kind of mistake.
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/bench/config.hpp"
#include "tensorgraph/bench/placeholders.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::bench {
namespace {

using ::testing::HasSubstr;

const char* kValid = R"(# a complete config
[benchmark]
name = "demo"
task = "distilbert"
description = "a demo"
warmup = 2
block_warmup = 0
iterations = 7
repeat = 3
threads = [1, 2]
reference = "torch"
tolerance = 0.001
timeout_s = 30

[benchmark.quick]
iterations = 2
cases = ["seq16"]

[model]
path = "{models}/m"
fixture = "fixtures/tiny"
fixture_tolerance = 1e-4

[test_data]
benchmark = "data/sentences.jsonl"
validation = "/abs/validation.jsonl"

[[cases]]
name = "seq16"
label = "16 tokens"
tokens = 16

[[cases]]
name = "batch"
tokens = 64
batch = 32
quick = false
iterations = 2

[implementations.zeta]
type = "peer"
options = { command = ["{tensorgraph}", "bench-peer"] }

[implementations.torch]
type = "peer"
enabled = false
description = "PyTorch"
[implementations.torch.options]
command = ["python3", "peer.py", "--threads", "{threads}"]
env = { OMP_WAIT_POLICY = "PASSIVE" }
unset_env = ["OPENBLAS_CORETYPE"]
available = ["python3", "-c", "import torch"]
[[implementations.torch.options.prepare]]
creates = "{models}/x.onnx"
inputs = ["a", "b"]
command = ["python3", "export.py"]

[output]
formats = ["markdown", "json"]
precision = 4
baseline = "torch"
directory = "out"
)";

BenchConfig parse(const std::string& text) {
  return parse_config(text, "dir/config.toml");
}

// The error message of parsing `text`.
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// kValid with `from` replaced by `to`.
std::string edited(const std::string& from, const std::string& to) {
  std::string s = kValid;
  const auto at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(BenchConfig, ParsesEverySection) {
  const BenchConfig c = parse(kValid);
  EXPECT_EQ(c.name, "demo");
  EXPECT_EQ(c.task, "distilbert");
  EXPECT_EQ(c.run.warmup, 2);
  EXPECT_EQ(c.run.block_warmup, 0);
  EXPECT_EQ(c.run.iterations, 7);
  EXPECT_EQ(c.run.repeat, 3);
  EXPECT_EQ(c.run.threads, (std::vector<int>{1, 2}));
  EXPECT_EQ(c.quick.iterations, 2);
  EXPECT_EQ(c.quick.repeat, 2);  // the default quick value (min of 2 and repeat)
  EXPECT_EQ(c.quick.warmup, 1);
  EXPECT_EQ(c.quick_cases, (std::vector<std::string>{"seq16"}));
  EXPECT_EQ(c.reference, "torch");
  EXPECT_DOUBLE_EQ(c.tolerance, 0.001);
  EXPECT_DOUBLE_EQ(c.timeout_s, 30);
  EXPECT_EQ(c.model.get_string("path"), "{models}/m");
  EXPECT_DOUBLE_EQ(c.model.get_number("fixture_tolerance", 0), 1e-4);
  EXPECT_EQ(c.benchmark_data, "dir/data/sentences.jsonl");
  EXPECT_EQ(c.validation_data, "/abs/validation.jsonl");
  ASSERT_EQ(c.cases.size(), 2u);
  EXPECT_EQ(c.cases[0].name, "seq16");
  EXPECT_EQ(c.cases[0].label, "16 tokens");
  EXPECT_EQ(c.cases[0].params.get_int("tokens", 0), 16);
  EXPECT_FALSE(c.cases[0].params.has("name"));
  EXPECT_EQ(c.cases[1].label, "batch");
  EXPECT_FALSE(c.cases[1].quick);
  EXPECT_EQ(c.cases[1].iterations, 2);
  EXPECT_EQ(c.cases[1].params.get_int("batch", 0), 32);
  // Implementations in the order of the file, not alphabetical.
  ASSERT_EQ(c.implementations.size(), 2u);
  EXPECT_EQ(c.implementations[0].name, "zeta");
  EXPECT_TRUE(c.implementations[0].enabled);
  const ImplementationConfig& t = c.implementations[1];
  EXPECT_EQ(t.name, "torch");
  EXPECT_FALSE(t.enabled);
  EXPECT_EQ(t.description, "PyTorch");
  EXPECT_EQ(t.options.get_strings("command").back(), "{threads}");
  EXPECT_EQ(t.options.get_map("env").at("OMP_WAIT_POLICY"), "PASSIVE");
  EXPECT_EQ(t.options.get_strings("unset_env"), (std::vector<std::string>{"OPENBLAS_CORETYPE"}));
  ASSERT_EQ(t.prepare.size(), 1u);
  EXPECT_EQ(t.prepare[0].creates, "{models}/x.onnx");
  EXPECT_EQ(t.prepare[0].inputs.size(), 2u);
  EXPECT_EQ(c.output.formats, (std::vector<std::string>{"markdown", "json"}));
  EXPECT_EQ(c.output.precision, 4);
  EXPECT_EQ(c.output.baseline, "torch");
  EXPECT_EQ(c.resolve(c.output.directory), "dir/out");
}

TEST(BenchConfig, UnknownKeysNameLineColumnAndSuggest) {
  EXPECT_EQ(error_of(edited("iterations = 7", "iteration = 7")),
            "dir/config.toml:8:1: unknown key 'iteration' in [benchmark] (did you mean "
            "'iterations'?) (known keys: name, task, description, warmup, block_warmup, "
            "iterations, repeat, threads, reference, tolerance, timeout_s, quick)");
  EXPECT_THAT(
      error_of(edited("label = \"16 tokens\"", "lable = 1")),
      HasSubstr(
          "dir/config.toml:30:1: unknown key 'lable' in [[cases]] #1 (did you mean 'label'?)"));
  EXPECT_THAT(
      error_of(edited("unset_env", "unsetenv")),
      HasSubstr(
          "unknown key 'unsetenv' in [implementations.torch].options (did you mean 'unset_env'?)"));
  EXPECT_THAT(error_of(std::string(kValid) + "\n[extra]\nx = 1\n"),
              HasSubstr("unknown key 'extra' in the top level"));
  EXPECT_THAT(error_of(edited("creates =", "makes = \"x\"\ncreates =")),
              HasSubstr("unknown key 'makes' in [implementations.torch].options.prepare #1"));
}

TEST(BenchConfig, WrongTypesAndRanges) {
  EXPECT_EQ(error_of(edited("iterations = 7", "iterations = \"7\"")),
            "dir/config.toml:8:14: [benchmark]: 'iterations' must be an integer, got a string");
  EXPECT_THAT(error_of(edited("iterations = 7", "iterations = 0")),
              HasSubstr("dir/config.toml:8:14: [benchmark]: 'iterations' = 0 is out of range"));
  EXPECT_THAT(error_of(edited("threads = [1, 2]", "threads = [1, \"2\"]")),
              HasSubstr("'threads' must be an array of integers, got a string at index 1"));
  EXPECT_THAT(error_of(edited("threads = [1, 2]", "threads = [0]")),
              HasSubstr("threads must be between 1 and 4096, got 0"));
  EXPECT_THAT(error_of(edited("tokens = 16", "tokens = 1.5")),
              HasSubstr("[[cases]] #1: 'tokens' must be an integer, got a float"));
  EXPECT_THAT(error_of(edited("OMP_WAIT_POLICY = \"PASSIVE\"", "OMP_WAIT_POLICY = 1")),
              HasSubstr("'env.OMP_WAIT_POLICY' must be a string, got an integer"));
  EXPECT_THAT(error_of(edited("enabled = false", "enabled = \"no\"")),
              HasSubstr("'enabled' must be a boolean, got a string"));
  EXPECT_THAT(error_of(edited("formats = [\"markdown\", \"json\"]", "formats = [\"html\"]")),
              HasSubstr("unknown format 'html'"));
  // tolerance accepts an integer as a number
  EXPECT_DOUBLE_EQ(parse(edited("tolerance = 0.001", "tolerance = 1")).tolerance, 1.0);
}

TEST(BenchConfig, MissingAndInconsistentValues) {
  EXPECT_THAT(error_of(edited("task = \"distilbert\"\n", "")),
              HasSubstr("[benchmark]: missing required key 'task'"));
  EXPECT_THAT(error_of(edited("task = \"distilbert\"", "task = \"rocket\"")),
              HasSubstr("unknown task 'rocket' (known tasks: distilbert, elementwise, linear"));
  EXPECT_THAT(error_of(edited("path = \"{models}/m\"\n", "")),
              HasSubstr("[model]: missing required key 'path'"));
  EXPECT_THAT(error_of(edited("name = \"seq16\"\nlabel", "label")),
              HasSubstr("[[cases]] #1: missing required key 'name'"));
  EXPECT_THAT(error_of(edited("name = \"batch\"", "name = \"seq16\"")),
              HasSubstr("duplicate case name 'seq16'"));
  EXPECT_THAT(error_of(edited("name = \"seq16\"", "name = \"seq 16\"")),
              HasSubstr("without spaces"));
  EXPECT_THAT(error_of(edited("type = \"peer\"\noptions", "type = \"loop\"\noptions")),
              HasSubstr("type 'loop' is not one the task 'distilbert' runs (types: peer)"));
  EXPECT_THAT(error_of(edited("options = { command = [\"{tensorgraph}\", \"bench-peer\"] }", "")),
              HasSubstr("[implementations.zeta]: options.command is required for type 'peer'"));
  EXPECT_THAT(error_of(edited("baseline = \"torch\"", "baseline = \"nobody\"")),
              HasSubstr("[output]: baseline 'nobody' is not an implementation"));
  EXPECT_THAT(error_of(edited("reference = \"torch\"", "reference = \"nobody\"")),
              HasSubstr("reference 'nobody' is not an implementation"));
  EXPECT_THAT(error_of(edited("cases = [\"seq16\"]", "cases = [\"seq17\"]")),
              HasSubstr("[benchmark.quick]: cases names 'seq17', which is not a case"));
  EXPECT_THAT(error_of(edited("[[cases]]\nname = \"seq16\"", "[cases]\nname = \"seq16\"")),
              HasSubstr("invalid TOML"));
}

TEST(BenchConfig, InvalidTomlAndFiles) {
  EXPECT_THAT(error_of("[benchmark\ntask = 1\n"), HasSubstr("dir/config.toml:1:"));
  EXPECT_THAT(error_of("[benchmark\ntask = 1\n"), HasSubstr("invalid TOML"));
  try {
    load_config("/nonexistent/config.toml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "/nonexistent/config.toml: no such config file");
  }
  testing::TempDir dir;
  EXPECT_THROW(load_config(dir.path()), Error);  // a directory without config.toml
  { std::ofstream(dir / "config.toml") << kValid; }
  EXPECT_EQ(load_config(dir.path()).name, "demo");  // the directory's config.toml
  EXPECT_EQ(load_config(dir / "config.toml").dir, dir.path());
}

TEST(BenchConfig, EveryCommittedConfigParses) {
  for (const char* name : {"01_elementwise", "02_linear_layer", "03_distilbert_sentiment",
                           "04_mlp_regression", "05_cnn_mnist", "tokenizer", "lexicon"}) {
    SCOPED_TRACE(name);
    const auto path = testing::source_dir() / "benchmarks" / name / "config.toml";
    const BenchConfig c = load_config(path);
    EXPECT_FALSE(c.cases.empty());
    EXPECT_FALSE(c.implementations.empty());
  }
}

TEST(BenchConfig, ModelTasks) {
  const BenchConfig mlp = parse(R"([benchmark]
task = "mlp_regression"
[model]
path = "{root}/w.safetensors"
data = "{shared}/data"
[[cases]]
name = "b64"
batch = 64
[implementations.tg]
type = "tensorgraph"
options = { kernels = "reference" }
[implementations.torch]
type = "peer"
options = { command = ["{python}", "mlp_torch.py"] }
)");
  EXPECT_EQ(mlp.task, "mlp_regression");
  EXPECT_EQ(mlp.model.get_string("data"), "{shared}/data");
  EXPECT_EQ(mlp.cases[0].params.get_int("batch", 0), 64);
  ASSERT_EQ(mlp.implementations.size(), 2u);
  EXPECT_EQ(mlp.implementations[1].type, "peer");

  const std::string cnn = R"([benchmark]
task = "cnn_mnist"
[[cases]]
name = "train"
train = true
batch = 64
steps = 200
quick_steps = 5
check_steps = 4
check_batch = 8
tolerance = 1e-3
[implementations.tg]
type = "tensorgraph"
)";
  const BenchConfig c = parse(cnn);
  EXPECT_TRUE(c.cases[0].params.get_bool("train", false));
  EXPECT_EQ(c.cases[0].params.get_int("steps", 0), 200);
  EXPECT_EQ(c.cases[0].params.get_int("quick_steps", 0), 5);
  EXPECT_DOUBLE_EQ(c.cases[0].params.get_number("tolerance", 0), 1e-3);
  auto with = [&](const std::string& from, const std::string& to) {
    std::string s = cnn;
    s.replace(s.find(from), from.size(), to);
    return error_of(s);
  };
  EXPECT_THAT(with("steps = 200", "step = 200"),
              HasSubstr("unknown key 'step' in [[cases]] #1 (did you mean 'steps'?)"));
  EXPECT_THAT(with("batch = 64\n", ""), HasSubstr("missing required key 'batch'"));
  EXPECT_THAT(with("batch = 64", "batch = 0"), HasSubstr("'batch' = 0 is out of range"));
  EXPECT_THAT(with("train = true", "train = 1"), HasSubstr("'train' must be a boolean"));
  EXPECT_THAT(with("type = \"tensorgraph\"", "type = \"onednn\""),
              HasSubstr("type 'onednn' is not one the task 'cnn_mnist' runs (types: tensorgraph, "
                        "peer)"));
  // The exit-3 "requires" key of configs waiting for a feature is gone.
  EXPECT_THAT(with("task = \"cnn_mnist\"", "task = \"cnn_mnist\"\nrequires = \"x\""),
              HasSubstr("unknown key 'requires' in [benchmark]"));
}

TEST(Placeholders, ExpandsKnownNamesAndBraces) {
  const Placeholders p{{"threads", "2"}, {"model", "/m"}};
  EXPECT_EQ(expand("--threads={threads} {model}/x", p, "here"), "--threads=2 /m/x");
  EXPECT_EQ(expand("{{literal}} }}", p, "here"), "{literal} }");
  EXPECT_EQ(expand(std::vector<std::string>{"{model}", "a"}, p, "here"),
            (std::vector<std::string>{"/m", "a"}));
  try {
    expand("{modle}", p, "[implementations.x] command");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "[implementations.x] command: unknown placeholder {modle} in \"{modle}\" (known: "
                 "{model}, {threads})");
  }
  EXPECT_THROW(expand("{model", p, "here"), Error);
}

TEST(Placeholders, StandardNames) {
  const Placeholders p = standard_placeholders("benchmarks/x", "/bin/tg");
  for (const char* k : {"root", "shared", "models", "config_dir", "tensorgraph", "python", "node"})
    EXPECT_TRUE(p.count(k)) << k;
  EXPECT_EQ(p.at("tensorgraph"), "/bin/tg");
  EXPECT_TRUE(std::filesystem::path(p.at("config_dir")).is_absolute());
}

}  // namespace
}  // namespace tensorgraph::bench
