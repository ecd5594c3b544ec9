#include "inprocess.hpp"

#include <sys/resource.h>

#include "tensorgraph/core/build_info.hpp"

namespace tensorgraph::bench {

using Clock = std::chrono::steady_clock;

double self_peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

InProcessImplementation::InProcessImplementation(const ImplementationConfig& config, int threads) {
  info_.name = config.name;
  info_.type = config.type;
  info_.description = config.description;
  info_.threads = threads;
  info_.version = fmt::format("{} ({})", build_info().version, build_info().git_commit);
  info_.rss_scope = "bench process";
}

void InProcessImplementation::start() {
  const auto t0 = Clock::now();
  load();
  info_.self_load_s = std::chrono::duration<double>(Clock::now() - t0).count();
}

Rows InProcessImplementation::outputs(const Case& c) {
  run(c);
  return result(c);
}

std::vector<double> InProcessImplementation::time(const Case& c, int warmup, int iterations) {
  for (int i = 0; i < warmup; ++i) run(c);
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(iterations));
  for (int i = 0; i < iterations; ++i) {
    const auto t0 = Clock::now();
    run(c);
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return times;
}

void InProcessImplementation::stop() {
  info_.peak_rss_mib = self_peak_rss_mib();
}

}  // namespace tensorgraph::bench
