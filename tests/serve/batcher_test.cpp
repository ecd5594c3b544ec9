// Dynamic batching: answers equal to the text alone, batch limits, grouping by length, the
// bounded queue, model failures, draining at stop. The fake model's gate holds the inference
// thread so that the queue's content is known when it takes the next batch.
#include "tensorgraph/serve/batcher.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "fake_model.hpp"

namespace tensorgraph::serve {
namespace {

using ::testing::ElementsAre;
using testing::FakeModel;
using ::testing::UnorderedElementsAre;

BatcherOptions options(std::size_t max_batch, int max_wait_ms = 0, std::size_t max_queued = 64) {
  BatcherOptions o;
  o.max_batch = max_batch;
  o.max_wait = std::chrono::milliseconds(max_wait_ms);
  o.max_queued_requests = max_queued;
  return o;
}

std::vector<std::uint32_t> tokens_of(const std::vector<std::string>& texts) {
  std::vector<std::uint32_t> t;
  for (const auto& s : texts) t.push_back(static_cast<std::uint32_t>(s.size() + 2));
  return t;
}

void expect_same(const nn::Prediction& a, const nn::Prediction& b) {
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.score, b.score);
  EXPECT_EQ(a.logits, b.logits);
  EXPECT_EQ(a.probabilities, b.probabilities);
}

// Waits until `n` texts are queued (the inference thread is held at the gate meanwhile).
void wait_queued(const Batcher& b, std::size_t n) {
  for (int i = 0; i < 5000 && b.queued_texts() < n; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(b.queued_texts(), n);
}

// Starts a request that first holds the inference thread at the gate (`texts` texts: as many
// as max_batch when the batcher would otherwise wait for more).
std::future<BatchResult> hold(Batcher& b, FakeModel& model, std::size_t texts = 1) {
  model.close_gate();
  auto f = std::async(std::launch::async, [&b, texts] {
    return b.classify(std::vector<std::string>(texts, "gate"),
                      std::vector<std::uint32_t>(texts, 6));
  });
  EXPECT_TRUE(model.wait_at_gate());
  return f;
}

TEST(ServeBatcher, AnswersInOrderEqualToTheTextAlone) {
  FakeModel model;
  Batcher batcher(model, options(8));
  const std::vector<std::string> texts{"great", "awful", "", "fine, I guess", "great"};
  const BatchResult r = batcher.classify(texts, tokens_of(texts));
  ASSERT_EQ(r.predictions.size(), texts.size());
  for (std::size_t i = 0; i < texts.size(); ++i)
    expect_same(r.predictions[i], FakeModel::expected(texts[i]));
  EXPECT_EQ(r.batch_size, texts.size());
  EXPECT_TRUE(batcher.classify({}, {}).predictions.empty());
}

TEST(ServeBatcher, ConcurrentRequestsRunTogetherUpToMaxBatch) {
  FakeModel model;
  Metrics metrics;
  Batcher batcher(model, options(4), &metrics);
  auto held = hold(batcher, model);
  std::vector<std::future<BatchResult>> results;
  for (int i = 0; i < 10; ++i) {
    results.push_back(std::async(std::launch::async, [&batcher, i] {
      const std::string text = "text " + std::to_string(i);
      return batcher.classify({text}, {7});
    }));
  }
  wait_queued(batcher, 10);
  model.open_gate();
  held.get();
  for (int i = 0; i < 10; ++i) {
    const BatchResult r = results[static_cast<std::size_t>(i)].get();
    ASSERT_EQ(r.predictions.size(), 1u);
    expect_same(r.predictions[0], FakeModel::expected("text " + std::to_string(i)));
  }
  // The gate's batch, then the 10 queued texts in batches of 4, 4, 2, oldest first.
  const auto batches = model.batches();
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches[1].size(), 4u);
  EXPECT_EQ(batches[2].size(), 4u);
  EXPECT_EQ(batches[3].size(), 2u);
  const auto sizes = metrics.batch_sizes();
  EXPECT_EQ(sizes.count, 4u);
  EXPECT_EQ(sizes.sum, 11.0);
}

TEST(ServeBatcher, ARequestLargerThanTheBatchIsSplit) {
  FakeModel model;
  Batcher batcher(model, options(3));
  std::vector<std::string> texts;
  for (int i = 0; i < 7; ++i) texts.push_back(std::string(static_cast<std::size_t>(i), 'x'));
  const BatchResult r = batcher.classify(texts, tokens_of(texts));
  for (std::size_t i = 0; i < texts.size(); ++i)
    expect_same(r.predictions[i], FakeModel::expected(texts[i]));
  for (const auto& b : model.batches()) EXPECT_LE(b.size(), 3u);
  EXPECT_EQ(r.batch_size, 3u);
}

TEST(ServeBatcher, SplitsABatchWhereThePaddingSavedIsWorthAPass) {
  FakeModel model(/*batch_overhead_tokens=*/4);
  Batcher batcher(model, options(8));
  auto held = hold(batcher, model);
  std::vector<std::future<BatchResult>> results;
  // Lengths 3, 100, 3, 100, 3, 100 (tokens): as one batch 6 x 100 = 600 padded tokens; as two
  // groups 3 x 3 + 3 x 100 + one more pass (4) = 313.
  const std::vector<std::string> texts{"a", std::string(98, 'b'), "c", std::string(98, 'd'),
                                       "e", std::string(98, 'f')};
  for (const auto& t : texts)
    results.push_back(std::async(std::launch::async, [&batcher, t] {
      return batcher.classify({t}, {static_cast<std::uint32_t>(t.size() + 2)});
    }));
  wait_queued(batcher, texts.size());
  model.open_gate();
  held.get();
  for (std::size_t i = 0; i < texts.size(); ++i)
    expect_same(results[i].get().predictions[0], FakeModel::expected(texts[i]));
  const auto batches = model.batches();
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_THAT(batches[1], UnorderedElementsAre(std::string(98, 'b'), std::string(98, 'd'),
                                               std::string(98, 'f')));
  EXPECT_THAT(batches[2], UnorderedElementsAre("a", "c", "e"));
}

TEST(ServeBatcher, SimilarLengthsGoTogetherUnderLoad) {
  FakeModel model(/*batch_overhead_tokens=*/1000);  // never split a batch
  Batcher batcher(model, options(3));
  auto held = hold(batcher, model);
  // Queued in this order (token counts): 50 (the oldest), 1, 2, 3, 49, 51, 48.
  const std::vector<std::uint32_t> lengths{50, 1, 2, 3, 49, 51, 48};
  std::vector<std::future<BatchResult>> results;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    const std::string text = "len " + std::to_string(lengths[i]);
    const std::uint32_t n = lengths[i];
    results.push_back(std::async(std::launch::async,
                                 [&batcher, text, n] { return batcher.classify({text}, {n}); }));
    wait_queued(batcher, i + 1);  // keep the arrival order
  }
  model.open_gate();
  held.get();
  for (auto& f : results) f.get();
  const auto batches = model.batches();
  ASSERT_EQ(batches.size(), 4u);
  // The oldest (50) with its closest neighbours, then the oldest left (1) with its own.
  EXPECT_THAT(batches[1], ElementsAre("len 48", "len 49", "len 50"));
  EXPECT_THAT(batches[2], ElementsAre("len 1", "len 2", "len 3"));
  EXPECT_THAT(batches[3], ElementsAre("len 51"));
}

TEST(ServeBatcher, WaitsForMaxWaitToFillABatch) {
  FakeModel model;
  Batcher batcher(model, options(64, /*max_wait_ms=*/60000));
  // Nothing runs until the batch is full (max_wait is a minute): 64 texts in two requests.
  std::vector<std::string> a(40, "x"), b(24, "y");
  auto first = std::async(std::launch::async, [&] { return batcher.classify(a, tokens_of(a)); });
  wait_queued(batcher, 40);
  EXPECT_TRUE(model.batches().empty());
  const BatchResult second = batcher.classify(b, tokens_of(b));
  EXPECT_EQ(first.get().batch_size, 64u);
  EXPECT_EQ(second.batch_size, 64u);
  ASSERT_EQ(model.batches().size(), 1u);
}

TEST(ServeBatcher, HurryRunsWithoutWaiting) {
  FakeModel model;
  Batcher batcher(model, options(64, /*max_wait_ms=*/60000));
  auto f = std::async(std::launch::async, [&] { return batcher.classify({"x"}, {3}); });
  wait_queued(batcher, 1);
  batcher.hurry();
  EXPECT_EQ(f.get().predictions.size(), 1u);
  EXPECT_TRUE(batcher.running());
}

TEST(ServeBatcher, FullQueueIsOverloaded) {
  FakeModel model;
  Batcher batcher(model, options(8, 0, /*max_queued=*/2));
  auto held = hold(batcher, model);  // one request running
  auto queued = std::async(std::launch::async, [&] { return batcher.classify({"q"}, {3}); });
  wait_queued(batcher, 1);
  try {
    batcher.classify({"refused"}, {9});
    FAIL() << "accepted a third request";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 429);
    EXPECT_EQ(e.type(), ErrorType::Overloaded);
  }
  model.open_gate();
  held.get();
  queued.get();
  EXPECT_EQ(batcher.classify({"again"}, {7}).predictions.size(), 1u);  // room again
}

TEST(ServeBatcher, AModelFailureFailsOnlyItsBatch) {
  FakeModel model;
  Batcher batcher(model, options(8));
  try {
    batcher.classify({"FAIL"}, {6});
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 424);
    EXPECT_EQ(e.type(), ErrorType::Backend);
    EXPECT_STREQ(e.what(), "model error: the fake model fails on FAIL");
  }
  expect_same(batcher.classify({"ok"}, {4}).predictions[0], FakeModel::expected("ok"));
}

TEST(ServeBatcher, StopFinishesWhatIsQueuedThenRefuses) {
  FakeModel model;
  Batcher batcher(model, options(2, /*max_wait_ms=*/60000));
  auto held = hold(batcher, model, 2);
  std::vector<std::future<BatchResult>> results;
  // Five texts that would wait a minute for batch-mates: stop() runs them at once.
  for (int i = 0; i < 5; ++i)
    results.push_back(std::async(std::launch::async, [&batcher, i] {
      return batcher.classify({"t" + std::to_string(i)}, {4});
    }));
  wait_queued(batcher, 5);
  auto stopped = std::async(std::launch::async, [&] { batcher.stop(); });
  model.open_gate();
  stopped.get();
  held.get();
  for (int i = 0; i < 5; ++i)
    expect_same(results[static_cast<std::size_t>(i)].get().predictions[0],
                FakeModel::expected("t" + std::to_string(i)));
  EXPECT_FALSE(batcher.running());
  try {
    batcher.classify({"late"}, {6});
    FAIL() << "accepted after stop";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 503);
  }
}

TEST(ServeBatcher, AnAbandonedRequestLeavesTheQueue) {
  FakeModel model;
  Batcher batcher(model, options(8));
  auto held = hold(batcher, model);
  std::atomic<bool> gone{false};
  auto abandoned = std::async(std::launch::async, [&] {
    try {
      batcher.classify({"a", "b", "c"}, {3, 3, 3}, [&] { return gone.load(); });
    } catch (const ApiError& e) {
      return e.status();
    }
    return 200;
  });
  auto kept = std::async(std::launch::async, [&] { return batcher.classify({"kept"}, {6}); });
  wait_queued(batcher, 4);
  gone = true;
  EXPECT_EQ(abandoned.get(), 499);
  EXPECT_EQ(batcher.queued_texts(), 1u);  // only "kept" is left
  model.open_gate();
  held.get();
  expect_same(kept.get().predictions[0], FakeModel::expected("kept"));
  const auto batches = model.batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_THAT(batches[1], ElementsAre("kept"));
}

TEST(ServeBatcher, RejectsBadOptions) {
  FakeModel model;
  EXPECT_THROW(Batcher(model, options(0)), Error);
  EXPECT_THROW(Batcher(model, options(1, 0, 0)), Error);
}

}  // namespace
}  // namespace tensorgraph::serve
