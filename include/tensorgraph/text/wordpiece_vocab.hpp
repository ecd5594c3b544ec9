#pragma once
// A WordPiece vocabulary (`vocab.txt`: one token per line, id = 0-based line number), read the
// way HuggingFace's `load_vocab` reads it: lines end at \n, \r\n or \r (Python's universal
// newlines), nothing else is stripped, and a token listed twice keeps the id of its LAST line.
// Lookups are open-addressing hash tables over string views: one for whole tokens and one for
// continuation pieces ("##ing" looked up as "ing"), so the tokenizer never builds a string.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tensorgraph::text {

class WordPieceVocab {
 public:
  WordPieceVocab() = default;

  // Reads `path`. Throws Error naming the file for a missing or unreadable file, an empty
  // vocabulary and invalid UTF-8 (with its line and byte offset).
  static WordPieceVocab from_file(const std::filesystem::path& path);
  // Parses the contents of a vocab.txt; `name` is used in messages.
  static WordPieceVocab from_text(std::string_view text, const std::string& name);

  // Number of ids (lines of the file).
  std::size_t size() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  // The token of `id` (the text of its line). Throws Error for an id out of range.
  std::string_view token(std::int32_t id) const;
  // Id of `token`, or -1.
  std::int32_t find(std::string_view token) const {
    return lookup(whole_, token.data(), token.size());
  }
  // Id of "##" + `rest` (a word-continuation piece), or -1.
  std::int32_t find_continuation(std::string_view rest) const {
    return lookup(continuation_, rest.data(), rest.size());
  }
  // Longest token, and longest continuation piece without its "##", in bytes.
  std::size_t max_token_bytes() const { return whole_.max_key_bytes; }
  std::size_t max_continuation_bytes() const { return continuation_.max_key_bytes; }
  const std::string& name() const { return name_; }

  // A fast hash of a short byte string (exposed for tests).
  static std::uint64_t hash(const char* p, std::size_t n) {
    constexpr std::uint64_t k1 = 0x9E3779B97F4A7C15ull, k2 = 0xC2B2AE3D27D4EB4Full;
    std::uint64_t h = (n + 1) * k2;
    if (n >= 8) {
      const char* last = p + n - 8;
      for (; p < last; p += 8) {
        h = (h ^ load64(p)) * k1;
        h ^= h >> 29;
      }
      h = (h ^ load64(last)) * k2;
    } else if (n >= 4) {
      h ^= (static_cast<std::uint64_t>(load32(p)) << 32) | load32(p + n - 4);
      h *= k1;
    } else if (n > 0) {
      const auto* u = reinterpret_cast<const unsigned char*>(p);
      h ^= (std::uint64_t{u[0]} << 16) | (std::uint64_t{u[n >> 1]} << 8) | u[n - 1];
      h *= k1;
    }
    h ^= h >> 32;
    h *= k2;
    h ^= h >> 29;
    return h;
  }

 private:
  struct Slot {
    std::uint32_t tag = 0;  // high half of the hash
    std::int32_t id = -1;   // -1: empty
  };
  struct Table {
    std::vector<Slot> slots;
    std::size_t mask = 0;
    std::size_t skip = 0;  // bytes of the stored token that are not part of the key ("##")
    std::size_t max_key_bytes = 0;
  };

  static std::uint64_t load64(const char* p) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  static std::uint32_t load32(const char* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }

  std::int32_t lookup(const Table& table, const char* key, std::size_t n) const {
    if (table.slots.empty()) return -1;
    const std::uint64_t h = hash(key, n);
    const auto tag = static_cast<std::uint32_t>(h >> 32);
    for (std::size_t i = h & table.mask;; i = (i + 1) & table.mask) {
      const Slot& s = table.slots[i];
      if (s.id < 0) return -1;
      if (s.tag != tag) continue;
      const std::size_t begin = offsets_[static_cast<std::size_t>(s.id)] + table.skip;
      const std::size_t end = offsets_[static_cast<std::size_t>(s.id) + 1];
      if (end - begin == n && std::memcmp(text_.data() + begin, key, n) == 0) return s.id;
    }
  }
  void build_tables();
  static void insert(Table& table, const char* key, std::size_t n, std::int32_t id,
                     const std::string& text, const std::vector<std::uint32_t>& offsets);

  std::string name_;
  std::string text_;                    // every token, concatenated
  std::vector<std::uint32_t> offsets_;  // token i is text_[offsets_[i], offsets_[i + 1])
  Table whole_;
  Table continuation_;
};

}  // namespace tensorgraph::text
