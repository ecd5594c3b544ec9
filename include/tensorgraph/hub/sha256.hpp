#pragma once
// SHA-256 (OpenSSL EVP), fed incrementally so that a download is hashed while it is written.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace tensorgraph::hub {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  void update(std::string_view data) { update(data.data(), data.size()); }
  // Adds the whole content of `path`; returns its size in bytes. Throws Error naming the path.
  std::int64_t update_from_file(const std::filesystem::path& path);
  // The digest as 64 lower-case hex digits; the hasher starts over afterwards.
  std::string hex_digest();
  // Forgets everything fed so far.
  void reset();

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

std::string sha256_hex(std::string_view data);
// The sha256 of a file's content. Throws Error naming the path when it cannot be read.
std::string sha256_file(const std::filesystem::path& path);
// The sha256 of the decompressed content of a gzip file. Throws Error when it is not valid gzip.
std::string sha256_gunzipped_file(const std::filesystem::path& path);
// True for exactly 64 hex digits (either case).
bool is_sha256_hex(std::string_view text);

}  // namespace tensorgraph::hub
