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
};

// The tokens of one text. Reuse one object across calls: once its buffers have grown, splitting
// makes no allocation.
struct LexTokens {
  std::string text;  // the normalised tokens, separated by exactly one space
  std::vector<LexToken> tokens;
  std::vector<std::int32_t> codepoints;  // scratch for the non-ASCII path

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
