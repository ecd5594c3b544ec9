#pragma once
// Optimisers with PyTorch's update rules (torch.optim.SGD, Adam, AdamW), as plain vectorised
// loops over each parameter tensor. Their state (momentum buffers, moments, the step count) is
// exposed as named tensors so that checkpoints can save and restore it exactly.
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tensorgraph/core/tensor.hpp"
#include "tensorgraph/train/parameters.hpp"

namespace tensorgraph::train {

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of every parameter from its gradient (same order and shapes).
  virtual void step(Parameters& params, std::span<const Tensor> grads) = 0;
  // The state as named tensors ("adam.m.fc1.weight", ..., "adam.step").
  virtual std::vector<std::pair<std::string, Tensor>> state() const = 0;
  // Restores state() output for `params` (throws Error naming a missing or misshapen tensor).
  virtual void load_state(const Parameters& params,
                          const std::map<std::string, Tensor, std::less<>>& tensors) = 0;
  virtual std::string description() const = 0;

  double learning_rate() const { return lr_; }
  void set_learning_rate(double lr) { lr_ = lr; }
  std::int64_t steps() const { return steps_; }

 protected:
  double lr_ = 0;
  std::int64_t steps_ = 0;
};

struct SgdOptions {
  double learning_rate = 0.01;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;  // L2: added to the gradient
  bool nesterov = false;
};

// v = momentum v + (1 - dampening) g (v = g at the first step), g = grad + weight_decay p;
// p -= lr (nesterov ? g + momentum v : v).
class Sgd final : public Optimizer {
 public:
  explicit Sgd(const SgdOptions& options);
  void step(Parameters& params, std::span<const Tensor> grads) override;
  std::vector<std::pair<std::string, Tensor>> state() const override;
  void load_state(const Parameters& params,
                  const std::map<std::string, Tensor, std::less<>>& tensors) override;
  std::string description() const override;

 private:
  SgdOptions o_;
  std::vector<std::string> names_;
  std::vector<Tensor> velocity_;
};

struct AdamOptions {
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 0;
  bool decoupled_weight_decay = false;  // AdamW: p *= 1 - lr wd, instead of g += wd p
};

// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2,
// p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
class Adam final : public Optimizer {
 public:
  explicit Adam(const AdamOptions& options);
  void step(Parameters& params, std::span<const Tensor> grads) override;
  std::vector<std::pair<std::string, Tensor>> state() const override;
  void load_state(const Parameters& params,
                  const std::map<std::string, Tensor, std::less<>>& tensors) override;
  std::string description() const override;

 private:
  AdamOptions o_;
  std::vector<std::string> names_;
  std::vector<Tensor> m_, v_;
};

}  // namespace tensorgraph::train
