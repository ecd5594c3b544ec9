// The service in-process on an ephemeral loopback port: every endpoint, every error path, the
// limits (request size, slow clients, header floods, queue and connection overload),
// concurrency, and a graceful stop with requests in flight.
#include "tensorgraph/serve/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <random>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "fake_model.hpp"
#include "running_server.hpp"
#include "support/shared_data.hpp"
#include "tensorgraph/nn/lexicon.hpp"
#include "tensorgraph/text/bert_tokenizer.hpp"

namespace tensorgraph::serve {
namespace {

using json = nlohmann::json;
using testing::FakeModel;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::unique_ptr<ServedModel> lexicon_model() {
  return make_word_model(std::make_unique<nn::LexiconClassifier>(nn::Lexicon::builtin()));
}

std::string gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The error of an answer: status, error_type, message.
void expect_error(const httplib::Result& r, int status, std::string_view type,
                  std::string_view message_part = "") {
  ASSERT_TRUE(r) << "no response: " << httplib::to_string(r.error());
  EXPECT_EQ(r->status, status) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const json j = json::parse(r->body);
  EXPECT_EQ(j.at("error_type"), type) << r->body;
  EXPECT_THAT(j.at("error").get<std::string>(), HasSubstr(std::string(message_part)));
}

// /predict's answer for one text must be what the classifier says about it alone.
void expect_prediction(const json& answer, const nn::Prediction& expected,
                       const std::vector<std::string>& labels, bool raw = false) {
  ASSERT_TRUE(answer.is_array());
  ASSERT_EQ(answer.size(), labels.size());
  const auto& scores = raw ? expected.logits : expected.probabilities;
  for (std::size_t k = 0; k < answer.size(); ++k) {
    const std::string label = answer[k].at("label");
    const auto i =
        static_cast<std::size_t>(std::find(labels.begin(), labels.end(), label) - labels.begin());
    ASSERT_LT(i, labels.size()) << label;
    EXPECT_EQ(static_cast<float>(answer[k].at("score").get<double>()), scores[i]) << label;
    if (k) {
      EXPECT_GE(answer[k - 1].at("score").get<double>(), answer[k].at("score").get<double>());
    }
  }
}

const std::vector<std::string> kSentences{
    "I love it",
    "I hate it",
    "This movie was absolutely wonderful, I loved every minute of it.",
    "The plot was predictable and the acting was wooden.",
    "not good at all",
    "A masterpiece of modern cinema.",
    "It's not bad, but it's not great either.",
    "Terrible. Just terrible.",
    "an excellent, moving film",
    "",
    "naïve café résumé 😀",
    "The best and the worst of times",
};

// ---- happy paths --------------------------------------------------------------------------

TEST(ServeServer, PredictWithTheLexicon) {
  Running s(lexicon_model());
  nn::LexiconClassifier reference(nn::Lexicon::builtin());
  const auto labels = reference.labels();

  auto r = s.post("/predict", R"({"inputs": ["I love it", "I hate it"]})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  const json batch = json::parse(r->body);
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch[0][0]["label"], "POSITIVE");
  EXPECT_EQ(batch[1][0]["label"], "NEGATIVE");
  expect_prediction(batch[0], reference.classify_one("I love it"), labels);
  expect_prediction(batch[1], reference.classify_one("I hate it"), labels);
  EXPECT_EQ(r->get_header_value("x-compute-characters"), "18");

  r = s.post("/predict", R"({"inputs": "not good at all"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  expect_prediction(json::parse(r->body), reference.classify_one("not good at all"), labels);

  r = s.post("/predict", R"({"inputs": "not good at all", "raw_scores": true})");
  ASSERT_TRUE(r);
  expect_prediction(json::parse(r->body), reference.classify_one("not good at all"), labels, true);

  r = s.post("/predict", R"({"inputs": [["I love it"], ["I hate it"]]})");  // TEI's batch form
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body).size(), 2u);

  // curl -d sends application/x-www-form-urlencoded: the body is JSON all the same.
  r = s.client()->Post("/predict", std::string(R"({"inputs": ")") + std::string(20000, 'a') + "\"}",
                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(ServeServer, TokenizeHealthInfoMetrics) {
  ServerOptions o;
  o.max_batch = 7;
  Running s(lexicon_model(), o);

  auto r = s.post("/tokenize", R"({"inputs": "I didn't like it!"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const json tokens = json::parse(r->body);
  ASSERT_EQ(tokens.size(), 1u);
  std::vector<std::string> words;
  for (const auto& t : tokens[0]) {
    words.push_back(t["text"]);
    EXPECT_TRUE(t["id"].is_null());  // the lexicon has no vocabulary
    EXPECT_EQ(t["special"], false);
  }
  EXPECT_THAT(words, ::testing::ElementsAre("i", "did", "n't", "like", "it", "!"));

  r = s.get("/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "");

  r = s.get("/info");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  const json info = json::parse(r->body);
  EXPECT_EQ(info["model_id"], "lexicon:mvp");
  EXPECT_EQ(info["model_dtype"], "float32");
  EXPECT_EQ(info["model_type"]["classifier"]["id2label"]["0"], "NEGATIVE");
  EXPECT_EQ(info["model_type"]["classifier"]["label2id"]["POSITIVE"], 1);
  EXPECT_TRUE(info["max_input_length"].is_null());
  EXPECT_EQ(info["max_batch_requests"], 7);
  EXPECT_EQ(info["max_client_batch_size"], 256);
  EXPECT_EQ(info["max_concurrent_requests"], 128);
  EXPECT_FALSE(info["version"].get<std::string>().empty());

  s.post("/predict", R"({"inputs": ["a", "b", "c"]})");
  r = s.get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->get_header_value("Content-Type"), StartsWith("text/plain; version=0.0.4"));
  EXPECT_THAT(r->body,
              HasSubstr("tensorgraph_requests_total{route=\"/predict\",status=\"200\"} 1\n"));
  EXPECT_THAT(r->body,
              HasSubstr("tensorgraph_requests_total{route=\"/tokenize\",status=\"200\"} 1\n"));
  EXPECT_THAT(r->body, HasSubstr("tensorgraph_batch_size_bucket{le=\"4\"} 1\n"));
  EXPECT_THAT(r->body, HasSubstr("tensorgraph_inputs_total 3\n"));
  EXPECT_THAT(r->body, HasSubstr("tensorgraph_queue_depth 0\n"));
}

TEST(ServeServer, LogsOneLinePerRequestWithoutTheTexts) {
  std::mutex mutex;
  std::vector<RequestLog> logs;
  ServerOptions o;
  o.logger = [&](const RequestLog& r) {
    std::lock_guard lock(mutex);
    logs.push_back(r);
  };
  {
    Running s(lexicon_model(), o);
    s.post("/predict", R"({"inputs": ["secret one", "secret two"]})");
    s.post("/predict", R"({"inputs": 5})");
    s.get("/nowhere\x01");
  }
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_EQ(logs[0].method, "POST");
  EXPECT_EQ(logs[0].path, "/predict");
  EXPECT_EQ(logs[0].status, 200);
  EXPECT_EQ(logs[0].inputs, 2u);
  EXPECT_EQ(logs[0].batch_size, 2u);
  EXPECT_GT(logs[0].seconds, 0.0);
  EXPECT_TRUE(logs[0].texts.empty());
  EXPECT_THAT(logs[0].remote, StartsWith("127.0.0.1:"));
  EXPECT_EQ(logs[1].status, 422);
  EXPECT_EQ(logs[2].status, 404);
  EXPECT_EQ(logs[2].path, "/nowhere?");  // control characters never reach the log

  o.log_inputs = true;
  logs.clear();
  {
    Running s(lexicon_model(), o);
    s.post("/predict", R"({"inputs": ["secret one", "secret two"]})");
  }
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_THAT(logs[0].texts, ::testing::ElementsAre("secret one", "secret two"));
}

// ---- a BERT-tokenized model: /tokenize ids, the length limit, truncation ----

class FakeBertClassifier final : public nn::SentimentClassifier {
 public:
  std::vector<nn::Prediction> classify(std::span<const std::string> texts) override {
    std::vector<nn::Prediction> out;
    for (const auto& t : texts) out.push_back(FakeModel::expected(t));
    return out;
  }
  const std::vector<std::string>& labels() const override { return labels_; }
  std::string name() const override { return "fake-bert"; }
  std::string description() const override { return "a test double with BERT's tokenizer"; }

 private:
  std::vector<std::string> labels_{"NEGATIVE", "POSITIVE"};
};

TEST(ServeServer, BertTokensAndTheLengthLimit) {
  const auto vocab = tensorgraph::testing::shared_path("fixtures/bert-base-uncased/vocab.txt");
  TG_REQUIRE_SHARED_FILE(vocab);
  ModelInfo info;
  info.kind = "distilbert";
  info.max_input_length = 16;
  info.batch_overhead_tokens = 16;
  Running s(make_bert_model(std::make_unique<FakeBertClassifier>(),
                            text::BertTokenizer::from_vocab_file(vocab), info));

  auto r = s.post("/tokenize", R"({"inputs": "A masterpiece of modern cinema."})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json t = json::parse(r->body)[0];
  std::vector<std::int64_t> ids;
  for (const auto& token : t) ids.push_back(token["id"]);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{101, 1037, 17743, 1997, 2715, 5988, 1012, 102}));
  EXPECT_EQ(t[0]["text"], "[CLS]");
  EXPECT_EQ(t[0]["special"], true);
  EXPECT_EQ(t[2]["text"], "masterpiece");
  EXPECT_EQ(t[2]["special"], false);
  EXPECT_EQ(t[7]["special"], true);

  r = s.post("/tokenize", R"({"inputs": ["modern cinema"], "add_special_tokens": false})");
  ASSERT_TRUE(r);
  EXPECT_EQ(json::parse(r->body)[0].size(), 2u);

  const std::string long_text =
      "one two three four five six seven eight nine ten eleven twelve "
      "thirteen fourteen fifteen sixteen seventeen";
  expect_error(s.post("/predict", json{{"inputs", {"short", long_text}}}.dump()), 413, "Validation",
               "`inputs[1]` has 19 tokens, more than the model's maximum of 16: send \"truncate\": "
               "true to cut it");
  r = s.post("/predict", json{{"inputs", long_text}, {"truncate", true}}.dump());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  expect_prediction(json::parse(r->body), FakeModel::expected(long_text), {"NEGATIVE", "POSITIVE"});

  const json info_json = json::parse(s.get("/info")->body);
  EXPECT_EQ(info_json["max_input_length"], 16);
  EXPECT_EQ(info_json["model_id"], "fake-bert");
  EXPECT_EQ(info_json["max_batch_tokens"], 16 * 32);
}

// ---- errors: every one answers JSON, and the server keeps serving ----

TEST(ServeServer, MalformedBodies) {
  ServerOptions o;
  o.max_client_batch_size = 4;
  o.max_input_chars = 100;
  Running s(lexicon_model(), o);
  expect_error(s.post("/predict", "{\"inputs\": "), 400, "Validation", "Failed to parse");
  expect_error(s.post("/predict", ""), 400, "Validation", "the request body is empty");
  expect_error(s.post("/predict", "{\"inputs\": \"caf\xC3\"}"), 400, "Validation");
  expect_error(s.post("/predict", R"({"inputs": "\ud800"})"), 400, "Validation");
  expect_error(s.post("/predict", R"({"inputs": 1})"), 422, "Validation",
               "`inputs` must be a string or a list of strings, not a number");
  expect_error(s.post("/predict", R"({"text": "x"})"), 422, "Validation", "missing field `inputs`");
  expect_error(s.post("/predict", R"({"inputs": "x", "raw_scores": 1})"), 422, "Validation");
  expect_error(s.post("/predict", R"({"inputs": [["a", "b"]]})"), 422, "Validation",
               "sequence pair");
  expect_error(s.post("/predict", R"({"inputs": []})"), 400, "Empty", "`inputs` cannot be empty");
  expect_error(s.post("/tokenize", R"({"inputs": []})"), 400, "Empty");
  expect_error(s.post("/predict", R"({"inputs": ["a", "b", "c", "d", "e"]})"), 413, "Validation",
               "more than 4 inputs");
  expect_error(s.post("/predict", json{{"inputs", std::string(101, 'x')}}.dump()), 413,
               "Validation", "101 characters, more than the limit of 100");
  expect_error(s.post("/tokenize", json{{"inputs", std::string(101, 'x')}}.dump()), 413,
               "Validation");
  const auto r = s.post("/predict", R"({"inputs": "still serving"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST(ServeServer, RoutesAndMethods) {
  Running s(lexicon_model());
  expect_error(s.get("/"), 404, "NotFound", "the endpoints are POST /predict");
  expect_error(s.post("/embed", "{}"), 404, "NotFound");
  auto r = s.get("/predict");
  expect_error(r, 405, "MethodNotAllowed", "/predict takes POST, not GET");
  EXPECT_EQ(r->get_header_value("Allow"), "POST");
  expect_error(s.post("/health", "{}"), 405, "MethodNotAllowed");
  expect_error(s.client()->Delete("/info"), 405, "MethodNotAllowed");
  // A body without Content-Length or chunked encoding: no body (not "read until the end").
  const std::string response =
      raw_exchange(s.port(), "POST /predict HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(response, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(body_of(response), HasSubstr("the request body is empty"));
  // Garbage instead of HTTP.
  const std::string garbage = raw_exchange(s.port(), "\x16\x03\x01 hello\r\n\r\n");
  EXPECT_THAT(garbage, StartsWith("HTTP/1.1 400 "));
  EXPECT_THAT(body_of(garbage), HasSubstr("\"error_type\":\"Validation\""));
  EXPECT_EQ(s.get("/health")->status, 200);
  EXPECT_EQ(s.server().metrics().in_flight(), 0);
}

TEST(ServeServer, RequestSizeLimits) {
  ServerOptions o;
  o.max_request_bytes = 1000;
  Running s(lexicon_model(), o);
  const std::string fits = json{{"inputs", std::string(900, 'a')}}.dump();
  const std::string too_big = json{{"inputs", std::string(5000, 'a')}}.dump();
  EXPECT_EQ(s.post("/predict", fits)->status, 200);

  // Declared too large: refused before the body is read.
  expect_error(
      s.post("/predict", too_big), 413, "Validation",
      fmt::format("the request body has {} bytes, more than the limit of 1000", too_big.size()));

  // Chunked: refused once more than the limit has arrived.
  std::string chunked = "POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 6; ++i) chunked += "1f4\r\n" + std::string(500, ' ') + "\r\n";
  chunked += "0\r\n\r\n";
  bool closed = false;
  std::string response = raw_exchange(s.port(), chunked, &closed);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 413 "));
  EXPECT_THAT(body_of(response), HasSubstr("larger than the limit of 1000 bytes"));
  EXPECT_TRUE(closed);

  // Compressed: the limit applies to what it inflates to (a "zip bomb" stays small).
  const std::string bomb = gzip(json{{"inputs", std::string(500'000, 'a')}}.dump());
  ASSERT_LT(bomb.size(), 1000u);
  response = raw_exchange(s.port(),
                          "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                          "Content-Length: " +
                              std::to_string(bomb.size()) + "\r\n\r\n" + bomb);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 413 "));
  // ... while a small compressed body is fine.
  const std::string small = gzip(R"({"inputs": "I love it"})");
  response = raw_exchange(s.port(),
                          "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
                          "Connection: close\r\nContent-Length: " +
                              std::to_string(small.size()) + "\r\n\r\n" + small);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 "));
  EXPECT_THAT(body_of(response), HasSubstr("POSITIVE"));
  EXPECT_EQ(s.post("/predict", fits)->status, 200);
}

TEST(ServeServer, SlowClientsAndHeaderFloodsAreCutOff) {
  ServerOptions o;
  o.timeout_s = 0.3;
  Running s(lexicon_model(), o);
  // Headers that never end: answered 408 and closed once the request's time is up.
  const int slow = connect_to(s.port());
  ASSERT_GE(slow, 0);
  send_all(slow, "POST /predict HTTP/1.1\r\nHost: x\r\n");
  // Meanwhile the server serves others.
  EXPECT_EQ(s.post("/predict", R"({"inputs": "fine"})")->status, 200);
  bool closed = false;
  std::string response = read_until_closed(slow, closed);
  ::close(slow);
  EXPECT_TRUE(closed);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 408 "));

  // A body that stops halfway.
  const int stalled = connect_to(s.port());
  send_all(stalled, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"inp");
  response = read_until_closed(stalled, closed);
  ::close(stalled);
  EXPECT_TRUE(closed);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 408 "));

  // An idle connection that never sends a request is closed.
  const int idle = connect_to(s.port());
  response = read_until_closed(idle, closed);
  ::close(idle);
  EXPECT_TRUE(closed);
  EXPECT_EQ(response, "");

  // 70 KiB of headers (each line short): 431, closed.
  std::string flood = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 1000; ++i)
    flood += "X-Header-" + std::to_string(i) + ": " + std::string(60, 'v') + "\r\n";
  flood += "\r\n";
  response = raw_exchange(s.port(), flood, &closed);
  EXPECT_TRUE(closed);
  EXPECT_THAT(response, StartsWith("HTTP/1.1 431 "));
  EXPECT_EQ(s.get("/health")->status, 200);
}

TEST(ServeServer, FullQueueAnswers429WithRetryAfter) {
  auto model = std::make_unique<FakeModel>();
  FakeModel& fake = *model;
  ServerOptions o;
  o.max_concurrent_requests = 1;
  o.max_wait_ms = 0;
  Running s(std::move(model), o);
  fake.close_gate();
  auto held =
      std::async(std::launch::async, [&] { return s.post("/predict", R"({"inputs": "held"})"); });
  ASSERT_TRUE(fake.wait_at_gate());
  const auto r = s.post("/predict", R"({"inputs": "refused"})");
  expect_error(r, 429, "Overloaded", "Model is overloaded");
  EXPECT_EQ(r->get_header_value("Retry-After"), "1");
  EXPECT_EQ(s.get("/health")->status, 200);  // the spare workers still answer
  fake.open_gate();
  const auto first = held.get();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_EQ(s.post("/predict", R"({"inputs": "after"})")->status, 200);
  EXPECT_EQ(s.server().metrics().requests(Route::Predict, 429), 1u);
}

TEST(ServeServer, ConnectionsBeyondTheWorkersAndTheirQueueGet429) {
  ServerOptions o;
  o.max_concurrent_requests = 1;  // 5 workers, 5 queued connections
  o.timeout_s = 20;
  Running s(lexicon_model(), o);
  ASSERT_EQ(s.server().http_workers(), 5u);
  // 11 connections that send nothing: 5 hold the workers, 5 wait in the queue, and at least
  // one (more if the workers had not yet taken theirs) is answered 429 at once and closed.
  std::vector<int> idle;
  for (int i = 0; i < 11; ++i) idle.push_back(connect_to(s.port()));
  int refused = 0;
  for (int fd : idle) {
    bool closed = false;
    const std::string response = read_until_closed(fd, closed, 100);
    if (response.empty()) continue;
    ++refused;
    EXPECT_TRUE(closed);
    EXPECT_THAT(response, StartsWith("HTTP/1.1 429 "));
    EXPECT_THAT(response, HasSubstr("Retry-After: 1\r\n"));
    EXPECT_THAT(body_of(response), HasSubstr("\"error_type\":\"Overloaded\""));
  }
  EXPECT_GE(refused, 1);
  EXPECT_LE(refused, 6);
  for (int fd : idle) ::close(fd);
  // The workers are free again once those clients are gone.
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    if (auto r = s.get("/health")) status = r->status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(status, 200);
  EXPECT_GE(s.server().metrics().requests(Route::Other, 429), 1u);
}

// ---- concurrency ----

TEST(ServeServer, ManyClientsAtOnceGetTheirOwnAnswers) {
  ServerOptions o;
  o.max_batch = 16;
  o.max_wait_ms = 2;
  Running s(lexicon_model(), o);
  nn::LexiconClassifier reference(nn::Lexicon::builtin());
  std::vector<nn::Prediction> expected;
  for (const auto& t : kSentences) expected.push_back(reference.classify_one(t));

  constexpr int kClients = 16, kRequests = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937 rng(static_cast<unsigned>(c));
      auto client = s.client();
      for (int i = 0; i < kRequests; ++i) {
        std::vector<std::size_t> picks(1 + rng() % 4);
        json inputs = json::array();
        for (auto& p : picks) {
          p = rng() % kSentences.size();
          inputs.push_back(kSentences[p]);
        }
        const auto r =
            client->Post("/predict", json{{"inputs", inputs}}.dump(), "application/json");
        if (!r || r->status != 200) {
          ++failures;
          continue;
        }
        const json answer = json::parse(r->body);
        if (answer.size() != picks.size()) {
          ++failures;
          continue;
        }
        for (std::size_t k = 0; k < picks.size(); ++k) {
          const auto& e = expected[picks[k]];
          const auto& a = answer[k];
          const std::size_t top = a[0]["label"] == "POSITIVE" ? 1 : 0;
          if (static_cast<float>(a[0]["score"].get<double>()) != e.probabilities[top] ||
              static_cast<float>(a[1]["score"].get<double>()) != e.probabilities[1 - top])
            ++failures;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(s.server().metrics().requests(Route::Predict, 200),
            static_cast<std::uint64_t>(kClients * kRequests));
}

// ---- graceful stop ----

TEST(ServeServer, StopAnswersTheRequestsInFlightAndRefusesNewConnections) {
  auto model = std::make_unique<FakeModel>();
  FakeModel& fake = *model;
  ServerOptions o;
  o.max_wait_ms = 0;
  Running s(std::move(model), o);
  fake.close_gate();
  std::vector<std::future<httplib::Result>> in_flight;
  for (int i = 0; i < 3; ++i)
    in_flight.push_back(std::async(std::launch::async, [&s, i] {
      return s.post("/predict", json{{"inputs", "request " + std::to_string(i)}}.dump());
    }));
  ASSERT_TRUE(fake.wait_at_gate());
  for (int i = 0; i < 5000 && s.server().metrics().in_flight() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(s.server().metrics().in_flight(), 3);

  s.server().stop();
  EXPECT_EQ(connect_to(s.port()), -1);  // the listening socket is closed
  fake.open_gate();
  for (int i = 0; i < 3; ++i) {
    const auto r = in_flight[static_cast<std::size_t>(i)].get();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    expect_prediction(json::parse(r->body), FakeModel::expected("request " + std::to_string(i)),
                      {"NEGATIVE", "POSITIVE"});
  }
  s.stop();  // run() returns
}

TEST(ServeServer, AClientThatLeavesDoesNotCostInference) {
  auto model = std::make_unique<FakeModel>();
  FakeModel& fake = *model;
  std::mutex mutex;
  std::vector<int> statuses;
  ServerOptions o;
  o.max_wait_ms = 0;
  o.logger = [&](const RequestLog& r) {
    std::lock_guard lock(mutex);
    statuses.push_back(r.status);
  };
  Running s(std::move(model), o);
  fake.close_gate();
  auto held =
      std::async(std::launch::async, [&] { return s.post("/predict", R"({"inputs": "held"})"); });
  ASSERT_TRUE(fake.wait_at_gate());
  // A request that queues behind it, and whose client then goes away.
  const std::string body = R"({"inputs": ["gone 1", "gone 2"]})";
  const int fd = connect_to(s.port());
  send_all(fd, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body);
  for (int i = 0; i < 5000 && s.server().metrics().queue_depth() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(s.server().metrics().queue_depth(), 2u);
  ::close(fd);
  for (int i = 0; i < 5000 && s.server().metrics().queue_depth() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(s.server().metrics().queue_depth(), 0u);
  fake.open_gate();
  EXPECT_EQ(held.get()->status, 200);
  s.stop();
  for (const auto& batch : fake.batches())
    for (const auto& text : batch) EXPECT_THAT(text, ::testing::Not(StartsWith("gone")));
  EXPECT_EQ(s.server().metrics().requests(Route::Predict, 499), 1u);
}

TEST(ServeServer, HealthIs503WhileStopping) {
  auto model = std::make_unique<FakeModel>();
  FakeModel& fake = *model;
  ServerOptions o;
  o.max_wait_ms = 0;
  Running s(std::move(model), o);
  fake.close_gate();
  // A /predict held in the model, and a /health pipelined behind it on the same connection: the
  // health check is read after the stop began.
  const std::string predict = R"({"inputs": "x"})";
  const int fd = connect_to(s.port());
  send_all(
      fd, "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(predict.size()) +
              "\r\n\r\n" + predict + "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(fake.wait_at_gate());
  s.server().stop();
  fake.open_gate();
  bool closed = false;
  const std::string responses = read_until_closed(fd, closed);
  ::close(fd);
  EXPECT_TRUE(closed);
  EXPECT_THAT(responses, StartsWith("HTTP/1.1 200 "));
  const auto second = responses.find("HTTP/1.1 503 ");
  ASSERT_NE(second, std::string::npos) << responses;
  EXPECT_THAT(responses.substr(second), HasSubstr("Connection: close\r\n"));
  EXPECT_THAT(responses.substr(second),
              HasSubstr(R"({"error":"unhealthy","error_type":"Unhealthy"})"));
}

TEST(ServeServer, StopBeforeRunAndBindErrors) {
  ServerOptions o;
  o.port = 0;
  Server server(lexicon_model(), o);
  const int port = server.bind();
  EXPECT_GT(port, 0);
  server.stop();
  server.run();  // returns at once
  EXPECT_TRUE(server.stopping());

  // The port is taken: a clear error.
  Running s(lexicon_model());
  ServerOptions taken;
  taken.port = s.port();
  Server second(lexicon_model(), taken);
  try {
    second.bind();
    FAIL() << "bound a port in use";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(fmt::format("cannot listen on 127.0.0.1:{}: ", s.port())));
  }
  ServerOptions bad;
  bad.host = "no.such.host.invalid";
  Server third(lexicon_model(), bad);
  EXPECT_THROW(third.bind(), Error);
  ServerOptions zero;
  zero.max_batch = 0;
  EXPECT_THROW(Server(lexicon_model(), zero), Error);
}

}  // namespace
}  // namespace tensorgraph::serve
