#pragma once
// Numeric CSV tables (California housing's cal_housing.data and the like): rows of numbers
// separated by one delimiter, an optional header line of column names, LF or CRLF line endings,
// blank lines ignored. Every value must be a finite number (std::from_chars, so "1e-3", "-.5",
// "  7 " with surrounding spaces); every row must have the same number of fields. Errors name the
// file, the 1-based line and the column:
//   cal_housing.data:17: column 4: "abc" is not a number
//   cal_housing.data:18: 8 fields, expected 9
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tensorgraph::io {

enum class CsvHeader {
  Auto,     // a first line whose fields are not all numbers is the header
  Present,  // the first line is the header
  Absent,   // every line is data
};

struct CsvOptions {
  char delimiter = ',';
  CsvHeader header = CsvHeader::Auto;
  std::size_t columns = 0;  // expected number of columns (0: from the first line)
};

struct CsvTable {
  std::vector<std::string> header;  // empty when there is none
  std::size_t rows = 0;
  std::size_t columns = 0;
  std::vector<double> values;  // row-major, rows x columns

  double at(std::size_t row, std::size_t column) const { return values[row * columns + column]; }
};

// Reads a CSV file; throws Error "PATH:LINE: reason" for malformed content and "PATH: reason"
// when the file cannot be read or holds no data row.
CsvTable read_csv(const std::filesystem::path& path, const CsvOptions& options = {});
// Parses CSV text; `name` stands for the file in messages.
CsvTable parse_csv(std::string_view text, const std::string& name, const CsvOptions& options = {});

}  // namespace tensorgraph::io
