// libFuzzer target for the BERT WordPiece tokenizer (text/bert_tokenizer.hpp).
// Input: arbitrary bytes. A leading 'V' makes the rest a vocab.txt to load (then a fixed text is
// encoded with it); otherwise the bytes are a text, encoded with a small built-in vocabulary.
// Checked: invalid UTF-8 is an Error naming the byte offset of the first invalid sequence,
// never a crash; the fast ASCII path and the general path give the same ids; the ids are
// [CLS] ... [SEP] and in range; truncation keeps a prefix; batches pad consistently.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/utf8.hpp"
#include "tensorgraph/text/bert_tokenizer.hpp"

namespace {

using tensorgraph::Error;
using tensorgraph::text::BertTokenizer;
using tensorgraph::text::BertTokenizerConfig;
using tensorgraph::text::WordPieceVocab;

// Specials, letters and continuations, a few words, punctuation and non-ASCII pieces, so that
// both found and [UNK] words, and multi-piece words, are common.
constexpr std::string_view kVocab =
    "[PAD]\n[unused0]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"
    "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk\nl\nm\nn\no\np\nq\nr\ns\nt\nu\nv\nw\nx\ny\nz\n"
    "##a\n##b\n##c\n##d\n##e\n##f\n##g\n##h\n##i\n##j\n##k\n##l\n##m\n##n\n##o\n##p\n##q\n##r\n"
    "##s\n##t\n##u\n##v\n##w\n##x\n##y\n##z\n"
    "0\n1\n2\n##0\n##1\n##2\nthe\nhello\nworld\nun\n##aff\n##able\n##ing\ncafe\nnaive\n"
    "internationalization\n##ization\n"
    "!\n\"\n#\n$\n%\n&\n'\n(\n)\n*\n+\n,\n-\n.\n/"
    "\n:\n;\n<\n=\n>\n?\n@\n[\n\\\n]\n^\n_\n`\n{\n|\n}\n~\n"
    "\xC2\xBF\n\xE2\x80\x94\n\xCE\xBF\n##\xCE\xB4\n##\xCF\x83\n\xE4\xB8\xAD\n\xE6\x96\x87\n"
    "\xE1\x84\x8B\n##\xE1\x85\xA1\n##\xE1\x86\xAB\n\xC2\xB2\n##\xC2\xB2\n\xC3\x9F\n";

[[noreturn]] void check_failed(const char* what) {
  std::fprintf(stderr, "tokenizer_fuzz: check failed: %s\n", what);
  std::abort();
}
#define FUZZ_CHECK(cond)              \
  do {                                \
    if (!(cond)) check_failed(#cond); \
  } while (false)

const BertTokenizer& tokenizer(bool fast_path) {
  static const BertTokenizer fast(WordPieceVocab::from_text(kVocab, "fuzz-vocab"));
  static const BertTokenizer general = [] {
    BertTokenizerConfig config;
    config.ascii_fast_path = false;
    return BertTokenizer(WordPieceVocab::from_text(kVocab, "fuzz-vocab"), config);
  }();
  return fast_path ? fast : general;
}

void fuzz_vocab(std::string_view text) {
  try {
    const BertTokenizer t(WordPieceVocab::from_text(text, "vocab.txt"));
    const auto ids = t.encode("Hello, [MASK] world! Caf\xC3\xA9 \xE4\xB8\xAD").ids;
    FUZZ_CHECK(ids.front() == t.cls_id() && ids.back() == t.sep_id());
    for (const auto id : ids)
      FUZZ_CHECK(id >= 0 && static_cast<std::size_t>(id) < t.vocab().size());
  } catch (const Error&) {
    // Empty vocabulary, invalid UTF-8, missing special tokens: reported, not crashed.
  }
}

void fuzz_text(std::string_view text) {
  const auto bad = tensorgraph::find_invalid_utf8(text);
  std::vector<std::int32_t> ids;
  try {
    tokenizer(true).encode_into(text, ids);
  } catch (const Error& e) {
    FUZZ_CHECK(bad.has_value());
    FUZZ_CHECK(std::string(e.what()) == "invalid UTF-8 at byte " + std::to_string(*bad));
    return;
  }
  FUZZ_CHECK(!bad.has_value());
  const BertTokenizer& t = tokenizer(true);
  FUZZ_CHECK(ids.size() >= 2 && ids.front() == t.cls_id() && ids.back() == t.sep_id());
  for (const auto id : ids) FUZZ_CHECK(id >= 0 && static_cast<std::size_t>(id) < t.vocab().size());

  std::vector<std::int32_t> general;
  tokenizer(false).encode_into(text, general);
  FUZZ_CHECK(general == ids);

  std::vector<std::int32_t> pieces;
  t.append_word_pieces(text, pieces);
  FUZZ_CHECK(pieces.size() + 2 == ids.size());
  FUZZ_CHECK(std::equal(pieces.begin(), pieces.end(), ids.begin() + 1));

  for (const std::size_t max_length : {std::size_t{2}, std::size_t{3}, std::size_t{7}}) {
    std::vector<std::int32_t> cut;
    const bool truncated = t.encode_into(text, cut, max_length);
    FUZZ_CHECK(truncated == (ids.size() > max_length));
    FUZZ_CHECK(cut.size() == std::min(ids.size(), max_length));
    FUZZ_CHECK(std::equal(cut.begin(), cut.end() - 1, ids.begin()));
    FUZZ_CHECK(cut.back() == t.sep_id());
  }

  const std::string_view batch[] = {text, "x"};
  const auto b = t.encode_batch(std::span<const std::string_view>(batch));
  FUZZ_CHECK(b.lengths[0] == static_cast<std::int64_t>(ids.size()));
  FUZZ_CHECK(b.input_ids.shape()[1] == std::max<std::int64_t>(b.lengths[0], 3));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && input[0] == 'V')
    fuzz_vocab(input.substr(1));
  else
    fuzz_text(input);
  return 0;
}
