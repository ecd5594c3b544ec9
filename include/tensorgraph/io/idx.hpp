#pragma once
// IDX files, the format of MNIST: a magic number (two zero bytes, a type code, the rank), the
// dimensions as big-endian u32, then the elements, big-endian, row-major. Files compressed with
// gzip (MNIST's *.gz) are decompressed with zlib on the fly; plain files are read as they are.
//
//   type code   0x08 u8   0x09 i8   0x0C i32   0x0D f32   0x0E f64   (0x0B i16: unsupported)
//
// The reader validates everything before trusting it (magic, rank 1..8, the element count
// against the bytes present, nothing left over) and gives Errors naming the file:
//   t10k-images-idx3-ubyte.gz: truncated: the header announces 7840000 bytes of data, 7839000
//   are present
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

#include "tensorgraph/core/tensor.hpp"

namespace tensorgraph::io {

// The largest decompressed size accepted (a corrupt or hostile .gz cannot exhaust memory).
inline constexpr std::size_t kMaxIdxBytes = std::size_t{1} << 30;

// Reads an IDX file (gzip-compressed or not) into an owning tensor of its dtype and shape.
Tensor read_idx(const std::filesystem::path& path);
// Parses a whole file image (gzip-compressed or not); `name` stands for the file in messages.
Tensor parse_idx(std::span<const std::byte> bytes, const std::string& name);

// The bytes of a gzip stream (several concatenated members allowed), at most `max_bytes`.
// Throws Error "NAME: ..." on a corrupt or truncated stream.
std::string gunzip(std::span<const std::byte> bytes, const std::string& name,
                   std::size_t max_bytes = kMaxIdxBytes);

}  // namespace tensorgraph::io
