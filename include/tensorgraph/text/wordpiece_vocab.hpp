#pragma once
// A WordPiece vocabulary (`vocab.txt`: one token per line, id = 0-based line number), read the
// way HuggingFace's `load_vocab` reads it: lines end at \n, \r\n or \r (Python's universal
// newlines), nothing else is stripped, and a token listed twice keeps the id of its LAST line.
//
// Lookups are open-addressing hash tables over string views, one for word-initial tokens and one
// for continuation pieces ("##ing" is looked up as "ing"), so the tokenizer never builds a
// string. A key is packed into two machine words (its first 11 bytes, zero-padded, and its
// length), which are both its hash input and what a 16-byte slot stores: a lookup of a present or
// an absent piece usually reads one cache line and compares two words. Only keys longer than 11
// bytes (rare) are compared once more against the token text.
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
    if (token.size() >= 2 && token[0] == '#' && token[1] == '#')
      return lookup(continuation_, token.data() + 2, token.size() - 2);
    return lookup(initial_, token.data(), token.size());
  }
  // Id of `token`, which does not start with "##" (a word-initial piece), or -1.
  std::int32_t find_initial(std::string_view token) const {
    return lookup(initial_, token.data(), token.size());
  }
  // Id of "##" + `rest` (a word-continuation piece), or -1.
  std::int32_t find_continuation(std::string_view rest) const {
    return lookup(continuation_, rest.data(), rest.size());
  }
  // Longest word-initial token, and longest continuation piece without its "##", in bytes.
  std::size_t max_initial_bytes() const { return initial_.max_key_bytes; }
  std::size_t max_continuation_bytes() const { return continuation_.max_key_bytes; }
  const std::string& name() const { return name_; }

 private:
  static constexpr std::size_t kPackedBytes = 11;

  // The first 11 bytes of a key, zero-padded, and its length (saturated at 255).
  struct PackedKey {
    std::uint64_t lo;  // bytes 0-7
    std::uint32_t hi;  // bytes 8-10, length in the top byte
  };
  struct Slot {
    std::uint64_t lo;
    std::uint32_t hi;
    std::int32_t id;  // -1: empty
  };
  struct Table {
    std::vector<Slot> slots;
    std::size_t mask = 0;
    std::size_t skip = 0;  // bytes of the stored token that are not part of the key ("##")
    std::size_t max_key_bytes = 0;
  };

  // Up to 8 bytes at `p`, zero-padded, read without touching memory past p + n.
  static std::uint64_t load_upto8(const char* p, std::size_t n) {
    if (n >= 8) return load<std::uint64_t>(p);
    if (n >= 4)
      return load<std::uint32_t>(p) |
             (static_cast<std::uint64_t>(load<std::uint32_t>(p + n - 4)) << (8 * (n - 4)));
    if (n >= 2)
      return load<std::uint16_t>(p) |
             (static_cast<std::uint64_t>(load<std::uint16_t>(p + n - 2)) << (8 * (n - 2)));
    return n == 1 ? static_cast<unsigned char>(p[0]) : 0;
  }
  template <typename T>
  static T load(const char* p) {
    T v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static PackedKey pack(const char* p, std::size_t n) {
    PackedKey k;
    k.lo = load_upto8(p, n < 8 ? n : 8);
    const std::size_t rest = n <= 8 ? 0 : (n < kPackedBytes ? n : kPackedBytes) - 8;
    k.hi = static_cast<std::uint32_t>(load_upto8(p + 8, rest)) |
           (static_cast<std::uint32_t>(n < 255 ? n : 255) << 24);
    return k;
  }
  static std::uint64_t hash(const PackedKey& k) {
    std::uint64_t h = (k.lo ^ (static_cast<std::uint64_t>(k.hi) << 29)) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 32;
    h *= 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    return h;
  }
  // For keys longer than the packed bytes: the rest of the bytes.
  bool same_tail(const Table& table, std::int32_t id, const char* key, std::size_t n) const {
    const std::size_t begin = offsets_[static_cast<std::size_t>(id)] + table.skip;
    const std::size_t end = offsets_[static_cast<std::size_t>(id) + 1];
    return end - begin == n && std::memcmp(text_.data() + begin, key, n) == 0;
  }

  std::int32_t lookup(const Table& table, const char* key, std::size_t n) const {
    if (table.slots.empty()) return -1;
    const PackedKey k = pack(key, n);
    for (std::size_t i = hash(k) & table.mask;; i = (i + 1) & table.mask) {
      const Slot& s = table.slots[i];
      if (s.id < 0) return -1;
      if (s.lo == k.lo && s.hi == k.hi && (n <= kPackedBytes || same_tail(table, s.id, key, n)))
        return s.id;
    }
  }
  void build_tables();
  void insert(Table& table, const char* key, std::size_t n, std::int32_t id);

  std::string name_;
  std::string text_;                    // every token, concatenated
  std::vector<std::uint32_t> offsets_;  // token i is text_[offsets_[i], offsets_[i + 1])
  Table initial_;                       // tokens that do not start with "##"
  Table continuation_;                  // tokens that do, without the "##"
};

}  // namespace tensorgraph::text
