#pragma once
// Cache-line (and AVX-512) aligned heap buffers.
#include <cstddef>
#include <memory>

namespace tensorgraph {

inline constexpr std::size_t kAlignment = 64;

struct AlignedDeleter {
  void operator()(void* p) const noexcept;
};

// Allocates `bytes` (rounded up to the alignment) aligned to kAlignment; throws Error when out
// of memory. The memory is not initialised.
std::unique_ptr<std::byte[], AlignedDeleter> aligned_alloc_bytes(std::size_t bytes);

// A shared owning buffer, as held by tensors.
std::shared_ptr<std::byte> aligned_shared_bytes(std::size_t bytes);

}  // namespace tensorgraph
