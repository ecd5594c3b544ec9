// Fuzz target: the text-input reader (JSONL / TSV / plain lines) on arbitrary bytes. The first
// byte picks the options (format, skip_bad, require_label, limit); the rest is the file. Every
// input must give records or an Error; every record must be valid UTF-8, with a
// 1-based line number within the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/utf8.hpp"
#include "tensorgraph/io/text_input.hpp"

namespace {

[[noreturn]] void violated(const char* what) {
  std::fprintf(stderr, "text_input_fuzz: property violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using namespace tensorgraph::io;
  const std::uint8_t mode = data[0];
  TextInputOptions options;
  static constexpr TextFormat kFormats[] = {TextFormat::Auto, TextFormat::Jsonl, TextFormat::Tsv};
  options.format = kFormats[mode % 3];
  options.skip_bad = (mode & 0x04) != 0;
  options.require_label = (mode & 0x08) != 0;
  options.limit = (mode & 0x30) == 0x30 ? 2 : 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::istringstream in(text);
  std::size_t lines = 1;
  for (char c : text) lines += c == '\n';
  try {
    const TextInputResult result = read_text_inputs(in, "fuzz-input", options.format, options);
    if (options.limit && result.records.size() > options.limit) violated("limit");
    std::size_t previous = 0;
    for (const TextRecord& r : result.records) {
      if (tensorgraph::find_invalid_utf8(r.text)) violated("text is not valid UTF-8");
      if (r.label && tensorgraph::find_invalid_utf8(*r.label)) violated("label is not UTF-8");
      if (options.require_label && !r.label) violated("missing label accepted");
      if (r.line <= previous || r.line > lines) violated("line numbers");
      previous = r.line;
    }
  } catch (const tensorgraph::Error&) {
  }
  return 0;
}
