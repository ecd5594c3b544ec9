#include "tensorgraph/nn/lexicon.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/utf8.hpp"

namespace tensorgraph::nn {

namespace {

enum Flags : std::uint8_t {
  kScored = 1,  // an entry with a score (possibly 0)
  kPrefix = 2,  // the first words of a longer phrase
  kNegator = 4,
  kModifier = 8,   // intensifier or diminisher (factor in Entry::modifier)
  kContrast = 16,  // "but"
};

// Hashes: words by text::hash_word (the splitter computes it for every token); a phrase combines
// the hashes of its words, so scoring extends a phrase by one word without rehashing it. The
// slot index, the filter bit and the stored tag come from a final mix.
using text::hash_word;

inline std::uint64_t hash_extend(std::uint64_t phrase, std::uint64_t word) {
  return (phrase ^ (phrase >> 31)) * 0xd6e8feb86659fd93ull + word;
}
inline std::uint64_t finish(std::uint64_t h) {
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}
// The hash of a key: its words joined by single spaces.
std::uint64_t hash_key(std::string_view key) {
  std::uint64_t h = 0;
  bool first = true;
  std::size_t start = 0;
  while (true) {
    const std::size_t space = key.find(' ', start);
    const std::uint64_t w = hash_word(
        key.substr(start, space == std::string_view::npos ? key.size() - start : space - start));
    h = first ? w : hash_extend(h, w);
    first = false;
    if (space == std::string_view::npos) return h;
    start = space + 1;
  }
}
// `word` ends with the literal `suffix` (a constant-size compare the compiler inlines).
template <std::size_t N>
inline bool ends_with(std::string_view word, const char (&suffix)[N]) {
  return word.size() >= N - 1 &&
         std::memcmp(word.data() + word.size() - (N - 1), suffix, N - 1) == 0;
}

// Words shorter than this are not stemmed.
constexpr std::size_t kMinStemmed = 6;

constexpr std::string_view kNegators[] = {"not",     "no",     "never",   "n't",     "nothing",
                                          "none",    "nobody", "nowhere", "neither", "nor",
                                          "without", "hardly", "barely"};
constexpr std::string_view kIntensifiers[] = {
    "very",       "really",        "extremely",  "incredibly",   "absolutely", "totally",
    "utterly",    "completely",    "truly",      "highly",       "super",      "so",
    "especially", "exceptionally", "remarkably", "particularly", "thoroughly", "most"};
constexpr std::string_view kDiminishers[] = {"slightly", "somewhat", "marginally", "mildly",
                                             "fairly",   "kinda",    "sorta",      "partly"};
constexpr std::string_view kContrasts[] = {"but", "however"};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::optional<double> parse_number(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace

double LexiconScore::probability_positive() const {
  return 0.5 * (1.0 + std::tanh(score));
}

// ---- the hash table ----------------------------------------------------------------------------

[[gnu::always_inline]] inline const Lexicon::Entry* Lexicon::lookup(std::uint64_t raw_hash,
                                                                    std::string_view key) const {
  if (slots_.empty()) return nullptr;
  const std::uint64_t hash = finish(raw_hash);
  // Most words are in no lexicon: one bit answers for them without probing.
  const std::size_t bit = (hash >> 16) & (filter_.size() * 64 - 1);
  if (!((filter_[bit >> 6] >> (bit & 63)) & 1)) return nullptr;
  const std::size_t mask = slots_.size() - 1;
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot s = slots_[i];
    if (s.entry_plus_one == 0) return nullptr;
    if (s.hash_high != tag) continue;
    const Entry& e = entries_[s.entry_plus_one - 1];
    if (e.key_size == key.size() &&
        std::memcmp(keys_.data() + e.key_begin, key.data(), key.size()) == 0)
      return &e;
  }
}

void Lexicon::rehash(std::size_t capacity) {
  slots_.assign(capacity, Slot{});
  filter_.assign(capacity * 4 / 64, 0);  // 4 bits per slot, 8+ per entry
  for (std::size_t k = 0; k < entries_.size(); ++k)
    place(k, finish(hash_key(entry_phrase(static_cast<std::uint32_t>(k)))));
}

void Lexicon::place(std::size_t k, std::uint64_t hash) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  while (slots_[i].entry_plus_one != 0) i = (i + 1) & mask;
  slots_[i] = {static_cast<std::uint32_t>(hash >> 32), static_cast<std::uint32_t>(k + 1)};
  const std::size_t bit = (hash >> 16) & (filter_.size() * 64 - 1);
  filter_[bit >> 6] |= std::uint64_t{1} << (bit & 63);
}

std::uint32_t Lexicon::insert(std::string_view key) {
  const std::uint64_t raw = hash_key(key);
  if (const Entry* e = lookup(raw, key)) return static_cast<std::uint32_t>(e - entries_.data());
  const std::uint64_t hash = finish(raw);
  TG_CHECK(key.size() < (1u << 16), "lexicon entry of {} bytes; at most 65535", key.size());
  TG_CHECK(keys_.size() + key.size() < (1ull << 32) && entries_.size() < (1ull << 31),
           "lexicon too large");
  Entry e;
  e.key_begin = static_cast<std::uint32_t>(keys_.size());
  e.key_size = static_cast<std::uint16_t>(key.size());
  keys_.append(key);
  entries_.push_back(e);
  if (entries_.size() * 2 > slots_.size())
    rehash(std::max<std::size_t>(64, std::bit_ceil(entries_.size() * 2)));
  else
    place(entries_.size() - 1, hash);
  return static_cast<std::uint32_t>(entries_.size() - 1);
}

void Lexicon::add_rule_words() {
  for (auto w : kNegators) entries_[insert(w)].flags |= kNegator;
  for (auto w : kIntensifiers) {
    auto& e = entries_[insert(w)];
    e.flags |= kModifier;
    e.modifier = static_cast<float>(kIntensifier);
  }
  for (auto w : kDiminishers) {
    auto& e = entries_[insert(w)];
    e.flags |= kModifier;
    e.modifier = static_cast<float>(kDiminisher);
  }
  for (auto w : kContrasts) entries_[insert(w)].flags |= kContrast;
}

void Lexicon::add_phrase(const std::vector<std::string_view>& words, double score,
                         bool* duplicate_differs, std::uint32_t* index) {
  std::string key;
  for (std::size_t k = 0; k < words.size(); ++k) {
    if (k) key.push_back(' ');
    key.append(words[k]);
    if (k + 1 < words.size()) entries_[insert(key)].flags |= kPrefix;
  }
  const std::uint32_t i = insert(key);
  Entry& e = entries_[i];
  *duplicate_differs = false;
  if (e.flags & kScored) {
    *duplicate_differs = e.score != static_cast<float>(score);
  } else {
    e.flags |= kScored;
    e.score = static_cast<float>(score);
    ++scored_;
  }
  *index = i;
}

// ---- building ----------------------------------------------------------------------------------

Lexicon Lexicon::parse(std::string_view content, std::string name, std::string source) {
  struct Raw {
    std::vector<std::string> words;
    double score;
    std::size_t line;
  };
  std::vector<Raw> raw;
  std::optional<double> scale;
  double bias = 0;
  std::size_t skipped = 0;
  text::LexTokens tokens;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < content.size()) {
    std::size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    const std::string_view line = trim(content.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (auto bad = find_invalid_utf8(line))
      fail("{}:{}: invalid UTF-8 at byte {} of the line", source, line_no, *bad);
    if (line.empty() || line.front() == '#') continue;
    std::size_t split = line.rfind('\t');
    if (split == std::string_view::npos) split = line.find_last_of(' ');
    if (split == std::string_view::npos)
      fail("{}:{}: expected 'word<TAB>score' or 'word score', got '{}'", source, line_no, line);
    const std::string_view head = trim(line.substr(0, split));
    const std::string_view field = trim(line.substr(split + 1));
    const auto value = parse_number(field);
    if (line.front() == '@') {
      if (!value)
        fail("{}:{}: bad value '{}' for {} (expected a number)", source, line_no, field, head);
      if (head == "@scale") {
        TG_CHECK(*value > 0, "{}:{}: @scale must be positive, got {}", source, line_no, field);
        scale = *value;
      } else if (head == "@bias") {
        bias = *value;
      } else {
        fail("{}:{}: unknown directive '{}' (known: @scale, @bias)", source, line_no, head);
      }
      continue;
    }
    if (!value)
      fail("{}:{}: bad score '{}' for '{}' (expected a number)", source, line_no, field, head);
    TG_CHECK(!head.empty(), "{}:{}: missing word before the score", source, line_no);
    text::split_lexicon_words(head, tokens);
    bool words_only = tokens.size() > 0;
    for (const auto& t : tokens.tokens)
      words_only = words_only && t.kind == text::LexTokenKind::Word;
    if (!words_only) {  // punctuation or emoticons: can never match a word sequence
      ++skipped;
      continue;
    }
    TG_CHECK(tokens.size() <= kMaxPhraseWords, "{}:{}: '{}' has {} words; at most {} are supported",
             source, line_no, head, tokens.size(), kMaxPhraseWords);
    Raw r{{}, *value, line_no};
    for (std::size_t k = 0; k < tokens.size(); ++k) r.words.emplace_back(tokens[k]);
    raw.push_back(std::move(r));
  }

  Lexicon lex;
  lex.name_ = std::move(name);
  lex.source_ = source;
  lex.skipped_ = skipped;
  double largest = 0;
  for (const auto& r : raw) largest = std::max(largest, std::abs(r.score));
  lex.scale_ = scale ? *scale : std::max(1.0, largest);
  lex.bias_ = bias / lex.scale_;
  lex.add_rule_words();
  std::unordered_map<std::uint32_t, std::size_t> first_line;
  for (const auto& r : raw) {
    std::vector<std::string_view> words(r.words.begin(), r.words.end());
    bool differs = false;
    std::uint32_t index = 0;
    lex.add_phrase(words, r.score / lex.scale_, &differs, &index);
    if (differs)
      fail("{}:{}: '{}' is already defined on line {} with another score", source, r.line,
           lex.entry_phrase(index), first_line[index]);
    first_line.emplace(index, r.line);
  }
  return lex;
}

Lexicon Lexicon::from_entries(std::string name, const std::vector<LexiconEntry>& entries,
                              double bias) {
  Lexicon lex;
  lex.name_ = std::move(name);
  lex.source_ = "(in memory)";
  lex.bias_ = bias;
  lex.add_rule_words();
  text::LexTokens tokens;
  for (const auto& entry : entries) {
    text::split_lexicon_words(entry.phrase, tokens);
    TG_CHECK(tokens.size() >= 1 && tokens.size() <= kMaxPhraseWords,
             "lexicon entry '{}' must have 1 to {} words", entry.phrase, kMaxPhraseWords);
    std::vector<std::string_view> words;
    for (std::size_t k = 0; k < tokens.size(); ++k) {
      TG_CHECK(tokens.tokens[k].kind == text::LexTokenKind::Word,
               "lexicon entry '{}' contains punctuation", entry.phrase);
      words.push_back(tokens[k]);
    }
    bool differs = false;
    std::uint32_t index = 0;
    lex.add_phrase(words, entry.score, &differs, &index);
    TG_CHECK(!differs, "lexicon entry '{}' is given twice with different scores", entry.phrase);
  }
  return lex;
}

Lexicon Lexicon::load(const std::filesystem::path& path) {
  const std::string shown = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("{}: no such lexicon file", shown);
  if (std::filesystem::is_directory(path, ec))
    fail("{}: is a directory, expected a lexicon file", shown);
  const auto size = std::filesystem::file_size(path, ec);
  TG_CHECK(!ec, "{}: cannot read its size ({})", shown, ec.message());
  TG_CHECK(size <= (64u << 20), "{}: {} bytes; a lexicon file is at most 64 MiB", shown, size);
  std::ifstream in(path, std::ios::binary);
  TG_CHECK(in.good(), "{}: cannot open for reading", shown);
  std::string content(static_cast<std::size_t>(size), '\0');
  in.read(content.data(), static_cast<std::streamsize>(size));
  TG_CHECK(static_cast<std::uintmax_t>(in.gcount()) == size, "{}: read error", shown);
  return parse(content, path.stem().string(), shown);
}

// ---- queries -----------------------------------------------------------------------------------

std::string_view Lexicon::entry_phrase(std::uint32_t index) const {
  const Entry& e = entries_[index];
  return std::string_view(keys_).substr(e.key_begin, e.key_size);
}

bool Lexicon::entry_scored(std::uint32_t index) const {
  return entries_[index].flags & kScored;
}

std::optional<double> Lexicon::find(std::string_view phrase) const {
  text::LexTokens tokens;
  text::split_lexicon_words(phrase, tokens);
  if (tokens.size() == 0) return std::nullopt;
  const std::string_view key = tokens.span(0, tokens.size() - 1);
  const Entry* e = lookup(hash_key(key), key);
  if (!e || !(e->flags & kScored)) return std::nullopt;
  return e->score;
}

const Lexicon::Entry* Lexicon::scored(std::string_view word) const {
  const Entry* e = lookup(hash_word(word), word);
  return e && (e->flags & kScored) ? e : nullptr;
}

std::size_t Lexicon::fallback(std::string_view word, bool hyphenated, std::uint32_t* parts) const {
  if (hyphenated) {  // "feel-good" -> "feel", "good"
    std::size_t count = 0;
    std::size_t start = 0;
    while (start < word.size() && count < kMaxPhraseWords) {
      std::size_t stop = start;
      while (stop < word.size() && word[stop] != '-') ++stop;
      if (const Entry* e = scored(word.substr(start, stop - start))) parts[count++] = index_of(e);
      start = stop + 1;
    }
    return count;
  }
  // Suffixes, in order: the first base that is an entry wins.
  char buf[64];
  if (word.size() < kMinStemmed || word.size() > sizeof(buf)) return 0;
  auto try_base = [&](std::size_t cut, std::string_view add) {
    const std::size_t stem = word.size() - cut;
    std::memcpy(buf, word.data(), stem);
    std::memcpy(buf + stem, add.data(), add.size());
    if (const Entry* e = scored(std::string_view(buf, stem + add.size()))) {
      parts[0] = index_of(e);
      return true;
    }
    return false;
  };
  switch (word.back()) {
    case 'y':  // -ily -> -y, -ly, -ly -> -le
      if (ends_with(word, "ily") && try_base(3, "y")) return 1;
      if (ends_with(word, "ly") && (try_base(2, "") || try_base(2, "le"))) return 1;
      return 0;
    case 's':  // -ness, -s (not -ss)
      if (ends_with(word, "ness") && try_base(4, "")) return 1;
      if (!ends_with(word, "ss") && try_base(1, "")) return 1;
      return 0;
    case 'd':  // -ed, -ed -> -e
      return ends_with(word, "ed") && (try_base(2, "") || try_base(2, "e")) ? 1 : 0;
    case 'g':  // -ing, -ing -> -e
      return ends_with(word, "ing") && (try_base(3, "") || try_base(3, "e")) ? 1 : 0;
    default:
      return 0;
  }
}

void Lexicon::scan(const text::LexTokens& t, std::vector<LexiconFeature>& out) const {
  out.clear();
  int negation_left = 0;  // words still inside a negation scope
  int modifier_left = 0;  // words within which a pending modifier applies
  double modifier = 1;
  double clause = 1;  // kAfterContrast after a "but"
  const std::size_t n = t.size();
  std::size_t i = 0;
  while (i < n) {
    const text::LexToken& tok = t.tokens[i];
    if (tok.kind != text::LexTokenKind::Word) {
      if (tok.kind == text::LexTokenKind::ClauseBreak) {
        negation_left = 0;
        modifier_left = 0;
        modifier = 1;
      }
      ++i;
      continue;
    }
    // Longest entry starting at word i.
    const std::string_view word = t[i];
    std::uint64_t h = tok.hash;
    const Entry* first = lookup(h, word);
    const Entry* best = (first && (first->flags & kScored)) ? first : nullptr;
    std::size_t last = i;
    if (first && (first->flags & kPrefix)) {
      for (std::size_t j = i + 1;
           j < n && j - i < kMaxPhraseWords && t.tokens[j].kind == text::LexTokenKind::Word; ++j) {
        h = hash_extend(h, t.tokens[j].hash);
        const std::string_view key = t.span(i, j);
        const Entry* e = lookup(h, key);
        if (!e) break;
        if (e->flags & kScored) {
          best = e;
          last = j;
        }
        if (!(e->flags & kPrefix)) break;
      }
    }
    const bool single = last == i;
    const bool is_modifier = single && first && (first->flags & kModifier);
    std::uint32_t parts[kMaxPhraseWords];
    std::size_t part_count = 0;
    if (best)
      parts[part_count++] = index_of(best);
    else if (!first && (tok.hyphenated || word.size() >= kMinStemmed))
      part_count = fallback(word, tok.hyphenated, parts);
    if (part_count > 0) {
      double weight = clause;
      if (negation_left > 0) weight *= kNegation;
      if (modifier_left > 0 && !is_modifier) {
        weight *= modifier;
        modifier_left = 0;
        modifier = 1;
      }
      for (std::size_t k = 0; k < part_count; ++k)
        out.push_back({parts[k], static_cast<float>(weight)});
    }
    if (negation_left > 0) --negation_left;
    if (modifier_left > 0 && --modifier_left == 0) modifier = 1;
    if (single && first) {
      if (first->flags & kNegator) negation_left = kNegationWindow;
      if (first->flags & kModifier) {
        modifier = std::min(kMaxModifier, modifier * first->modifier);
        modifier_left = kModifierWindow;
      }
      if (first->flags & kContrast) {
        for (auto& f : out) f.weight *= static_cast<float>(kBeforeContrast);
        clause = kAfterContrast;
        negation_left = 0;
        modifier_left = 0;
        modifier = 1;
      }
    }
    i = last + 1;
  }
}

LexiconScore Lexicon::total(const std::vector<LexiconFeature>& features) const {
  LexiconScore s;
  for (const auto& f : features) {
    const double c = static_cast<double>(entries_[f.entry].score) * f.weight;
    if (c == 0) continue;
    ++s.matches;
    (c > 0 ? s.positive : s.negative) += c;
  }
  if (s.matches > 0) s.score = s.positive + s.negative + bias_;
  return s;
}

void Lexicon::features(std::string_view text, LexiconScratch& scratch) const {
  text::split_lexicon_words(text, scratch.tokens);
  scan(scratch.tokens, scratch.features);
}

LexiconScore Lexicon::score(std::string_view text, LexiconScratch& scratch) const {
  features(text, scratch);
  return total(scratch.features);
}

LexiconScore Lexicon::score(std::string_view text) const {
  thread_local LexiconScratch scratch;
  return score(text, scratch);
}

std::vector<LexiconMatch> Lexicon::explain(std::string_view text) const {
  LexiconScratch scratch;
  features(text, scratch);
  std::vector<LexiconMatch> out;
  for (const auto& f : scratch.features) {
    LexiconMatch m;
    m.phrase = std::string(entry_phrase(f.entry));
    m.score = entries_[f.entry].score;
    m.weight = f.weight;
    m.contribution = m.score * m.weight;
    out.push_back(std::move(m));
  }
  return out;
}

// ---- the classifier ----------------------------------------------------------------------------

LexiconClassifier::LexiconClassifier(Lexicon lexicon) : lexicon_(std::move(lexicon)) {}

Prediction LexiconClassifier::predict(std::string_view text, LexiconScratch& scratch) const {
  const LexiconScore s = lexicon_.score(text, scratch);
  Prediction p;
  const bool evidence = s.has_evidence();
  const auto z = static_cast<float>(evidence ? s.score : 0.0);
  p.logits = {-z, z};
  finish_prediction(p, labels_, !evidence);
  return p;
}

std::vector<Prediction> LexiconClassifier::classify(std::span<const std::string> texts) {
  LexiconScratch scratch;
  std::vector<Prediction> out;
  out.reserve(texts.size());
  for (const auto& text : texts) out.push_back(predict(text, scratch));
  return out;
}

std::string LexiconClassifier::name() const {
  return "lexicon:" + lexicon_.name();
}

std::string LexiconClassifier::description() const {
  std::string d = fmt::format("lexicon '{}' ({} entries", lexicon_.name(), lexicon_.size());
  if (lexicon_.scale() != 1) d += fmt::format(", scores divided by {:g}", lexicon_.scale());
  if (lexicon_.bias() != 0) d += fmt::format(", bias {:g}", lexicon_.bias());
  d += ", from " + lexicon_.source() + ")";
  return d;
}

}  // namespace tensorgraph::nn
