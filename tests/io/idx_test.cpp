#include "tensorgraph/io/idx.hpp"

#include <zlib.h>

#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::io {
namespace {

std::string idx_bytes(unsigned char code, std::vector<std::uint32_t> dims,
                      const std::string& data) {
  std::string s = {0, 0, static_cast<char>(code), static_cast<char>(dims.size())};
  for (std::uint32_t d : dims) {
    s += static_cast<char>(d >> 24);
    s += static_cast<char>(d >> 16);
    s += static_cast<char>(d >> 8);
    s += static_cast<char>(d);
  }
  return s + data;
}

std::string gzip(const std::string& plain) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, plain.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  zs.avail_in = static_cast<uInt>(plain.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Tensor parse(const std::string& bytes) {
  return parse_idx(std::as_bytes(std::span<const char>(bytes.data(), bytes.size())), "t.idx");
}

std::string error_of(const std::string& bytes) {
  try {
    parse(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Idx, PlainAndGzipAndEveryType) {
  const std::string u8 = idx_bytes(0x08, {2, 3}, "\x01\x02\x03\x04\x05\xff");
  for (const std::string& bytes : {u8, gzip(u8)}) {
    const Tensor t = parse(bytes);
    EXPECT_EQ(t.dtype(), DType::U8);
    EXPECT_EQ(t.shape(), (Shape{2, 3}));
    EXPECT_EQ(t.to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{1, 2, 3, 4, 5, 255}));
  }
  // Big-endian multi-byte types.
  EXPECT_EQ(parse(idx_bytes(0x0C, {2}, std::string("\x00\x00\x01\x02\xff\xff\xff\xfe", 8)))
                .to_vector<std::int32_t>(),
            (std::vector<std::int32_t>{258, -2}));
  EXPECT_EQ(parse(idx_bytes(0x0D, {1}, std::string("\x3f\xc0\x00\x00", 4))).to_vector<float>(),
            (std::vector<float>{1.5f}));
  EXPECT_EQ(parse(idx_bytes(0x0E, {1}, std::string("\xc0\x04\x00\x00\x00\x00\x00\x00", 8)))
                .to_vector<double>(),
            (std::vector<double>{-2.5}));
  EXPECT_EQ(parse(idx_bytes(0x09, {1}, "\xff")).to_vector<std::int8_t>(),
            (std::vector<std::int8_t>{-1}));
  // Concatenated gzip members are one stream.
  const std::string half = idx_bytes(0x08, {4}, "ab");
  EXPECT_EQ(parse(gzip(half) + gzip("cd")).to_vector<std::uint8_t>(),
            (std::vector<std::uint8_t>{'a', 'b', 'c', 'd'}));
}

TEST(Idx, CorruptFilesAreErrors) {
  EXPECT_EQ(error_of(""), "t.idx: not an IDX file: 0 bytes, shorter than the 4-byte magic");
  EXPECT_EQ(error_of(std::string("\x01\x00\x08\x01", 4)),
            "t.idx: not an IDX file: the magic number starts 01 00");
  EXPECT_EQ(error_of(idx_bytes(0x0B, {1}, "ab")),
            "t.idx: IDX type 0x0B (16-bit integers) is not supported");
  EXPECT_EQ(error_of(idx_bytes(0x07, {1}, "a")), "t.idx: not an IDX file: unknown type code 0x07");
  EXPECT_EQ(error_of(idx_bytes(0x08, {}, "")), "t.idx: IDX rank 0 is not in 1..8");
  EXPECT_EQ(error_of(idx_bytes(0x08, {2, 3}, "12345")),
            "t.idx: truncated: the header (u8[2,3]) announces 6 bytes of data, 5 are present");
  EXPECT_EQ(error_of(idx_bytes(0x08, {2}, "123")),
            "t.idx: 1 unexpected bytes after the data of u8[2]");
  EXPECT_EQ(error_of(std::string("\x00\x00\x08\x02\x00\x00", 6)),
            "t.idx: truncated: the header needs 12 bytes, the file has 6");
  EXPECT_NE(error_of(idx_bytes(0x08, {65536, 65536}, "")).find("more than"), std::string::npos);
  // Truncated and corrupt gzip streams.
  const std::string gz = gzip(idx_bytes(0x08, {1000}, std::string(1000, 'x')));
  EXPECT_EQ(error_of(gz.substr(0, gz.size() / 2)), "t.idx: truncated gzip stream");
  std::string bad = gz;
  bad[12] = static_cast<char>(bad[12] ^ 0x55);
  EXPECT_NE(error_of(bad).find("t.idx: "), std::string::npos);
  EXPECT_EQ(error_of(gz + "garbage"), "t.idx: corrupt gzip stream (incorrect header check)");
}

TEST(Idx, ReadsFilesAndNamesThem) {
  testing::TempDir dir;
  std::ofstream(dir / "x.gz", std::ios::binary) << gzip(idx_bytes(0x08, {3}, "abc"));
  EXPECT_EQ(read_idx(dir / "x.gz").numel(), 3);
  try {
    read_idx(dir / "missing.gz");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.gz: cannot open"), std::string::npos);
  }
}

}  // namespace
}  // namespace tensorgraph::io
