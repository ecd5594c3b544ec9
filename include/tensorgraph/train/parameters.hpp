#pragma once
// The trainable parameters of a model: named f32 tensors (owned, writable) in a fixed order,
// the order of the gradients a GradientSession returns and of the optimiser's state.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tensorgraph/core/tensor.hpp"

namespace tensorgraph::train {

class Parameters {
 public:
  // Adds a parameter (the tensor is copied into an owning f32 tensor). Names are unique.
  void add(const std::string& name, const Tensor& value);

  std::size_t size() const { return names_.size(); }
  const std::string& name(std::size_t i) const { return names_.at(i); }
  Tensor& value(std::size_t i) { return values_.at(i); }
  const Tensor& value(std::size_t i) const { return values_.at(i); }
  const std::vector<std::string>& names() const { return names_; }
  std::vector<Tensor>& values() { return values_; }
  const std::vector<Tensor>& values() const { return values_; }
  // Throws Error listing the names when there is no such parameter.
  std::size_t index(std::string_view name) const;
  Tensor& operator[](std::string_view name) { return values_[index(name)]; }
  const Tensor& operator[](std::string_view name) const { return values_[index(name)]; }
  // Number of scalar parameters.
  std::int64_t count() const;

  // A deep copy (the best weights of early stopping).
  Parameters clone() const;
  // Copies the values of `other` (same names and shapes) into this set's tensors.
  void assign(const Parameters& other);
  // Copies values from tensors by name (a checkpoint); every parameter must be present with its
  // shape. `prefix` is prepended to the names looked up.
  void load(const std::map<std::string, Tensor, std::less<>>& tensors,
            const std::string& prefix = {});
  // (prefix + name, value) pairs for writing.
  std::vector<std::pair<std::string, Tensor>> named(const std::string& prefix = {}) const;

 private:
  std::vector<std::string> names_;
  std::vector<Tensor> values_;
};

}  // namespace tensorgraph::train
