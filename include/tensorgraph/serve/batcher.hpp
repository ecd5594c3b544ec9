#pragma once
// Dynamic batching: HTTP threads hand their texts to the Batcher and wait; ONE inference thread
// owns the model and runs the queued texts together.
//
// The inference thread takes a batch when `max_batch` texts are waiting or when the oldest has
// waited `max_wait`, whichever comes first (at once when stopping). With more texts waiting than
// fit, it takes the oldest text and the max_batch - 1 others closest to it in token count (among
// the 8 x max_batch oldest), so that texts of similar length run together; then it splits the
// batch into groups where the padding saved is worth more than one more forward pass
// (ModelInfo::batch_overhead_tokens; an exact dynamic programme over the texts sorted by length).
// A text's result does not depend on the texts it runs with (up to float rounding of padded
// matrix products), so each answer is what the text gets alone.
//
// The queue is bounded in requests: beyond `max_queued_requests` waiting or running requests,
// classify() refuses with 429 Overloaded at once.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tensorgraph/nn/classifier.hpp"
#include "tensorgraph/serve/metrics.hpp"
#include "tensorgraph/serve/model.hpp"

namespace tensorgraph::serve {

struct BatcherOptions {
  std::size_t max_batch = 32;
  std::chrono::microseconds max_wait{5000};
  std::size_t max_queued_requests = 128;
};

struct BatchResult {
  std::vector<nn::Prediction> predictions;  // one per text, in order
  std::size_t batch_size = 0;               // the largest forward pass the texts were part of
  double queue_seconds = 0;                 // the longest wait of its texts
};

class Batcher {
 public:
  // Starts the inference thread. `model` and `metrics` must outlive the Batcher.
  Batcher(ServedModel& model, BatcherOptions options, Metrics* metrics = nullptr);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Classifies `texts` (`tokens[i]` = token count of texts[i], for grouping) and blocks until
  // done. Throws ApiError: 429 Overloaded when the queue is full, 503 Unhealthy once stopped,
  // 424 Backend when the model failed on a batch holding one of the texts. While it waits,
  // `abandoned` (if given) is asked every 50 ms whether the client is gone: then its texts not
  // yet running leave the queue and classify throws 499 (nobody would read the answer).
  BatchResult classify(std::vector<std::string> texts, std::vector<std::uint32_t> tokens,
                       const std::function<bool()>& abandoned = {});

  // From now on, batches run as soon as the inference thread is free, without waiting for
  // max_wait (shutdown: the requests in flight should finish quickly). Texts are still accepted.
  void hurry();
  // Runs everything queued, then ends the inference thread. Idempotent.
  void stop();
  bool running() const;
  std::size_t queued_texts() const;
  const BatcherOptions& options() const { return options_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Job;
  struct Item {
    Job* job = nullptr;
    std::uint32_t index = 0;
    std::uint32_t tokens = 0;
    Clock::time_point enqueued;
  };

  void loop();
  void take_batch(std::vector<Item>& batch);  // with mutex_ held
  void run_batch(std::vector<Item>& batch);
  void run_group(const Item* items, std::size_t count);

  ServedModel& model_;
  BatcherOptions options_;
  Metrics* metrics_;
  bool group_by_length_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> pending_;
  std::size_t queued_requests_ = 0;
  bool hurry_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace tensorgraph::serve
