#pragma once
// BERT's WordPiece tokenizer, giving the same ids as HuggingFace's (slow) `BertTokenizer`
// (transformers 4.38, Python 3.11 / Unicode 14.0) on every valid UTF-8 input:
//   1. the special tokens [UNK] [SEP] [PAD] [CLS] [MASK] are cut out of the raw text first (exact,
//      case-sensitive, anywhere, even inside a word);
//   2. the rest is lower-cased one character at a time (so capital Sigma is always medial);
//   3. BasicTokenizer: delete U+0000, U+FFFD and category C* except \t \n \r; \t \n \r and Zs
//      become spaces; spaces around CJK ideographs; NFC; split like Python's str.split();
//      per word: lower-case, NFD and drop category Mn, split off punctuation (non-alphanumeric
//      ASCII and category P*);
//   4. WordPiece: greedy longest match with "##" continuations; a word longer than 100 code
//      points, or with a rest that no piece matches, becomes ONE [UNK].
// Plain ASCII words take a fast path (no utf8proc, no allocation); anything else takes the
// general Unicode path. See docs/ARCHITECTURE.md (text layer) and ../shared/fixtures/README.md.
//
// Encoding is const and keeps no state between calls: one tokenizer may be shared by threads.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensorgraph/core/tensor.hpp"
#include "tensorgraph/text/wordpiece_vocab.hpp"

namespace tensorgraph::text {

// The settings of HF's tokenizer_config.json that change the result.
struct BertTokenizerConfig {
  bool do_lower_case = true;
  // Accent (Mn) stripping; nullopt: the same as do_lower_case (HF's default).
  std::optional<bool> strip_accents;
  bool tokenize_chinese_chars = true;
  // Positions the model accepts (informational: encoding never truncates unless asked);
  // nullopt when unknown.
  std::optional<std::size_t> model_max_length;
  // false: every word takes the general Unicode path (the same ids, slower; for tests).
  bool ascii_fast_path = true;
};

// Reads a HuggingFace tokenizer_config.json: do_lower_case, strip_accents,
// tokenize_chinese_chars, model_max_length. Throws Error (naming the file) for invalid JSON, a
// wrong type, or a setting this tokenizer cannot honour (another tokenizer_class, other special
// tokens, extra added tokens, do_basic_tokenize false, never_split).
BertTokenizerConfig read_tokenizer_config(const std::filesystem::path& path);
BertTokenizerConfig parse_tokenizer_config(std::string_view json, const std::string& name);

struct Encoding {
  std::vector<std::int32_t> ids;    // [CLS] word pieces [SEP]
  std::vector<std::string> tokens;  // the vocabulary strings of `ids` (only when asked)
  bool truncated = false;           // word pieces were dropped to fit max_length
};

struct EncodeOptions {
  // Keep [CLS] + the first (max_length - 2) word pieces + [SEP] (HF truncation=True). At least
  // 2. nullopt: never truncate (HF's default; it only warns past model_max_length).
  std::optional<std::size_t> max_length;
  bool with_tokens = false;
};

// A padded batch for the model (HF padding=True: to the longest text of the batch).
struct BatchEncoding {
  Tensor input_ids;                     // i64 [batch, longest], right-padded with [PAD]
  Tensor attention_mask;                // i64 [batch, longest]: 1 on tokens, 0 on padding
  std::vector<std::int64_t> lengths;    // tokens of each text, [CLS] and [SEP] included
  std::vector<std::uint8_t> truncated;  // 1 where the text was truncated to max_length
};

class BertTokenizer {
 public:
  static constexpr std::size_t kMaxCharsPerWord = 100;
  static constexpr std::string_view kUnkToken = "[UNK]";
  static constexpr std::string_view kSepToken = "[SEP]";
  static constexpr std::string_view kPadToken = "[PAD]";
  static constexpr std::string_view kClsToken = "[CLS]";
  static constexpr std::string_view kMaskToken = "[MASK]";

  // `dir`/vocab.txt, and `dir`/tokenizer_config.json when present (else the defaults).
  static BertTokenizer from_directory(const std::filesystem::path& dir);
  static BertTokenizer from_vocab_file(const std::filesystem::path& vocab_path,
                                       BertTokenizerConfig config = {});
  // Throws Error when one of the special tokens is missing from the vocabulary.
  explicit BertTokenizer(WordPieceVocab vocab, BertTokenizerConfig config = {});

  // [CLS] + word pieces + [SEP]. Throws Error "invalid UTF-8 at byte N" for invalid input.
  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
  // The same into `ids` (cleared first; its capacity is reused, so a loop over texts does not
  // allocate once the buffer has grown). Returns whether the text was truncated.
  bool encode_into(std::string_view text, std::vector<std::int32_t>& ids,
                   std::optional<std::size_t> max_length = std::nullopt) const;
  // Appends the word pieces of `text` to `out`, without [CLS]/[SEP] and without truncation (for
  // callers that cut long texts into windows themselves).
  void append_word_pieces(std::string_view text, std::vector<std::int32_t>& out) const;
  std::vector<std::int32_t> word_pieces(std::string_view text) const;

  BatchEncoding encode_batch(std::span<const std::string> texts,
                             std::optional<std::size_t> max_length = std::nullopt) const;
  BatchEncoding encode_batch(std::span<const std::string_view> texts,
                             std::optional<std::size_t> max_length = std::nullopt) const;

  // The vocabulary strings of `ids` (HF convert_ids_to_tokens).
  std::vector<std::string> tokens(std::span<const std::int32_t> ids) const;

  const WordPieceVocab& vocab() const { return vocab_; }
  const BertTokenizerConfig& config() const { return config_; }
  std::int32_t unk_id() const { return unk_id_; }
  std::int32_t sep_id() const { return sep_id_; }
  std::int32_t pad_id() const { return pad_id_; }
  std::int32_t cls_id() const { return cls_id_; }
  std::int32_t mask_id() const { return mask_id_; }

 private:
  struct Special {
    std::string_view text;
    std::int32_t id;
  };

  // Appends the pieces of `text`; stops early (at a chunk boundary) once more than `limit`
  // pieces were appended.
  void append_pieces(std::string_view text, std::vector<std::int32_t>& out,
                     std::size_t limit) const;
  void general_chunk(std::string_view chunk, std::vector<std::int32_t>& out) const;
  void general_piece(std::string_view piece, std::vector<std::int32_t>& out) const;
  // The pieces of one word (UTF-8 bytes, `chars` code points).
  void word_piece(const char* word, std::size_t bytes, std::size_t chars, bool ascii,
                  std::vector<std::int32_t>& out) const;
  void greedy_word_piece(const char* word, std::size_t bytes, bool ascii,
                         std::vector<std::int32_t>& out) const;
  // Id of the special token that starts at `p` (with its length), or -1.
  std::int32_t match_special(const char* p, std::size_t n, std::size_t& length) const;
  void check_max_length(std::optional<std::size_t> max_length) const;
  template <typename Text>
  BatchEncoding encode_batch_impl(std::span<const Text> texts,
                                  std::optional<std::size_t> max_length) const;

  WordPieceVocab vocab_;
  BertTokenizerConfig config_;
  bool strip_accents_ = true;
  std::int32_t unk_id_ = -1, sep_id_ = -1, pad_id_ = -1, cls_id_ = -1, mask_id_ = -1;
  Special specials_[5];
  std::int32_t ascii_id_[128];  // id of each single ASCII character as a word (or [UNK])
  char ascii_lower_[128];       // lower-casing table (identity when do_lower_case is false)
};

}  // namespace tensorgraph::text
