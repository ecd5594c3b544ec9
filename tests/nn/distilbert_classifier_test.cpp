#include "tensorgraph/nn/distilbert_classifier.hpp"

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::nn {
namespace {

using tensorgraph::testing::shared_path;

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  return rows;
}

std::filesystem::path tiny() {
  return shared_path("fixtures/distilbert-tiny");
}

// Text in, HF's logits out: the tokenizer and the model together, batched by length.
TEST(DistilBertClassifier, TextsGiveHuggingFaceLogits) {
  TG_REQUIRE_SHARED_FILE(tiny() / "logits.jsonl");
  const auto rows = read_jsonl(tiny() / "logits.jsonl");
  std::vector<std::string> texts;
  for (const auto& r : rows) texts.push_back(r["text"].get<std::string>());
  for (std::size_t batch : {1u, 7u, 64u}) {
    DistilBertClassifierOptions o;
    o.batch_size = batch;
    auto c = DistilBertClassifier::load(tiny(), o);
    EXPECT_EQ(c->labels(), (std::vector<std::string>{"NEGATIVE", "POSITIVE"}));
    const auto predictions = c->classify(texts);
    ASSERT_EQ(predictions.size(), rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto expected = rows[i]["logits"].get<std::vector<double>>();
      const auto probs = rows[i]["probs"].get<std::vector<double>>();
      for (std::size_t k = 0; k < 2; ++k) {
        EXPECT_NEAR(predictions[i].logits[k], expected[k], 1e-4) << texts[i];
        EXPECT_NEAR(predictions[i].probabilities[k], probs[k], 1e-4) << texts[i];
      }
      EXPECT_EQ(predictions[i].label, rows[i]["label"].get<std::string>()) << texts[i];
      EXPECT_FALSE(predictions[i].truncated);
    }
  }
}

TEST(DistilBertClassifier, TruncatesLongTextsLikeHuggingFace) {
  TG_REQUIRE_SHARED_FILE(tiny() / "model.safetensors");
  DistilBertClassifierOptions o;
  o.max_length = 8;
  auto c = DistilBertClassifier::load(tiny(), o);
  const std::string text = "one two three four five six seven eight nine ten";
  const auto p = c->classify(std::vector<std::string>{text, "short one"});
  EXPECT_TRUE(p[0].truncated);
  EXPECT_FALSE(p[1].truncated);
  // The same as the model on [CLS] + the first 6 pieces + [SEP].
  std::vector<std::int32_t> pieces = c->tokenizer().word_pieces(text);
  Tensor ids = Tensor::empty(DType::I64, Shape{1, 8});
  auto* id = ids.mutable_data<std::int64_t>();
  id[0] = c->tokenizer().cls_id();
  for (int i = 0; i < 6; ++i) id[1 + i] = pieces[static_cast<std::size_t>(i)];
  id[7] = c->tokenizer().sep_id();
  Tensor mask = Tensor::empty(DType::I64, Shape{1, 8});
  std::fill_n(mask.mutable_data<std::int64_t>(), 8, 1);
  const Tensor logits = c->model().forward(ids, mask);
  EXPECT_NEAR(p[0].logits[0], logits.data<float>()[0], 1e-5);
  EXPECT_NEAR(p[0].logits[1], logits.data<float>()[1], 1e-5);
}

TEST(DistilBertClassifier, ChunksAverageTheWindowProbabilities) {
  TG_REQUIRE_SHARED_FILE(tiny() / "model.safetensors");
  DistilBertClassifierOptions o;
  o.max_length = 10;  // windows of 8 pieces, stride 6
  o.long_text = LongTextMode::Chunk;
  auto c = DistilBertClassifier::load(tiny(), o);
  std::string text;
  for (int i = 0; i < 20; ++i) text += "good movie bad plot ";
  const auto pieces = c->tokenizer().word_pieces(text);
  ASSERT_EQ(pieces.size(), 80u);
  // Windows [0,8), [6,14), ... [72,80): 13 windows.
  std::vector<std::string> windows;
  double sum_pos = 0;
  int n = 0;
  for (std::size_t begin = 0;; begin += 6, ++n) {
    const std::size_t end = std::min<std::size_t>(80, begin + 8);
    Tensor ids = Tensor::empty(DType::I64, Shape{1, static_cast<std::int64_t>(end - begin + 2)});
    auto* id = ids.mutable_data<std::int64_t>();
    id[0] = c->tokenizer().cls_id();
    for (std::size_t i = begin; i < end; ++i) id[1 + i - begin] = pieces[i];
    id[end - begin + 1] = c->tokenizer().sep_id();
    Tensor mask = Tensor::empty(DType::I64, ids.shape());
    std::fill_n(mask.mutable_data<std::int64_t>(), mask.numel(), 1);
    const Tensor l = c->model().forward(ids, mask);
    const double a = l.data<float>()[0], b = l.data<float>()[1];
    sum_pos += 1.0 / (1.0 + std::exp(a - b));
    if (end == 80) break;
  }
  EXPECT_EQ(n + 1, 13);
  const auto p = c->classify(std::vector<std::string>{text});
  EXPECT_FALSE(p[0].truncated);
  EXPECT_NEAR(p[0].probabilities[1], sum_pos / 13, 1e-5);
  EXPECT_NEAR(p[0].probabilities[0] + p[0].probabilities[1], 1.0, 1e-6);
}

TEST(DistilBertClassifier, OptionErrors) {
  TG_REQUIRE_SHARED_FILE(tiny() / "model.safetensors");
  DistilBertClassifierOptions o;
  o.max_length = 513;
  EXPECT_THROW(DistilBertClassifier::load(tiny(), o), Error);
  o.max_length = 2;
  EXPECT_THROW(DistilBertClassifier::load(tiny(), o), Error);
  EXPECT_THROW(DistilBertClassifier::load(tiny() / "nope"), Error);
  auto c = DistilBertClassifier::load(tiny());
  EXPECT_EQ(c->max_length(), 512u);
  EXPECT_EQ(c->token_count("hello world"), 4u);
}

}  // namespace
}  // namespace tensorgraph::nn
