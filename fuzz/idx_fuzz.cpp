// Fuzz target: io::parse_idx (IDX files, gzip-compressed or not) on arbitrary bytes. Every input
// must either give an Error or a tensor of the announced shape whose every element can be read.
// The decompressed size is capped (kMaxIdxBytes), so gzip bombs are errors, not exhaustion.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  tensorgraph::Tensor t;
  try {
    t = tensorgraph::io::parse_idx(bytes, "fuzz-input");
  } catch (const tensorgraph::Error&) {
    return 0;
  }
  if (t.rank() < 1 || t.rank() > tensorgraph::Shape::kMaxRank) {
    std::fprintf(stderr, "idx_fuzz: property violated: rank %d\n", t.rank());
    std::abort();
  }
  volatile double sink = 0;
  for (std::int64_t i = 0; i < t.numel(); ++i) sink = sink + t.value_as_double(i);
  return 0;
}
