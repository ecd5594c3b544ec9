#include "tensorgraph/serve/metrics.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::serve {

std::string_view route_path(Route route) {
  switch (route) {
    case Route::Predict:
      return "/predict";
    case Route::Tokenize:
      return "/tokenize";
    case Route::Health:
      return "/health";
    case Route::Info:
      return "/info";
    case Route::Metrics:
      return "/metrics";
    case Route::Other:
      return "other";
  }
  return "other";
}

Route route_of(std::string_view path) {
  for (Route r : {Route::Predict, Route::Tokenize, Route::Health, Route::Info, Route::Metrics})
    if (path == route_path(r)) return r;
  return Route::Other;
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  TG_CHECK(std::is_sorted(bounds_.begin(), bounds_.end()), "histogram bounds must increase");
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double value) {
  const std::size_t i =
      static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                               bounds_.begin());  // first bound >= value: "le"
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = bounds_;
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(total);
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

namespace {

std::vector<double> latency_bounds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

void render_histogram(std::string& out, std::string_view name, std::string_view labels,
                      const Histogram::Snapshot& s) {
  auto it = std::back_inserter(out);
  const std::string sep = labels.empty() ? "" : ",";
  for (std::size_t i = 0; i < s.upper_bounds.size(); ++i)
    fmt::format_to(it, "{}_bucket{{{}{}le=\"{}\"}} {}\n", name, labels, sep, s.upper_bounds[i],
                   s.cumulative[i]);
  fmt::format_to(it, "{}_bucket{{{}{}le=\"+Inf\"}} {}\n", name, labels, sep, s.count);
  if (labels.empty()) {
    fmt::format_to(it, "{}_sum {}\n{}_count {}\n", name, s.sum, name, s.count);
  } else {
    fmt::format_to(it, "{}_sum{{{}}} {}\n{}_count{{{}}} {}\n", name, labels, s.sum, name, labels,
                   s.count);
  }
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

// Prometheus label values escape backslash, double quote and line feed.
std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

Metrics::Metrics()
    : queue_duration_(latency_bounds()),
      inference_duration_(latency_bounds()),
      batch_size_({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}) {
  for (std::size_t r = 0; r < kRouteCount; ++r) request_duration_.emplace_back(latency_bounds());
}

void Metrics::request_done(Route route, int status, double seconds) {
  status = std::clamp(status, kMinStatus, kMaxStatus);
  requests_[static_cast<std::size_t>(route)][static_cast<std::size_t>(status - kMinStatus)]
      .fetch_add(1, std::memory_order_relaxed);
  request_duration_[static_cast<std::size_t>(route)].observe(seconds);
}

std::uint64_t Metrics::requests(Route route, int status) const {
  if (status < kMinStatus || status > kMaxStatus) return 0;
  return requests_[static_cast<std::size_t>(route)][static_cast<std::size_t>(status - kMinStatus)]
      .load(std::memory_order_relaxed);
}

void Metrics::queue_wait(double seconds) {
  queue_duration_.observe(seconds);
}

void Metrics::batch_done(std::size_t texts, std::size_t tokens, std::size_t padded_tokens,
                         double seconds) {
  batch_size_.observe(static_cast<double>(texts));
  inference_duration_.observe(seconds);
  inputs_.fetch_add(texts, std::memory_order_relaxed);
  tokens_.fetch_add(tokens, std::memory_order_relaxed);
  padded_tokens_.fetch_add(padded_tokens, std::memory_order_relaxed);
  const auto second =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start_)
          .count();
  std::lock_guard lock(rate_mutex_);
  Slot& slot = rate_[static_cast<std::size_t>(second) % rate_.size()];
  if (slot.second != second) slot = {second, 0};
  slot.tokens += tokens;
}

double Metrics::tokens_per_second() const {
  constexpr std::int64_t kWindow = 10;
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start_)
          .count();
  std::uint64_t total = 0;
  {
    std::lock_guard lock(rate_mutex_);
    for (const Slot& s : rate_)
      if (s.second >= now - kWindow && s.second < now) total += s.tokens;
  }
  // The full seconds before this one; fewer while the service is younger than the window.
  const std::int64_t seconds = std::clamp<std::int64_t>(now, 1, kWindow);
  return static_cast<double>(total) / static_cast<double>(seconds);
}

void Metrics::set_info(std::string model, std::string kind, std::string version) {
  info_model_ = std::move(model);
  info_kind_ = std::move(kind);
  info_version_ = std::move(version);
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(16384);
  auto it = std::back_inserter(out);

  header(out, "tensorgraph_info", "gauge", "The model served and the version of tensorgraph.");
  fmt::format_to(it, "tensorgraph_info{{model=\"{}\",kind=\"{}\",version=\"{}\"}} 1\n",
                 label_value(info_model_), label_value(info_kind_), label_value(info_version_));

  header(out, "tensorgraph_requests_total", "counter",
         "HTTP requests answered, by route and status code.");
  for (std::size_t r = 0; r < kRouteCount; ++r)
    for (std::size_t s = 0; s < requests_[r].size(); ++s)
      if (const auto n = requests_[r][s].load(std::memory_order_relaxed))
        fmt::format_to(it, "tensorgraph_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                       route_path(static_cast<Route>(r)), s + kMinStatus, n);

  header(out, "tensorgraph_request_duration_seconds", "histogram",
         "Time from the request's headers to the end of its response.");
  for (std::size_t r = 0; r < kRouteCount; ++r) {
    const auto snap = request_duration_[r].snapshot();
    if (snap.count == 0) continue;
    render_histogram(out, "tensorgraph_request_duration_seconds",
                     fmt::format("route=\"{}\"", route_path(static_cast<Route>(r))), snap);
  }

  header(out, "tensorgraph_queue_duration_seconds", "histogram",
         "Time a text waited in the batching queue.");
  render_histogram(out, "tensorgraph_queue_duration_seconds", "", queue_duration_.snapshot());
  header(out, "tensorgraph_inference_duration_seconds", "histogram",
         "Time of one forward pass (one batch).");
  render_histogram(out, "tensorgraph_inference_duration_seconds", "",
                   inference_duration_.snapshot());
  header(out, "tensorgraph_batch_size", "histogram", "Texts per forward pass.");
  render_histogram(out, "tensorgraph_batch_size", "", batch_size_.snapshot());

  header(out, "tensorgraph_inputs_total", "counter", "Texts classified.");
  fmt::format_to(it, "tensorgraph_inputs_total {}\n", inputs_.load(std::memory_order_relaxed));
  header(out, "tensorgraph_tokens_total", "counter", "Tokens of the texts classified.");
  fmt::format_to(it, "tensorgraph_tokens_total {}\n", tokens_.load(std::memory_order_relaxed));
  header(out, "tensorgraph_padded_tokens_total", "counter",
         "Tokens computed, padding included (batch size x longest text, per forward pass).");
  fmt::format_to(it, "tensorgraph_padded_tokens_total {}\n",
                 padded_tokens_.load(std::memory_order_relaxed));
  header(out, "tensorgraph_tokens_per_second", "gauge",
         "Tokens classified per second over the last 10 seconds.");
  fmt::format_to(it, "tensorgraph_tokens_per_second {}\n", tokens_per_second());
  header(out, "tensorgraph_queue_depth", "gauge", "Texts waiting for the inference thread.");
  fmt::format_to(it, "tensorgraph_queue_depth {}\n", queue_depth_.load(std::memory_order_relaxed));
  header(out, "tensorgraph_requests_in_flight", "gauge",
         "Requests being read, queued, classified or answered.");
  fmt::format_to(it, "tensorgraph_requests_in_flight {}\n",
                 in_flight_.load(std::memory_order_relaxed));
  return out;
}

}  // namespace tensorgraph::serve
