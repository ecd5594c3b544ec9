// The REAL distilbert-base-uncased-finetuned-sst-2-english against the outputs printed in public
// material (../shared/fixtures/real_model_outputs.json). Runs only when the real weights are in
// the models directory (TG_MODELS_DIR or models/ of the project, folder distilbert-sentiment):
// recognised by its config (dim 768, 6 layers) and the absence of the random-weights marker.
#include <cmath>
#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"
#include "tensorgraph/nn/distilbert_classifier.hpp"

namespace tensorgraph::nn {
namespace {

std::filesystem::path real_model_dir() {
  if (const char* env = std::getenv("TG_MODELS_DIR"); env && *env)
    return std::filesystem::path(env) / "distilbert-sentiment";
  return tensorgraph::testing::source_dir() / "models" / "distilbert-sentiment";
}

bool real_model_present(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir / "model.safetensors", ec)) return false;
  try {
    const auto config = DistilBertConfig::from_json_file(dir / "config.json");
    if (config.dim != 768 || config.n_layers != 6 || config.vocab_size != 30522) return false;
    return io::SafeTensorsFile::open(dir / "model.safetensors")
               .metadata()
               .count(kRandomWeightsKey) == 0;
  } catch (const std::exception&) {
    return false;
  }
}

Tensor tensor_of(const std::vector<std::vector<std::int64_t>>& rows) {
  const auto b = static_cast<std::int64_t>(rows.size()),
             s = static_cast<std::int64_t>(rows[0].size());
  Tensor t = Tensor::empty(DType::I64, Shape{b, s});
  for (std::int64_t i = 0; i < b; ++i)
    for (std::int64_t j = 0; j < s; ++j) t.mutable_data<std::int64_t>()[i * s + j] = rows[i][j];
  return t;
}

// The printed rounding of an expected number: 0.9598047137260437 -> 1e-16, 1.6123 -> 5e-5.
double printed_rounding(double v) {
  std::string s = nlohmann::json(v).dump();
  const auto dot = s.find('.');
  if (dot == std::string::npos) return 0.5;
  const auto e = s.find_first_of("eE");
  const int decimals = static_cast<int>((e == std::string::npos ? s.size() : e) - dot - 1);
  int exponent = e == std::string::npos ? 0 : std::stoi(s.substr(e + 1));
  return 0.5 * std::pow(10.0, exponent - decimals);
}

TEST(DistilBertRealModel, PublishedOutputs) {
  const auto dir = real_model_dir();
  if (!real_model_present(dir))
    GTEST_SKIP() << "skipped: real model not present (" << dir.string()
                 << " without random-weights marker; `tensorgraph download` fetches it)";
  const auto fixture = tensorgraph::testing::shared_path("fixtures/real_model_outputs.json");
  TG_REQUIRE_SHARED_FILE(fixture);
  std::ifstream in(fixture);
  const auto doc = nlohmann::json::parse(in);
  auto classifier = DistilBertClassifier::load(dir);
  DistilBertModel& model = classifier->model();
  int checked = 0;
  const double tol = 1e-4;
  for (const auto& e : doc.at("entries")) {
    const std::string input = e.value("input", "");
    const std::string id = e.value("id", "");
    if (input == "pipeline" && e.contains("expect")) {
      const auto texts = e.at("texts").get<std::vector<std::string>>();
      const auto p = classifier->classify(texts);
      for (std::size_t i = 0; i < texts.size(); ++i) {
        const auto& x = e.at("expect")[i];
        EXPECT_EQ(p[i].label, x.at("label").get<std::string>()) << id;
        for (const auto& [key, value] : x.items()) {
          if (key.rfind("score", 0) != 0) continue;
          const double want = value.get<double>();
          EXPECT_NEAR(p[i].score, want, tol + printed_rounding(want)) << id << " " << key;
          ++checked;
        }
      }
    } else if (input == "tokenizer" || input == "ids_no_special") {
      const auto ids = e.at("printed_input_ids").get<std::vector<std::vector<std::int64_t>>>();
      std::vector<std::vector<std::int64_t>> mask_rows;
      if (e.contains("printed_attention_mask"))
        mask_rows = e.at("printed_attention_mask").get<std::vector<std::vector<std::int64_t>>>();
      else
        for (const auto& r : ids) mask_rows.emplace_back(r.size(), 1);
      const Tensor logits = model.forward(tensor_of(ids), tensor_of(mask_rows));
      const auto want = e.at("expect_logits").get<std::vector<std::vector<double>>>();
      for (std::size_t i = 0; i < want.size(); ++i)
        for (std::size_t k = 0; k < want[i].size(); ++k, ++checked)
          EXPECT_NEAR(logits.data<float>()[i * 2 + k], want[i][k],
                      tol + printed_rounding(want[i][k]))
              << id;
    } else if (input == "raw_ids") {
      for (const auto& c : e.at("cases")) {
        const auto ids = c.at("input_ids").get<std::vector<std::vector<std::int64_t>>>();
        std::vector<std::vector<std::int64_t>> mask_rows;
        if (c.at("attention_mask").is_null())
          for (const auto& r : ids) mask_rows.emplace_back(r.size(), 1);  // HF: all ones
        else
          mask_rows = c.at("attention_mask").get<std::vector<std::vector<std::int64_t>>>();
        const Tensor logits = model.forward(tensor_of(ids), tensor_of(mask_rows));
        const auto want = c.at("expect_logits").get<std::vector<std::vector<double>>>();
        for (std::size_t i = 0; i < want.size(); ++i)
          for (std::size_t k = 0; k < want[i].size(); ++k, ++checked)
            EXPECT_NEAR(logits.data<float>()[i * 2 + k], want[i][k],
                        tol + printed_rounding(want[i][k]))
                << id;
      }
    }
  }
  EXPECT_GE(checked, 13);
}

}  // namespace
}  // namespace tensorgraph::nn
