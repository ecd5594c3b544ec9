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

#if __has_include("tensorgraph/nn/distilbert.hpp")
#include "tensorgraph/nn/distilbert.hpp"
#define TG_HAVE_DISTILBERT 1
#else
#define TG_HAVE_DISTILBERT 0
#endif

namespace tensorgraph::bench {

bool distilbert_peer_available() {
  return TG_HAVE_DISTILBERT != 0;
}

namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

void send(std::ostream& out, const json& j) {
  out << j.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  out.flush();
}

json peer_env() {
  json env = json::object();
  for (const char* key : {"TG_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT",
                          "OMP_PROC_BIND", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"})
    if (const char* v = std::getenv(key)) env[key] = v;
  return env;
}

#if TG_HAVE_DISTILBERT

// Ids of a request as an i64 [batch, seq] tensor (rows of equal length).
Tensor ids_tensor(const json& rows, const char* what) {
  TG_CHECK(rows.is_array() && !rows.empty(), "{}: expected a non-empty array of rows", what);
  const std::size_t batch = rows.size();
  const std::size_t seq = rows[0].is_array() ? rows[0].size() : 0;
  TG_CHECK(seq > 0, "{}: rows must be non-empty arrays", what);
  Tensor t = Tensor::empty(DType::I64, {static_cast<std::int64_t>(batch), static_cast<std::int64_t>(seq)});
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

class Peer {
 public:
  Peer(const DistilBertPeerOptions& options)
      : model_(nn::DistilBertModel::load(options.model_dir, make_options(options))),
        tokenizer_(text::BertTokenizer::from_directory(options.model_dir)),
        max_length_(options.max_length.value_or(
            static_cast<std::size_t>(model_.config().max_position_embeddings))) {}

  static nn::DistilBertOptions make_options(const DistilBertPeerOptions& options) {
    nn::DistilBertOptions o;
    o.threads = options.threads;
    return o;
  }

  nn::DistilBertModel& model() { return model_; }

  // Work of one request, prepared outside the timed region.
  struct Work {
    Tensor ids, mask, logits;       // ids input
    std::vector<std::string> texts;  // text input
    std::size_t batch_size = 32;
  };

  Work prepare(const json& req) {
    Work w;
    if (req.contains("texts")) {
      TG_CHECK(req["texts"].is_array() && !req["texts"].empty(), "texts: expected a non-empty array");
      for (const auto& t : req["texts"]) {
        TG_CHECK(t.is_string(), "texts: expected strings");
        w.texts.push_back(t.get<std::string>());
      }
      const std::int64_t b = req.value("batch_size", std::int64_t{32});
      TG_CHECK(b >= 1, "batch_size must be >= 1");
      w.batch_size = static_cast<std::size_t>(b);
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
    w.logits = Tensor::empty(DType::F32, {w.ids.shape()[0], model_.config().num_labels()});
    return w;
  }

  // One run of the work; with `rows`, also the logits.
  void run(Work& w, json* rows) {
    if (w.texts.empty()) {
      model_.forward_into(w.ids, w.mask, w.logits);
      if (rows) *rows = logits_rows(w.logits);
      return;
    }
    const std::span<const std::string> all(w.texts);
    for (std::size_t begin = 0; begin < all.size(); begin += w.batch_size) {
      const auto chunk = all.subspan(begin, std::min(w.batch_size, all.size() - begin));
      const text::BatchEncoding enc = tokenizer_.encode_batch(chunk, max_length_);
      Tensor logits = model_.forward(enc.input_ids, enc.attention_mask);
      // Probabilities, as a classifier answers them.
      const std::int64_t n = logits.shape()[0], k = logits.shape()[1];
      const float* p = logits.data<float>();
      for (std::int64_t i = 0; i < n; ++i) {
        const float m = *std::max_element(p + i * k, p + (i + 1) * k);
        float sum = 0;
        for (std::int64_t j = 0; j < k; ++j) sum += std::exp(p[i * k + j] - m);
        probabilities_sink_ += 1.0f / sum;
      }
      if (rows)
        for (auto& row : logits_rows(logits)) rows->push_back(row);
    }
  }

 private:
  nn::DistilBertModel model_;
  text::BertTokenizer tokenizer_;
  std::size_t max_length_;
  float probabilities_sink_ = 0;
};

#endif

}  // namespace

int serve_distilbert_peer(const DistilBertPeerOptions& options, std::istream& in,
                          std::ostream& out) {
#if !TG_HAVE_DISTILBERT
  (void)in;
  send(out, {{"ready", false},
             {"error", "this build has no DistilBERT model (nn/distilbert.hpp, issue 7)"}});
  (void)options;
  return 1;
#else
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
  send(out, {{"ready", true},
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
#endif
}

}  // namespace tensorgraph::bench
