// Statistics against values computed by hand (interpolated percentiles, sample std).
#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "tensorgraph/bench/statistics.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::bench {
namespace {

TEST(Statistics, FiveSamples) {
  // Sorted: 1 2 3 4 5. p95 at rank 4 * 0.95 = 3.8: 4 + 0.8 * (5 - 4) = 4.8. Sum of squared
  // deviations from 3: 4 + 1 + 0 + 1 + 4 = 10; sample variance 10 / 4 = 2.5.
  const std::vector<double> x{4, 1, 3, 2, 5};
  const Summary s = summarize(x);
  EXPECT_EQ(s.count, 5u);
  EXPECT_DOUBLE_EQ(s.mean, 3.0);
  EXPECT_DOUBLE_EQ(s.median, 3.0);
  EXPECT_DOUBLE_EQ(s.p50, 3.0);
  EXPECT_DOUBLE_EQ(s.p95, 4.8);
  EXPECT_DOUBLE_EQ(s.p99, 4.96);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 5.0);
  EXPECT_DOUBLE_EQ(s.stddev, std::sqrt(2.5));
  EXPECT_DOUBLE_EQ(s.cv, std::sqrt(2.5) / 3.0);
}

TEST(Statistics, TenSamplesInterpolate) {
  std::vector<double> x;
  for (int i = 10; i >= 1; --i) x.push_back(i);
  const Summary s = summarize(x);
  EXPECT_DOUBLE_EQ(s.median, 5.5);  // rank 4.5: between 5 and 6
  EXPECT_DOUBLE_EQ(s.p95, 9.55);    // rank 8.55: 9 + 0.55
  EXPECT_DOUBLE_EQ(s.p99, 9.91);    // rank 8.91
  EXPECT_DOUBLE_EQ(s.mean, 5.5);
  // Variance: sum of (i - 5.5)^2 for i = 1..10 is 82.5; / 9.
  EXPECT_DOUBLE_EQ(s.stddev, std::sqrt(82.5 / 9));
}

TEST(Statistics, EvenCountMedianAndPercentileBounds) {
  const std::vector<double> x{2, 1};
  EXPECT_DOUBLE_EQ(percentile(x, 50), 1.5);
  EXPECT_DOUBLE_EQ(percentile(x, 95), 1.95);
  EXPECT_DOUBLE_EQ(percentile(x, 0), 1.0);
  EXPECT_DOUBLE_EQ(percentile(x, 100), 2.0);
  EXPECT_THROW(percentile(x, 101), Error);
  EXPECT_THROW(percentile(x, -1), Error);
}

TEST(Statistics, OneSampleHasNoSpread) {
  const std::vector<double> x{7.25};
  const Summary s = summarize(x);
  EXPECT_DOUBLE_EQ(s.p99, 7.25);
  EXPECT_DOUBLE_EQ(s.stddev, 0.0);
  EXPECT_DOUBLE_EQ(s.cv, 0.0);
}

TEST(Statistics, RejectsEmptyAndNonFinite) {
  EXPECT_THROW(summarize(std::vector<double>{}), Error);
  EXPECT_THROW(summarize(std::vector<double>{1, NAN}), Error);
  EXPECT_THROW(summarize(std::vector<double>{1, INFINITY}), Error);
  EXPECT_THROW(percentile(std::vector<double>{}, 50), Error);
}

TEST(Statistics, Rate) {
  EXPECT_DOUBLE_EQ(rate({16, 1, "seq/s"}, 8.0), 2000.0);       // 16 per 8 ms
  EXPECT_DOUBLE_EQ(rate({3.5e6, 1e-6, "MB/s"}, 35.0), 100.0);  // 3.5 MB in 35 ms
  EXPECT_DOUBLE_EQ(rate({1, 1, "it/s"}, 0.0), 0.0);
}

}  // namespace
}  // namespace tensorgraph::bench
