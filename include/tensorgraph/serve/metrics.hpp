#pragma once
// The service's counters, gauges and histograms, rendered in the Prometheus text format for
// GET /metrics. Every update is a few relaxed atomic operations (HTTP threads and the inference
// thread update them concurrently); label sets are fixed (routes, status codes 100-599), so no
// request can grow them.
//
//   tensorgraph_requests_total{route,status}               counter
//   tensorgraph_request_duration_seconds{route}            histogram
//   tensorgraph_queue_duration_seconds                     histogram: per text, enqueue -> run
//   tensorgraph_inference_duration_seconds                 histogram: per forward pass
//   tensorgraph_batch_size                                 histogram: texts per forward pass
//   tensorgraph_inputs_total, tensorgraph_tokens_total     counters (texts, real tokens)
//   tensorgraph_padded_tokens_total                        counter: tokens computed, padding incl.
//   tensorgraph_tokens_per_second                          gauge: over the last 10 s
//   tensorgraph_queue_depth, tensorgraph_requests_in_flight gauges
//   tensorgraph_info{model,kind,version}                   1
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace tensorgraph::serve {

enum class Route { Predict, Tokenize, Health, Info, Metrics, Other };
inline constexpr std::size_t kRouteCount = 6;
std::string_view route_path(Route route);  // "/predict", ..., "other"
Route route_of(std::string_view path);

class Histogram {
 public:
  // Upper bounds of the buckets, increasing (a last +Inf bucket is implied).
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<std::uint64_t> cumulative;  // per bound, then +Inf (= count)
    std::uint64_t count = 0;
    double sum = 0;
  };
  Snapshot snapshot() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

class Metrics {
 public:
  Metrics();

  void request_done(Route route, int status, double seconds);
  void queue_wait(double seconds);
  // One forward pass: `texts` texts of `tokens` tokens in all, `padded_tokens` computed.
  void batch_done(std::size_t texts, std::size_t tokens, std::size_t padded_tokens, double seconds);
  void set_queue_depth(std::size_t texts) { queue_depth_.store(texts, std::memory_order_relaxed); }
  void add_in_flight(int delta) { in_flight_.fetch_add(delta, std::memory_order_relaxed); }

  // Labels of tensorgraph_info.
  void set_info(std::string model, std::string kind, std::string version);

  std::uint64_t requests(Route route, int status) const;
  std::size_t queue_depth() const { return queue_depth_.load(std::memory_order_relaxed); }
  int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  Histogram::Snapshot batch_sizes() const { return batch_size_.snapshot(); }
  double tokens_per_second() const;

  // The Prometheus text exposition (version 0.0.4).
  std::string render() const;

 private:
  static constexpr int kMinStatus = 100, kMaxStatus = 599;
  std::array<std::array<std::atomic<std::uint64_t>, kMaxStatus - kMinStatus + 1>, kRouteCount>
      requests_{};
  std::deque<Histogram> request_duration_;  // per route (a deque: Histogram cannot move)
  Histogram queue_duration_;
  Histogram inference_duration_;
  Histogram batch_size_;
  std::atomic<std::uint64_t> inputs_{0}, tokens_{0}, padded_tokens_{0};
  std::atomic<std::size_t> queue_depth_{0};
  std::atomic<int> in_flight_{0};

  // Tokens per second of wall clock, in a ring of one-second slots.
  struct Slot {
    std::int64_t second = -1;
    std::uint64_t tokens = 0;
  };
  mutable std::mutex rate_mutex_;
  std::array<Slot, 16> rate_{};
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();

  std::string info_model_, info_kind_, info_version_;
};

}  // namespace tensorgraph::serve
