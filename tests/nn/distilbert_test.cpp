#include "tensorgraph/nn/distilbert.hpp"

#include <cmath>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/safetensors.hpp"

namespace tensorgraph::nn {
namespace {

using tensorgraph::testing::shared_path;
using tensorgraph::testing::TempDir;

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

Tensor ids_tensor(const std::vector<std::vector<std::int64_t>>& rows) {
  const auto b = static_cast<std::int64_t>(rows.size());
  const auto s = static_cast<std::int64_t>(rows.at(0).size());
  Tensor t = Tensor::empty(DType::I64, Shape{b, s});
  auto* p = t.mutable_data<std::int64_t>();
  for (std::int64_t i = 0; i < b; ++i)
    for (std::int64_t j = 0; j < s; ++j) p[i * s + j] = rows[i].at(j);
  return t;
}

Tensor ones_like(const Tensor& ids) {
  Tensor m = Tensor::empty(DType::I64, ids.shape());
  std::fill_n(m.mutable_data<std::int64_t>(), m.numel(), 1);
  return m;
}

// Max |ours - HF| over every logit of logits.jsonl (one input at a time) and batch_logits.jsonl.
double max_logit_diff(DistilBertModel& model, const std::filesystem::path& dir) {
  double worst = 0;
  for (const auto& row : read_jsonl(dir / "logits.jsonl")) {
    Tensor ids = ids_tensor({row["input_ids"].get<std::vector<std::int64_t>>()});
    Tensor logits = model.forward(ids, ones_like(ids));
    const auto expected = row["logits"].get<std::vector<double>>();
    EXPECT_EQ(logits.numel(), static_cast<std::int64_t>(expected.size()));
    for (std::size_t i = 0; i < expected.size(); ++i)
      worst = std::max(worst, std::fabs(logits.data<float>()[i] - expected[i]));
  }
  for (const auto& row : read_jsonl(dir / "batch_logits.jsonl")) {
    Tensor ids = ids_tensor(row["input_ids"].get<std::vector<std::vector<std::int64_t>>>());
    Tensor mask = ids_tensor(row["attention_mask"].get<std::vector<std::vector<std::int64_t>>>());
    Tensor logits = model.forward(ids, mask);
    const auto expected = row["logits"].get<std::vector<std::vector<double>>>();
    for (std::size_t b = 0; b < expected.size(); ++b)
      for (std::size_t i = 0; i < expected[b].size(); ++i)
        worst = std::max(
            worst, std::fabs(logits.data<float>()[b * expected[b].size() + i] - expected[b][i]));
  }
  return worst;
}

TEST(DistilBert, TinyF32MatchesHuggingFace) {
  const auto dir = shared_path("fixtures/distilbert-tiny");
  TG_REQUIRE_SHARED_FILE(dir / "model.safetensors");
  for (KernelSet kernels : {KernelSet::Cpu, KernelSet::Reference}) {
    DistilBertOptions options;
    options.kernels = kernels;
    DistilBertModel model = DistilBertModel::load(dir, options);
    EXPECT_LT(max_logit_diff(model, dir), 1e-4) << (kernels == KernelSet::Cpu ? "cpu" : "ref");
  }
}

TEST(DistilBert, TinyF16MatchesHuggingFace) {
  const auto dir = shared_path("fixtures/distilbert-tiny-f16");
  TG_REQUIRE_SHARED_FILE(dir / "model.safetensors");
  DistilBertModel model = DistilBertModel::load(dir);
  EXPECT_LT(max_logit_diff(model, dir), 1e-4);
}

TEST(DistilBert, PruningTheLastLayerChangesNothing) {
  const auto dir = shared_path("fixtures/distilbert-tiny");
  TG_REQUIRE_SHARED_FILE(dir / "model.safetensors");
  DistilBertOptions full;
  full.graph.prune_last_layer = false;
  DistilBertModel a = DistilBertModel::load(dir);
  DistilBertModel b = DistilBertModel::load(dir, full);
  Tensor ids = ids_tensor({{101, 7592, 2088, 999, 102}, {101, 2307, 3185, 102, 0}});
  Tensor mask = ids_tensor({{1, 1, 1, 1, 1}, {1, 1, 1, 1, 0}});
  Tensor la = a.forward(ids, mask), lb = b.forward(ids, mask);
  for (std::int64_t i = 0; i < la.numel(); ++i)
    EXPECT_NEAR(la.data<float>()[i], lb.data<float>()[i], 2e-6);
  // The pruned graph really computes less: its last feed-forward runs on one row per sequence.
  auto one_row_linears = [](DistilBertModel& m) {
    int n = 0;
    for (const auto& step : m.session().plan(std::vector<Shape>{{2, 5}, {2, 5}, {5}}).steps)
      n += step.op == OpKind::Linear && step.shape.rank() == 3 && step.shape[1] == 1;
    return n;
  };
  EXPECT_EQ(one_row_linears(a), 4);  // q_lin, out_lin, lin1, lin2 of the last layer
  EXPECT_EQ(one_row_linears(b), 0);
}

// debug_activations.json holds HF's hidden states for the first inputs: every layer must match,
// so that a mismatch can be located.
TEST(DistilBert, HiddenStatesMatchHuggingFace) {
  const auto dir = shared_path("fixtures/distilbert-tiny");
  TG_REQUIRE_SHARED_FILE(dir / "debug_activations.json");
  std::ifstream in(dir / "debug_activations.json");
  const nlohmann::json debug = nlohmann::json::parse(in);
  DistilBertOptions options;
  options.graph.hidden_states = true;
  DistilBertModel model = DistilBertModel::load(dir, options);
  const auto& cases = debug.is_array() ? debug : debug.at("inputs");
  ASSERT_GE(cases.size(), 1u);
  for (const auto& c : cases) {
    Tensor ids = ids_tensor({c.at("input_ids").get<std::vector<std::int64_t>>()});
    NamedTensors out = model.forward_all(ids, ones_like(ids));
    const auto& hidden = c.at("hidden_states");
    ASSERT_EQ(hidden.size(), 3u);  // embeddings + 2 layers
    for (std::size_t layer = 0; layer < hidden.size(); ++layer) {
      const Tensor& h = out.at("hidden_" + std::to_string(layer));
      const auto rows = hidden[layer].get<std::vector<std::vector<double>>>();
      ASSERT_EQ(h.shape(), (Shape{1, static_cast<std::int64_t>(rows.size()), 64}));
      double worst = 0;
      for (std::size_t r = 0; r < rows.size(); ++r)
        for (std::size_t d = 0; d < rows[r].size(); ++d)
          worst = std::max(worst, std::fabs(h.data<float>()[r * 64 + d] - rows[r][d]));
      EXPECT_LT(worst, 2e-5) << "hidden state " << layer;
    }
  }
}

// A BF16 copy written by our own writer gives exactly the logits of the F32 engine run on the
// same rounded weights (the upcast at load is exact).
TEST(DistilBert, Bf16WeightsGiveTheLogitsOfTheRoundedF32Weights) {
  const auto dir = shared_path("fixtures/distilbert-tiny");
  TG_REQUIRE_SHARED_FILE(dir / "model.safetensors");
  const auto file = io::SafeTensorsFile::open(dir / "model.safetensors");
  const DistilBertConfig config = DistilBertConfig::from_json_file(dir / "config.json");
  const DistilBertWeights f32 = load_distilbert_weights(file, config);
  std::vector<std::pair<std::string, Tensor>> bf16;
  DistilBertWeights rounded;
  for (const auto& [name, t] : f32) {
    Tensor b = t.to(DType::BF16);
    bf16.emplace_back(name, b);
    rounded.emplace(name, b.to(DType::F32));
  }
  TempDir tmp;
  std::filesystem::copy_file(dir / "config.json", tmp / "config.json");
  io::write_safetensors(tmp / "model.safetensors", bf16);
  EXPECT_EQ(io::SafeTensorsFile::open(tmp / "model.safetensors").info("classifier.weight").dtype,
            DType::BF16);
  DistilBertModel from_file = DistilBertModel::load(tmp.path());
  DistilBertModel from_rounded = DistilBertModel::from_weights(config, rounded);
  for (const auto& row : read_jsonl(dir / "logits.jsonl")) {
    Tensor ids = ids_tensor({row["input_ids"].get<std::vector<std::int64_t>>()});
    Tensor a = from_file.forward(ids, ones_like(ids));
    Tensor b = from_rounded.forward(ids, ones_like(ids));
    ASSERT_EQ(a.numel(), b.numel());
    for (std::int64_t i = 0; i < a.numel(); ++i)
      EXPECT_EQ(a.data<float>()[i], b.data<float>()[i]);  // bit for bit
  }
}

TEST(DistilBert, ConfigErrors) {
  auto error_of = [](const std::string& json) {
    try {
      DistilBertConfig::from_json(json, "config.json");
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_THAT(error_of("{not json"), ::testing::StartsWith("config.json: not valid JSON"));
  EXPECT_EQ(error_of("[1]"), "config.json: expected a JSON object");
  EXPECT_EQ(error_of(R"({"model_type": "bert"})"),
            "config.json: model_type is \"bert\", expected \"distilbert\"");
  EXPECT_EQ(
      error_of(R"({"vocab_size": 10, "dim": 8, "n_layers": 1, "n_heads": 3, "hidden_dim": 4})"),
      "config.json: dim 8 is not a multiple of n_heads 3");
  EXPECT_EQ(error_of(R"({"dim": 8, "n_layers": 1, "n_heads": 2, "hidden_dim": 4})"),
            "config.json: missing \"vocab_size\"");
  EXPECT_EQ(
      error_of(R"({"vocab_size": "x", "dim": 8, "n_layers": 1, "n_heads": 2, "hidden_dim": 4})"),
      "config.json: \"vocab_size\" must be an integer, got \"x\"");
  EXPECT_EQ(error_of(R"({"vocab_size": 9, "dim": 8, "n_layers": 1, "n_heads": 2, "hidden_dim": 4,
                         "activation": "swish"})"),
            "config.json: activation \"swish\" is not supported (gelu or relu)");
  const auto c = DistilBertConfig::from_json(
      R"({"vocab_size": 9, "dim": 8, "n_layers": 1, "n_heads": 2, "hidden_dim": 4,
          "id2label": {"1": "B", "0": "A", "2": "C"}})",
      "config.json");
  EXPECT_EQ(c.id2label, (std::vector<std::string>{"A", "B", "C"}));
}

TEST(DistilBert, WeightErrorsNameTensorShapeAndExpectation) {
  const auto dir = shared_path("fixtures/distilbert-tiny");
  TG_REQUIRE_SHARED_FILE(dir / "model.safetensors");
  const auto file = io::SafeTensorsFile::open(dir / "model.safetensors");
  DistilBertConfig config = DistilBertConfig::from_json_file(dir / "config.json");
  config.dim = 96;
  config.n_heads = 4;
  try {
    load_distilbert_weights(file, config);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr(
                              "tensor 'distilbert.embeddings.word_embeddings.weight' has shape "
                              "[30522,64], config.json expects [30522,96]"));
  }
  config = DistilBertConfig::from_json_file(dir / "config.json");
  config.n_layers = 3;
  try {
    load_distilbert_weights(file, config);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("no tensor 'distilbert.transformer.layer.2."));
  }
}

TEST(DistilBert, InputErrors) {
  const auto dir = shared_path("fixtures/distilbert-tiny");
  TG_REQUIRE_SHARED_FILE(dir / "model.safetensors");
  DistilBertModel model = DistilBertModel::load(dir);
  Tensor ids = ids_tensor({{101, 30522, 102}});
  EXPECT_THROW(model.forward(ids, ones_like(ids)), Error);  // id outside the vocabulary
  Tensor long_ids = Tensor::zeros(DType::I64, Shape{1, 513});
  EXPECT_THROW(model.forward(long_ids, ones_like(long_ids)), Error);
  Tensor ok = ids_tensor({{101, 102}});
  EXPECT_THROW(model.forward(ok, ids_tensor({{1, 1, 1}})), Error);  // mask shape
  EXPECT_THROW(DistilBertModel::load(dir / "missing"), Error);
}

}  // namespace
}  // namespace tensorgraph::nn
