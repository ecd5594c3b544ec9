#pragma once
// Training the CNN of example 05 on MNIST: a validation part carved out of the 60,000 training
// images (seeded; the 10,000 test images are only used for the final report), cross-entropy
// from logits, Adam(W) with a cosine schedule, the best epoch by validation accuracy kept.
#include <cstdint>
#include <filesystem>

#include "tensorgraph/io/mnist.hpp"
#include "tensorgraph/nn/cnn.hpp"
#include "tensorgraph/train/fit.hpp"
#include "tensorgraph/train/metrics.hpp"

namespace tensorgraph::train {

struct CnnTrainingOptions {
  nn::CnnSpec spec;
  int epochs = 8;
  std::int64_t batch_size = 64;
  double learning_rate = 1e-3;
  double weight_decay = 0;  // AdamW (decoupled)
  int patience = 0;         // epochs without a better validation accuracy (0: never stop early)
  std::int64_t validation = 5000;  // training images held out for validation
  std::uint64_t seed = 0;          // initial weights, the validation split, the order of examples
  std::int64_t limit = 0;          // use only the first N training images (0: all)
  std::int64_t test_limit = 0;     // evaluate on the first N test images (0: all)
  std::int64_t eval_batch = 500;
  int threads = 0;
  std::filesystem::path checkpoint;
  bool resume = false;
};

struct CnnTrainingResult {
  FitResult fit;
  Parameters params;  // the best epoch's
  ClassificationMetrics train, validation, test;
  double seconds = 0;  // this process's training time (evaluations included)
};

CnnTrainingResult train_mnist_cnn(const io::Mnist& train_set, const io::Mnist& test_set,
                                  const CnnTrainingOptions& options,
                                  const FitCallbacks& callbacks = {});

// The weight file of a trained model (nn::MnistCnn::load reads it), with `metadata`.
void save_mnist_cnn(const std::filesystem::path& path, const CnnTrainingResult& result,
                    const nn::CnnSpec& spec, std::map<std::string, std::string> metadata);

}  // namespace tensorgraph::train
