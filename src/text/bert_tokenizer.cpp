#include "tensorgraph/text/bert_tokenizer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/utf8.hpp"
#include "text/bert_unicode.hpp"

namespace tensorgraph::text {

namespace {

using detail::CodePoints;

// What the fast path does with a byte.
enum ByteClass : std::uint8_t {
  kLowerByte,  // ASCII lower-case letter or digit: part of a word
  kUpperByte,  // ASCII upper-case letter: part of a word
  kSpaceByte,  // ' ' \t \n \r: ends a chunk
  kPunctByte,  // non-alphanumeric printable ASCII: a word of its own ('[' may start a special)
  kOtherByte   // control characters and every byte of a non-ASCII character: general path
};

constexpr std::array<std::uint8_t, 256> make_byte_classes() {
  std::array<std::uint8_t, 256> classes{};
  for (int c = 0; c < 256; ++c) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
      classes[c] = kSpaceByte;
    else if (c < 0x20 || c >= 0x7F)
      classes[c] = kOtherByte;
    else if (detail::is_ascii_punctuation(static_cast<char32_t>(c)))
      classes[c] = kPunctByte;
    else if (c >= 'A' && c <= 'Z')
      classes[c] = kUpperByte;
    else
      classes[c] = kLowerByte;
  }
  return classes;
}
constexpr std::array<std::uint8_t, 256> kByteClass = make_byte_classes();

// Scratch buffers of the general path, reused by each thread (no allocation in steady state).
struct Scratch {
  CodePoints cleaned, nfc, word, nfd;
  std::string piece;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Byte offset of the first invalid UTF-8 sequence, as find_invalid_utf8, but skipping plain
// ASCII eight bytes at a time (a valid multi-byte sequence never contains an ASCII byte, so
// validating the non-ASCII runs alone gives the same answer).
std::optional<std::size_t> first_invalid_utf8(std::string_view s) {
  const char* const data = s.data();
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    while (i + 8 <= n) {
      std::uint64_t v;
      std::memcpy(&v, data + i, 8);
      if (v & 0x8080808080808080ull) break;
      i += 8;
    }
    while (i < n && static_cast<unsigned char>(data[i]) < 0x80) ++i;
    if (i == n) break;
    std::size_t j = i;
    while (j < n && static_cast<unsigned char>(data[j]) >= 0x80) ++j;
    if (auto bad = find_invalid_utf8(s.substr(i, j - i))) return i + *bad;
    i = j;
  }
  return std::nullopt;
}

// True when every code point is below `limit`. Normalization leaves such text unchanged for
// NFC below U+0300 and for NFD below U+00C0 (nothing there decomposes, combines or reorders).
bool below(const CodePoints& cps, utf8proc_int32_t limit) {
  return std::all_of(cps.begin(), cps.end(), [limit](utf8proc_int32_t c) { return c < limit; });
}

const nlohmann::json* member(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

bool bool_member(const nlohmann::json& j, const char* key, bool fallback, const std::string& name) {
  const nlohmann::json* v = member(j, key);
  if (!v) return fallback;
  TG_CHECK(v->is_boolean(), "{}: \"{}\" must be true or false, got {}", name, key, v->dump());
  return v->get<bool>();
}

// A special token as HF writes it: "[CLS]" or {"__type": "AddedToken", "content": "[CLS]", ...}.
std::optional<std::string> token_content(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) {
    auto it = v.find("content");
    if (it != v.end() && it->is_string()) return it->get<std::string>();
  }
  return std::nullopt;
}

}  // namespace

// ---- tokenizer_config.json -----------------------------------------------------------------

BertTokenizerConfig parse_tokenizer_config(std::string_view json, const std::string& name) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json);
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: invalid JSON ({})", name, e.what());
  }
  TG_CHECK(j.is_object(), "{}: expected a JSON object", name);
  BertTokenizerConfig config;
  config.do_lower_case = bool_member(j, "do_lower_case", true, name);
  if (const nlohmann::json* v = member(j, "strip_accents")) {
    TG_CHECK(v->is_boolean(), "{}: \"strip_accents\" must be true, false or null, got {}", name,
             v->dump());
    config.strip_accents = v->get<bool>();
  }
  config.tokenize_chinese_chars = bool_member(j, "tokenize_chinese_chars", true, name);
  TG_CHECK(bool_member(j, "do_basic_tokenize", true, name),
           "{}: \"do_basic_tokenize\": false is not supported (only BERT's basic tokenization)",
           name);
  if (const nlohmann::json* v = member(j, "model_max_length")) {
    TG_CHECK(v->is_number(), "{}: \"model_max_length\" must be a number, got {}", name, v->dump());
    const double m = v->get<double>();
    TG_CHECK(m >= 1 && std::floor(m) == m,
             "{}: \"model_max_length\" must be a positive integer, got {}", name, v->dump());
    // HF writes 1e30 (VERY_LARGE_INTEGER) for "no limit".
    if (m < 1e15) config.model_max_length = static_cast<std::size_t>(m);
  }
  if (const nlohmann::json* v = member(j, "tokenizer_class")) {
    static const char* const kSupported[] = {"BertTokenizer",       "BertTokenizerFast",
                                             "DistilBertTokenizer", "DistilBertTokenizerFast",
                                             "ElectraTokenizer",    "ElectraTokenizerFast",
                                             "MobileBertTokenizer", "MobileBertTokenizerFast"};
    const std::string cls = v->is_string() ? v->get<std::string>() : v->dump();
    TG_CHECK(std::find(std::begin(kSupported), std::end(kSupported), cls) != std::end(kSupported),
             "{}: tokenizer_class \"{}\" is not supported (only BERT WordPiece tokenizers such as "
             "BertTokenizer and DistilBertTokenizer)",
             name, cls);
  }
  const std::pair<const char*, std::string_view> specials[] = {
      {"unk_token", BertTokenizer::kUnkToken},
      {"sep_token", BertTokenizer::kSepToken},
      {"pad_token", BertTokenizer::kPadToken},
      {"cls_token", BertTokenizer::kClsToken},
      {"mask_token", BertTokenizer::kMaskToken}};
  for (const auto& [key, expected] : specials) {
    const nlohmann::json* v = member(j, key);
    if (!v) continue;
    const auto content = token_content(*v);
    TG_CHECK(content && *content == expected, "{}: \"{}\" {} is not supported (only BERT's {})",
             name, key, v->dump(), expected);
  }
  if (const nlohmann::json* v = member(j, "never_split")) {
    TG_CHECK(v->is_array() && v->empty(), "{}: \"never_split\" is not supported", name);
  }
  if (const nlohmann::json* v = member(j, "added_tokens_decoder")) {
    TG_CHECK(v->is_object(), "{}: \"added_tokens_decoder\" must be an object", name);
    for (const auto& [id, token] : v->items()) {
      const auto content = token_content(token);
      const bool special =
          content &&
          (*content == BertTokenizer::kUnkToken || *content == BertTokenizer::kSepToken ||
           *content == BertTokenizer::kPadToken || *content == BertTokenizer::kClsToken ||
           *content == BertTokenizer::kMaskToken);
      TG_CHECK(special, "{}: added token {} (id {}) is not supported (only BERT's special tokens)",
               name, token.dump(), id);
    }
  }
  return config;
}

BertTokenizerConfig read_tokenizer_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open for reading", path.string());
  std::ostringstream contents;
  contents << in.rdbuf();
  return parse_tokenizer_config(contents.str(), path.string());
}

// ---- construction ---------------------------------------------------------------------------

BertTokenizer BertTokenizer::from_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) fail("{}: no such directory", dir.string());
  if (!std::filesystem::is_directory(dir, ec))
    fail("{}: not a directory (expected a model directory with vocab.txt)", dir.string());
  const auto vocab_path = dir / "vocab.txt";
  if (!std::filesystem::exists(vocab_path, ec))
    fail("{}: no vocab.txt in this directory (a BERT WordPiece vocabulary is needed)",
         dir.string());
  BertTokenizerConfig config;
  const auto config_path = dir / "tokenizer_config.json";
  if (std::filesystem::exists(config_path, ec)) config = read_tokenizer_config(config_path);
  return from_vocab_file(vocab_path, config);
}

BertTokenizer BertTokenizer::from_vocab_file(const std::filesystem::path& vocab_path,
                                             BertTokenizerConfig config) {
  return BertTokenizer(WordPieceVocab::from_file(vocab_path), config);
}

BertTokenizer::BertTokenizer(WordPieceVocab vocab, BertTokenizerConfig config)
    : vocab_(std::move(vocab)), config_(config) {
  TG_CHECK(vocab_.size() > 0, "BertTokenizer: empty vocabulary");
  strip_accents_ = config_.strip_accents.value_or(config_.do_lower_case);
  const std::pair<std::string_view, std::int32_t*> specials[] = {{kUnkToken, &unk_id_},
                                                                 {kSepToken, &sep_id_},
                                                                 {kPadToken, &pad_id_},
                                                                 {kClsToken, &cls_id_},
                                                                 {kMaskToken, &mask_id_}};
  std::size_t k = 0;
  for (const auto& [text, id] : specials) {
    *id = vocab_.find(text);
    TG_CHECK(*id >= 0, "{}: the special token {} is not in the vocabulary", vocab_.name(), text);
    specials_[k++] = Special{text, *id};
  }
  for (int c = 0; c < 128; ++c) {
    const char ch = static_cast<char>(c);
    const std::int32_t id = vocab_.find(std::string_view(&ch, 1));
    ascii_id_[c] = id >= 0 ? id : unk_id_;
    ascii_lower_[c] =
        config_.do_lower_case && c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : ch;
  }
}

// ---- encoding -------------------------------------------------------------------------------

std::int32_t BertTokenizer::match_special(const char* p, std::size_t n, std::size_t& length) const {
  // No special token is a prefix of another, so the first match is the only one.
  for (const Special& s : specials_) {
    if (n >= s.text.size() && std::memcmp(p, s.text.data(), s.text.size()) == 0) {
      length = s.text.size();
      return s.id;
    }
  }
  return -1;
}

void BertTokenizer::word_piece(const char* word, std::size_t bytes, std::size_t chars, bool ascii,
                               std::vector<std::int32_t>& out) const {
  if (bytes == 0) return;
  if (chars > kMaxCharsPerWord) {
    out.push_back(unk_id_);
    return;
  }
  // Most words are one token: try that inline before the greedy loop.
  if (bytes <= vocab_.max_initial_bytes()) {
    const std::int32_t id = vocab_.find_initial(std::string_view(word, bytes));
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  greedy_word_piece(word, bytes, ascii, out);
}

void BertTokenizer::greedy_word_piece(const char* word, std::size_t bytes, bool ascii,
                                      std::vector<std::int32_t>& out) const {
  const std::size_t mark = out.size();
  std::size_t start = 0;
  while (start < bytes) {
    const std::size_t longest =
        start == 0 ? vocab_.max_initial_bytes() : vocab_.max_continuation_bytes();
    std::size_t end = std::min(bytes, start + longest);
    if (start == 0 && end == bytes) --end;  // word_piece tried the whole word
    std::int32_t id = -1;
    for (; end > start; --end) {
      // Pieces end on character boundaries.
      if (!ascii && end < bytes && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) continue;
      id = start == 0 ? vocab_.find_initial(std::string_view(word, end))
                      : vocab_.find_continuation(std::string_view(word + start, end - start));
      if (id >= 0) break;
    }
    if (id < 0) {  // an unmatchable rest: the whole word is one [UNK]
      out.resize(mark);
      out.push_back(unk_id_);
      return;
    }
    out.push_back(id);
    start = end;
  }
}

void BertTokenizer::general_chunk(std::string_view chunk, std::vector<std::int32_t>& out) const {
  // Special tokens are cut out of the raw text first; each piece between them is tokenized on
  // its own. ('[' never occurs inside a multi-byte UTF-8 sequence.)
  std::size_t start = 0;
  for (std::size_t i = 0; i < chunk.size();) {
    std::size_t length = 0;
    const std::int32_t special =
        chunk[i] == '[' ? match_special(chunk.data() + i, chunk.size() - i, length) : -1;
    if (special < 0) {
      ++i;
      continue;
    }
    if (i > start) general_piece(chunk.substr(start, i - start), out);
    out.push_back(special);
    i += length;
    start = i;
  }
  if (start < chunk.size()) general_piece(chunk.substr(start), out);
}

void BertTokenizer::general_piece(std::string_view piece, std::vector<std::int32_t>& out) const {
  Scratch& s = scratch();
  // Lower-case (one character at a time), clean, isolate CJK ideographs.
  s.cleaned.clear();
  s.word.clear();
  const auto* q = reinterpret_cast<const unsigned char*>(piece.data());
  const auto* end = q + piece.size();
  while (q < end) {
    const char32_t cp = detail::decode_utf8(q);
    // Unassigned in Unicode 14: no case mapping for HF, and deleted by cleaning below.
    if (cp >= 0x378 && !detail::assigned_in_unicode14(cp)) continue;
    s.word.clear();
    if (config_.do_lower_case)
      detail::append_lower(cp, s.word);
    else
      s.word.push_back(static_cast<utf8proc_int32_t>(cp));
    for (const utf8proc_int32_t c : s.word) {
      switch (detail::clean_action(static_cast<char32_t>(c), config_.tokenize_chinese_chars)) {
        case detail::CleanAction::Keep:
          s.cleaned.push_back(c);
          break;
        case detail::CleanAction::Delete:
          break;
        case detail::CleanAction::Space:
          s.cleaned.push_back(' ');
          break;
        case detail::CleanAction::Isolate:
          s.cleaned.push_back(' ');
          s.cleaned.push_back(c);
          s.cleaned.push_back(' ');
          break;
      }
    }
  }
  if (below(s.cleaned, 0x300))
    s.nfc.swap(s.cleaned);
  else
    detail::normalize_nfc(s.cleaned.data(), s.cleaned.size(), s.nfc);

  const auto special_word = [this](const utf8proc_int32_t* w, std::size_t n) -> std::int32_t {
    // HF never splits a word equal to a special token (reachable when deleted characters or
    // accents hid it from the cut above, e.g. "[\u200bSEP]" without lower-casing).
    if (n < 5 || n > 6 || w[0] != '[') return -1;
    char buf[6];
    for (std::size_t k = 0; k < n; ++k) {
      if (w[k] >= 0x80) return -1;
      buf[k] = static_cast<char>(w[k]);
    }
    std::size_t length = 0;
    const std::int32_t id = match_special(buf, n, length);
    return length == n ? id : -1;
  };

  // Words: Python str.split() on the cleaned text.
  const utf8proc_int32_t* text = s.nfc.data();
  const std::size_t n = s.nfc.size();
  std::size_t i = 0;
  while (i < n) {
    while (i < n && detail::splits_words(static_cast<char32_t>(text[i]))) ++i;
    if (i == n) break;
    const std::size_t word_start = i;
    while (i < n && !detail::splits_words(static_cast<char32_t>(text[i]))) ++i;
    const utf8proc_int32_t* w = text + word_start;
    std::size_t wn = i - word_start;
    if (const std::int32_t id = special_word(w, wn); id >= 0) {
      out.push_back(id);
      continue;
    }
    // The text was lower-cased above; lower() again per word (as HF does) changes nothing:
    // lower-casing is idempotent and NFC composes no upper-case letter from lower-case parts.
    if (strip_accents_) {
      s.word.assign(w, w + wn);
      if (below(s.word, 0xC0)) {
        s.nfd.swap(s.word);
      } else {
        detail::normalize_nfd(s.word.data(), s.word.size(), s.nfd);
      }
      s.nfd.erase(std::remove_if(s.nfd.begin(), s.nfd.end(),
                                 [](utf8proc_int32_t c) {
                                   return c >= 0x300 &&
                                          detail::category(static_cast<char32_t>(c)) ==
                                              UTF8PROC_CATEGORY_MN;
                                 }),
                  s.nfd.end());
      w = s.nfd.data();
      wn = s.nfd.size();
      if (const std::int32_t id = special_word(w, wn); id >= 0) {
        out.push_back(id);
        continue;
      }
    }
    // Split off punctuation; each run is a WordPiece word.
    std::size_t k = 0;
    while (k < wn) {
      const bool punct = detail::is_punctuation(static_cast<char32_t>(w[k]));
      const std::size_t run_start = k;
      if (punct) {
        ++k;
      } else {
        while (k < wn && !detail::is_punctuation(static_cast<char32_t>(w[k]))) ++k;
      }
      s.piece.clear();
      bool ascii = true;
      for (std::size_t m = run_start; m < k; ++m) {
        ascii = ascii && w[m] < 0x80;
        detail::append_utf8(static_cast<char32_t>(w[m]), s.piece);
      }
      word_piece(s.piece.data(), s.piece.size(), k - run_start, ascii, out);
    }
  }
}

void BertTokenizer::append_pieces(std::string_view text, std::vector<std::int32_t>& out,
                                  std::size_t limit) const {
  if (!config_.ascii_fast_path) {
    general_chunk(text, out);
    return;
  }
  // Chunks between ASCII whitespace are independent: whitespace ends words, is no part of a
  // special token, and NFC never combines across it. The fast path handles plain ASCII; at a
  // byte it cannot handle (non-ASCII, control), the pieces of the current chunk are dropped and
  // the whole chunk is done again by the general path.
  const std::size_t base = out.size();
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* p = begin;
  const char* chunk = p;                // start of the current chunk
  std::size_t chunk_mark = out.size();  // pieces before it
  while (p < end) {
    const auto c = static_cast<unsigned char>(*p);
    switch (kByteClass[c]) {
      case kLowerByte:
      case kUpperByte: {
        const char* word = p;
        unsigned upper = 0;
        std::uint8_t cls = kByteClass[c];
        do {
          upper |= cls;  // kUpperByte is 1, kLowerByte 0
          ++p;
        } while (p < end && (cls = kByteClass[static_cast<unsigned char>(*p)]) <= kUpperByte);
        const auto length = static_cast<std::size_t>(p - word);
        if (p < end && cls == kOtherByte) break;  // the chunk goes to the general path
        if (upper && config_.do_lower_case && length <= kMaxCharsPerWord) {
          char lowered[kMaxCharsPerWord];
          for (std::size_t k = 0; k < length; ++k)
            lowered[k] = ascii_lower_[static_cast<unsigned char>(word[k])];
          word_piece(lowered, length, length, true, out);
        } else {
          word_piece(word, length, length, true, out);
        }
        continue;
      }
      case kPunctByte: {
        std::size_t special_length = 0;
        const std::int32_t special = c == '[' ? match_special(p, end - p, special_length) : -1;
        if (special >= 0) {
          out.push_back(special);
          p += special_length;
        } else {
          out.push_back(ascii_id_[c]);
          ++p;
        }
        continue;
      }
      case kSpaceByte:
        ++p;
        if (out.size() - base > limit) return;
        chunk = p;
        chunk_mark = out.size();
        continue;
      default:
        break;
    }
    // A byte of a non-ASCII character or a control character: redo the chunk in general.
    out.resize(chunk_mark);
    while (p < end && kByteClass[static_cast<unsigned char>(*p)] != kSpaceByte) ++p;
    general_chunk(std::string_view(chunk, static_cast<std::size_t>(p - chunk)), out);
    chunk = p;
    chunk_mark = out.size();
  }
}

void BertTokenizer::check_max_length(std::optional<std::size_t> max_length) const {
  TG_CHECK(!max_length || *max_length >= 2,
           "max_length must be at least 2 (room for [CLS] and [SEP]), got {}", *max_length);
}

bool BertTokenizer::encode_into(std::string_view text, std::vector<std::int32_t>& ids,
                                std::optional<std::size_t> max_length) const {
  check_max_length(max_length);
  if (auto bad = first_invalid_utf8(text)) fail("invalid UTF-8 at byte {}", *bad);
  ids.clear();
  ids.push_back(cls_id_);
  const std::size_t limit = max_length ? *max_length - 2 : std::numeric_limits<std::size_t>::max();
  append_pieces(text, ids, limit);
  bool truncated = false;
  if (ids.size() - 1 > limit) {
    ids.resize(limit + 1);
    truncated = true;
  }
  ids.push_back(sep_id_);
  return truncated;
}

Encoding BertTokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  Encoding e;
  e.truncated = encode_into(text, e.ids, options.max_length);
  if (options.with_tokens) e.tokens = tokens(e.ids);
  return e;
}

void BertTokenizer::append_word_pieces(std::string_view text,
                                       std::vector<std::int32_t>& out) const {
  if (auto bad = first_invalid_utf8(text)) fail("invalid UTF-8 at byte {}", *bad);
  append_pieces(text, out, std::numeric_limits<std::size_t>::max());
}

std::vector<std::int32_t> BertTokenizer::word_pieces(std::string_view text) const {
  std::vector<std::int32_t> out;
  append_word_pieces(text, out);
  return out;
}

std::vector<std::string> BertTokenizer::tokens(std::span<const std::int32_t> ids) const {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const std::int32_t id : ids) out.emplace_back(vocab_.token(id));
  return out;
}

template <typename Text>
BatchEncoding BertTokenizer::encode_batch_impl(std::span<const Text> texts,
                                               std::optional<std::size_t> max_length) const {
  check_max_length(max_length);
  BatchEncoding batch;
  batch.lengths.resize(texts.size());
  batch.truncated.resize(texts.size());
  std::vector<std::int32_t> all;  // every text's ids, one after the other
  std::vector<std::int32_t> ids;
  std::size_t longest = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    try {
      batch.truncated[i] = encode_into(texts[i], ids, max_length) ? 1 : 0;
    } catch (const Error& e) {
      throw e.with_context(fmt::format("text {}", i));
    }
    all.insert(all.end(), ids.begin(), ids.end());
    batch.lengths[i] = static_cast<std::int64_t>(ids.size());
    longest = std::max(longest, ids.size());
  }
  const Shape shape{static_cast<std::int64_t>(texts.size()), static_cast<std::int64_t>(longest)};
  batch.input_ids = Tensor::empty(DType::I64, shape);
  batch.attention_mask = Tensor::empty(DType::I64, shape);
  std::int64_t* out_ids = batch.input_ids.mutable_data<std::int64_t>();
  std::int64_t* out_mask = batch.attention_mask.mutable_data<std::int64_t>();
  const std::int32_t* next = all.data();
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::int64_t* row = out_ids + i * longest;
    std::int64_t* mask_row = out_mask + i * longest;
    const auto n = static_cast<std::size_t>(batch.lengths[i]);
    std::copy(next, next + n, row);
    next += n;
    std::fill(row + n, row + longest, static_cast<std::int64_t>(pad_id_));
    std::fill(mask_row, mask_row + n, 1);
    std::fill(mask_row + n, mask_row + longest, 0);
  }
  return batch;
}

BatchEncoding BertTokenizer::encode_batch(std::span<const std::string> texts,
                                          std::optional<std::size_t> max_length) const {
  return encode_batch_impl(texts, max_length);
}

BatchEncoding BertTokenizer::encode_batch(std::span<const std::string_view> texts,
                                          std::optional<std::size_t> max_length) const {
  return encode_batch_impl(texts, max_length);
}

}  // namespace tensorgraph::text
