#pragma once
// The one reader of text inputs, shared by every command that takes texts (classify, tokenize,
// eval, serve). Formats, chosen by file extension:
//   .jsonl        one JSON object per line with "text" (and optionally "label": 0/1 or a name)
//   .tsv / .txt   "text<TAB>label" or one text per line; an optional header line is detected
//                 (its last field is not a label) and skipped
//   "-"           standard input, read as .txt
// Lines are split on '\n' only (data may hold U+0085 or U+2028 inside a text); a trailing '\r' and
// trailing whitespace are trimmed; blank lines are skipped. Invalid UTF-8 is an error.
// Errors name the file and the 1-based line.
#include <cstddef>
#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tensorgraph::io {

struct TextRecord {
  std::string text;
  std::optional<std::string> label;  // as written in the file ("1", "POSITIVE", ...)
  std::size_t line = 0;              // 1-based line number in the source
};

enum class TextFormat { Auto, Jsonl, Tsv };

struct TextInputOptions {
  TextFormat format = TextFormat::Auto;  // Auto: from the extension (.jsonl -> Jsonl, else Tsv)
  bool skip_bad = false;                 // skip malformed lines instead of failing
  bool require_label = false;            // every record must carry a label
  std::size_t limit = 0;                 // stop after this many records (0: all)
};

struct TextInputResult {
  std::vector<TextRecord> records;
  std::size_t skipped_bad = 0;  // malformed lines skipped (only with skip_bad)
  bool had_header = false;
};

// Reads `path` ("-" for stdin). Throws Error "FILE:LINE: reason" on malformed input.
TextInputResult read_text_inputs(const std::string& path, const TextInputOptions& options = {});
// Reads from a stream; `name` is used in messages.
TextInputResult read_text_inputs(std::istream& in, const std::string& name, TextFormat format,
                                 const TextInputOptions& options = {});

// True when `field` looks like a label: an integer, or a sentiment name such as POSITIVE,
// negative, pos, neg, neutral (case-insensitive).
bool looks_like_label(std::string_view field);

}  // namespace tensorgraph::io
