#pragma once
// Our DistilBERT as a benchmark peer (`tensorgraph bench-peer distilbert`): the peer line
// protocol of peer.hpp over `in`/`out`, so that the engine is measured exactly like the PyTorch
// and ONNX Runtime peers (its own process, the same requests, cold start and peak RSS measured
// the same way). Inputs:
//   ids:  {"input_ids": [[...]], "attention_mask": [[...]]}    timed region: forward only
//   text: {"texts": [...], "batch_size": B}                     timed region:
//         DistilBertClassifier::classify of all the texts (tokenizer, batches of B texts of
//         similar length, forward, softmax): the path of `classify` and the HTTP service
// A request that fails gets {"error": ...} and the peer goes on.
#include <chrono>
#include <filesystem>
#include <istream>
#include <optional>
#include <ostream>

namespace tensorgraph::bench {

struct DistilBertPeerOptions {
  std::filesystem::path model_dir;
  int threads = 0;                        // 0: tensorgraph::num_threads()
  std::optional<std::size_t> max_length;  // texts: truncation (default: the model's positions)
  std::chrono::steady_clock::time_point process_start = std::chrono::steady_clock::now();
};

// Serves until {"op": "quit"} or the end of `in`. Returns 0, or 1 when the model could not be
// loaded (after answering {"ready": false, "error": ...}).
int serve_distilbert_peer(const DistilBertPeerOptions& options, std::istream& in,
                          std::ostream& out);

}  // namespace tensorgraph::bench
