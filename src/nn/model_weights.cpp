#include "tensorgraph/nn/model_weights.hpp"

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::nn {

WeightFile WeightFile::open(const std::filesystem::path& path) {
  TG_CHECK(std::filesystem::exists(path), "{}: no such weight file", path.string());
  return WeightFile(io::SafeTensorsFile::open(path));
}

Tensor WeightFile::tensor(const std::string& name, const Shape& shape) const {
  const io::SafeTensorInfo& info = file_.info(name);  // its error names the file
  TG_CHECK(info.shape == shape, "{}: tensor '{}' has shape {}, the model expects {}", path(), name,
           info.shape.to_string(), shape.to_string());
  TG_CHECK(is_floating(info.dtype), "{}: tensor '{}' is {}, expected a float tensor", path(), name,
           dtype_name(info.dtype));
  const Tensor t = file_.tensor(info);
  return t.dtype() == DType::F32 ? t : t.to(DType::F32);
}

ParameterLookup WeightFile::constants(Graph& graph) const {
  return [this, &graph](const std::string& name, const Shape& shape) {
    return graph.constant(tensor(name, shape), name);
  };
}

const std::string& WeightFile::meta(const std::string& key) const {
  auto it = metadata().find(key);
  TG_CHECK(it != metadata().end(),
           "{}: metadata '{}' is missing (not a weight file of this model?)", path(), key);
  return it->second;
}

}  // namespace tensorgraph::nn
