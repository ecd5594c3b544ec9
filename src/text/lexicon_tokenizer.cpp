#include "tensorgraph/text/lexicon_tokenizer.hpp"

#include <utf8proc.h>

#include <array>
#include <cstring>

namespace tensorgraph::text {

namespace {

// What a character is to the splitter.
enum class Cls : std::uint8_t { Space, Word, Apostrophe, Hyphen, Clause, Other };

constexpr std::array<Cls, 128> make_ascii_table() {
  std::array<Cls, 128> t{};
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

class Writer {
 public:
  explicit Writer(LexTokens& out) : out_(out) {}

  // Starts a token: a separating space when it is not the first. Returns its offset.
  std::size_t begin() {
    if (!out_.tokens.empty()) out_.text.push_back(' ');
    return out_.text.size();
  }
  void end(std::size_t begin, LexTokenKind kind) {
    out_.tokens.push_back({static_cast<std::uint32_t>(begin),
                           static_cast<std::uint32_t>(out_.text.size() - begin), kind});
  }
  // Undoes begin() for a token that turned out empty.
  void cancel(std::size_t begin) { out_.text.resize(out_.tokens.empty() ? 0 : begin - 1); }

  void punctuation(std::string_view bytes, LexTokenKind kind) {
    const std::size_t b = begin();
    out_.text.append(bytes);
    end(b, kind);
  }

  void word(std::string_view raw, bool ascii) {
    const std::size_t b = begin();
    if (ascii) {
      for (char c : raw)
        out_.text.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c);
    } else {
      normalise_unicode(raw);
    }
    if (out_.text.size() == b) {
      cancel(b);
      return;
    }
    split_contraction(b);
  }

 private:
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
      out_.text.append(raw);
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
    for (std::size_t k = 0; k < n; ++k) {
      utf8proc_uint8_t buf[4];
      const auto len = utf8proc_encode_char(cps[k], buf);
      out_.text.append(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(len));
    }
  }

  // The normalised word starts at `b` and runs to the end of the text.
  void split_contraction(std::size_t b) {
    std::string& t = out_.text;
    const std::string_view w = std::string_view(t).substr(b);
    const std::size_t n = w.size();
    if (n > 3 && w.substr(n - 3) == "n't") {  // didn't -> did n't, can't -> ca n't
      t.insert(b + n - 3, 1, ' ');
      end_two(b, n - 3);
      return;
    }
    if (const auto apo = w.rfind('\''); apo != std::string_view::npos && apo > 0) {
      const std::string_view suffix = w.substr(apo);
      if (suffix == "'s" || suffix == "'re" || suffix == "'ve" || suffix == "'ll" ||
          suffix == "'d" || suffix == "'m") {
        t.insert(b + apo, 1, ' ');
        end_two(b, apo);
        return;
      }
    }
    if (n >= 4 && w[n - 2] == 'n' && w[n - 1] == 't' && is_bare_negative(w)) {
      t.resize(b + n - 2);  // dont -> do n't
      t.append(" n't");
      end_two(b, n - 2);
      return;
    }
    if (w == "cannot") {
      t.resize(b + 3);
      t.append(" not");
      end_two(b, 3);
      return;
    }
    end(b, LexTokenKind::Word);
  }

  // Two word tokens: [b, b + first) and the rest after one space.
  void end_two(std::size_t b, std::size_t first) {
    out_.tokens.push_back(
        {static_cast<std::uint32_t>(b), static_cast<std::uint32_t>(first), LexTokenKind::Word});
    const std::size_t second = b + first + 1;
    out_.tokens.push_back({static_cast<std::uint32_t>(second),
                           static_cast<std::uint32_t>(out_.text.size() - second),
                           LexTokenKind::Word});
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
  out.text.clear();
  out.tokens.clear();
  if (out.text.capacity() < text.size() + text.size() / 2 + 16)
    out.text.reserve(text.size() + text.size() / 2 + 16);
  Writer writer(out);
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const Char c = decode(p + i, n - i);
    switch (c.cls) {
      case Cls::Space:
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
            writer.word(text.substr(i, len), true);
            i += len;
            break;
          }
        }
        writer.punctuation(text.substr(i, c.len), LexTokenKind::Other);
        i += c.len;
        break;
      }
      case Cls::Word: {
        std::size_t j = i + c.len;
        bool ascii = c.cp < 0x80;
        std::int32_t prev = c.cp;
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
          prev = e.cp;
          j += d.len + e.len;
        }
        writer.word(text.substr(i, j - i), ascii);
        i = j;
        break;
      }
    }
  }
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
