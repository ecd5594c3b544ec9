#include "tensorgraph/io/safetensors.hpp"

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::io {
namespace {

using tensorgraph::testing::shared_path;
using tensorgraph::testing::TempDir;
using ::testing::HasSubstr;

// ---- helpers -----------------------------------------------------------------------------------

std::string u64_le(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}

// A file image: length prefix (the header's size unless overridden), header, data.
std::string image(const std::string& header, const std::string& data = "",
                  std::optional<std::uint64_t> length = std::nullopt) {
  return u64_le(length.value_or(header.size())) + header + data;
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good());
}

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> dir_entries(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Writes `bytes` to a file, opens it and returns the error message ("" when it opened).
std::string open_error(const std::string& bytes) {
  TempDir dir;
  const auto path = dir / "bad.safetensors";
  write_bytes(path, bytes);
  try {
    SafeTensorsFile::open(path);
  } catch (const Error& e) {
    const std::string message = e.what();
    // Every message names the file.
    EXPECT_THAT(message, HasSubstr(path.string() + ": ")) << message;
    return message;
  }
  return "";
}

// A one-tensor header entry.
std::string entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  std::uint64_t begin, std::uint64_t end) {
  return fmt::format(R"("{}":{{"dtype":"{}","shape":{},"data_offsets":[{},{}]}})", name, dtype,
                     shape, begin, end);
}

// ---- the shared fixtures (HuggingFace save_pretrained output) ----------------------------------
// Expected values computed independently with Python's struct/json modules from the same files.

TEST(SafeTensorsFixture, DistilBertTinyF32) {
  const auto path = shared_path("fixtures/distilbert-tiny/model.safetensors");
  TG_REQUIRE_SHARED_FILE(path);
  const SafeTensorsFile f = SafeTensorsFile::open(path);
  EXPECT_EQ(f.size(), 40u);
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  EXPECT_EQ(f.header_size(), 4504u);
  EXPECT_EQ(f.data_offset(), 4512u);
  EXPECT_EQ(f.data_size(), 8366760u - 4512u);

  // Data order: classifier.bias first (offset 0), as HF wrote it.
  const auto names = f.names();
  ASSERT_EQ(names.size(), 40u);
  EXPECT_EQ(names[0], "classifier.bias");
  EXPECT_EQ(names[1], "classifier.weight");
  EXPECT_EQ(names[2], "distilbert.embeddings.LayerNorm.bias");
  for (const char* name :
       {"distilbert.transformer.layer.1.ffn.lin2.weight",
        "distilbert.transformer.layer.0.sa_layer_norm.bias", "pre_classifier.weight"})
    EXPECT_TRUE(f.contains(name)) << name;

  const SafeTensorInfo& we = f.info("distilbert.embeddings.word_embeddings.weight");
  EXPECT_EQ(we.dtype, DType::F32);
  EXPECT_EQ(we.shape, (Shape{30522, 64}));
  EXPECT_EQ(we.begin, 132104u);
  EXPECT_EQ(we.end, 7945736u);
  EXPECT_EQ(f.info("distilbert.embeddings.position_embeddings.weight").shape, (Shape{512, 64}));
  EXPECT_EQ(f.info("distilbert.transformer.layer.1.ffn.lin1.weight").shape, (Shape{256, 64}));
  EXPECT_EQ(f.info("classifier.weight").shape, (Shape{2, 64}));

  const Tensor bias = f.tensor("classifier.bias");
  EXPECT_TRUE(bias.read_only());  // a zero-copy view of the mapping
  EXPECT_TRUE(f.is_zero_copy(f.info("classifier.bias")));
  EXPECT_EQ(bias.to_vector<float>(),
            (std::vector<float>{-0.11594127863645554f, 0.05505518242716789f}));

  const Tensor w = f.tensor("classifier.weight");
  EXPECT_EQ(w.data<float>()[0], -0.3222152292728424f);
  EXPECT_EQ(w.data<float>()[1], 0.07071142643690109f);
  EXPECT_EQ(w.data<float>()[2], -0.025955751538276672f);
  EXPECT_EQ(w.data<float>()[127], -0.414235919713974f);

  const Tensor emb = f.tensor("distilbert.embeddings.word_embeddings.weight");
  EXPECT_EQ(emb.data<float>()[0], 0.0f);  // padding row
  EXPECT_EQ(emb.data<float>()[64], 0.2036726474761963f);
  EXPECT_EQ(emb.data<float>()[30522 * 64 - 1], 0.24092812836170197f);
  EXPECT_EQ(
      f.tensor("distilbert.embeddings.position_embeddings.weight").data<float>()[512 * 64 - 1],
      -0.1429629772901535f);
  EXPECT_EQ(f.tensor("distilbert.transformer.layer.1.ffn.lin1.bias").data<float>()[255],
            0.006068751215934753f);

  double sum = 0;
  for (float v : f.tensor("pre_classifier.weight").span<float>()) sum += v;
  EXPECT_NEAR(sum, 7.469744557489321, 1e-9);
  sum = 0;
  for (float v : emb.span<float>()) sum += v;
  EXPECT_NEAR(sum, 48.933548593572446, 1e-7);

  for (const SafeTensorInfo& t : f.tensors()) EXPECT_TRUE(f.is_zero_copy(t)) << t.name;
}

TEST(SafeTensorsFixture, DistilBertTinyF16) {
  const auto path = shared_path("fixtures/distilbert-tiny-f16/model.safetensors");
  TG_REQUIRE_SHARED_FILE(path);
  const SafeTensorsFile f = SafeTensorsFile::open(path);
  EXPECT_EQ(f.size(), 40u);
  EXPECT_EQ(f.metadata().at("format"), "pt");
  EXPECT_EQ(f.metadata().size(), 1u);
  EXPECT_EQ(f.header_size(), 4496u);
  for (const SafeTensorInfo& t : f.tensors()) EXPECT_EQ(t.dtype, DType::F16) << t.name;
  const SafeTensorInfo& we = f.info("distilbert.embeddings.word_embeddings.weight");
  EXPECT_EQ(we.shape, (Shape{30522, 64}));
  EXPECT_EQ(we.begin, 66052u);
  EXPECT_EQ(we.end, 3972868u);

  auto value = [&](const char* name, std::int64_t i) {
    const Tensor t = f.tensor(name);
    return f16_to_f32(t.data<f16>()[i].bits);
  };
  EXPECT_EQ(f.tensor("classifier.bias").data<f16>()[0].bits, 0x2fc3);
  EXPECT_EQ(value("classifier.bias", 0), 0.12127685546875f);
  EXPECT_EQ(value("classifier.bias", 1), -0.051849365234375f);
  EXPECT_EQ(value("classifier.weight", 0), -0.32373046875f);
  EXPECT_EQ(value("classifier.weight", 1), -0.271484375f);
  EXPECT_EQ(value("classifier.weight", 2), 0.0002601146697998047f);
  EXPECT_EQ(value("classifier.weight", 127), -0.2177734375f);
  EXPECT_EQ(value("distilbert.embeddings.word_embeddings.weight", 64), -0.0195465087890625f);
  EXPECT_EQ(value("distilbert.embeddings.word_embeddings.weight", 30522 * 64 - 1),
            0.0100860595703125f);
  EXPECT_EQ(value("distilbert.embeddings.position_embeddings.weight", 512 * 64 - 1),
            -0.11761474609375f);

  // Upcast through the exact conversion gives the same sum as Python's.
  const Tensor pre = f.tensor("pre_classifier.weight").to(DType::F32);
  double sum = 0;
  for (float v : pre.span<float>()) sum += v;
  EXPECT_NEAR(sum, 2.9817631244659424, 1e-9);
}

TEST(SafeTensorsFixture, MissingNameListsCloseOnes) {
  const auto path = shared_path("fixtures/distilbert-tiny/model.safetensors");
  TG_REQUIRE_SHARED_FILE(path);
  const SafeTensorsFile f = SafeTensorsFile::open(path);
  try {
    f.info("classifer.weight");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("no tensor 'classifer.weight' in " + path.string()));
    EXPECT_THAT(e.what(), HasSubstr("close names: 'classifier.weight'"));
  }
  try {
    f.tensor("embeddings.word_embeddings.weight");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("'distilbert.embeddings.word_embeddings.weight'"));
  }
  EXPECT_EQ(f.find("nothing like it"), nullptr);
  try {
    f.info("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("it holds 40 tensors"));
  }
}

// ---- round trips -------------------------------------------------------------------------------

TEST(SafeTensorsWriter, RoundTripsEveryDType) {
  TempDir dir;
  std::vector<std::pair<std::string, Tensor>> tensors;
  tensors.emplace_back("f32", Tensor::from<float>({2, 3}, {1.5f, -2.f, 0.f, 3.25f, -0.f, 1e30f}));
  tensors.emplace_back("f16", Tensor::from<f16>({3}, {f16{0x3c00}, f16{0xfbff}, f16{0x0001}}));
  tensors.emplace_back("bf16", Tensor::from<bf16>({2}, {bf16{0x3f80}, bf16{0xff80}}));
  tensors.emplace_back("f64", Tensor::from<double>({2}, {3.141592653589793, -1e-300}));
  tensors.emplace_back("i8", Tensor::from<std::int8_t>({3}, {-128, 0, 127}));
  tensors.emplace_back("u8", Tensor::from<std::uint8_t>({1, 3}, {0, 7, 255}));
  tensors.emplace_back("i32", Tensor::from<std::int32_t>({2}, {-2147483647 - 1, 2147483647}));
  tensors.emplace_back("i64",
                       Tensor::from<std::int64_t>({2}, {INT64_MIN, (std::int64_t{1} << 62) + 1}));
  tensors.emplace_back("bool", Tensor::from<bool>({4}, {true, false, false, true}));
  tensors.emplace_back("scalar", Tensor::scalar<float>(42.f));
  tensors.emplace_back("empty", Tensor::empty(DType::F32, {0, 5}));
  const std::map<std::string, std::string> metadata{{"format", "pt"}, {"note", "ünïcode ✓"}};

  const auto path = dir / "all.safetensors";
  write_safetensors(path, tensors, metadata);
  EXPECT_EQ(dir_entries(dir.path()), std::vector<std::string>{"all.safetensors"});  // no temp file

  const SafeTensorsFile f = SafeTensorsFile::open(path);
  EXPECT_EQ(f.metadata(), metadata);
  EXPECT_EQ(f.header_size() % 8, 0u);
  ASSERT_EQ(f.size(), tensors.size());
  // The data is laid out in the order given.
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(f.tensors()[i].name, tensors[i].first);
  }
  for (const auto& [name, expected] : tensors) {
    SCOPED_TRACE(name);
    const Tensor t = f.tensor(name);
    EXPECT_EQ(t.dtype(), expected.dtype());
    EXPECT_EQ(t.shape(), expected.shape());
    ASSERT_EQ(t.nbytes(), expected.nbytes());
    EXPECT_EQ(std::memcmp(t.raw(), expected.raw(), t.nbytes()), 0);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw()) % dtype_size(t.dtype()), 0u);
  }
  EXPECT_EQ(f.tensor("i64").data<std::int64_t>()[1], (std::int64_t{1} << 62) + 1);
  EXPECT_EQ(f.tensor("bool").to_vector<bool>(), (std::vector<bool>{true, false, false, true}));
  EXPECT_EQ(f.tensor("scalar").rank(), 0);

  // The file is byte for byte the in-memory image.
  const auto memory = serialize_safetensors(tensors, metadata);
  const std::string disk = read_bytes(path);
  ASSERT_EQ(disk.size(), memory.size());
  EXPECT_EQ(std::memcmp(disk.data(), memory.data(), memory.size()), 0);

  // Writing what was read (views of the mapped file) over the same path works too.
  std::vector<std::pair<std::string, Tensor>> again;
  for (const auto& t : f.tensors()) again.emplace_back(t.name, f.tensor(t));
  write_safetensors(path, again, f.metadata());
  EXPECT_EQ(read_bytes(path), disk);
}

TEST(SafeTensorsWriter, ExactBytesOfASmallFile) {
  const auto bytes =
      serialize_safetensors({{"a", Tensor::from<float>({2}, {1.f, 2.f})}}, {{"format", "pt"}});
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_EQ(header.size(), 85u);
  const std::string padded = header + std::string(3, ' ');  // to 88, a multiple of 8
  const std::string expected =
      u64_le(88) + padded + std::string("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);
  ASSERT_EQ(bytes.size(), expected.size());
  EXPECT_EQ(std::memcmp(bytes.data(), expected.data(), expected.size()), 0);
  // No metadata: no "__metadata__" key at all; no tensors: "{}".
  const auto empty = serialize_safetensors({});
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(empty.data()), empty.size()),
            u64_le(8) + "{}      ");
}

TEST(SafeTensorsReader, MisalignedTensorsAreCopiedNotViewed) {
  // An F16 of one element then an F32: the F32 starts at data offset 2, not 4-aligned.
  const std::string header =
      "{" + entry("h", "F16", "[1]", 0, 2) + "," + entry("f", "F32", "[2]", 2, 10) + "}";
  std::string data("\x00\x3c", 2);
  const float values[2] = {1.25f, -7.5f};
  data.append(reinterpret_cast<const char*>(values), sizeof values);
  std::string padded = header + std::string((8 - header.size() % 8) % 8, ' ');
  TempDir dir;
  write_bytes(dir / "m.safetensors", image(padded, data));
  const SafeTensorsFile f = SafeTensorsFile::open(dir / "m.safetensors");
  EXPECT_TRUE(f.is_zero_copy(f.info("h")));
  EXPECT_FALSE(f.is_zero_copy(f.info("f")));
  const Tensor t = f.tensor("f");
  EXPECT_FALSE(t.read_only());  // an owning copy
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw()) % alignof(float), 0u);
  EXPECT_EQ(t.to_vector<float>(), (std::vector<float>{1.25f, -7.5f}));
  EXPECT_EQ(f16_to_f32(f.tensor("h").data<f16>()[0].bits), 1.0f);
}

TEST(SafeTensorsReader, AcceptsValidEdgeCases) {
  TempDir dir;
  // No tensors at all.
  write_bytes(dir / "a", image("{}"));
  EXPECT_EQ(SafeTensorsFile::open(dir / "a").size(), 0u);
  // Null metadata, padding spaces, zero-size tensors sharing an offset, a scalar.
  const std::string header =
      "{\"__metadata__\":null," + entry("z1", "F32", "[0]", 0, 0) + "," +
      entry("z2", "I64", "[3,0]", 0, 0) + "," + entry("s", "I32", "[]", 0, 4) + "," +
      entry("z3", "U8", "[0,4611686018427387904,4611686018427387904]", 4, 4) + "}    ";
  write_bytes(dir / "b", image(header, std::string("\x05\x00\x00\x00", 4)));
  const SafeTensorsFile f = SafeTensorsFile::open(dir / "b");
  EXPECT_EQ(f.size(), 4u);
  EXPECT_TRUE(f.metadata().empty());
  EXPECT_EQ(f.tensor("s").data<std::int32_t>()[0], 5);
  EXPECT_EQ(f.tensor("z2").numel(), 0);
  EXPECT_TRUE(f.tensor("z1").defined());
  EXPECT_EQ(f.tensor("z3").shape().strides()[2], 1);  // no overflow trap on the huge empty shape
  // The same image parsed from memory.
  const std::string bytes = image(header, std::string("\x05\x00\x00\x00", 4));
  auto owner = std::make_shared<std::string>(bytes);
  const SafeTensorsFile m = SafeTensorsFile::parse(
      std::as_bytes(std::span<const char>(owner->data(), owner->size())), owner, "memory");
  EXPECT_EQ(m.name(), "memory");
  EXPECT_EQ(m.tensor("s").data<std::int32_t>()[0], 5);
}

// ---- every corruption gives its own error ------------------------------------------------------

TEST(SafeTensorsReader, FileTooShortOrHeaderLengthBad) {
  EXPECT_THAT(open_error(""), HasSubstr("file is too short (0 bytes)"));
  EXPECT_THAT(open_error("1234567"), HasSubstr("file is too short (7 bytes)"));
  EXPECT_THAT(open_error(u64_le(100) + "{}"),
              HasSubstr("header length 100 goes past the end of the file (10 bytes)"));
  EXPECT_THAT(open_error(u64_le(100'000'001) + "{}"),
              HasSubstr("header length 100000001 is larger than the 100000000-byte limit"));
  EXPECT_THAT(open_error(u64_le(~std::uint64_t{0}) + "{}"),
              HasSubstr("header length 18446744073709551615 is larger than"));
  EXPECT_THAT(open_error(u64_le(0)), HasSubstr("the JSON header is empty"));
}

TEST(SafeTensorsReader, InvalidJsonOrNotAnObject) {
  EXPECT_THAT(open_error(image(R"({"a":)")), HasSubstr("invalid JSON header: parse error"));
  EXPECT_THAT(open_error(image("{\"a\xff\":1}")), HasSubstr("invalid JSON header"));  // bad UTF-8
  EXPECT_THAT(open_error(image(R"({"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,0]}})")),
              HasSubstr("invalid JSON header: number overflow"));
  EXPECT_THAT(open_error(image(std::string(100, '[') + std::string(100, ']'))),
              HasSubstr("nested more than 32 levels deep"));
  EXPECT_THAT(open_error(image("[1,2]")),
              HasSubstr("the JSON header must be an object, found an array"));
  EXPECT_THAT(open_error(image("\"text\"")), HasSubstr("must be an object, found a string"));
  EXPECT_THAT(open_error(image(R"({"w":5})")),
              HasSubstr("tensor 'w': the header entry must be a JSON object, found an integer"));
}

TEST(SafeTensorsReader, EntryFieldsMissingOrWrongType) {
  auto one = [](const std::string& body, const std::string& data = "") {
    return open_error(image("{\"w\":{" + body + "}}", data));
  };
  EXPECT_THAT(one(R"("shape":[1],"data_offsets":[0,4])", "abcd"),
              HasSubstr("tensor 'w': missing \"dtype\""));
  EXPECT_THAT(one(R"("dtype":4,"shape":[1],"data_offsets":[0,4])", "abcd"),
              HasSubstr("tensor 'w': \"dtype\" must be a string, found an integer"));
  EXPECT_THAT(one(R"("dtype":"F32","data_offsets":[0,4])", "abcd"),
              HasSubstr("tensor 'w': missing \"shape\""));
  EXPECT_THAT(one(R"("dtype":"F32","shape":"1","data_offsets":[0,4])", "abcd"),
              HasSubstr("tensor 'w': \"shape\" must be an array of integers, found a string"));
  EXPECT_THAT(
      one(R"("dtype":"F32","shape":[1.0],"data_offsets":[0,4])", "abcd"),
      HasSubstr("tensor 'w': shape [1.0] must hold integers, found a floating-point number"));
  EXPECT_THAT(one(R"("dtype":"F32","shape":[1])", "abcd"),
              HasSubstr("tensor 'w': missing \"data_offsets\""));
  EXPECT_THAT(
      one(R"("dtype":"F32","shape":[1],"data_offsets":[0,4,8])", "abcd"),
      HasSubstr(
          "\"data_offsets\" must be an array of two integers [begin, end], found 3 elements"));
  EXPECT_THAT(one(R"("dtype":"F32","shape":[1],"data_offsets":{"a":0})", "abcd"),
              HasSubstr("must be an array of two integers [begin, end], found an object"));
  EXPECT_THAT(one(R"("dtype":"F32","shape":[1],"data_offsets":[0,"4"])", "abcd"),
              HasSubstr("\"data_offsets\" must hold integers, found a string"));
  EXPECT_THAT(one(R"("dtype":"F32","shape":[1],"data_offsets":[-4,0])", "abcd"),
              HasSubstr("data offset -4 is out of range"));
}

TEST(SafeTensorsReader, UnknownAndUnsupportedDTypes) {
  EXPECT_THAT(open_error(image("{" + entry("w", "F12", "[1]", 0, 4) + "}", "abcd")),
              HasSubstr("tensor 'w': unknown dtype 'F12'"));
  EXPECT_THAT(open_error(image("{" + entry("w", "f32", "[1]", 0, 4) + "}", "abcd")),
              HasSubstr("tensor 'w': unknown dtype 'f32'"));
  for (const char* dtype : {"F8_E4M3", "F8_E5M2", "I16", "U16", "U32", "U64"}) {
    EXPECT_THAT(open_error(image("{" + entry("w", dtype, "[1]", 0, 1) + "}", "a")),
                HasSubstr(fmt::format("tensor 'w': unsupported dtype '{}' (tensorgraph reads F32, "
                                      "F16, BF16, F64, I8, U8, I32, I64, BOOL)",
                                      dtype)));
  }
}

TEST(SafeTensorsReader, BadShapes) {
  EXPECT_THAT(open_error(image("{" + entry("w", "F32", "[-1,2]", 0, 8) + "}", "12345678")),
              HasSubstr("tensor 'w': shape [-1,2] has a negative dimension -1"));
  EXPECT_THAT(
      open_error(image("{" + entry("w", "U8", "[9223372036854775808]", 0, 8) + "}", "12345678")),
      HasSubstr("has a too large dimension 9223372036854775808"));
  EXPECT_THAT(
      open_error(image("{" + entry("w", "F32", "[4294967296,4294967296]", 0, 8) + "}", "12345678")),
      HasSubstr("tensor 'w': shape [4294967296,4294967296] overflows"));
  // Elements fit but elements x 8 bytes does not.
  EXPECT_THAT(
      open_error(image("{" + entry("w", "F64", "[4611686018427387904]", 0, 8) + "}", "12345678")),
      HasSubstr("overflows"));
  EXPECT_THAT(open_error(image("{" + entry("w", "U8", "[1,1,1,1,1,1,1,1,1]", 0, 1) + "}", "1")),
              HasSubstr("has rank 9, more than the 8 dimensions tensorgraph supports"));
  EXPECT_THAT(
      open_error(image("{" + entry("w", "F32", "[2,3]", 0, 20) + "}", std::string(20, 'x'))),
      HasSubstr(
          "tensor 'w': shape [2,3] of F32 needs 24 bytes but data_offsets [0, 20] hold 20 bytes"));
}

TEST(SafeTensorsReader, BadOffsets) {
  EXPECT_THAT(
      open_error(image("{" + entry("w", "U8", "[16]", 0, 16) + "}", "12345678")),
      HasSubstr("tensor 'w': data_offsets [0, 16] go past the end of the data section (8 bytes)"));
  EXPECT_THAT(open_error(image("{" + entry("w", "U8", "[0]", 8, 0) + "}", "12345678")),
              HasSubstr("tensor 'w': data_offsets [8, 0] are reversed"));
  EXPECT_THAT(open_error(image(
                  "{" + entry("a", "U8", "[8]", 0, 8) + "," + entry("b", "U8", "[8]", 4, 12) + "}",
                  "123456789012")),
              HasSubstr("tensor 'b': data_offsets [4, 12] overlap those of tensor 'a' [0, 8]"));
  EXPECT_THAT(
      open_error(image(
          "{" + entry("a", "U8", "[4]", 0, 4) + "," + entry("b", "U8", "[4]", 0, 4) + "}", "1234")),
      HasSubstr("overlap"));
  EXPECT_THAT(open_error(image(
                  "{" + entry("a", "U8", "[4]", 0, 4) + "," + entry("b", "U8", "[4]", 8, 12) + "}",
                  "123456789012")),
              HasSubstr("data bytes [4, 8) belong to no tensor (gap before tensor 'b')"));
  EXPECT_THAT(open_error(image("{" + entry("b", "U8", "[4]", 4, 8) + "}", "12345678")),
              HasSubstr("data bytes [0, 4) belong to no tensor (gap before tensor 'b')"));
  EXPECT_THAT(open_error(image("{" + entry("a", "U8", "[4]", 0, 4) + "}", "12345678")),
              HasSubstr("data bytes [4, 8) at the end of the file belong to no tensor"));
  EXPECT_THAT(open_error(image("{}", "x")), HasSubstr("data bytes [0, 1) at the end of the file"));
}

TEST(SafeTensorsReader, DuplicateNamesAndKeys) {
  EXPECT_THAT(
      open_error(image(
          "{" + entry("a", "U8", "[1]", 0, 1) + "," + entry("a", "U8", "[1]", 1, 2) + "}", "12")),
      HasSubstr("duplicate tensor name 'a' in the header"));
  EXPECT_THAT(open_error(image(
                  R"({"a":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}})", "1")),
              HasSubstr("duplicate key 'dtype' in the header entry 'a'"));
  EXPECT_THAT(open_error(image(R"({"__metadata__":{"k":"1","k":"2"}})")),
              HasSubstr("duplicate key 'k' in the header entry '__metadata__'"));
  EXPECT_THAT(open_error(image(R"({"__metadata__":{},"__metadata__":{}})")),
              HasSubstr("duplicate tensor name '__metadata__'"));
}

TEST(SafeTensorsReader, MetadataNotAStringMap) {
  EXPECT_THAT(
      open_error(image(R"({"__metadata__":{"format":1}})")),
      HasSubstr("\"__metadata__\" must map strings to strings, but 'format' is an integer"));
  EXPECT_THAT(
      open_error(image(R"({"__metadata__":["pt"]})")),
      HasSubstr("\"__metadata__\" must be an object mapping strings to strings, found an array"));
}

TEST(SafeTensorsReader, BoolBytesMustBeZeroOrOne) {
  TempDir dir;
  write_bytes(dir / "b", image("{" + entry("flags", "BOOL", "[3]", 0, 3) + "}",
                               std::string("\x01\x00\x02", 3)));
  const SafeTensorsFile f = SafeTensorsFile::open(dir / "b");  // the header is fine
  try {
    f.tensor("flags");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr("tensor 'flags': BOOL element 2 has the byte value 2 (expected 0 or 1)"));
  }
  EXPECT_EQ(f.bytes(f.info("flags")).size(), 3u);
}

TEST(SafeTensorsReader, MissingFileOrDirectory) {
  TempDir dir;
  try {
    SafeTensorsFile::open(dir / "nope.safetensors");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(),
                HasSubstr((dir / "nope.safetensors").string() + ": cannot open: No such file"));
  }
  EXPECT_THAT([&] { SafeTensorsFile::open(dir.path()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("not a regular file")));
}

// ---- the writer's validation and atomicity -----------------------------------------------------

class SafeTensorsAtomic : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "model.safetensors";
    write_safetensors(path_, {{"old", Tensor::from<float>({1}, {1.f})}});
    old_ = read_bytes(path_);
  }
  // The old file is intact and nothing else was left in the directory.
  void expect_untouched() {
    EXPECT_EQ(read_bytes(path_), old_);
    EXPECT_EQ(dir_entries(dir_.path()), std::vector<std::string>{"model.safetensors"});
  }
  TempDir dir_;
  std::filesystem::path path_;
  std::string old_;
};

TEST_F(SafeTensorsAtomic, InvalidTensorsKeepTheOldFile) {
  const Tensor t = Tensor::from<float>({1}, {2.f});
  EXPECT_THAT(
      [&] {
        write_safetensors(path_, {{"a", t}, {"a", t}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr(path_.string() + ": duplicate tensor name 'a'")));
  EXPECT_THAT(
      [&] {
        write_safetensors(path_, {{"__metadata__", t}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("'__metadata__' is reserved")));
  EXPECT_THAT(
      [&] {
        write_safetensors(path_, {{"", t}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("a tensor name is empty")));
  EXPECT_THAT(
      [&] {
        write_safetensors(path_, {{"bad\xff", t}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("invalid UTF-8 at byte 3")));
  EXPECT_THAT(
      [&] {
        write_safetensors(path_, {{"a", t}}, {{"k", "\xc3"}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("invalid UTF-8")));
  EXPECT_THAT(
      [&] {
        write_safetensors(path_, {{"undefined", Tensor()}});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("tensor 'undefined' has no data")));
  expect_untouched();
}

TEST_F(SafeTensorsAtomic, FailedRenameRemovesTheTempFile) {
  // The target is a non-empty directory: everything is written, then the rename fails.
  const auto target = dir_ / "occupied";
  std::filesystem::create_directories(target / "inside");
  EXPECT_THAT(
      [&] {
        write_safetensors(target, {{"a", Tensor::from<float>({1}, {2.f})}});
      },
      ::testing::ThrowsMessage<Error>(
          HasSubstr(target.string() + ": cannot rename the temporary file over it")));
  std::filesystem::remove_all(target);
  expect_untouched();
}

TEST_F(SafeTensorsAtomic, FailedWriteKeepsTheOldFile) {
  // A file size limit makes write() fail half-way (EFBIG), as a full disk would; works as root.
  struct rlimit old_limit {};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  struct rlimit small = old_limit;
  small.rlim_cur = 4096;
  auto* old_handler = signal(SIGXFSZ, SIG_IGN);
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message;
  try {
    write_safetensors(path_, {{"big", Tensor::zeros(DType::F32, {64, 64})}});
  } catch (const Error& e) {
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  EXPECT_THAT(message, HasSubstr(path_.string() + ": write failed: File too large"));
  expect_untouched();
}

TEST_F(SafeTensorsAtomic, UnwritableDirectory) {
  const auto missing = dir_ / "no-such-dir" / "model.safetensors";
  EXPECT_THAT([&] { write_safetensors(missing, {}); },
              ::testing::ThrowsMessage<Error>(HasSubstr("cannot create a temporary file in '" +
                                                        (dir_ / "no-such-dir").string() +
                                                        "': No such file or directory")));
  if (::geteuid() != 0) {  // root ignores directory permissions
    const auto ro = dir_ / "ro";
    std::filesystem::create_directory(ro);
    ::chmod(ro.c_str(), 0555);
    EXPECT_THAT([&] { write_safetensors(ro / "m.safetensors", {}); },
                ::testing::ThrowsMessage<Error>(HasSubstr("Permission denied")));
    ::chmod(ro.c_str(), 0755);
    EXPECT_TRUE(std::filesystem::is_empty(ro));
    std::filesystem::remove(ro);
  }
  expect_untouched();
}

}  // namespace
}  // namespace tensorgraph::io
