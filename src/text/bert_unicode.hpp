#pragma once
// Character classes of HuggingFace's BasicTokenizer (transformers/models/bert/tokenization_bert.py)
// over utf8proc, pinned to Unicode 14.0 (Python 3.11, which produced the reference outputs).
// Private to src/text: only the BERT tokenizer uses it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <utf8proc.h>

namespace tensorgraph::text::detail {

struct CodePointRange {
  char32_t first;
  char32_t last;
};
extern const CodePointRange kUnicode14Assigned[];
extern const std::size_t kUnicode14AssignedCount;

bool assigned_in_unicode14(char32_t cp);

// The general category, with code points unassigned in Unicode 14.0 as Cn.
inline utf8proc_category_t category(char32_t cp) {
  if (cp >= 0x378 && !assigned_in_unicode14(cp)) return UTF8PROC_CATEGORY_CN;
  return static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(cp)));
}

// HF `_is_chinese_char`: the CJK ideograph blocks (not kana, not hangul).
constexpr bool is_cjk_ideograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// HF `_is_punctuation`: every non-alphanumeric printable ASCII character, and category P*.
constexpr bool is_ascii_punctuation(char32_t cp) {
  return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
         (cp >= 123 && cp <= 126);
}
bool is_punctuation(char32_t cp);

// What `_clean_text` (+ `_tokenize_chinese_chars` when enabled) does with one character.
enum class CleanAction : std::uint8_t {
  Keep,
  Delete,  // U+0000, U+FFFD, category C* except \t \n \r
  Space,   // \t \n \r ' ' and category Zs
  Isolate  // a CJK ideograph: surrounded by spaces
};
CleanAction clean_action(char32_t cp, bool tokenize_chinese_chars);

// Python's str.split() separators that survive `_clean_text`: ' ' (everything else it maps
// there), U+2028 and U+2029 (Zl/Zp: neither "whitespace" nor "control" for HF).
inline bool splits_words(char32_t cp) {
  return cp == ' ' || cp == 0x2028 || cp == 0x2029;
}

// Python `str.lower()` of one character, appended (U+0130 becomes "i\u0307"; Sigma always
// becomes the medial sigma because HF lower-cases one character at a time).
// Code point buffers are utf8proc's type, so that they go to utf8proc without copies.
using CodePoints = std::vector<utf8proc_int32_t>;

inline void append_lower(char32_t cp, CodePoints& out) {
  if (cp == 0x130) {
    out.push_back('i');
    out.push_back(0x307);
    return;
  }
  out.push_back(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

// Canonical decomposition (NFD) or NFC of `in`, written to `out` (overwritten; may not alias).
void normalize_nfd(const utf8proc_int32_t* in, std::size_t n, CodePoints& out);
void normalize_nfc(const utf8proc_int32_t* in, std::size_t n, CodePoints& out);

// Decodes one code point of VALID UTF-8 at `p`; advances `p`.
inline char32_t decode_utf8(const unsigned char*& p) {
  const unsigned char c = *p++;
  if (c < 0x80) return c;
  if (c < 0xE0) return (static_cast<char32_t>(c & 0x1F) << 6) | (*p++ & 0x3F);
  if (c < 0xF0) {
    char32_t cp = (static_cast<char32_t>(c & 0x0F) << 12) |
                  (static_cast<char32_t>(p[0] & 0x3F) << 6) | (p[1] & 0x3F);
    p += 2;
    return cp;
  }
  char32_t cp = (static_cast<char32_t>(c & 0x07) << 18) |
                (static_cast<char32_t>(p[0] & 0x3F) << 12) |
                (static_cast<char32_t>(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  p += 3;
  return cp;
}

inline void append_utf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace tensorgraph::text::detail
