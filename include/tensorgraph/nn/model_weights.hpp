#pragma once
// Binding a model's parameters by name: model builders ask a ParameterLookup for each parameter
// ("fc1.weight" with its expected shape) and get a graph Value: an input of the training graph
// (train::GradientSession) or a constant holding the tensor of a weight file (inference), so that
// both graphs come from the same builder.
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tensorgraph/graph/graph.hpp"
#include "tensorgraph/io/safetensors.hpp"

namespace tensorgraph::nn {

using ParameterLookup = std::function<Value(const std::string& name, const Shape& shape)>;

// A trainable parameter of a model: weights are initialised from their fans, biases with zeros.
struct ParameterSpec {
  enum class Kind { Weight, Bias };
  std::string name;
  Shape shape;
  Kind kind = Kind::Weight;
};

// A weight file (SafeTensors) of a small model trained by this project.
class WeightFile {
 public:
  // Opens and validates the file; throws Error naming it.
  static WeightFile open(const std::filesystem::path& path);

  // The tensor `name` as f32 (checked against `shape`); throws Error "FILE: tensor 'x' has shape
  // [..], the model expects [..]" or naming the missing tensor.
  Tensor tensor(const std::string& name, const Shape& shape) const;
  // A lookup creating constants in `graph` from this file's tensors.
  ParameterLookup constants(Graph& graph) const;
  const std::map<std::string, std::string>& metadata() const { return file_.metadata(); }
  // The metadata value of `key`; throws Error naming the file when it is missing.
  const std::string& meta(const std::string& key) const;
  const std::string& path() const { return file_.name(); }

 private:
  explicit WeightFile(io::SafeTensorsFile file) : file_(std::move(file)) {}
  io::SafeTensorsFile file_;
};

}  // namespace tensorgraph::nn
