#include "tensorgraph/text/wordpiece_vocab.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/utf8.hpp"

namespace tensorgraph::text {

namespace {

std::size_t table_capacity(std::size_t entries) {
  std::size_t capacity = 16;
  while (capacity < entries * 2) capacity *= 2;  // load factor <= 0.5: short probe sequences
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

void WordPieceVocab::insert(Table& table, const char* key, std::size_t n, std::int32_t id,
                            const std::string& text, const std::vector<std::uint32_t>& offsets) {
  const std::uint64_t h = hash(key, n);
  const auto tag = static_cast<std::uint32_t>(h >> 32);
  for (std::size_t i = h & table.mask;; i = (i + 1) & table.mask) {
    Slot& s = table.slots[i];
    if (s.id < 0) {
      s = Slot{tag, id};
      break;
    }
    if (s.tag != tag) continue;
    const std::size_t begin = offsets[static_cast<std::size_t>(s.id)] + table.skip;
    const std::size_t end = offsets[static_cast<std::size_t>(s.id) + 1];
    if (end - begin == n && std::memcmp(text.data() + begin, key, n) == 0) {
      s.id = id;  // listed again: the last line wins, as in HF's load_vocab (a dict)
      break;
    }
  }
  table.max_key_bytes = std::max(table.max_key_bytes, n);
}

void WordPieceVocab::build_tables() {
  std::size_t continuations = 0;
  for (std::size_t i = 0; i < size(); ++i)
    if (std::string_view(text_)
            .substr(offsets_[i], offsets_[i + 1] - offsets_[i])
            .starts_with("##"))
      ++continuations;
  whole_ = Table{};
  whole_.slots.assign(table_capacity(size()), Slot{});
  whole_.mask = whole_.slots.size() - 1;
  continuation_ = Table{};
  continuation_.slots.assign(table_capacity(continuations), Slot{});
  continuation_.mask = continuation_.slots.size() - 1;
  continuation_.skip = 2;
  for (std::size_t i = 0; i < size(); ++i) {
    const char* p = text_.data() + offsets_[i];
    const std::size_t n = offsets_[i + 1] - offsets_[i];
    const auto id = static_cast<std::int32_t>(i);
    insert(whole_, p, n, id, text_, offsets_);
    if (n >= 2 && p[0] == '#' && p[1] == '#')
      insert(continuation_, p + 2, n - 2, id, text_, offsets_);
  }
}

}  // namespace tensorgraph::text
