#pragma once
// A read-only memory mapping of a whole file (RAII). Tensors viewing a SafeTensors file keep a
// shared_ptr to it so the mapping outlives the file object.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>

namespace tensorgraph {

class MappedFile {
 public:
  // Maps `path` read-only; throws Error naming the path and the OS reason on failure.
  static std::shared_ptr<const MappedFile> open(const std::filesystem::path& path);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::filesystem::path& path() const { return path_; }

 private:
  MappedFile() = default;
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool mapped_ = false;
};

}  // namespace tensorgraph
