#include "tensorgraph/nn/distilbert.hpp"

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"

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

}  // namespace
}  // namespace tensorgraph::nn
