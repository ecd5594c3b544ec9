#include "tensorgraph/serve/batcher.hpp"

#include <algorithm>
#include <limits>
#include <numeric>

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::serve {

namespace {
constexpr std::chrono::milliseconds kAbandonPoll{50};
}  // namespace

struct Batcher::Job {
  std::vector<std::string> texts;
  std::vector<nn::Prediction> predictions;
  std::size_t remaining = 0;
  std::size_t batch_size = 0;
  double queue_seconds = 0;
  bool failed = false;
  std::string error;
  std::mutex mutex;
  std::condition_variable done;
};

Batcher::Batcher(ServedModel& model, BatcherOptions options, Metrics* metrics)
    : model_(model),
      options_(options),
      metrics_(metrics),
      group_by_length_(model.info().batch_overhead_tokens > 0) {
  TG_CHECK(options_.max_batch >= 1, "max batch must be at least 1");
  TG_CHECK(options_.max_queued_requests >= 1, "max queued requests must be at least 1");
  TG_CHECK(options_.max_wait.count() >= 0, "max wait must not be negative");
  thread_ = std::thread([this] { loop(); });
}

Batcher::~Batcher() {
  stop();
}

void Batcher::hurry() {
  {
    std::lock_guard lock(mutex_);
    hurry_ = true;
  }
  wake_.notify_all();
}

void Batcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Batcher::running() const {
  std::lock_guard lock(mutex_);
  return !stopping_ && !stopped_;
}

std::size_t Batcher::queued_texts() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

BatchResult Batcher::classify(std::vector<std::string> texts, std::vector<std::uint32_t> tokens,
                              const std::function<bool()>& abandoned) {
  TG_CHECK(texts.size() == tokens.size(), "{} texts with {} token counts", texts.size(),
           tokens.size());
  BatchResult result;
  if (texts.empty()) return result;
  Job job;
  job.remaining = texts.size();
  job.predictions.resize(texts.size());
  job.texts = std::move(texts);
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || stopped_)
      throw ApiError(503, ErrorType::Unhealthy, "the server is shutting down");
    if (queued_requests_ >= options_.max_queued_requests)
      throw ApiError(429, ErrorType::Overloaded, "Model is overloaded");
    ++queued_requests_;
    const auto now = Clock::now();
    for (std::size_t i = 0; i < job.texts.size(); ++i)
      pending_.push_back({&job, static_cast<std::uint32_t>(i), tokens[i], now});
    if (metrics_) metrics_->set_queue_depth(pending_.size());
  }
  wake_.notify_one();
  bool cancelled = false;
  {
    std::unique_lock lock(job.mutex);
    auto done = [&] { return job.remaining == 0; };
    if (!abandoned) {
      job.done.wait(lock, done);
    } else {
      while (!job.done.wait_for(lock, kAbandonPoll, done)) {
        if (!abandoned()) continue;
        // The client is gone: take its texts that are still queued out of the queue, then wait
        // for those already running (the inference thread holds pointers into `job`).
        lock.unlock();
        std::size_t removed = 0;
        {
          std::lock_guard queue_lock(mutex_);
          const auto end = std::remove_if(pending_.begin(), pending_.end(),
                                          [&](const Item& item) { return item.job == &job; });
          removed = static_cast<std::size_t>(pending_.end() - end);
          pending_.erase(end, pending_.end());
          if (metrics_) metrics_->set_queue_depth(pending_.size());
        }
        lock.lock();
        job.remaining -= removed;
        cancelled = true;
        job.done.wait(lock, done);
        break;
      }
    }
  }
  {
    std::lock_guard lock(mutex_);
    --queued_requests_;
  }
  if (cancelled)
    throw ApiError(499, ErrorType::Validation,
                   "the client closed the connection before the answer");
  if (job.failed) throw ApiError(424, ErrorType::Backend, "model error: " + job.error);
  result.predictions = std::move(job.predictions);
  result.batch_size = job.batch_size;
  result.queue_seconds = job.queue_seconds;
  return result;
}

void Batcher::loop() {
  std::vector<Item> batch;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) break;  // stopping, and everything ran
      if (!stopping_ && !hurry_ && pending_.size() < options_.max_batch) {
        const auto deadline = pending_.front().enqueued + options_.max_wait;
        wake_.wait_until(lock, deadline, [&] {
          return stopping_ || hurry_ || pending_.size() >= options_.max_batch;
        });
      }
      take_batch(batch);
      if (metrics_) metrics_->set_queue_depth(pending_.size());
    }
    run_batch(batch);
  }
  std::lock_guard lock(mutex_);
  stopped_ = true;
}

void Batcher::take_batch(std::vector<Item>& batch) {
  batch.clear();
  const std::size_t n = pending_.size();
  const std::size_t size = std::min(n, options_.max_batch);
  if (!group_by_length_ || n <= size) {
    batch.assign(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(size));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(size));
    return;
  }
  // The oldest text must go; among the oldest `m`, choose the window of `size` texts of similar
  // length (consecutive in length order) around it that wastes the least padding.
  const std::size_t m = std::min(n, 8 * size);
  std::vector<std::size_t> order(m);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return pending_[a].tokens < pending_[b].tokens;
  });
  std::vector<std::uint64_t> prefix(m + 1, 0);
  std::size_t oldest = 0;
  for (std::size_t k = 0; k < m; ++k) {
    prefix[k + 1] = prefix[k] + pending_[order[k]].tokens;
    if (order[k] == 0) oldest = k;
  }
  const std::size_t first = oldest + 1 >= size ? oldest + 1 - size : 0;
  const std::size_t last = std::min(oldest, m - size);
  std::size_t best = first;
  std::uint64_t best_waste = std::numeric_limits<std::uint64_t>::max();
  for (std::size_t s = first; s <= last; ++s) {
    const std::uint64_t longest = pending_[order[s + size - 1]].tokens;
    const std::uint64_t waste = longest * size - (prefix[s + size] - prefix[s]);
    if (waste < best_waste) {
      best_waste = waste;
      best = s;
    }
  }
  std::vector<char> taken(m, 0);
  for (std::size_t k = best; k < best + size; ++k) {
    taken[order[k]] = 1;
    batch.push_back(pending_[order[k]]);
  }
  std::deque<Item> rest;
  for (std::size_t i = 0; i < n; ++i)
    if (i >= m || !taken[i]) rest.push_back(pending_[i]);
  pending_.swap(rest);
}

void Batcher::run_batch(std::vector<Item>& batch) {
  if (batch.empty()) return;
  std::stable_sort(batch.begin(), batch.end(),
                   [](const Item& a, const Item& b) { return a.tokens < b.tokens; });
  const std::size_t n = batch.size();
  const double overhead = model_.info().batch_overhead_tokens;
  if (!group_by_length_ || n == 1) {
    run_group(batch.data(), n);
    return;
  }
  // cost[i] = least cost of running the i shortest texts: groups [j, i) cost one forward pass
  // (overhead) plus (i - j) x the longest of them.
  std::vector<double> cost(n + 1, 0);
  std::vector<std::size_t> cut(n + 1, 0);
  for (std::size_t i = 1; i <= n; ++i) {
    cost[i] = std::numeric_limits<double>::infinity();
    const double longest = batch[i - 1].tokens;
    for (std::size_t j = 0; j < i; ++j) {
      const double c = cost[j] + overhead + static_cast<double>(i - j) * longest;
      if (c < cost[i]) {
        cost[i] = c;
        cut[i] = j;
      }
    }
  }
  std::vector<std::pair<std::size_t, std::size_t>> groups;
  for (std::size_t i = n; i > 0; i = cut[i]) groups.emplace_back(cut[i], i);
  // Longest first: the shorter groups' texts waited less.
  for (const auto& [begin, end] : groups) run_group(batch.data() + begin, end - begin);
}

void Batcher::run_group(const Item* items, std::size_t count) {
  std::vector<std::string> texts(count);
  std::size_t tokens = 0, longest = 0;
  for (std::size_t k = 0; k < count; ++k) {
    texts[k] = std::move(items[k].job->texts[items[k].index]);
    tokens += items[k].tokens;
    longest = std::max<std::size_t>(longest, items[k].tokens);
  }
  const auto start = Clock::now();
  std::vector<nn::Prediction> predictions;
  std::string error;
  try {
    predictions = model_.predict(texts);
    if (predictions.size() != count)
      error = fmt::format("{} predictions for {} texts", predictions.size(), count);
  } catch (const std::exception& e) {
    error = e.what();
    if (error.empty()) error = "unknown error";
  } catch (...) {
    error = "unknown error";
  }
  const auto end = Clock::now();
  // Models that pad compute count x longest tokens; the others (lexicon) just their own.
  if (metrics_ && error.empty())
    metrics_->batch_done(count, tokens, group_by_length_ ? count * longest : tokens,
                         std::chrono::duration<double>(end - start).count());
  for (std::size_t k = 0; k < count; ++k) {
    const Item& item = items[k];
    const double waited = std::chrono::duration<double>(start - item.enqueued).count();
    if (metrics_) metrics_->queue_wait(waited);
    Job& job = *item.job;
    std::lock_guard lock(job.mutex);
    if (error.empty()) {
      job.predictions[item.index] = std::move(predictions[k]);
    } else if (!job.failed) {
      job.failed = true;
      job.error = error;
    }
    job.batch_size = std::max(job.batch_size, count);
    job.queue_seconds = std::max(job.queue_seconds, waited);
    if (--job.remaining == 0) job.done.notify_all();
  }
}

}  // namespace tensorgraph::serve
