#pragma once
// Checkpoints: named tensors (parameters, best parameters, optimiser state) and string metadata
// (progress, options) in one SafeTensors file, written atomically (a temporary file renamed over
// the previous checkpoint), so that a kill at any moment leaves the previous checkpoint intact.
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "tensorgraph/core/tensor.hpp"

namespace tensorgraph::train {

struct Checkpoint {
  std::map<std::string, Tensor, std::less<>> tensors;
  std::map<std::string, std::string> metadata;

  // The metadata value of `key`; throws Error naming the file when it is missing.
  const std::string& meta(const std::string& key) const;
  std::string path;  // where it was read from (messages)
};

void save_checkpoint(const std::filesystem::path& path,
                     const std::vector<std::pair<std::string, Tensor>>& tensors,
                     const std::map<std::string, std::string>& metadata);
// Reads every tensor into memory (owning copies: the file may be replaced while training goes on).
Checkpoint load_checkpoint(const std::filesystem::path& path);

}  // namespace tensorgraph::train
