#pragma once
// The tasks a benchmark config can name (private to the bench layer): each turns the config
// into cases and a factory of implementations for a thread count.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensorgraph/bench/bench.hpp"
#include "tensorgraph/bench/config.hpp"
#include "tensorgraph/bench/implementation.hpp"
#include "tensorgraph/bench/placeholders.hpp"
#include "tensorgraph/bench/report.hpp"
#include "tensorgraph/bench/runner.hpp"

namespace tensorgraph::bench {

struct TaskContext {
  const BenchConfig& config;
  Placeholders placeholders;  // the standard ones
  bool quick = false;
  std::vector<std::string> filters;
  std::function<void(const BenchProgress&)> on_progress;

  void progress(const std::string& phase, const std::string& detail) const {
    if (on_progress) on_progress({phase, detail, 0, 0, 0});
  }
  // Whether a timed case runs in this invocation (--quick, --filter).
  bool selected(const CaseConfig& c) const;
  const RunSettings& settings() const { return quick ? config.quick : config.run; }
};

using Implementations = std::vector<std::unique_ptr<Implementation>>;

struct TaskSetup {
  std::vector<Case> cases;
  std::function<Implementations(int threads)> make_implementations;
  // Checks against golden outputs before any run (may be empty).
  std::function<Gate()> gate;
  nlohmann::json inputs = nlohmann::json::object();
};

TaskSetup setup_distilbert(const TaskContext& context);
TaskSetup setup_elementwise(const TaskContext& context);
TaskSetup setup_linear(const TaskContext& context);
TaskSetup setup_tokenizer(const TaskContext& context);
TaskSetup setup_lexicon(const TaskContext& context);
TaskSetup setup_mlp_regression(const TaskContext& context);
TaskSetup setup_cnn_mnist(const TaskContext& context);

// ---- shared by the tasks ------------------------------------------------------------------------

// An implementation that is not available here: start() throws Unavailable(reason).
std::unique_ptr<Implementation> make_unavailable(const ImplementationConfig& config,
                                                 const std::string& reason, int threads);

// Peers: availability (the `available` command, run once per implementation and remembered)
// and the peer itself for given placeholders (threads, model...), after its prepare steps.
class PeerFactory {
 public:
  PeerFactory(const TaskContext& context) : context_(context) {}
  // Empty when available, else "skipped: not installed (...)".
  std::string unavailable_reason(const ImplementationConfig& config, const Placeholders& vars);
  std::unique_ptr<Implementation> make(const ImplementationConfig& config, Placeholders vars,
                                       int threads);

 private:
  const TaskContext& context_;
  std::map<std::string, std::string> availability_;
};

// Runs the prepare steps whose `creates` is missing or older than one of its inputs.
void run_prepare_steps(const ImplementationConfig& config, const Placeholders& vars,
                       const TaskContext& context);

// The case's seed (`seed` key, default 1) mixed with the case name, for reproducible inputs.
std::uint64_t case_seed(const CaseConfig& c);

}  // namespace tensorgraph::bench
