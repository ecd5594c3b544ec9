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

constexpr std::uint64_t kFnvOffset = 1469598103934665603ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

inline std::uint64_t fnv(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * kFnvPrime;
  return h;
}
// The slot index comes from the low bits, the stored tag from the high bits; FNV's low bits mix
// poorly, so finish with a multiply-xorshift.
inline std::uint64_t finish(std::uint64_t h) {
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h;
}

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

const Lexicon::Entry* Lexicon::lookup(std::uint64_t hash, std::string_view key) const {
  if (slots_.empty()) return nullptr;
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
  const std::size_t mask = capacity - 1;
  for (std::size_t k = 0; k < entries_.size(); ++k) {
    std::size_t i = entries_[k].hash & mask;
    while (slots_[i].entry_plus_one != 0) i = (i + 1) & mask;
    slots_[i] = {static_cast<std::uint32_t>(entries_[k].hash >> 32),
                 static_cast<std::uint32_t>(k + 1)};
  }
}

std::uint32_t Lexicon::insert(std::string_view key) {
  const std::uint64_t hash = finish(fnv(kFnvOffset, key));
  if (const Entry* e = lookup(hash, key)) return static_cast<std::uint32_t>(e - entries_.data());
  TG_CHECK(keys_.size() + key.size() < (1ull << 32) && entries_.size() < (1ull << 31),
           "lexicon too large");
  Entry e;
  e.hash = hash;
  e.key_begin = static_cast<std::uint32_t>(keys_.size());
  e.key_size = static_cast<std::uint32_t>(key.size());
  keys_.append(key);
  entries_.push_back(e);
  if (entries_.size() * 2 > slots_.size()) {
    rehash(std::max<std::size_t>(16, std::bit_ceil(entries_.size() * 2)));
  } else {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    while (slots_[i].entry_plus_one != 0) i = (i + 1) & mask;
    slots_[i] = {static_cast<std::uint32_t>(hash >> 32),
                 static_cast<std::uint32_t>(entries_.size())};
  }
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
  const Entry* e = lookup(finish(fnv(kFnvOffset, key)), key);
  if (!e || !(e->flags & kScored)) return std::nullopt;
  return e->score;
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
    std::uint64_t h = fnv(kFnvOffset, word);
    const Entry* first = lookup(finish(h), word);
    const Entry* best = (first && (first->flags & kScored)) ? first : nullptr;
    std::size_t last = i;
    if (first && (first->flags & kPrefix)) {
      for (std::size_t j = i + 1;
           j < n && j - i < kMaxPhraseWords && t.tokens[j].kind == text::LexTokenKind::Word; ++j) {
        h = fnv((h ^ static_cast<unsigned char>(' ')) * kFnvPrime, t[j]);
        const std::string_view key = t.span(i, j);
        const Entry* e = lookup(finish(h), key);
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
    if (best) {
      double weight = clause;
      if (negation_left > 0) weight *= kNegation;
      if (modifier_left > 0 && !is_modifier) {
        weight *= modifier;
        modifier_left = 0;
        modifier = 1;
      }
      out.push_back(
          {static_cast<std::uint32_t>(best - entries_.data()), static_cast<float>(weight)});
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
