#pragma once
// Word splitting for lexicon classifiers (nn/lexicon.hpp), the same for lexicon files and texts so
// that an entry such as "can't stand" matches "I can't stand it", "i ca n't stand it" (SST-2's
// Penn Treebank style) and "I cant stand it" alike.
//
// Rules:
//   - Words are runs of letters, marks and digits (Unicode categories L*, M*, N*); an apostrophe
//     (' ’ ‘ ʼ) or a hyphen between two word characters stays inside the word ("well-made",
//     "o'clock"), so does '.' or ',' between two digits ("3.5").
//   - Words are lower-cased and put in compatibility form (full-width letters and ligatures become
//     plain letters: "ｇｏｏｄ" -> "good", "ﬁne" -> "fine"); accents of the Combining Diacritical
//     Marks block (U+0300-U+036F) are removed ("Naïve" -> "naive", "CAFÉ" -> "cafe"), other scripts
//     keep their marks; the result is NFKC. ASCII words take a fast path with no Unicode tables.
//   - Contractions are split as the Penn Treebank does: "didn't" -> "did n't", "can't" -> "ca n't",
//     "it's" -> "it 's" ('s 're 've 'll 'd 'm); the apostrophe-less "dont", "didnt", "cant", ...
//     become "do n't", "did n't", "ca n't"; "cannot" -> "can not".
//   - Every other character that is not a space is a token of its own: clause punctuation
//     (. , ; : ! ? … and their full-width forms, ¡ ¿) is a ClauseBreak, the rest (quotes, brackets,
//     symbols, emoji) is Other. Spaces, controls and format characters separate tokens.
//   - Invalid UTF-8 never fails here (the readers validate texts): a bad byte is skipped.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace tensorgraph::text {

enum class LexTokenKind : std::uint8_t {
  Word,         // normalised word
  ClauseBreak,  // . , ; : ! ? ... : ends negation and intensifier scopes
  Other,        // any other punctuation or symbol
};

struct LexToken {
  std::uint32_t begin = 0;  // offset of the token in LexTokens::text
  std::uint32_t size = 0;   // bytes
  LexTokenKind kind = LexTokenKind::Word;
  bool hyphenated = false;  // a word with a '-' inside ("well-made")
  std::uint64_t hash = 0;   // hash_word() of a Word (0 for punctuation)
};

// The hash of a normalised word (computed while splitting, so lexicon lookups need not hash
// again; lexicons hash their keys with it). Words are read 16 bytes at a time, zero-padded, and
// mixed with one 64x64->128-bit multiply per 16 bytes.
inline std::uint64_t hash_word_block(std::uint64_t h, std::uint64_t lo, std::uint64_t hi) {
  __extension__ using u128 = unsigned __int128;
  const u128 m = static_cast<u128>(lo ^ h ^ 0xa0761d6478bd642full) * (hi ^ 0xe7037ed1a0b428dbull);
  return static_cast<std::uint64_t>(m) ^ static_cast<std::uint64_t>(m >> 64);
}
inline std::uint64_t hash_word_seed(std::size_t size) {
  return 0x9e3779b97f4a7c15ull ^ size;
}
// The first n <= 8 bytes of p as a little-endian number, zero-padded, with at most two loads.
inline std::uint64_t load_padded(const char* p, std::size_t n) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  if (n >= 4) {
    std::uint32_t a, b;
    std::memcpy(&a, u, 4);
    std::memcpy(&b, u + n - 4, 4);  // bytes n-4..n-1; keep n-4 of them
    return a | ((static_cast<std::uint64_t>(b) >> (8 * (8 - n))) << 32);
  }
  if (n == 0) return 0;
  return u[0] | (std::uint64_t{u[n / 2]} << (8 * (n / 2))) |
         (std::uint64_t{u[n - 1]} << (8 * (n - 1)));
}
inline std::uint64_t hash_word(std::string_view w) {
  std::uint64_t h = hash_word_seed(w.size());
  std::size_t k = 0;
  do {
    const std::size_t take = w.size() - k < 16 ? w.size() - k : 16;
    const std::uint64_t lo = load_padded(w.data() + k, take < 8 ? take : 8);
    const std::uint64_t hi = take > 8 ? load_padded(w.data() + k + 8, take - 8) : 0;
    h = hash_word_block(h, lo, hi);
    k += 16;
  } while (k < w.size());
  return h;
}

// The tokens of one text. Reuse one object across calls: once its buffers have grown, splitting
// makes no allocation.
struct LexTokens {
  std::string text;  // the normalised tokens, separated by exactly one space
  std::vector<LexToken> tokens;
  std::vector<std::int32_t> codepoints;  // scratch for the non-ASCII path
  std::string padded;  // scratch: the input and 16 zero bytes, so 16-byte loads never overrun

  std::size_t size() const { return tokens.size(); }
  std::string_view operator[](std::size_t i) const {
    return std::string_view(text).substr(tokens[i].begin, tokens[i].size);
  }
  // Tokens first..last (inclusive) as they appear in `text`, i.e. joined by single spaces: the
  // key of a multi-word lexicon entry.
  std::string_view span(std::size_t first, std::size_t last) const {
    return std::string_view(text).substr(
        tokens[first].begin, tokens[last].begin + tokens[last].size - tokens[first].begin);
  }
};

// Splits `text` into `out` (cleared first).
void split_lexicon_words(std::string_view text, LexTokens& out);

// Convenience: the normalised tokens as strings.
std::vector<std::string> split_lexicon_words(std::string_view text);

}  // namespace tensorgraph::text
