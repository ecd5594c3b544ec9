#pragma once
// A ServedModel for the batcher and server tests: its logits are a function of the text alone
// (so a text's answer cannot depend on its batch), it records every forward pass, can hold the
// inference thread at a gate, and fails on the text "FAIL".
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/serve/model.hpp"

namespace tensorgraph::testing {

class FakeModel final : public serve::ServedModel {
 public:
  explicit FakeModel(double batch_overhead_tokens = 0, std::size_t max_input_length = 0) {
    info_.model_id = "fake";
    info_.kind = "fake";
    info_.description = "a test double";
    info_.labels = {"NEGATIVE", "POSITIVE"};
    info_.batch_overhead_tokens = batch_overhead_tokens;
    info_.max_input_length = max_input_length;
  }

  const serve::ModelInfo& info() const override { return info_; }

  // One token per byte, plus 2 (as [CLS] and [SEP]).
  serve::TokenCount count_tokens(std::string_view text, std::size_t limit) const override {
    const std::size_t n = text.size() + 2;
    if (limit && n > limit) return {limit, true};
    return {n, false};
  }
  std::vector<serve::ApiToken> tokenize(std::string_view text, bool) const override {
    std::vector<serve::ApiToken> tokens;
    for (char c : text)
      tokens.push_back({static_cast<unsigned char>(c), std::string(1, c), false, {}, {}});
    return tokens;
  }

  static nn::Prediction expected(const std::string& text) {
    nn::Prediction p;
    const float s = static_cast<float>(std::hash<std::string>{}(text) % 1000) / 250.0f - 2.0f;
    p.logits = {-s, s};
    nn::finish_prediction(p, {"NEGATIVE", "POSITIVE"});
    return p;
  }

  std::vector<nn::Prediction> predict(std::span<const std::string> texts) override {
    {
      std::unique_lock lock(mutex_);
      batches_.emplace_back(texts.begin(), texts.end());
      if (gate_closed_) {
        waiting_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return !gate_closed_; });
        waiting_ = false;
      }
    }
    std::vector<nn::Prediction> out;
    for (const auto& t : texts) {
      if (t == "FAIL") throw Error("the fake model fails on FAIL");
      out.push_back(expected(t));
    }
    return out;
  }

  // Holds the next forward passes at the gate until open_gate().
  void close_gate() {
    std::lock_guard lock(mutex_);
    gate_closed_ = true;
  }
  void open_gate() {
    {
      std::lock_guard lock(mutex_);
      gate_closed_ = false;
    }
    changed_.notify_all();
  }
  // Waits until a forward pass is held at the gate.
  bool wait_at_gate(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return waiting_; });
  }
  std::vector<std::vector<std::string>> batches() const {
    std::lock_guard lock(mutex_);
    return batches_;
  }

 private:
  serve::ModelInfo info_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool gate_closed_ = false;
  bool waiting_ = false;
  std::vector<std::vector<std::string>> batches_;
};

}  // namespace tensorgraph::testing
