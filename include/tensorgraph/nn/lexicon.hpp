#pragma once
// A sentiment lexicon and the rules that score a text with it.
//
// Files (Lexicon::load): one entry per line, the score is the last field, after the last TAB if
// the line has one, else after the last space, so both our `word score` format and AFINN's
// `word<TAB>-5..5` work, multi-word entries included ("does not work", "waste of money"). Lines
// starting with '#' are comments. Two directives: `@scale X` divides every score (and the bias) by
// X; without it the scale is the largest absolute score when that exceeds 1 (AFINN: 5), so hand
// lexicons end up in [-1, 1]. `@bias X` is the intercept of a learned lexicon
// (train/lexicon_trainer.hpp).
// Entries are split and normalised like texts (text/lexicon_tokenizer.hpp); an entry containing
// punctuation (an emoticon) cannot match a word sequence and is skipped (skipped_entries()).
// The same phrase twice with different scores is an error; errors name the file and line.
//
// Scoring a text: its words are matched against the entries, longest phrase first (at most
// kMaxPhraseWords words, not across punctuation). Each match contributes score * weight, where the
// weight starts at 1 and is multiplied by
//   kNegation (-0.75)        for the kNegationWindow (3) words after a negator (not, no, never,
//                            n't, nothing, none, nobody, nowhere, neither, nor, without, hardly,
//                            barely); clause punctuation (. , ; : ! ? ...) ends the scope;
//   the modifier's factor    for the next scored word within kModifierWindow (2) words after an
//                            intensifier (very, really, extremely, ... : x1.5, stacking up to
//                            x3) or a diminisher (slightly, somewhat, ... : x0.5);
//   kBeforeContrast (0.5)    for everything before a "but" / "however", and kAfterContrast (1.5)
//                            for everything after it ("good but boring" leans on "boring").
// Negation and modifier words are rules, not entries; if a lexicon also gives them a score (AFINN's
// "no" is -1, a learned lexicon weighs every frequent word) they contribute that score as well.
// A phrase entry is one unit: the "not" inside "does not work" starts no negation.
// A word that is neither an entry nor a rule word falls back to its parts when hyphenated
// ("feel-good" scores as "feel" + "good"), else to its stem without one common suffix, the first
// that is an entry among -ily -> -y, -ly, -ly -> -le, -ness, -s (not -ss), -ed, -ed -> -e, -ing,
// -ing -> -e, for words of 6+ letters ("amusing" -> "amuse", "painfully" -> "painful"). Both
// were chosen on SST-2's training split (binary accuracy of AFINN there 0.699 -> 0.708); the
// other rules' constants are fixed from the literature (VADER) and were checked on it too.
//
// The text's score s is the sum of the contributions, plus the bias when there is at least one
// non-zero contribution. No such contribution (or s == 0) means no evidence: NEUTRAL.
// Squashing: P(POSITIVE) = (1 + tanh(s)) / 2 = sigmoid(2s); logits are [-s, s] so that
// softmax(logits) gives the same probabilities. One strong word (s = 0.9) gives 0.86; a learned
// lexicon's weights are half-logits trained for exactly this function.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tensorgraph/nn/classifier.hpp"
#include "tensorgraph/text/lexicon_tokenizer.hpp"

namespace tensorgraph::nn {

inline constexpr double kNegation = -0.75;  // VADER's empirical -0.74, rounded
inline constexpr int kNegationWindow = 3;
inline constexpr double kIntensifier = 1.5;
inline constexpr double kDiminisher = 0.5;
inline constexpr double kMaxModifier = 3.0;
inline constexpr int kModifierWindow = 2;
inline constexpr double kBeforeContrast = 0.5;
inline constexpr double kAfterContrast = 1.5;
inline constexpr std::size_t kMaxPhraseWords = 6;

// One entry: a normalised phrase (words joined by single spaces) and its score.
struct LexiconEntry {
  std::string phrase;
  double score = 0;
};

// The total of one text.
struct LexiconScore {
  double score = 0;           // s, bias included
  double positive = 0;        // sum of the positive contributions (bias excluded)
  double negative = 0;        // sum of the negative contributions (<= 0, bias excluded)
  std::uint32_t matches = 0;  // matched entries with a non-zero contribution
  bool has_evidence() const { return matches > 0 && score != 0; }
  // (1 + tanh(s)) / 2
  double probability_positive() const;
};

// A matched entry in a text, for explanations and tests.
struct LexiconMatch {
  std::string phrase;
  double score = 0;         // the entry's (scaled) score
  double weight = 1;        // negation x modifier x contrast
  double contribution = 0;  // score * weight
};

// A matched entry by index, with its weight: the features of a learned lexicon.
struct LexiconFeature {
  std::uint32_t entry = 0;
  float weight = 0;
};

// Reusable buffers for scoring: with a warm scratch, scoring an ASCII text allocates nothing.
struct LexiconScratch {
  text::LexTokens tokens;
  std::vector<LexiconFeature> features;
};

class Lexicon {
 public:
  // The built-in MVP lexicon (data/lexicon/mvp.txt, compiled in).
  static Lexicon builtin();
  // The text of the built-in lexicon, byte for byte data/lexicon/mvp.txt.
  static std::string_view builtin_text();
  // Reads a lexicon file. Errors name the file and line.
  static Lexicon load(const std::filesystem::path& path);
  // Parses lexicon text; `source` names it in errors ("FILE:LINE: ...").
  static Lexicon parse(std::string_view content, std::string name, std::string source);
  // Builds a lexicon from entries whose phrases are split like texts; scores are used as given.
  static Lexicon from_entries(std::string name, const std::vector<LexiconEntry>& entries,
                              double bias = 0);

  const std::string& name() const { return name_; }
  const std::string& source() const { return source_; }
  // Number of scored entries.
  std::size_t size() const { return scored_; }
  double scale() const { return scale_; }
  double bias() const { return bias_; }
  std::size_t skipped_entries() const { return skipped_; }

  // The scaled score of a phrase (split and normalised like a text), if it is an entry.
  std::optional<double> find(std::string_view phrase) const;
  // Entry index -> phrase / scaled score (indices as in LexiconFeature; rule-only words included).
  std::size_t entry_count() const { return entries_.size(); }
  std::string_view entry_phrase(std::uint32_t index) const;
  double entry_score(std::uint32_t index) const { return entries_[index].score; }
  bool entry_scored(std::uint32_t index) const;

  LexiconScore score(std::string_view text, LexiconScratch& scratch) const;
  // Uses a per-thread scratch.
  LexiconScore score(std::string_view text) const;
  std::vector<LexiconMatch> explain(std::string_view text) const;
  // The matched entries and their weights, in scratch.features: the score is
  // sum(entry_score * weight) (+ bias). Used to train learned lexicons with the same rules.
  void features(std::string_view text, LexiconScratch& scratch) const;

 private:
  struct Entry {  // 16 bytes: scoring touches many of them
    std::uint32_t key_begin = 0;
    std::uint16_t key_size = 0;
    std::uint8_t flags = 0;
    float score = 0;
    float modifier = 1;
  };
  struct Slot {
    std::uint32_t hash_high = 0;
    std::uint32_t entry_plus_one = 0;  // 0: empty
  };

  Lexicon() = default;
  const Entry* lookup(std::uint64_t hash, std::string_view key) const;
  std::uint32_t insert(std::string_view key);  // finds or adds; returns the entry index
  void rehash(std::size_t capacity);
  void place(std::size_t entry, std::uint64_t hash);  // into slots_ and filter_
  void add_rule_words();
  void add_phrase(const std::vector<std::string_view>& words, double score, bool* duplicate_differs,
                  std::uint32_t* index);
  const Entry* scored(std::string_view word) const;  // a scored single-word entry
  std::uint32_t index_of(const Entry* e) const {
    return static_cast<std::uint32_t>(e - entries_.data());
  }
  // Entries standing in for a word that is none: its hyphenated parts, or its stem.
  std::size_t fallback(std::string_view word, bool hyphenated, std::uint32_t* parts) const;
  void scan(const text::LexTokens& tokens, std::vector<LexiconFeature>& out) const;
  LexiconScore total(const std::vector<LexiconFeature>& features) const;

  std::string name_;
  std::string source_;
  std::string keys_;  // every key, back to back
  std::vector<Entry> entries_;
  std::vector<Slot> slots_;            // open addressing, power-of-two size, load <= 1/2
  std::vector<std::uint64_t> filter_;  // one bit per hash class: a quick "not an entry"
  std::size_t scored_ = 0;
  std::size_t skipped_ = 0;
  double scale_ = 1;
  double bias_ = 0;
};

// The lexicon as a SentimentClassifier: labels NEGATIVE, POSITIVE; NEUTRAL without evidence.
// Thread-safe (classify only reads the lexicon).
class LexiconClassifier final : public SentimentClassifier {
 public:
  explicit LexiconClassifier(Lexicon lexicon);

  std::vector<Prediction> classify(std::span<const std::string> texts) override;
  const std::vector<std::string>& labels() const override { return labels_; }
  std::string name() const override;
  std::string description() const override;

  Prediction predict(std::string_view text, LexiconScratch& scratch) const;
  const Lexicon& lexicon() const { return lexicon_; }

 private:
  Lexicon lexicon_;
  std::vector<std::string> labels_{"NEGATIVE", "POSITIVE"};
};

}  // namespace tensorgraph::nn
