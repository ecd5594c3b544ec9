#include "tensorgraph/bench/statistics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::bench {

double percentile_sorted(std::span<const double> sorted, double p) {
  TG_CHECK(!sorted.empty(), "percentile of no samples");
  TG_CHECK(p >= 0 && p <= 100, "percentile {} is outside [0, 100]", p);
  const double h = static_cast<double>(sorted.size() - 1) * p / 100.0;
  const auto lo = static_cast<std::size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) return sorted.back();
  return sorted[lo] + (h - static_cast<double>(lo)) * (sorted[lo + 1] - sorted[lo]);
}

double percentile(std::span<const double> samples, double p) {
  std::vector<double> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  return percentile_sorted(sorted, p);
}

Summary summarize(std::span<const double> samples) {
  TG_CHECK(!samples.empty(), "no timing samples to summarize");
  for (double x : samples) TG_CHECK(std::isfinite(x), "timing sample {} is not finite", x);
  std::vector<double> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  Summary s;
  s.count = sorted.size();
  const double n = static_cast<double>(s.count);
  s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / n;
  double squares = 0;
  for (double x : sorted) squares += (x - s.mean) * (x - s.mean);
  s.stddev = s.count > 1 ? std::sqrt(squares / (n - 1)) : 0.0;
  s.cv = s.mean != 0 ? s.stddev / s.mean : 0.0;
  s.min = sorted.front();
  s.max = sorted.back();
  s.p50 = s.median = percentile_sorted(sorted, 50);
  s.p95 = percentile_sorted(sorted, 95);
  s.p99 = percentile_sorted(sorted, 99);
  return s;
}

double rate(const Throughput& t, double ms) {
  if (!(ms > 0)) return 0;
  return t.items * t.scale / (ms / 1000.0);
}

}  // namespace tensorgraph::bench
