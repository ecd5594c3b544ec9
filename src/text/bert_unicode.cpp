#include "text/bert_unicode.hpp"

#include <algorithm>

namespace tensorgraph::text::detail {

bool assigned_in_unicode14(char32_t cp) {
  const CodePointRange* end = kUnicode14Assigned + kUnicode14AssignedCount;
  // The first range whose last code point is >= cp.
  const CodePointRange* r = std::lower_bound(
      kUnicode14Assigned, end, cp, [](const CodePointRange& a, char32_t c) { return a.last < c; });
  return r != end && r->first <= cp;
}

bool is_punctuation(char32_t cp) {
  if (cp < 0x80) return is_ascii_punctuation(cp);
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

CleanAction clean_action(char32_t cp, bool tokenize_chinese_chars) {
  if (cp == '\t' || cp == '\n' || cp == '\r' || cp == ' ') return CleanAction::Space;
  if (cp == 0 || cp == 0xFFFD) return CleanAction::Delete;
  switch (category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_CS:
      return CleanAction::Delete;
    case UTF8PROC_CATEGORY_ZS:
      return CleanAction::Space;
    default:
      break;
  }
  if (tokenize_chinese_chars && is_cjk_ideograph(cp)) return CleanAction::Isolate;
  return CleanAction::Keep;
}

namespace {

// Full canonical decomposition of each code point, then the canonical ordering of combining
// marks (the same stable exchange sort as utf8proc_decompose).
void decompose(const utf8proc_int32_t* in, std::size_t n, CodePoints& out) {
  out.clear();
  utf8proc_int32_t buf[32];
  for (std::size_t i = 0; i < n; ++i) {
    int boundclass = 0;
    const utf8proc_ssize_t k =
        utf8proc_decompose_char(in[i], buf, 32, UTF8PROC_DECOMPOSE, &boundclass);
    // Canonical decompositions are at most 4 code points; a negative result cannot happen for
    // a valid code point, but keep the character rather than lose it.
    if (k <= 0 || k > 32) {
      out.push_back(in[i]);
      continue;
    }
    out.insert(out.end(), buf, buf + k);
  }
  std::size_t pos = 0;
  while (pos + 1 < out.size()) {
    const auto c1 = utf8proc_get_property(out[pos])->combining_class;
    const auto c2 = utf8proc_get_property(out[pos + 1])->combining_class;
    if (c1 > c2 && c2 > 0) {
      std::swap(out[pos], out[pos + 1]);
      if (pos > 0)
        --pos;
      else
        ++pos;
    } else {
      ++pos;
    }
  }
}

}  // namespace

void normalize_nfd(const utf8proc_int32_t* in, std::size_t n, CodePoints& out) {
  decompose(in, n, out);
}

void normalize_nfc(const utf8proc_int32_t* in, std::size_t n, CodePoints& out) {
  decompose(in, n, out);
  const utf8proc_ssize_t m =
      utf8proc_normalize_utf32(out.data(), static_cast<utf8proc_ssize_t>(out.size()),
                               static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (m >= 0) out.resize(static_cast<std::size_t>(m));
}

}  // namespace tensorgraph::text::detail
