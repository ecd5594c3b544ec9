#include "tensorgraph/bench/distilbert_peer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tensorgraph/core/build_info.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/tensor.hpp"
#include "tensorgraph/core/threads.hpp"
#include "tensorgraph/text/bert_tokenizer.hpp"

#include "tensorgraph/nn/distilbert.hpp"
#include "tensorgraph/nn/distilbert_classifier.hpp"

namespace tensorgraph::bench {

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

void send(std::ostream& out, const json& j) {
  out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  out.flush();
}

json peer_env() {
  json env = json::object();
  for (const char* key :
       {"TG_NUM_THREADS", "TG_GEMM", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT",
        "OMP_PROC_BIND", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"})
    if (const char* v = std::getenv(key)) env[key] = v;
  return env;
}

// Ids of a request as an i64 [batch, seq] tensor (rows of equal length).
Tensor ids_tensor(const json& rows, const char* what) {
  TG_CHECK(rows.is_array() && !rows.empty(), "{}: expected a non-empty array of rows", what);
  const std::size_t batch = rows.size();
  const std::size_t seq = rows[0].is_array() ? rows[0].size() : 0;
  TG_CHECK(seq > 0, "{}: rows must be non-empty arrays", what);
  Tensor t =
      Tensor::empty(DType::I64, {static_cast<std::int64_t>(batch), static_cast<std::int64_t>(seq)});
  std::int64_t* p = t.mutable_data<std::int64_t>();
  for (std::size_t i = 0; i < batch; ++i) {
    TG_CHECK(rows[i].is_array() && rows[i].size() == seq, "{}: row {} has not {} values", what, i,
             seq);
    for (std::size_t j = 0; j < seq; ++j) {
      TG_CHECK(rows[i][j].is_number_integer(), "{}: row {} holds a non-integer", what, i);
      p[i * seq + j] = rows[i][j].get<std::int64_t>();
    }
  }
  return t;
}

json logits_rows(const Tensor& logits) {
  json rows = json::array();
  const auto& shape = logits.shape();
  const float* p = logits.data<float>();
  const std::int64_t n = shape[0], k = shape[1];
  for (std::int64_t i = 0; i < n; ++i) {
    json row = json::array();
    for (std::int64_t j = 0; j < k; ++j) row.push_back(static_cast<double>(p[i * k + j]));
    rows.push_back(row);
  }
  return rows;
}

// The model lives in a DistilBertClassifier: texts go through the product path (tokenizer,
// batching by length, softmax) exactly as `classify` runs them; ids go straight to the model.
class Peer {
 public:
  explicit Peer(const DistilBertPeerOptions& options) {
    nn::DistilBertClassifierOptions o;
    o.model.threads = options.threads;
    o.max_length = options.max_length;
    classifier_ = nn::DistilBertClassifier::load(options.model_dir, o);
    options_ = o;
  }

  nn::DistilBertModel& model() { return classifier_->model(); }

  // Work of one request, prepared outside the timed region.
  struct Work {
    Tensor ids, mask, logits;        // ids input
    std::vector<std::string> texts;  // text input
  };

  Work prepare(const json& req) {
    Work w;
    if (req.contains("texts")) {
      TG_CHECK(req["texts"].is_array() && !req["texts"].empty(),
               "texts: expected a non-empty array");
      for (const auto& t : req["texts"]) {
        TG_CHECK(t.is_string(), "texts: expected strings");
        w.texts.push_back(t.get<std::string>());
      }
      const std::int64_t b = req.value("batch_size", std::int64_t{32});
      TG_CHECK(b >= 1, "batch_size must be >= 1");
      use_batch_size(static_cast<std::size_t>(b));
      return w;
    }
    TG_CHECK(req.contains("input_ids"), "the request has neither input_ids nor texts");
    w.ids = ids_tensor(req["input_ids"], "input_ids");
    if (req.contains("attention_mask") && !req["attention_mask"].is_null()) {
      w.mask = ids_tensor(req["attention_mask"], "attention_mask");
      TG_CHECK(w.mask.shape() == w.ids.shape(), "attention_mask and input_ids differ in shape");
    } else {
      w.mask = Tensor::empty(DType::I64, w.ids.shape());
      std::fill_n(w.mask.mutable_data<std::int64_t>(), w.mask.numel(), 1);
    }
    w.logits = Tensor::empty(DType::F32, {w.ids.shape()[0], model().config().num_labels()});
    return w;
  }

  // One run of the work; with `rows`, also the logits.
  void run(Work& w, json* rows) {
    if (w.texts.empty()) {
      model().forward_into(w.ids, w.mask, w.logits);
      if (rows) *rows = logits_rows(w.logits);
      return;
    }
    const std::vector<nn::Prediction> predictions = classifier_->classify(w.texts);
    if (rows)
      for (const auto& p : predictions) rows->push_back(p.logits);
  }

 private:
  // The classifier's batch size is fixed at construction: a request with another one moves the
  // model (compiled session, plans and all) into a new classifier.
  void use_batch_size(std::size_t batch_size) {
    if (options_.batch_size == batch_size) return;
    options_.batch_size = batch_size;
    classifier_ = std::make_unique<nn::DistilBertClassifier>(
        classifier_->tokenizer(), std::move(classifier_->model()), options_, classifier_->name());
  }

  std::unique_ptr<nn::DistilBertClassifier> classifier_;
  nn::DistilBertClassifierOptions options_;
};

}  // namespace

int serve_distilbert_peer(const DistilBertPeerOptions& options, std::istream& in,
                          std::ostream& out) {
  std::optional<Peer> peer;
  try {
    peer.emplace(options);
    // Answer one input before saying ready, as the other peers do.
    json warm = {{"input_ids", {{101, 102}}}};
    auto w = peer->prepare(warm);
    peer->run(w, nullptr);
  } catch (const std::exception& e) {
    send(out, {{"ready", false}, {"error", e.what()}});
    return 1;
  }
  const BuildInfo& b = build_info();
  send(out,
       {{"ready", true},
        {"load_s", std::chrono::duration<double>(Clock::now() - options.process_start).count()},
        {"peer", "tensorgraph"},
        {"version", fmt::format("{} ({})", b.version, b.git_commit)},
        {"threads", peer->model().session().threads()},
        {"kernels", "cpu"},
        {"random_weights", peer->model().is_random()},
        {"inputs", {"ids", "text"}},
        {"env", peer_env()}});
  std::string line;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json reply;
    try {
      const json req = json::parse(line);
      const std::string op = req.value("op", "");
      if (op == "quit") break;
      if (op == "logits") {
        auto w = peer->prepare(req);
        json rows = json::array();
        peer->run(w, &rows);
        reply = {{"logits", rows}};
      } else if (op == "time") {
        auto w = peer->prepare(req);
        const std::int64_t warmup = req.value("warmup", std::int64_t{0});
        const std::int64_t iters = req.value("iters", std::int64_t{1});
        TG_CHECK(warmup >= 0 && iters >= 1, "time: warmup must be >= 0 and iters >= 1");
        for (std::int64_t i = 0; i < warmup; ++i) peer->run(w, nullptr);
        std::vector<double> times;
        times.reserve(static_cast<std::size_t>(iters));
        for (std::int64_t i = 0; i < iters; ++i) {
          const auto t0 = Clock::now();
          peer->run(w, nullptr);
          times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
        reply = {{"times_ms", times}};
      } else {
        reply = {{"error", fmt::format("unknown op '{}'", op)}};
      }
    } catch (const std::exception& e) {
      reply = {{"error", e.what()}};
    }
    send(out, reply);
  }
  return 0;
}

}  // namespace tensorgraph::bench
