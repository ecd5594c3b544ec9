#pragma once
// SafeTensors (https://huggingface.co/docs/safetensors): the weight format of HuggingFace models.
//
//   [8 bytes: N, little-endian u64] [N bytes: JSON header] [data section]
//
// The header maps each tensor name to {"dtype", "shape", "data_offsets": [begin, end]} (byte
// offsets into the data section) plus an optional "__metadata__" string -> string map.
//
// The reader maps the file and hands out zero-copy read-only views. It validates the whole header
// before returning (header length, JSON, every entry, byte ranges that exactly tile the data
// section, duplicate names), so that a corrupt or hostile file gives an Error naming the file and
// the tensor, never a crash or a read out of bounds.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tensorgraph/core/dtype.hpp"
#include "tensorgraph/core/shape.hpp"
#include "tensorgraph/core/tensor.hpp"

namespace tensorgraph::io {

// Headers longer than this are rejected as corrupt (the limit of the reference Rust crate).
inline constexpr std::uint64_t kMaxSafeTensorsHeaderBytes = 100'000'000;

// One tensor as described by the header.
struct SafeTensorInfo {
  std::string name;
  DType dtype = DType::F32;
  Shape shape;
  std::uint64_t begin = 0;  // byte range [begin, end) in the data section (after the header)
  std::uint64_t end = 0;
  std::uint64_t nbytes() const { return end - begin; }
};

class SafeTensorsFile {
 public:
  // Maps `path` and validates its header; throws Error "PATH: reason" when it is not a valid
  // SafeTensors file (or holds a dtype tensorgraph does not support).
  static SafeTensorsFile open(const std::filesystem::path& path);
  // Validates `bytes` (a whole file image) that `owner` keeps alive; `name` is used in messages.
  // Used for files already in memory and by the fuzz target.
  static SafeTensorsFile parse(std::span<const std::byte> bytes, std::shared_ptr<const void> owner,
                               std::string name);

  // The path (or name) given to open/parse, as used in messages.
  const std::string& name() const { return name_; }
  std::size_t size() const { return tensors_.size(); }
  // Every tensor, in the order of their data in the file.
  const std::vector<SafeTensorInfo>& tensors() const { return tensors_; }
  // The tensor names, in the order of their data in the file.
  std::vector<std::string> names() const;
  bool contains(std::string_view name) const { return find(name) != nullptr; }
  // nullptr when there is no such tensor.
  const SafeTensorInfo* find(std::string_view name) const;
  // Throws Error "no tensor 'x' in FILE" listing the closest names when there is no such tensor.
  const SafeTensorInfo& info(std::string_view name) const;

  // A read-only view of the tensor's bytes in the mapped file (which it keeps alive). When the
  // bytes are not aligned to the element size (possible in a valid file), an owning aligned copy
  // instead: a misaligned typed pointer is never formed. A BOOL tensor holding a byte other than
  // 0 or 1 is an Error.
  Tensor tensor(std::string_view name) const { return tensor(info(name)); }
  Tensor tensor(const SafeTensorInfo& info) const;
  // True when tensor(info) is a zero-copy view (its bytes are aligned to the element size).
  bool is_zero_copy(const SafeTensorInfo& info) const;
  // The raw little-endian bytes of a tensor.
  std::span<const std::byte> bytes(const SafeTensorInfo& info) const;

  // The "__metadata__" map (empty when absent), e.g. {"format": "pt"}.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // N, the length of the JSON header (padding included).
  std::uint64_t header_size() const { return header_size_; }
  // Where the data section starts in the file (8 + N).
  std::uint64_t data_offset() const { return 8 + header_size_; }
  // Size of the data section in bytes.
  std::uint64_t data_size() const { return data_size_; }

 private:
  SafeTensorsFile() = default;

  std::string name_;
  std::shared_ptr<const void> owner_;
  const std::byte* data_ = nullptr;  // start of the data section
  std::uint64_t header_size_ = 0;
  std::uint64_t data_size_ = 0;
  std::vector<SafeTensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

// Writes `tensors` (in this order, data laid out in the same order) and `metadata` as a SafeTensors
// file at `path`, atomically: the bytes go to a temporary file in the same directory, which is
// flushed to disk and renamed over `path` only when complete. On any error the temporary file is
// removed and an existing file at `path` is left untouched. Names must be unique, non-empty, valid
// UTF-8 and not "__metadata__". The header is padded with spaces to a multiple of 8 bytes.
void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The file image write_safetensors writes, in memory.
std::vector<std::byte> serialize_safetensors(
    const std::vector<std::pair<std::string, Tensor>>& tensors,
    const std::map<std::string, std::string>& metadata = {});

}  // namespace tensorgraph::io
