// The service with the tiny DistilBERT fixture (../shared/fixtures/distilbert-tiny): HF's logits
// through HTTP, the tokenizer's ids through /tokenize, the 512-token limit, and many clients at
// once getting what each text gets alone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "running_server.hpp"
#include "support/shared_data.hpp"
#include "tensorgraph/nn/distilbert_classifier.hpp"
#include "tensorgraph/serve/model.hpp"

namespace tensorgraph::serve {
namespace {

using json = nlohmann::json;
using tensorgraph::testing::shared_path;
using ::testing::HasSubstr;

std::filesystem::path tiny() {
  return shared_path("fixtures/distilbert-tiny");
}

std::vector<json> fixture_rows() {
  std::vector<json> rows;
  std::ifstream in(tiny() / "logits.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(json::parse(line));
  return rows;
}

std::unique_ptr<ServedModel> tiny_model(std::size_t batch_size = 32) {
  nn::DistilBertClassifierOptions o;
  o.batch_size = batch_size;
  return make_distilbert_model(nn::DistilBertClassifier::load(tiny(), o));
}

// The logits of one answer (raw_scores), in label order NEGATIVE, POSITIVE.
std::vector<double> logits_of(const json& answer) {
  std::vector<double> out(2);
  for (const auto& entry : answer) out[entry["label"] == "POSITIVE" ? 1 : 0] = entry["score"];
  return out;
}

TEST(ServeDistilBert, HuggingFaceLogitsThroughHttp) {
  TG_REQUIRE_SHARED_FILE(tiny() / "logits.jsonl");
  const auto rows = fixture_rows();
  ServerOptions o;
  o.max_batch = 16;
  Running s(tiny_model(), o);
  json inputs = json::array();
  for (const auto& r : rows) inputs.push_back(r["text"]);

  auto r = s.post("/predict", json{{"inputs", inputs}, {"raw_scores", true}}.dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json raw = json::parse(r->body);
  ASSERT_EQ(raw.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto got = logits_of(raw[i]);
    const auto expected = rows[i]["logits"].get<std::vector<double>>();
    for (std::size_t k = 0; k < 2; ++k) EXPECT_NEAR(got[k], expected[k], 1e-4) << rows[i]["text"];
  }

  r = s.post("/predict", json{{"inputs", inputs}}.dump());
  ASSERT_TRUE(r);
  const json probs = json::parse(r->body);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(probs[i][0]["label"], rows[i]["label"]) << rows[i]["text"];
    const auto expected = rows[i]["probs"].get<std::vector<double>>();
    EXPECT_NEAR(probs[i][0]["score"].get<double>(), std::max(expected[0], expected[1]), 1e-4);
  }
  // 60 texts in batches of at most 16.
  const auto sizes = s.server().metrics().batch_sizes();
  EXPECT_GE(sizes.count, 8u);
  EXPECT_EQ(sizes.sum, 120.0);
}

TEST(ServeDistilBert, TokenizeGivesTheModelsIds) {
  TG_REQUIRE_SHARED_FILE(tiny() / "logits.jsonl");
  const auto rows = fixture_rows();
  Running s(tiny_model());
  json inputs = json::array();
  for (const auto& r : rows) inputs.push_back(r["text"]);
  const auto r = s.post("/tokenize", json{{"inputs", inputs}}.dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const json tokens = json::parse(r->body);
  ASSERT_EQ(tokens.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::vector<std::int64_t> ids;
    for (const auto& t : tokens[i]) ids.push_back(t["id"]);
    EXPECT_EQ(ids, rows[i]["input_ids"].get<std::vector<std::int64_t>>()) << rows[i]["text"];
  }
  const json info = json::parse(s.get("/info")->body);
  EXPECT_EQ(info["max_input_length"], 512);
  EXPECT_EQ(info["model_kind"], "distilbert");
}

TEST(ServeDistilBert, LongerThan512TokensIs413UnlessTruncated) {
  TG_REQUIRE_SHARED_FILE(tiny() / "model.safetensors");
  Running s(tiny_model());
  std::string text;
  for (int i = 0; i < 600; ++i) text += "word ";
  auto r = s.post("/predict", json{{"inputs", text}}.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_THAT(r->body, HasSubstr("`inputs` has 602 tokens, more than the model's maximum of 512"));
  EXPECT_THAT(r->body, HasSubstr("\"error_type\":\"Validation\""));

  r = s.post("/predict",
             json{{"inputs", {"short", text}}, {"truncate", true}, {"raw_scores", true}}.dump());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto alone = nn::DistilBertClassifier::load(tiny());
  const nn::Prediction expected = alone->classify_one(text);
  EXPECT_TRUE(expected.truncated);
  const auto got = logits_of(json::parse(r->body)[1]);
  for (std::size_t k = 0; k < 2; ++k) EXPECT_NEAR(got[k], expected.logits[k], 1e-5);
}

TEST(ServeDistilBert, ManyClientsGetWhatEachTextGetsAlone) {
  TG_REQUIRE_SHARED_FILE(tiny() / "logits.jsonl");
  const auto rows = fixture_rows();
  // Each text alone, batch of one.
  auto alone = nn::DistilBertClassifier::load(tiny());
  std::vector<std::vector<float>> expected;
  for (const auto& r : rows) expected.push_back(alone->classify_one(r["text"]).logits);

  ServerOptions o;
  o.max_batch = 8;
  o.max_wait_ms = 3;
  Running s(tiny_model(), o);
  constexpr int kClients = 4;
  std::atomic<int> failures{0};
  std::mutex mutex;
  double max_diff = 0;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(static_cast<unsigned>(c));
      std::vector<std::size_t> order(rows.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::shuffle(order.begin(), order.end(), rng);
      auto client = s.client();
      for (std::size_t i : order) {
        const auto r =
            client->Post("/predict", json{{"inputs", rows[i]["text"]}, {"raw_scores", true}}.dump(),
                         "application/json");
        if (!r || r->status != 200) {
          ++failures;
          continue;
        }
        const auto got = logits_of(json::parse(r->body));
        std::lock_guard lock(mutex);
        for (std::size_t k = 0; k < 2; ++k)
          max_diff = std::max(max_diff, std::abs(got[k] - static_cast<double>(expected[i][k])));
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  // Padding to a batch-mate's length changes float rounding only (HF: up to 4.8e-6).
  EXPECT_LT(max_diff, 1e-5);
  EXPECT_EQ(s.server().metrics().requests(Route::Predict, 200), kClients * rows.size());
}

}  // namespace
}  // namespace tensorgraph::serve
