#pragma once
// Implementations that run inside the bench process (kernels, tokenizer, lexicon): the base
// class times `run()` with a steady clock, records the setup time as the load time and the
// bench process's peak RSS.
#include <chrono>
#include <map>
#include <string>

#include "tasks.hpp"

namespace tensorgraph::bench {

class InProcessImplementation : public Implementation {
 public:
  InProcessImplementation(const ImplementationConfig& config, int threads);

  std::string name() const override { return info_.name; }
  void start() override;
  bool supports(const Case&) const override { return true; }
  Rows outputs(const Case& c) override;
  std::vector<double> time(const Case& c, int warmup, int iterations) override;
  void stop() override;
  ImplementationInfo info() const override { return info_; }

 protected:
  // Prepares everything the cases need (compiles graphs, loads files): timed as the load time.
  virtual void load() {}
  // One timed run of the case.
  virtual void run(const Case& c) = 0;
  // The outputs of one run of the case.
  virtual Rows result(const Case& c) = 0;

  ImplementationInfo info_;
};

// The bench process's peak RSS so far (getrusage), in MiB.
double self_peak_rss_mib();

}  // namespace tensorgraph::bench
