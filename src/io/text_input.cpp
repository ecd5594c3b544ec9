#include "tensorgraph/io/text_input.hpp"

#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/utf8.hpp"

namespace tensorgraph::io {

namespace {

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A malformed line: an error, or (with skip_bad) counted and skipped.
struct BadLine {
  std::string message;
};

std::optional<TextRecord> parse_jsonl_line(std::string_view line, std::size_t number) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for 1e999
    throw BadLine{fmt::format("invalid JSON ({})", e.what())};
  }
  if (!j.is_object()) throw BadLine{"expected a JSON object with a \"text\" field"};
  auto text = j.find("text");
  if (text == j.end()) throw BadLine{"missing \"text\" field"};
  if (!text->is_string()) throw BadLine{"\"text\" must be a string"};
  TextRecord record;
  record.text = text->get<std::string>();
  record.line = number;
  if (auto label = j.find("label"); label != j.end() && !label->is_null()) {
    if (label->is_string())
      record.label = label->get<std::string>();
    else if (label->is_number_integer() || label->is_number_unsigned())
      record.label = label->dump();  // exact, also above INT64_MAX
    else if (label->is_boolean())
      record.label = label->get<bool>() ? "1" : "0";
    else
      throw BadLine{"\"label\" must be an integer or a string"};
  }
  return record;
}

TextRecord parse_tsv_line(std::string_view line, std::size_t number) {
  TextRecord record;
  record.line = number;
  const auto tab = line.rfind('\t');
  if (tab != std::string_view::npos && looks_like_label(line.substr(tab + 1))) {
    record.text = std::string(trim_right(line.substr(0, tab)));
    record.label = std::string(line.substr(tab + 1));
  } else {
    record.text = std::string(line);
  }
  return record;
}

}  // namespace

bool looks_like_label(std::string_view field) {
  if (field.empty()) return false;
  std::size_t i = (field[0] == '-' || field[0] == '+') ? 1 : 0;
  if (i < field.size()) {
    bool digits = true;
    for (std::size_t k = i; k < field.size(); ++k)
      if (field[k] < '0' || field[k] > '9') digits = false;
    if (digits) return true;
  }
  static const char* const kNames[] = {"positive", "negative", "neutral", "pos", "neg"};
  const std::string lower = lower_ascii(field);
  for (const char* name : kNames)
    if (lower == name) return true;
  return false;
}

TextInputResult read_text_inputs(std::istream& in, const std::string& name, TextFormat format,
                                 const TextInputOptions& options) {
  TextInputResult result;
  std::string raw;
  std::size_t number = 0;
  bool first_content_line = true;
  while (std::getline(in, raw, '\n')) {
    ++number;
    const std::string_view line = trim_right(raw);
    if (line.empty()) continue;
    if (options.limit && result.records.size() >= options.limit) break;
    try {
      if (auto bad = find_invalid_utf8(line))
        throw BadLine{fmt::format("invalid UTF-8 at byte {}", *bad)};
      if (format == TextFormat::Auto) format = line.front() == '{' ? TextFormat::Jsonl : TextFormat::Tsv;
      std::optional<TextRecord> record;
      if (format == TextFormat::Jsonl) {
        record = parse_jsonl_line(line, number);
      } else {
        const auto tab = line.rfind('\t');
        if (first_content_line && tab != std::string_view::npos &&
            !looks_like_label(line.substr(tab + 1))) {
          result.had_header = true;  // "sentence<TAB>label": its last field is not a label
          first_content_line = false;
          continue;
        }
        record = parse_tsv_line(line, number);
      }
      first_content_line = false;
      if (options.require_label && !record->label)
        throw BadLine{format == TextFormat::Jsonl ? "missing \"label\" field"
                                                  : "no label (expected text<TAB>label)"};
      result.records.push_back(std::move(*record));
    } catch (const BadLine& bad) {
      first_content_line = false;
      if (!options.skip_bad) fail("{}:{}: {}", name, number, bad.message);
      ++result.skipped_bad;
    }
  }
  if (in.bad()) fail("{}: read error", name);
  return result;
}

TextInputResult read_text_inputs(const std::string& path, const TextInputOptions& options) {
  if (path == "-") return read_text_inputs(std::cin, "<stdin>", options.format, options);
  TextFormat format = options.format;
  if (format == TextFormat::Auto) {
    const std::string ext = lower_ascii(std::filesystem::path(path).extension().string());
    format = (ext == ".jsonl" || ext == ".ndjson") ? TextFormat::Jsonl : TextFormat::Tsv;
  }
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail("{}: no such file", path);
  if (std::filesystem::is_directory(path, ec)) fail("{}: is a directory, expected a file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open for reading", path);
  return read_text_inputs(in, path, format, options);
}

}  // namespace tensorgraph::io
