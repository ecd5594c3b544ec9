#pragma once
// What a benchmark measures: cases (one unit of work each, e.g. "DistilBERT forward on 16
// tokens") run by implementations (our engine, a PyTorch peer process, a plain loop...).
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensorgraph/bench/statistics.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::bench {

// Outputs compared by the correctness gate: one row of numbers per input (logits, token ids...).
using Rows = std::vector<std::vector<double>>;

struct Case {
  std::string name;   // "seq16"
  std::string label;  // "16 tokens"
  // The work, as peers receive it (merged into their "logits" and "time" requests, e.g.
  // {"input_ids": [[...]], "attention_mask": [[...]]}); in-process implementations read it too.
  nlohmann::json request = nlohmann::json::object();
  // The kind of input, which an implementation must support to run the case ("ids", "text"...).
  std::string input = "ids";
  Throughput throughput;
  bool timed = true;  // false: a correctness probe only
  // At most this many timed runs per block and rounds (heavy cases); the run settings apply
  // when they are smaller.
  std::optional<int> max_iterations;
  std::optional<int> max_repeat;
  // At most this many untimed warm-up runs, before the first block and at the start of every
  // block (a training case, whose one run is hundreds of steps, warms up inside the run).
  std::optional<int> max_warmup;
  std::optional<int> max_block_warmup;
  // Expected outputs (e.g. HuggingFace's logits); when absent, the reference implementation's
  // outputs on this case, or on `reference_case` when the reference cannot run this one (a text
  // case checked against the reference's outputs on the same texts' ids).
  std::optional<Rows> expected;
  std::string reference_case;
  double tolerance = 1e-4;  // max absolute difference of any output
  // Also compare the argmax of each row (labels), except where the expected row's top two
  // values differ by less than `label_tie` (a genuine tie may flip with rounding).
  bool compare_labels = false;
  double label_tie = 1e-5;
  std::vector<std::string> row_names;              // for messages, one per row when known
  nlohmann::json info = nlohmann::json::object();  // a small description for reports
};

struct ImplementationInfo {
  std::string name;
  std::string type;
  std::string description;
  std::string version;
  int threads = 0;
  nlohmann::json settings = nlohmann::json::object();  // environment, thread settings, command
  std::optional<double> cold_start_s;  // process start (or load) to the first answer
  std::optional<double> self_load_s;   // the same as the implementation itself reports it
  std::optional<double> peak_rss_mib;  // of its process
  std::string rss_scope;               // "peer process" or "bench process"
  std::string status = "ok";           // or "skipped: not installed (...)"
};

// An implementation that cannot run here (a peer that is not installed): the runner reports it
// as skipped instead of failing.
class Unavailable : public Error {
 public:
  using Error::Error;
};

class Implementation {
 public:
  virtual ~Implementation() = default;
  virtual std::string name() const = 0;
  // Loads and gets ready (spawns a peer, compiles a graph). Called once, first. May throw
  // Unavailable.
  virtual void start() = 0;
  // Whether this implementation can run `c` (c.input is one of its inputs).
  virtual bool supports(const Case& c) const = 0;
  // Outputs of one run of the case, for the correctness gate.
  virtual Rows outputs(const Case& c) = 0;
  // `warmup` untimed runs, then `iterations` timed runs; milliseconds of each timed run.
  virtual std::vector<double> time(const Case& c, int warmup, int iterations) = 0;
  // Releases what start() took (a peer quits; its peak RSS is known after this).
  virtual void stop() {}
  virtual ImplementationInfo info() const = 0;
};

}  // namespace tensorgraph::bench
