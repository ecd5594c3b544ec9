#include "tensorgraph/text/lexicon_tokenizer.hpp"

#include <utf8proc.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <bit>
#include <cstring>

namespace tensorgraph::text {

namespace {

// What a character is to the splitter.
enum class Cls : std::uint8_t { Space, Word, Apostrophe, Hyphen, Clause, Other, High };

// Bytes >= 0x80 are High: the start or continuation of a non-ASCII character.
constexpr std::array<Cls, 256> make_ascii_table() {
  std::array<Cls, 256> t{};
  for (int c = 128; c < 256; ++c) t[static_cast<std::size_t>(c)] = Cls::High;
  for (int c = 0; c < 128; ++c) {
    Cls k = Cls::Other;
    if (c <= 0x20 || c == 0x7F) k = Cls::Space;  // controls and space
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) k = Cls::Word;
    if (c == '\'') k = Cls::Apostrophe;
    if (c == '-') k = Cls::Hyphen;
    if (c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?') k = Cls::Clause;
    t[static_cast<std::size_t>(c)] = k;
  }
  return t;
}
constexpr auto kAscii = make_ascii_table();

constexpr std::array<char, 256> make_lower_table() {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<std::size_t>(c)] = static_cast<char>((c >= 'A' && c <= 'Z') ? c + 32 : c);
  return t;
}
constexpr auto kLower = make_lower_table();

bool is_apostrophe_like(std::int32_t cp) {
  return cp == 0x2019 || cp == 0x2018 || cp == 0x02BC || cp == 0xFF07;
}
bool is_hyphen_like(std::int32_t cp) {
  return cp == 0x2010 || cp == 0x2011;
}
bool is_clause_like(std::int32_t cp) {
  switch (cp) {
    case 0x2026:  // …
    case 0x3002:  // 。
    case 0xFF0C:  // ，
    case 0xFF0E:  // ．
    case 0xFF01:  // ！
    case 0xFF1F:  // ？
    case 0xFF1B:  // ；
    case 0xFF1A:  // ：
    case 0x00A1:  // ¡
    case 0x00BF:  // ¿
    case 0x061F:  // ؟
    case 0x060C:  // ،
    case 0x3001:  // 、
      return true;
    default:
      return false;
  }
}

Cls classify_cp(std::int32_t cp) {
  if (cp < 0x80) return kAscii[static_cast<std::size_t>(cp)];
  if (is_apostrophe_like(cp)) return Cls::Apostrophe;
  if (is_hyphen_like(cp)) return Cls::Hyphen;
  if (is_clause_like(cp)) return Cls::Clause;
  const auto cat = utf8proc_category(cp);
  if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO) return Cls::Word;
  if (cat >= UTF8PROC_CATEGORY_ZS && cat <= UTF8PROC_CATEGORY_CF) return Cls::Space;
  return Cls::Other;
}

// One decoded character: its code point, byte length and class. Invalid bytes decode as a
// one-byte Space so that they are skipped.
struct Char {
  std::int32_t cp;
  std::uint32_t len;
  Cls cls;
};

inline Char decode(const unsigned char* p, std::size_t n) {
  if (p[0] < 0x80) return {p[0], 1, kAscii[p[0]]};
  utf8proc_int32_t cp = -1;
  const auto len = utf8proc_iterate(p, static_cast<utf8proc_ssize_t>(n), &cp);
  if (len <= 0 || cp < 0) return {-1, 1, Cls::Space};
  return {cp, static_cast<std::uint32_t>(len), classify_cp(cp)};
}

bool is_digit_cp(std::int32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return utf8proc_category(cp) == UTF8PROC_CATEGORY_ND;
}

utf8proc_int32_t lower_cp(utf8proc_int32_t c, void*) {
  return utf8proc_tolower(c);
}

// Appends tokens to LexTokens. The text is written through a raw pointer into a buffer sized
// up front (std::string::push_back per byte was the bottleneck); `text` gets its final size in
// finish().
class Writer {
 public:
  Writer(LexTokens& out, std::size_t input_size) : out_(out) {
    out_.tokens.clear();
    if (out_.tokens.capacity() < input_size / 2 + 8) out_.tokens.reserve(input_size / 2 + 8);
    // Invariant at every token start: room for 2 bytes per input byte left, plus 32. ASCII
    // never needs more (a byte and a separator; a contraction adds at most 2 bytes to a word of
    // 4 or more; SIMD stores run at most 16 bytes past the word), so its fast path checks
    // nothing; Unicode compatibility forms can expand, and restore the invariant (rest()).
    out_.text.resize(2 * input_size + 32);
    buf_ = out_.text.data();
  }
  void finish() { out_.text.resize(len_); }

  void punctuation(std::string_view bytes, LexTokenKind kind) {
    const std::size_t b = begin();
    std::memcpy(buf_ + len_, bytes.data(), bytes.size());
    len_ += bytes.size();
    out_.tokens.push_back(
        {static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(bytes.size()), kind, false, 0});
  }

  // The ASCII fast path: copies and lower-cases the run of ASCII letters and digits at p[i..],
  // returns its end. When the run ends the word (not at an apostrophe, hyphen, '.', ',' or a
  // non-ASCII byte) it becomes a token and `done` is set; otherwise nothing is kept and the
  // caller takes the general path.
  std::size_t ascii_run(const unsigned char* p, std::size_t i, std::size_t n, bool& done) {
    char* d = buf_ + len_ + (out_.tokens.empty() ? 0 : 1);
    std::size_t j = i;
    bool ended = false;
    bool hashed = false;  // `hash` holds the word's hash (words within one 16-byte block)
    std::uint64_t hash = 0;
#if defined(__SSE2__)
    // 16 bytes at a time: which are [0-9A-Za-z], lower-cased; the first other byte ends the run.
    // (A loop exit per word costs a branch misprediction; this costs one per 16 bytes.) A word
    // that fits in the first block is hashed from the register. The input is followed by 16
    // zero bytes (LexTokens::padded), which end any run.
    while (true) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j));
      auto in_range = [&v](char lo, char count) {  // lo <= v < lo + count, unsigned
        const __m128i x = _mm_sub_epi8(v, _mm_set1_epi8(lo));
        return _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(static_cast<char>(count - 1))), x);
      };
      const __m128i upper = in_range('A', 26);
      const __m128i word = _mm_or_si128(_mm_or_si128(upper, in_range('a', 26)), in_range('0', 10));
      const __m128i lower = _mm_add_epi8(v, _mm_and_si128(upper, _mm_set1_epi8(0x20)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(d), lower);
      const auto mask = static_cast<unsigned>(_mm_movemask_epi8(word));
      const auto run = static_cast<std::size_t>(std::countr_one(mask));  // 16 when all are
      if (run < 16) {
        if (j == i) {
          const __m128i index = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
          const __m128i keep = _mm_cmplt_epi8(index, _mm_set1_epi8(static_cast<char>(run)));
          const __m128i bytes = _mm_and_si128(lower, keep);
          hash = hash_word_block(
              hash_word_seed(run), static_cast<std::uint64_t>(_mm_cvtsi128_si64(bytes)),
              static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_srli_si128(bytes, 8))));
          hashed = true;
        }
        j += run;
        d += run;
        ended = true;
        break;
      }
      j += 16;
      d += 16;
    }
#endif
    while (!ended && j < n && kAscii[p[j]] == Cls::Word) {
      *d++ = kLower[p[j]];
      ++j;
    }
    const Cls next = j < n ? kAscii[p[j]] : Cls::Space;
    done = next == Cls::Space || next == Cls::Other ||
           (next == Cls::Clause && p[j] != '.' && p[j] != ',');
    if (!done) {
      if (p[j] == '\'') return contraction(p, i, j, hashed ? &hash : nullptr, done);
      return j;
    }
    const std::size_t b = begin();
    const std::size_t size = j - i;
    len_ += size;
    // Only words ending in "nt" or "ot" can be contractions ("dont", "cannot"); the test is
    // branch-free until then (word lengths are unpredictable). Reading w[1] of a 1-byte word is
    // within the buffer.
    const char* w = buf_ + b;
    const std::size_t last2 = size >= 2 ? size - 2 : 0;
    if ((w[last2 + 1] == 't') & ((w[last2] == 'n') | (w[last2] == 'o')) & (size >= 4)) {
      split_contraction(b);
      return j;
    }
    push_word(b, size, hashed ? hash : hash_word(std::string_view(w, size)));
    return j;
  }

  // An ASCII run p[i..j) stopped at an apostrophe; it has been written (lower-cased) after the
  // separator. "didn't", "it's", "we'll" ... become two tokens here without the general path;
  // anything else (o'clock, rock'n'roll) returns with done == false.
  std::size_t contraction(const unsigned char* p, std::size_t i, std::size_t j,
                          const std::uint64_t* run_hash, bool& done) {
    // A word ends at a space, a symbol or punctuation; not at a letter, an apostrophe, a hyphen or
    // a non-ASCII byte (the padding after the input is zeros: spaces).
    auto ends = [p](std::size_t k) {
      const Cls c = kAscii[p[k]];
      return c == Cls::Space || c == Cls::Other || c == Cls::Clause;
    };
    auto lower = [p](std::size_t k) { return static_cast<char>(kLower[p[k]]); };
    const std::size_t size = j - i;
    std::size_t suffix = 0;  // letters after the apostrophe
    bool nt = false;
    if (lower(j - 1) == 'n' && lower(j + 1) == 't' && ends(j + 2)) {
      nt = true;
    } else if ((lower(j + 1) == 's' || lower(j + 1) == 'd' || lower(j + 1) == 'm') && ends(j + 2)) {
      suffix = 1;
    } else if (((lower(j + 1) == 'r' && lower(j + 2) == 'e') ||
                (lower(j + 1) == 'v' && lower(j + 2) == 'e') ||
                (lower(j + 1) == 'l' && lower(j + 2) == 'l')) &&
               ends(j + 3)) {
      suffix = 2;
    } else {
      done = false;
      return j;
    }
    done = true;
    const std::size_t b = begin();
    if (nt) {  // "didn" + "'t": "did" "n't" ("n't" alone when the run is just "n")
      const std::size_t base = size - 1;
      std::size_t second = b;
      if (base > 0) {
        push_word(b, base, hash_word(std::string_view(buf_ + b, base)));
        buf_[b + base] = ' ';
        second = b + base + 1;
      }
      std::memcpy(buf_ + second, "n't", 3);
      len_ = second + 3;
      push_word(second, 3, hash_word(std::string_view(buf_ + second, 3)));
      return j + 2;
    }
    push_word(b, size, run_hash ? *run_hash : hash_word(std::string_view(buf_ + b, size)));
    const std::size_t second = b + size + 1;
    buf_[b + size] = ' ';
    buf_[second] = '\'';
    for (std::size_t k = 0; k < suffix; ++k) buf_[second + 1 + k] = lower(j + 1 + k);
    len_ = second + 1 + suffix;
    push_word(second, 1 + suffix, hash_word(std::string_view(buf_ + second, 1 + suffix)));
    return j + 1 + suffix;
  }

  void word(std::string_view raw, bool ascii, bool hyphenated) {
    ensure(raw.size() + 4);
    const std::size_t b = begin();
    if (ascii) {
      char* d = buf_ + len_;
      for (std::size_t k = 0; k < raw.size(); ++k)
        d[k] = static_cast<char>(raw[k] + ((raw[k] >= 'A' && raw[k] <= 'Z') ? 32 : 0));
      len_ += raw.size();
    } else {
      normalise_unicode(raw);
    }
    if (len_ == b) {  // nothing left (a lone combining mark): undo the separator
      len_ = out_.tokens.empty() ? 0 : b - 1;
      return;
    }
    const std::size_t first = out_.tokens.size();
    split_contraction(b);
    if (hyphenated)
      for (std::size_t k = first; k < out_.tokens.size(); ++k) out_.tokens[k].hyphenated = true;
  }

  // Restores the invariant when `remaining` input bytes are left.
  void rest(std::size_t remaining) {
    ensure(2 * remaining + 32);
  }

 private:
  // Starts a token: a separating space when it is not the first. Returns its offset.
  std::size_t begin() {
    if (!out_.tokens.empty()) buf_[len_++] = ' ';
    return len_;
  }

  // Room for `extra` bytes, a separator and a contraction's 2 extra bytes.
  void ensure(std::size_t extra) {
    if (len_ + extra + 8 <= out_.text.size()) return;
    out_.text.resize(std::max(2 * out_.text.size(), len_ + extra + 64));
    buf_ = out_.text.data();
  }
  void append(std::string_view s) {
    ensure(s.size());
    std::memcpy(buf_ + len_, s.data(), s.size());
    len_ += s.size();
  }

  // Lower-case, compatibility decomposition (NFKD), drop U+0300-U+036F, recompose (NFKC);
  // apostrophe- and hyphen-like characters become ASCII.
  void normalise_unicode(std::string_view raw) {
    auto& cps = out_.codepoints;
    const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(raw.data());
    const auto options =
        static_cast<utf8proc_option_t>(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_STABLE);
    if (cps.size() < raw.size() * 2 + 8) cps.resize(raw.size() * 2 + 8);
    auto count = utf8proc_decompose_custom(bytes, static_cast<utf8proc_ssize_t>(raw.size()),
                                           cps.data(), static_cast<utf8proc_ssize_t>(cps.size()),
                                           options, lower_cp, nullptr);
    if (count > static_cast<utf8proc_ssize_t>(cps.size())) {
      cps.resize(static_cast<std::size_t>(count));
      count = utf8proc_decompose_custom(bytes, static_cast<utf8proc_ssize_t>(raw.size()),
                                        cps.data(), static_cast<utf8proc_ssize_t>(cps.size()),
                                        options, lower_cp, nullptr);
    }
    if (count < 0) {  // cannot happen for decoded words; keep the bytes rather than fail
      append(raw);
      return;
    }
    std::size_t kept = 0;
    for (std::size_t k = 0; k < static_cast<std::size_t>(count); ++k) {
      std::int32_t cp = cps[k];
      if (cp >= 0x0300 && cp <= 0x036F) continue;
      if (is_apostrophe_like(cp)) cp = '\'';
      if (is_hyphen_like(cp)) cp = '-';
      cps[kept++] = cp;
    }
    const auto composed = utf8proc_normalize_utf32(
        cps.data(), static_cast<utf8proc_ssize_t>(kept),
        static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
    const std::size_t n = composed < 0 ? kept : static_cast<std::size_t>(composed);
    ensure(4 * n + 4);  // room for the word and a contraction's extra bytes
    for (std::size_t k = 0; k < n; ++k) {
      const auto len =
          utf8proc_encode_char(cps[k], reinterpret_cast<utf8proc_uint8_t*>(buf_ + len_));
      len_ += static_cast<std::size_t>(len);
    }
  }

  // The normalised word runs from `b` to len_. There is room for 2 more bytes (the constructor's
  // sizing, or ensure()).
  void split_contraction(std::size_t b) {
    const std::string_view w(buf_ + b, len_ - b);
    const std::size_t n = w.size();
    if (n > 3 && w.substr(n - 3) == "n't") {  // didn't -> did n't, can't -> ca n't
      insert_space(b + n - 3);
      two_words(b, n - 3);
      return;
    }
    if (const auto apo = w.rfind('\''); apo != std::string_view::npos && apo > 0) {
      const std::string_view suffix = w.substr(apo);
      if (suffix == "'s" || suffix == "'re" || suffix == "'ve" || suffix == "'ll" ||
          suffix == "'d" || suffix == "'m") {
        insert_space(b + apo);
        two_words(b, apo);
        return;
      }
    }
    if (n >= 4 && w[n - 2] == 'n' && w[n - 1] == 't' && is_bare_negative(w)) {
      len_ = b + n - 2;  // dont -> do n't
      std::memcpy(buf_ + len_, " n't", 4);
      len_ += 4;
      two_words(b, n - 2);
      return;
    }
    if (w == "cannot") {
      std::memcpy(buf_ + b + 3, " not", 4);
      len_ = b + 7;
      two_words(b, 3);
      return;
    }
    push_word(b, n, hash_word(w));
  }

  void push_word(std::size_t b, std::size_t size, std::uint64_t hash) {
    out_.tokens.push_back({static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(size),
                           LexTokenKind::Word, false, hash});
  }

  void insert_space(std::size_t at) {
    std::memmove(buf_ + at + 1, buf_ + at, len_ - at);
    buf_[at] = ' ';
    ++len_;
  }

  // Two word tokens: [b, b + first) and the rest after one space.
  void two_words(std::size_t b, std::size_t first) {
    push_word(b, first, hash_word(std::string_view(buf_ + b, first)));
    const std::size_t second = b + first + 1;
    push_word(second, len_ - second, hash_word(std::string_view(buf_ + second, len_ - second)));
  }

  static bool is_bare_negative(std::string_view w) {
    static constexpr std::string_view kWords[] = {
        "dont",    "doesnt",  "didnt",    "isnt",   "wasnt", "arent", "werent", "cant",   "wont",
        "couldnt", "wouldnt", "shouldnt", "havent", "hasnt", "hadnt", "aint",   "mustnt", "neednt"};
    for (auto k : kWords)
      if (w == k) return true;
    return false;
  }

  LexTokens& out_;
  char* buf_ = nullptr;
  std::size_t len_ = 0;
};

// Leading-apostrophe clitics as written by the Penn Treebank ("it 's", "you 're").
std::size_t clitic_length(std::string_view rest) {
  static constexpr std::string_view kClitics[] = {"'re", "'ve", "'ll", "'s", "'d", "'m"};
  for (auto c : kClitics) {
    if (rest.size() < c.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < c.size(); ++k) {
      char x = rest[k];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
      if (x != c[k]) same = false;
    }
    if (!same) continue;
    if (rest.size() == c.size()) return c.size();
    const auto next = decode(reinterpret_cast<const unsigned char*>(rest.data()) + c.size(),
                             rest.size() - c.size());
    if (next.cls != Cls::Word) return c.size();
  }
  return 0;
}

}  // namespace

void split_lexicon_words(std::string_view text, LexTokens& out) {
  Writer writer(out, text.size());
  out.padded.assign(text);
  out.padded.append(16, '\0');
  const auto* p = reinterpret_cast<const unsigned char*>(out.padded.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // ASCII fast path: spaces, plain words, single-byte punctuation.
    const Cls k = kAscii[p[i]];
    if (k == Cls::Space) {
      ++i;
      continue;
    }
    if (k == Cls::Word) {
      bool done = false;
      const std::size_t j = writer.ascii_run(p, i, n, done);
      if (done) {
        i = j;
        continue;
      }
    } else if (k == Cls::Clause || k == Cls::Other) {
      writer.punctuation(text.substr(i, 1),
                         k == Cls::Clause ? LexTokenKind::ClauseBreak : LexTokenKind::Other);
      ++i;
      continue;
    }
    const Char c = decode(p + i, n - i);
    switch (c.cls) {
      case Cls::Space:
      case Cls::High:  // decode() classifies non-ASCII characters; never High
        i += c.len;
        break;
      case Cls::Clause:
      case Cls::Other:
      case Cls::Hyphen:
        writer.punctuation(text.substr(i, c.len),
                           c.cls == Cls::Clause ? LexTokenKind::ClauseBreak : LexTokenKind::Other);
        i += c.len;
        break;
      case Cls::Apostrophe: {
        if (c.cp == '\'') {
          if (const auto len = clitic_length(text.substr(i)); len > 0) {
            writer.word(text.substr(i, len), true, false);
            i += len;
            break;
          }
        }
        writer.punctuation(text.substr(i, c.len), LexTokenKind::Other);
        i += c.len;
        break;
      }
      case Cls::Word: {
        // The general path: words with joiners or non-ASCII characters.
        std::size_t j = i + c.len;
        std::int32_t prev = c.cp;
        bool ascii = c.cp < 0x80;
        bool hyphenated = false;
        while (j < n) {
          const Char d = decode(p + j, n - j);
          if (d.cls == Cls::Word) {
            ascii = ascii && d.cp < 0x80;
            prev = d.cp;
            j += d.len;
            continue;
          }
          const bool joiner = d.cls == Cls::Apostrophe || d.cls == Cls::Hyphen ||
                              ((d.cp == '.' || d.cp == ',') && is_digit_cp(prev));
          if (!joiner || j + d.len >= n) break;
          const Char e = decode(p + j + d.len, n - j - d.len);
          if (e.cls != Cls::Word) break;
          if ((d.cp == '.' || d.cp == ',') && !is_digit_cp(e.cp)) break;
          ascii = ascii && d.cp < 0x80 && e.cp < 0x80;
          hyphenated = hyphenated || d.cls == Cls::Hyphen;
          prev = e.cp;
          j += d.len + e.len;
        }
        writer.word(text.substr(i, j - i), ascii, hyphenated);
        if (!ascii) writer.rest(n - j);
        i = j;
        break;
      }
    }
  }
  writer.finish();
}

std::vector<std::string> split_lexicon_words(std::string_view text) {
  LexTokens tokens;
  split_lexicon_words(text, tokens);
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (std::size_t i = 0; i < tokens.size(); ++i) out.emplace_back(tokens[i]);
  return out;
}

}  // namespace tensorgraph::text
