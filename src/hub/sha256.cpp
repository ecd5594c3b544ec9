#include "tensorgraph/hub/sha256.hpp"

#include <openssl/evp.h>
#include <zlib.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::hub {

struct Sha256::Context {
  EVP_MD_CTX* md = nullptr;
  Context() : md(EVP_MD_CTX_new()) {
    TG_CHECK(md != nullptr, "sha256: out of memory");
    restart();
  }
  ~Context() { EVP_MD_CTX_free(md); }
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  void restart() {
    TG_CHECK(EVP_DigestInit_ex(md, EVP_sha256(), nullptr) == 1, "sha256: OpenSSL init failed");
  }
};

Sha256::Sha256() : ctx_(std::make_unique<Context>()) {}
Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(const void* data, std::size_t size) {
  if (size == 0) return;
  TG_CHECK(EVP_DigestUpdate(ctx_->md, data, size) == 1, "sha256: OpenSSL update failed");
}

std::int64_t Sha256::update_from_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open for reading: {}", path.string(), std::strerror(errno));
  std::array<char, 1 << 16> buffer{};
  std::int64_t total = 0;
  while (in) {
    in.read(buffer.data(), buffer.size());
    const auto got = in.gcount();
    if (got <= 0) break;
    update(buffer.data(), static_cast<std::size_t>(got));
    total += got;
  }
  TG_CHECK(!in.bad(), "{}: read error", path.string());
  return total;
}

std::string Sha256::hex_digest() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  TG_CHECK(EVP_DigestFinal_ex(ctx_->md, digest.data(), &length) == 1,
           "sha256: OpenSSL final failed");
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  ctx_->restart();
  return out;
}

void Sha256::reset() {
  ctx_->restart();
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex_digest();
}

std::string sha256_file(const std::filesystem::path& path) {
  Sha256 h;
  h.update_from_file(path);
  return h.hex_digest();
}

std::string sha256_gunzipped_file(const std::filesystem::path& path) {
  gzFile gz = gzopen(path.c_str(), "rb");
  if (gz == nullptr) fail("{}: cannot open for reading: {}", path.string(), std::strerror(errno));
  Sha256 h;
  std::array<char, 1 << 16> buffer{};
  for (;;) {
    const int got = gzread(gz, buffer.data(), static_cast<unsigned>(buffer.size()));
    if (got < 0) {
      int code = 0;
      const std::string message = gzerror(gz, &code);
      gzclose(gz);
      fail("{}: not a valid gzip file ({})", path.string(), message);
    }
    if (got == 0) break;
    if (gzdirect(gz) == 1) {  // zlib passes non-gzip input through unchanged
      gzclose(gz);
      fail("{}: not a gzip file", path.string());
    }
    h.update(buffer.data(), static_cast<std::size_t>(got));
  }
  // A truncated stream reads as a short file: gzclose_r reports it.
  const int rc = gzclose(gz);
  TG_CHECK(rc == Z_OK, "{}: not a valid gzip file (truncated or corrupt)", path.string());
  return h.hex_digest();
}

bool is_sha256_hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

}  // namespace tensorgraph::hub
