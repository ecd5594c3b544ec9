#pragma once
// The training loop shared by the models: epochs of shuffled mini-batches through a
// GradientSession and an optimiser, a learning-rate schedule per step, a validation metric per
// epoch with early stopping (the best parameters are kept and restored at the end), a checkpoint
// written atomically after every epoch and when a stop is requested (Ctrl-C), and resumption from
// it. Deterministic for a given seed and thread count: each epoch's order is
// permutation(n, derive_seed(seed, epoch)), so a resumed run continues exactly where the
// interrupted one stopped, even in the middle of an epoch, and ends with the same weights.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tensorgraph/train/gradient_session.hpp"
#include "tensorgraph/train/optimizer.hpp"
#include "tensorgraph/train/parameters.hpp"

namespace tensorgraph::train {

struct FitOptions {
  int epochs = 10;
  std::int64_t batch_size = 64;
  std::uint64_t seed = 0;
  // Early stopping: stop after this many epochs without a better validation metric (0: never).
  int patience = 0;
  bool higher_is_better = false;  // the validation metric's direction (accuracy vs. RMSE)
  // Written after every epoch and on a requested stop; empty: no checkpoints.
  std::filesystem::path checkpoint;
  bool resume = false;  // continue from `checkpoint` (an error when it does not exist)
  // Settings that must be equal to resume (model, data, batch size, ...), kept in the checkpoint.
  std::map<std::string, std::string> identity;
};

// The training examples: `fill` returns the batch tensors (in the session's data-input order)
// for these example indices; it may reuse its buffers between calls.
struct TrainingData {
  std::int64_t size = 0;
  std::function<std::span<const Tensor>(std::span<const std::int64_t> rows)> fill;
};

struct StepInfo {
  int epoch = 0;  // 1-based
  int epochs = 0;
  std::int64_t step = 0;  // 1-based within the epoch
  std::int64_t steps = 0;
  std::int64_t samples = 0;        // examples done in this epoch
  std::int64_t epoch_samples = 0;  // examples in an epoch
  double loss = 0;                 // this batch
  double mean_loss = 0;            // over the epoch so far
  double learning_rate = 0;
};

struct EpochInfo {
  int epoch = 0;  // 1-based
  double train_loss = 0;
  std::optional<double> metric;  // validation
  double learning_rate = 0;      // at the epoch's last step
  double seconds = 0;
  bool best = false;
};

struct FitCallbacks {
  std::function<void(const StepInfo&)> on_step;
  // The validation metric of the current parameters (optional).
  std::function<double(const Parameters&)> validate;
  std::function<void(const EpochInfo&)> on_epoch;
  // Polled before every step: true stops training after writing a checkpoint.
  std::function<bool()> stop_requested;
};

struct FitResult {
  std::vector<EpochInfo> history;  // every epoch, resumed ones included
  int epochs_completed = 0;
  int best_epoch = 0;  // 1-based; 0 without validation
  double best_metric = 0;
  bool interrupted = false;    // stopped on request; the checkpoint holds the state
  bool early_stopped = false;  // stopped by patience
  bool resumed = false;
  std::int64_t steps = 0;  // optimiser steps in total
};

// Trains `params` in place (the best ones by the validation metric at the end, when there is
// one). `learning_rate(step)` is evaluated before every step (0-based, over all epochs).
FitResult fit(GradientSession& session, Parameters& params, Optimizer& optimizer,
              const std::function<double(std::int64_t step)>& learning_rate,
              const TrainingData& data, const FitOptions& options, const FitCallbacks& callbacks);

// Number of batches of an epoch (the last one may be smaller).
inline std::int64_t steps_per_epoch(std::int64_t examples, std::int64_t batch_size) {
  return (examples + batch_size - 1) / batch_size;
}

}  // namespace tensorgraph::train
