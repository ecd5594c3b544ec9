#include "tensorgraph/train/checkpoint.hpp"

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/safetensors.hpp"

namespace tensorgraph::train {

const std::string& Checkpoint::meta(const std::string& key) const {
  auto it = metadata.find(key);
  TG_CHECK(it != metadata.end(), "{}: checkpoint metadata '{}' is missing", path, key);
  return it->second;
}

void save_checkpoint(const std::filesystem::path& path,
                     const std::vector<std::pair<std::string, Tensor>>& tensors,
                     const std::map<std::string, std::string>& metadata) {
  io::write_safetensors(path, tensors, metadata);
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
  const io::SafeTensorsFile file = io::SafeTensorsFile::open(path);
  Checkpoint c;
  c.path = path.string();
  c.metadata = file.metadata();
  for (const io::SafeTensorInfo& info : file.tensors())
    c.tensors.emplace(info.name, file.tensor(info).clone());
  return c;
}

}  // namespace tensorgraph::train
