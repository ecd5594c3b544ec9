// Our DistilBERT behind the peer protocol, in process (string streams): the tiny fixture's
// HuggingFace logits from ids, the same from text, times, and errors that do not stop the peer.
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/shared_data.hpp"
#include "tensorgraph/bench/distilbert_peer.hpp"

namespace tensorgraph::bench {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

std::vector<json> serve(const std::filesystem::path& model, const std::string& input, int* rc) {
  DistilBertPeerOptions o;
  o.model_dir = model;
  o.threads = 1;
  std::istringstream in(input);
  std::ostringstream out;
  *rc = serve_distilbert_peer(o, in, out);
  std::vector<json> lines;
  std::istringstream reply(out.str());
  for (std::string line; std::getline(reply, line);) lines.push_back(json::parse(line));
  return lines;
}

TEST(DistilBertPeer, AnswersLikeHuggingFace) {
  const auto dir = testing::shared_path("fixtures/distilbert-tiny");
  TG_REQUIRE_SHARED_FILE(dir / "logits.jsonl");
  std::ifstream fixture(dir / "logits.jsonl");
  std::string first;
  std::getline(fixture, first);
  const json row = json::parse(first);
  const std::string requests =
      json{{"op", "logits"}, {"input_ids", {row["input_ids"]}}}.dump() + "\n" +
      json{{"op", "logits"}, {"texts", {row["text"], row["text"]}}, {"batch_size", 1}}.dump() +
      "\n" +
      json{{"op", "time"}, {"input_ids", {row["input_ids"]}}, {"iters", 3}, {"warmup", 1}}.dump() +
      "\n" + json{{"op", "time"}, {"texts", {row["text"]}}, {"iters", 2}}.dump() + "\n" +
      "not json\n" + json{{"op", "logits"}, {"input_ids", {{101, 102}, {101}}}}.dump() + "\n" +
      json{{"op", "fly"}}.dump() + "\n" + "\n" + json{{"op", "quit"}}.dump() + "\n" +
      json{{"op", "logits"}, {"input_ids", {{101, 102}}}}.dump() + "\n";  // after quit: ignored
  int rc = -1;
  const auto lines = serve(dir, requests, &rc);
  EXPECT_EQ(rc, 0);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0]["ready"], true);
  EXPECT_EQ(lines[0]["peer"], "tensorgraph");
  EXPECT_EQ(lines[0]["threads"], 1);
  EXPECT_EQ(lines[0]["inputs"], json({"ids", "text"}));
  EXPECT_EQ(lines[0]["random_weights"], false);
  for (int i = 0; i < 2; ++i) {
    EXPECT_NEAR(lines[1]["logits"][0][i].get<double>(), row["logits"][i].get<double>(), 1e-4);
    // From text, tokenized by our tokenizer: the same ids, the same logits.
    EXPECT_NEAR(lines[2]["logits"][0][i].get<double>(), lines[1]["logits"][0][i].get<double>(),
                1e-6);
    EXPECT_NEAR(lines[2]["logits"][1][i].get<double>(), lines[1]["logits"][0][i].get<double>(),
                1e-6);
  }
  EXPECT_EQ(lines[3]["times_ms"].size(), 3u);
  EXPECT_EQ(lines[4]["times_ms"].size(), 2u);
  EXPECT_THAT(lines[5]["error"].get<std::string>(), HasSubstr("parse error"));
  EXPECT_THAT(lines[6]["error"].get<std::string>(), HasSubstr("input_ids: row 1 has not 2 values"));
  EXPECT_EQ(lines[7]["error"], "unknown op 'fly'");
}

TEST(DistilBertPeer, MissingModelIsNotReady) {
  testing::TempDir dir;
  int rc = -1;
  const auto lines = serve(dir / "nothing", "", &rc);
  EXPECT_EQ(rc, 1);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["ready"], false);
  EXPECT_FALSE(lines[0]["error"].get<std::string>().empty());
}

}  // namespace
}  // namespace tensorgraph::bench
