#include "tensorgraph/train/optimizer.hpp"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::train {

namespace {

void check_grads(const Parameters& params, std::span<const Tensor> grads) {
  TG_CHECK(grads.size() == params.size(), "optimizer: {} gradients for {} parameters", grads.size(),
           params.size());
  for (std::size_t i = 0; i < grads.size(); ++i)
    TG_CHECK(grads[i].dtype() == DType::F32 && grads[i].shape() == params.value(i).shape(),
             "optimizer: the gradient of '{}' is {}, the parameter {}", params.name(i),
             grads[i].description(), params.value(i).description());
}

// Zero-filled buffers shaped like the parameters, created at the first step.
void ensure_buffers(const Parameters& params, std::vector<std::string>& names,
                    std::vector<Tensor>& buffers) {
  if (!buffers.empty()) return;
  names = params.names();
  for (const Tensor& p : params.values()) buffers.push_back(Tensor::zeros(DType::F32, p.shape()));
}

Tensor scalar_steps(std::int64_t steps) {
  return Tensor::scalar<std::int64_t>(steps);
}

std::int64_t read_steps(const std::map<std::string, Tensor, std::less<>>& tensors,
                        const std::string& key) {
  auto it = tensors.find(key);
  TG_CHECK(it != tensors.end() && it->second.dtype() == DType::I64 && it->second.numel() == 1,
           "optimizer state: '{}' is missing or not an i64 scalar", key);
  return it->second.data<std::int64_t>()[0];
}

void read_buffers(const Parameters& params,
                  const std::map<std::string, Tensor, std::less<>>& tensors,
                  const std::string& prefix, std::vector<std::string>& names,
                  std::vector<Tensor>& buffers) {
  names = params.names();
  buffers.clear();
  for (std::size_t i = 0; i < params.size(); ++i) {
    const std::string key = prefix + params.name(i);
    auto it = tensors.find(key);
    TG_CHECK(it != tensors.end(), "optimizer state: '{}' is missing", key);
    TG_CHECK(it->second.dtype() == DType::F32 && it->second.shape() == params.value(i).shape(),
             "optimizer state: '{}' is {}, expected f32{}", key, it->second.description(),
             params.value(i).shape().to_string());
    buffers.push_back(it->second.clone());
  }
}

}  // namespace

Sgd::Sgd(const SgdOptions& options) : o_(options) {
  TG_CHECK(options.learning_rate >= 0, "SGD: the learning rate must be >= 0");
  TG_CHECK(options.momentum >= 0 && options.weight_decay >= 0,
           "SGD: momentum and weight decay must be >= 0");
  TG_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
           "SGD: Nesterov momentum needs a momentum and zero dampening");
  lr_ = options.learning_rate;
}

void Sgd::step(Parameters& params, std::span<const Tensor> grads) {
  check_grads(params, grads);
  const bool momentum = o_.momentum != 0;
  if (momentum) ensure_buffers(params, names_, velocity_);
  const auto lr = static_cast<float>(lr_), wd = static_cast<float>(o_.weight_decay);
  const auto mu = static_cast<float>(o_.momentum), damp = static_cast<float>(1 - o_.dampening);
  const bool first = steps_ == 0;
  for (std::size_t k = 0; k < params.size(); ++k) {
    float* p = params.value(k).mutable_data<float>();
    const float* g = grads[k].data<float>();
    const std::int64_t n = grads[k].numel();
    if (!momentum) {
#pragma omp simd
      for (std::int64_t i = 0; i < n; ++i) p[i] -= lr * (g[i] + wd * p[i]);
      continue;
    }
    float* v = velocity_[k].mutable_data<float>();
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
      const float d = g[i] + wd * p[i];
      v[i] = first ? d : mu * v[i] + damp * d;
      p[i] -= lr * (o_.nesterov ? d + mu * v[i] : v[i]);
    }
  }
  ++steps_;
}

std::vector<std::pair<std::string, Tensor>> Sgd::state() const {
  std::vector<std::pair<std::string, Tensor>> s;
  for (std::size_t i = 0; i < velocity_.size(); ++i)
    s.emplace_back("sgd.velocity." + names_[i], velocity_[i]);
  s.emplace_back("sgd.step", scalar_steps(steps_));
  return s;
}

void Sgd::load_state(const Parameters& params,
                     const std::map<std::string, Tensor, std::less<>>& tensors) {
  steps_ = read_steps(tensors, "sgd.step");
  velocity_.clear();
  if (o_.momentum != 0 && steps_ > 0)
    read_buffers(params, tensors, "sgd.velocity.", names_, velocity_);
}

std::string Sgd::description() const {
  return fmt::format("SGD (lr {}, momentum {}, weight decay {}{})", lr_, o_.momentum,
                     o_.weight_decay, o_.nesterov ? ", Nesterov" : "");
}

Adam::Adam(const AdamOptions& options) : o_(options) {
  TG_CHECK(options.learning_rate >= 0, "Adam: the learning rate must be >= 0");
  TG_CHECK(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1,
           "Adam: betas must be in [0, 1)");
  TG_CHECK(options.epsilon >= 0 && options.weight_decay >= 0,
           "Adam: epsilon and weight decay must be >= 0");
  lr_ = options.learning_rate;
}

void Adam::step(Parameters& params, std::span<const Tensor> grads) {
  check_grads(params, grads);
  if (m_.empty()) {
    ensure_buffers(params, names_, m_);
    std::vector<std::string> unused;
    ensure_buffers(params, unused, v_);
  }
  ++steps_;
  const double t = static_cast<double>(steps_);
  const double bc1 = 1 - std::pow(o_.beta1, t), bc2 = 1 - std::pow(o_.beta2, t);
  const auto step_size = static_cast<float>(lr_ / bc1);
  const auto inv_sqrt_bc2 = static_cast<float>(1 / std::sqrt(bc2));
  const auto b1 = static_cast<float>(o_.beta1), b2 = static_cast<float>(o_.beta2);
  const auto eps = static_cast<float>(o_.epsilon), wd = static_cast<float>(o_.weight_decay);
  const auto decay = static_cast<float>(1 - lr_ * o_.weight_decay);
  const bool decoupled = o_.decoupled_weight_decay;
  for (std::size_t k = 0; k < params.size(); ++k) {
    float* p = params.value(k).mutable_data<float>();
    const float* g = grads[k].data<float>();
    float* m = m_[k].mutable_data<float>();
    float* v = v_[k].mutable_data<float>();
    const std::int64_t n = grads[k].numel();
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) {
      float gi = g[i];
      if (decoupled)
        p[i] *= decay;
      else
        gi += wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      p[i] -= step_size * m[i] / (std::sqrt(v[i]) * inv_sqrt_bc2 + eps);
    }
  }
}

std::vector<std::pair<std::string, Tensor>> Adam::state() const {
  std::vector<std::pair<std::string, Tensor>> s;
  for (std::size_t i = 0; i < m_.size(); ++i) s.emplace_back("adam.m." + names_[i], m_[i]);
  for (std::size_t i = 0; i < v_.size(); ++i) s.emplace_back("adam.v." + names_[i], v_[i]);
  s.emplace_back("adam.step", scalar_steps(steps_));
  return s;
}

void Adam::load_state(const Parameters& params,
                      const std::map<std::string, Tensor, std::less<>>& tensors) {
  steps_ = read_steps(tensors, "adam.step");
  m_.clear();
  v_.clear();
  if (steps_ == 0) return;
  read_buffers(params, tensors, "adam.m.", names_, m_);
  std::vector<std::string> unused;
  read_buffers(params, tensors, "adam.v.", unused, v_);
}

std::string Adam::description() const {
  return fmt::format("{} (lr {}, betas {}/{}, eps {}, weight decay {})",
                     o_.decoupled_weight_decay ? "AdamW" : "Adam", lr_, o_.beta1, o_.beta2,
                     o_.epsilon, o_.weight_decay);
}

}  // namespace tensorgraph::train
