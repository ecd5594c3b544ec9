// Prometheus metrics: histogram buckets, counters by route and status, the text format.
#include "tensorgraph/serve/metrics.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

namespace tensorgraph::serve {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(ServeMetrics, HistogramBucketsAreCumulative) {
  Histogram h({1, 2, 4});
  for (double v : {0.5, 1.0, 1.5, 3.0, 4.0, 100.0}) h.observe(v);
  const auto s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<std::uint64_t>{2, 3, 5, 6}));  // le=1, 2, 4, +Inf
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 110.0);
}

TEST(ServeMetrics, RoutesAreAFixedSet) {
  EXPECT_EQ(route_of("/predict"), Route::Predict);
  EXPECT_EQ(route_of("/metrics"), Route::Metrics);
  EXPECT_EQ(route_of("/predict/"), Route::Other);
  EXPECT_EQ(route_of("/anything"), Route::Other);
  EXPECT_EQ(route_path(Route::Other), "other");
}

TEST(ServeMetrics, RendersThePrometheusTextFormat) {
  Metrics m;
  m.set_info("lexicon:mvp", "lexicon", "0.1.0");
  m.request_done(Route::Predict, 200, 0.003);
  m.request_done(Route::Predict, 200, 0.2);
  m.request_done(Route::Predict, 429, 0.0001);
  m.request_done(Route::Other, 404, 0.0001);
  m.request_done(Route::Other, 999, 0.0001);  // clamped to 599
  m.batch_done(3, 30, 45, 0.01);
  m.batch_done(1, 7, 7, 0.002);
  m.queue_wait(0.004);
  m.set_queue_depth(5);
  m.add_in_flight(2);
  EXPECT_EQ(m.requests(Route::Predict, 200), 2u);
  EXPECT_EQ(m.requests(Route::Other, 599), 1u);
  EXPECT_EQ(m.requests(Route::Health, 200), 0u);

  const std::string text = m.render();
  EXPECT_THAT(
      text,
      HasSubstr("tensorgraph_info{model=\"lexicon:mvp\",kind=\"lexicon\",version=\"0.1.0\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE tensorgraph_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_requests_total{route=\"/predict\",status=\"200\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_requests_total{route=\"/predict\",status=\"429\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_requests_total{route=\"other\",status=\"404\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("route=\"/health\"")));
  EXPECT_THAT(
      text,
      HasSubstr(
          "tensorgraph_request_duration_seconds_bucket{route=\"/predict\",le=\"0.005\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr("tensorgraph_request_duration_seconds_bucket{route=\"/predict\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("tensorgraph_request_duration_seconds_count{route=\"/predict\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE tensorgraph_batch_size histogram\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_batch_size_bucket{le=\"1\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_batch_size_bucket{le=\"2\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_batch_size_bucket{le=\"4\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_batch_size_sum 4\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_batch_size_count 2\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_inputs_total 4\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_tokens_total 37\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_padded_tokens_total 52\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_queue_duration_seconds_count 1\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_queue_depth 5\n"));
  EXPECT_THAT(text, HasSubstr("tensorgraph_requests_in_flight 2\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE tensorgraph_tokens_per_second gauge\n"));

  // Every line is a comment or `name{labels} value`.
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("# ", 0) == 0) continue;
    EXPECT_EQ(line.rfind("tensorgraph_", 0), 0u) << line;
    EXPECT_NE(line.find(' '), std::string::npos) << line;
  }
}

TEST(ServeMetrics, LabelValuesAreEscaped) {
  Metrics m;
  m.set_info("a\"b\\c\nd", "k", "v");
  EXPECT_THAT(m.render(), HasSubstr("model=\"a\\\"b\\\\c\\nd\""));
}

}  // namespace
}  // namespace tensorgraph::serve
