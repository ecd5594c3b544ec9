#include "tensorgraph/io/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <vector>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::io {

namespace {

std::uint32_t big_endian_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

bool is_gzip(std::span<const std::byte> bytes) {
  return bytes.size() >= 2 && bytes[0] == std::byte{0x1f} && bytes[1] == std::byte{0x8b};
}

DType dtype_of_code(unsigned code, const std::string& name) {
  switch (code) {
    case 0x08:
      return DType::U8;
    case 0x09:
      return DType::I8;
    case 0x0C:
      return DType::I32;
    case 0x0D:
      return DType::F32;
    case 0x0E:
      return DType::F64;
    case 0x0B:
      fail("{}: IDX type 0x0B (16-bit integers) is not supported", name);
    default:
      fail("{}: not an IDX file: unknown type code 0x{:02X}", name, code);
  }
}

Tensor parse_plain(std::span<const std::byte> bytes, const std::string& name) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  TG_CHECK(bytes.size() >= 4, "{}: not an IDX file: {} bytes, shorter than the 4-byte magic", name,
           bytes.size());
  TG_CHECK(p[0] == 0 && p[1] == 0, "{}: not an IDX file: the magic number starts {:02X} {:02X}",
           name, p[0], p[1]);
  const DType dtype = dtype_of_code(p[2], name);
  const int rank = p[3];
  TG_CHECK(rank >= 1 && rank <= Shape::kMaxRank, "{}: IDX rank {} is not in 1..{}", name, rank,
           Shape::kMaxRank);
  const std::size_t header = 4 + 4 * static_cast<std::size_t>(rank);
  TG_CHECK(bytes.size() >= header, "{}: truncated: the header needs {} bytes, the file has {}",
           name, header, bytes.size());
  Shape shape;
  std::uint64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    const std::uint32_t d = big_endian_u32(p + 4 + 4 * i);
    shape.push_back(d);
    count *= d;  // at most 8 factors below 2^32: checked against the size before any overflow
    TG_CHECK(count <= kMaxIdxBytes, "{}: the header announces more than {} elements ({})", name,
             kMaxIdxBytes, shape.to_string());
  }
  const std::uint64_t data_bytes = count * dtype_size(dtype);
  const std::uint64_t present = bytes.size() - header;
  TG_CHECK(present >= data_bytes,
           "{}: truncated: the header ({}{}) announces {} bytes of data, {} are present", name,
           dtype_name(dtype), shape.to_string(), data_bytes, present);
  TG_CHECK(present == data_bytes, "{}: {} unexpected bytes after the data of {}{}", name,
           present - data_bytes, dtype_name(dtype), shape.to_string());
  Tensor t = Tensor::empty(dtype, shape);
  auto* out = static_cast<unsigned char*>(t.raw_mutable());
  const unsigned char* in = p + header;
  const std::size_t size = dtype_size(dtype);
  if (size == 1) {
    if (data_bytes) std::memcpy(out, in, data_bytes);
  } else {
    for (std::uint64_t i = 0; i < count; ++i)
      for (std::size_t b = 0; b < size; ++b) out[i * size + b] = in[i * size + (size - 1 - b)];
  }
  return t;
}

}  // namespace

std::string gunzip(std::span<const std::byte> bytes, const std::string& name,
                   std::size_t max_bytes) {
  z_stream zs{};
  TG_CHECK(inflateInit2(&zs, 16 + MAX_WBITS) == Z_OK, "{}: cannot start zlib", name);
  std::string out;
  const std::size_t chunk = 1 << 20;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(bytes.data()));
  std::size_t consumed = 0;
  int status = Z_OK;
  try {
    while (true) {
      const std::size_t feed =
          std::min<std::size_t>(bytes.size() - consumed, std::numeric_limits<uInt>::max());
      zs.avail_in = static_cast<uInt>(feed);
      const std::size_t before_in = zs.avail_in;
      if (out.size() >= max_bytes) fail("{}: decompresses to more than {} bytes", name, max_bytes);
      const std::size_t room = std::min(chunk, max_bytes - out.size());
      const std::size_t old = out.size();
      out.resize(old + room);
      zs.next_out = reinterpret_cast<Bytef*>(out.data() + old);
      zs.avail_out = static_cast<uInt>(room);
      status = inflate(&zs, Z_NO_FLUSH);
      out.resize(old + room - zs.avail_out);
      consumed += before_in - zs.avail_in;
      if (status == Z_STREAM_END) {
        if (consumed == bytes.size()) break;
        // Another gzip member follows (gzip allows concatenation).
        TG_CHECK(inflateReset(&zs) == Z_OK, "{}: zlib reset failed", name);
        continue;
      }
      if (status == Z_BUF_ERROR && consumed == bytes.size() && zs.avail_out != 0)
        fail("{}: truncated gzip stream", name);
      if (status != Z_OK && status != Z_BUF_ERROR)
        fail("{}: corrupt gzip stream ({})", name, zs.msg ? zs.msg : "zlib error");
    }
  } catch (...) {
    inflateEnd(&zs);
    throw;
  }
  inflateEnd(&zs);
  return out;
}

Tensor parse_idx(std::span<const std::byte> bytes, const std::string& name) {
  if (!is_gzip(bytes)) return parse_plain(bytes, name);
  const std::string plain = gunzip(bytes, name);
  return parse_plain(std::as_bytes(std::span<const char>(plain.data(), plain.size())), name);
}

Tensor read_idx(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  TG_CHECK(in.good(), "{}: cannot open for reading", path.string());
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TG_CHECK(!in.bad(), "{}: read error", path.string());
  return parse_idx(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())), path.string());
}

}  // namespace tensorgraph::io
