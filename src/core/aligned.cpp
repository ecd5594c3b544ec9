#include "tensorgraph/core/aligned.hpp"

#include <new>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph {

// Through the aligned operator new (not aligned_alloc) so that allocation hooks in tests see
// every tensor buffer.
void AlignedDeleter::operator()(void* p) const noexcept {
  ::operator delete(p, std::align_val_t{kAlignment});
}

std::unique_ptr<std::byte[], AlignedDeleter> aligned_alloc_bytes(std::size_t bytes) {
  TG_CHECK(bytes <= (std::size_t{1} << 46), "allocation of {} bytes is too large", bytes);
  const std::size_t rounded = ((bytes + kAlignment - 1) / kAlignment) * kAlignment;
  void* p = ::operator new(rounded == 0 ? kAlignment : rounded, std::align_val_t{kAlignment},
                           std::nothrow);
  TG_CHECK(p != nullptr, "out of memory allocating {} bytes", bytes);
  return std::unique_ptr<std::byte[], AlignedDeleter>(static_cast<std::byte*>(p));
}

std::shared_ptr<std::byte> aligned_shared_bytes(std::size_t bytes) {
  auto owned = aligned_alloc_bytes(bytes);
  return std::shared_ptr<std::byte>(owned.release(), AlignedDeleter{});
}

}  // namespace tensorgraph
