#include "tensorgraph/train/parameters.hpp"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::train {

void Parameters::add(const std::string& name, const Tensor& value) {
  TG_CHECK(!name.empty(), "parameter names must not be empty");
  for (const auto& n : names_) TG_CHECK(n != name, "parameter '{}' is added twice", name);
  TG_CHECK(value.defined() && is_floating(value.dtype()),
           "parameter '{}': expects a float tensor, got {}", name,
           value.defined() ? value.description() : "an empty tensor");
  names_.push_back(name);
  values_.push_back(value.to(DType::F32));  // an owning, writable copy
}

std::size_t Parameters::index(std::string_view name) const {
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return i;
  fail("no parameter '{}' (parameters: {})", name, fmt::join(names_, ", "));
}

std::int64_t Parameters::count() const {
  std::int64_t n = 0;
  for (const Tensor& t : values_) n += t.numel();
  return n;
}

Parameters Parameters::clone() const {
  Parameters p;
  p.names_ = names_;
  for (const Tensor& t : values_) p.values_.push_back(t.clone());
  return p;
}

void Parameters::assign(const Parameters& other) {
  TG_CHECK(other.names_ == names_, "assign: the parameter sets differ ({} vs {})",
           fmt::join(other.names_, ","), fmt::join(names_, ","));
  for (std::size_t i = 0; i < values_.size(); ++i) {
    TG_CHECK(other.values_[i].shape() == values_[i].shape(), "assign: '{}' is {}, expected {}",
             names_[i], other.values_[i].description(), values_[i].description());
    std::memcpy(values_[i].raw_mutable(), other.values_[i].raw(), values_[i].nbytes());
  }
}

void Parameters::load(const std::map<std::string, Tensor, std::less<>>& tensors,
                      const std::string& prefix) {
  for (std::size_t i = 0; i < values_.size(); ++i) {
    const std::string key = prefix + names_[i];
    auto it = tensors.find(key);
    TG_CHECK(it != tensors.end(), "tensor '{}' is missing", key);
    TG_CHECK(it->second.shape() == values_[i].shape() && is_floating(it->second.dtype()),
             "tensor '{}' is {}, expected f32{}", key, it->second.description(),
             values_[i].shape().to_string());
    const Tensor f = it->second.to(DType::F32);
    std::memcpy(values_[i].raw_mutable(), f.raw(), values_[i].nbytes());
  }
}

std::vector<std::pair<std::string, Tensor>> Parameters::named(const std::string& prefix) const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (std::size_t i = 0; i < names_.size(); ++i) out.emplace_back(prefix + names_[i], values_[i]);
  return out;
}

}  // namespace tensorgraph::train
