#pragma once
// Summary statistics of timing samples.
//
// Percentiles are INTERPOLATED between closest ranks (the default of NumPy's `percentile`,
// Hyndman & Fan type 7): for sorted samples x[0..n-1], the p-th percentile sits at rank
// h = (n - 1) * p / 100 and is x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]).
// So p50 is the median, p0 the minimum and p100 the maximum; with few samples p99 lies between
// the two largest. The standard deviation is the sample one (divisor n - 1; 0 for one sample),
// CV = std / mean.
#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace tensorgraph::bench {

// The p-th percentile (0 <= p <= 100) of `sorted` (ascending, not empty), interpolated as above.
double percentile_sorted(std::span<const double> sorted, double p);
// The same on unsorted samples (copies and sorts).
double percentile(std::span<const double> samples, double p);

struct Summary {
  std::size_t count = 0;
  double mean = 0;
  double median = 0;  // == p50
  double p50 = 0;
  double p95 = 0;
  double p99 = 0;
  double min = 0;
  double max = 0;
  double stddev = 0;  // sample standard deviation (n - 1)
  double cv = 0;      // stddev / mean (0 when the mean is 0)
};

// Throws Error when `samples` is empty or holds a value that is not finite.
Summary summarize(std::span<const double> samples);

// How much work one timed iteration does, to turn times into a rate: `items` per iteration,
// shown as items * scale per second in `unit` (e.g. bytes, 1e-6, "MB/s").
struct Throughput {
  double items = 1;
  double scale = 1;
  std::string unit = "it/s";
};

// items * scale per second, for a time per iteration of `ms` milliseconds (0 when ms <= 0).
double rate(const Throughput& t, double ms);

}  // namespace tensorgraph::bench
