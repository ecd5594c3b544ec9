#pragma once
// An implementation in another process, spoken to by the peer line protocol (one JSON object
// per line; benchmarks/peers/distilbert_torch.py documents it):
//   <- {"ready": true, "load_s": ..., "peer": NAME, "version": ..., "threads": N, "env": {...},
//       "inputs": ["ids", "text"]}         ("inputs" optional, default ["ids"])
//   <- {"ready": false, "error": "skipped: not installed (...)"}   -> Unavailable
//   -> {"op": "logits", ...case.request}                     <- {"logits": [[...], ...]}
//   -> {"op": "time", ...case.request, "warmup": W, "iters": K} <- {"times_ms": [...]}
//   -> {"op": "quit"}
// A reply {"error": "..."} fails the benchmark with the peer's message. The peer times its own
// forward passes (the same timed region in every peer); cold start is measured here, from the
// spawn to the ready line (the peers answer one input before they say ready), and peak RSS from
// wait4() after the peer quit.
#include <memory>
#include <string>
#include <vector>

#include "tensorgraph/bench/implementation.hpp"
#include "tensorgraph/bench/process.hpp"

namespace tensorgraph::bench {

struct PeerOptions {
  std::string name;
  std::string description;
  std::vector<std::string> command;
  ProcessOptions process;
  int threads = 0;                 // what the peer was asked for (reported)
  double startup_timeout_s = 300;  // spawn to ready
  double timeout_s = 600;          // any other answer
};

class PeerImplementation final : public Implementation {
 public:
  explicit PeerImplementation(PeerOptions options);
  ~PeerImplementation() override;

  std::string name() const override { return options_.name; }
  void start() override;
  bool supports(const Case& c) const override;
  Rows outputs(const Case& c) override;
  std::vector<double> time(const Case& c, int warmup, int iterations) override;
  void stop() override;
  ImplementationInfo info() const override { return info_; }

 private:
  nlohmann::json request(const nlohmann::json& message, double timeout_s);
  [[noreturn]] void peer_failed(const std::string& what);

  PeerOptions options_;
  std::unique_ptr<ChildProcess> child_;
  std::vector<std::string> inputs_{"ids"};
  ImplementationInfo info_;
};

}  // namespace tensorgraph::bench
