#include "tensorgraph/text/wordpiece_vocab.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/utf8.hpp"

namespace tensorgraph::text {

namespace {

// Load factor at most 0.5: short probe sequences, mostly within one cache line.
std::size_t table_capacity(std::size_t entries) {
  std::size_t capacity = 16;
  while (capacity < entries * 2) capacity *= 2;
  return capacity;
}

// 1-based line of byte `offset`, counting line ends as load_vocab does (\n, \r\n, \r).
std::size_t line_of(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n')))
      ++line;
  }
  return line;
}

}  // namespace

WordPieceVocab WordPieceVocab::from_file(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("{}: no such file", name);
  if (std::filesystem::is_directory(path, ec))
    fail("{}: is a directory, expected a vocab.txt file", name);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open for reading", name);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) fail("{}: read error", name);
  return from_text(contents.str(), name);
}

WordPieceVocab WordPieceVocab::from_text(std::string_view text, const std::string& name) {
  if (auto bad = find_invalid_utf8(text))
    fail("{}:{}: invalid UTF-8 at byte {} of the file", name, line_of(text, *bad), *bad);
  WordPieceVocab vocab;
  vocab.name_ = name;
  vocab.text_.reserve(text.size());
  vocab.offsets_.push_back(0);
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t end = i;
    while (end < text.size() && text[end] != '\n' && text[end] != '\r') ++end;
    vocab.text_.append(text.data() + i, end - i);
    if (vocab.text_.size() > std::numeric_limits<std::uint32_t>::max() ||
        vocab.offsets_.size() > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
      fail("{}: vocabulary too large", name);
    vocab.offsets_.push_back(static_cast<std::uint32_t>(vocab.text_.size()));
    i = end;
    if (i < text.size()) {  // consume the line end: \r\n counts as one
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++i;
    }
  }
  if (vocab.size() == 0) fail("{}: empty vocabulary (expected one token per line)", name);
  vocab.build_tables();
  return vocab;
}

std::string_view WordPieceVocab::token(std::int32_t id) const {
  TG_CHECK(id >= 0 && static_cast<std::size_t>(id) < size(),
           "{}: token id {} is out of range (vocabulary of {} tokens)", name_, id, size());
  const auto i = static_cast<std::size_t>(id);
  return std::string_view(text_).substr(offsets_[i], offsets_[i + 1] - offsets_[i]);
}

void WordPieceVocab::insert(Table& table, const char* key, std::size_t n, std::int32_t id) {
  const PackedKey k = pack(key, n);
  for (std::size_t i = hash(k) & table.mask;; i = (i + 1) & table.mask) {
    Slot& s = table.slots[i];
    if (s.id < 0) {
      s = Slot{k.lo, k.hi, id};
      break;
    }
    if (s.lo == k.lo && s.hi == k.hi && (n <= kPackedBytes || same_tail(table, s.id, key, n))) {
      s.id = id;  // listed again: the last line wins, as in HF's load_vocab (a dict)
      break;
    }
  }
  table.max_key_bytes = std::max(table.max_key_bytes, n);
}

void WordPieceVocab::build_tables() {
  const auto is_continuation = [this](std::size_t i) {
    return offsets_[i + 1] - offsets_[i] >= 2 && text_[offsets_[i]] == '#' &&
           text_[offsets_[i] + 1] == '#';
  };
  std::size_t continuations = 0;
  for (std::size_t i = 0; i < size(); ++i) continuations += is_continuation(i) ? 1 : 0;
  const auto init = [](Table& table, std::size_t entries, std::size_t skip) {
    table = Table{};
    const std::size_t capacity = table_capacity(entries);
    table.slots.assign(capacity, Slot{0, 0, -1});
    table.mask = capacity - 1;
    table.skip = skip;
  };
  init(initial_, size() - continuations, 0);
  init(continuation_, continuations, 2);
  for (std::size_t i = 0; i < size(); ++i) {
    const char* p = text_.data() + offsets_[i];
    const std::size_t n = offsets_[i + 1] - offsets_[i];
    const auto id = static_cast<std::int32_t>(i);
    if (is_continuation(i))
      insert(continuation_, p + 2, n - 2, id);
    else
      insert(initial_, p, n, id);
  }
}

}  // namespace tensorgraph::text
