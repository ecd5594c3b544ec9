#include "tensorgraph/io/csv.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::io {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line, char delimiter) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(delimiter, start);
    fields.push_back(trim(line.substr(start, end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return fields;
}

// A finite number spelling the whole field, or nothing.
bool parse_number(std::string_view field, double* value) {
  if (field.empty()) return false;
  if (field.front() == '+') field.remove_prefix(1);
  const char* end = field.data() + field.size();
  const auto [ptr, ec] = std::from_chars(field.data(), end, *value);
  return ec == std::errc() && ptr == end && std::isfinite(*value);
}

std::string quoted(std::string_view field) {
  constexpr std::size_t kMax = 40;
  std::string s(field.substr(0, kMax));
  if (field.size() > kMax) s += "...";
  return "\"" + s + "\"";
}

}  // namespace

CsvTable parse_csv(std::string_view text, const std::string& name, const CsvOptions& options) {
  TG_CHECK(options.delimiter != '\n' && options.delimiter != '\r' && options.delimiter != '"',
           "{}: invalid CSV delimiter", name);
  CsvTable table;
  table.columns = options.columns;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    if (line.empty()) continue;
    const std::vector<std::string_view> fields = split(line, options.delimiter);
    if (first) {
      first = false;
      bool numeric = true;
      double v = 0;
      for (std::string_view f : fields) numeric = numeric && parse_number(f, &v);
      const bool header =
          options.header == CsvHeader::Present || (options.header == CsvHeader::Auto && !numeric);
      if (table.columns == 0) table.columns = fields.size();
      if (header) {
        if (fields.size() != table.columns)
          fail("{}:{}: the header has {} fields, expected {}", name, line_no, fields.size(),
               table.columns);
        for (std::string_view f : fields) {
          if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
          table.header.emplace_back(f);
        }
        continue;
      }
    }
    if (fields.size() != table.columns)
      fail("{}:{}: {} fields, expected {}", name, line_no, fields.size(), table.columns);
    for (std::size_t c = 0; c < fields.size(); ++c) {
      double v = 0;
      if (!parse_number(fields[c], &v))
        fail("{}:{}: column {}: {} is not a finite number", name, line_no, c + 1,
             quoted(fields[c]));
      table.values.push_back(v);
    }
    ++table.rows;
  }
  TG_CHECK(table.rows > 0, "{}: no data rows", name);
  return table;
}

CsvTable read_csv(const std::filesystem::path& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  TG_CHECK(in.good(), "{}: cannot open for reading", path.string());
  std::ostringstream buffer;
  buffer << in.rdbuf();
  TG_CHECK(!in.bad(), "{}: read error", path.string());
  return parse_csv(buffer.str(), path.string(), options);
}

}  // namespace tensorgraph::io
