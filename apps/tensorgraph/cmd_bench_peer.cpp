// `tensorgraph bench-peer distilbert`: our engine behind the benchmark peer protocol
// (bench/peer.hpp), so that `tensorgraph bench` measures it exactly like the PyTorch and ONNX
// Runtime peers.
#include <chrono>
#include <iostream>
#include <memory>

#include "command.hpp"
#include "tensorgraph/bench/distilbert_peer.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::cli {
namespace {

struct PeerArgs {
  std::string kind;
  std::string model;
  std::int64_t threads = 0;
  std::optional<std::int64_t> max_length;
};

const auto kProcessStart = std::chrono::steady_clock::now();

int run_peer(const PeerArgs& args) {
  TG_CHECK(args.kind == "distilbert", "unknown peer kind '{}' (kinds: distilbert)", args.kind);
  TG_CHECK(args.threads >= 0, "--threads must be >= 0, got {}", args.threads);
  bench::DistilBertPeerOptions o;
  o.model_dir = args.model;
  o.threads = static_cast<int>(args.threads);
  if (args.max_length) {
    TG_CHECK(*args.max_length >= 2, "--max-length must be >= 2, got {}", *args.max_length);
    o.max_length = static_cast<std::size_t>(*args.max_length);
  }
  o.process_start = kProcessStart;
  std::ios::sync_with_stdio(false);
  return bench::serve_distilbert_peer(o, std::cin, std::cout);
}

const Registrar kBenchPeer{
    {"bench-peer", "Serve a model over the benchmark peer protocol (used by `bench`)",
     [](Options& o) {
       auto args = std::make_shared<PeerArgs>();
       o.positional("kind", &args->kind, "What to serve: distilbert", true);
       o.option("--model", &args->model,
                "Model directory (config.json, model.safetensors, vocab.txt)");
       o.require("--model");
       o.option("--threads", &args->threads, "Threads (0: TG_NUM_THREADS, else every CPU)");
       o.option("--max-length", &args->max_length,
                "Truncate texts to N tokens (default: the model's positions)");
       o.footer(R"(
Reads one JSON request per line on stdin and answers one line on stdout: first
{"ready": true, ...}, then {"logits": ...} for {"op": "logits", "input_ids": ...} or
{"texts": ...}, {"times_ms": [...]} for {"op": "time", ..., "iters": K, "warmup": W}; stops at
{"op": "quit"}. See benchmarks/peers/distilbert_torch.py for the protocol.

Example:
  echo '{"op": "logits", "input_ids": [[101, 7592, 102]]}' |
    tensorgraph bench-peer distilbert --model ../shared/fixtures/distilbert-tiny --threads 1)");
       return [args] { return run_peer(*args); };
     }}};

}  // namespace
}  // namespace tensorgraph::cli
