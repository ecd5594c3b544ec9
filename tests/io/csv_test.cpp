#include "tensorgraph/io/csv.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::io {
namespace {

std::string error_of(std::string_view text, const CsvOptions& o = {}) {
  try {
    parse_csv(text, "t.csv", o);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Csv, NumbersHeaderAndLineEndings) {
  const CsvTable t = parse_csv("a,b,\"c\"\r\n1, 2.5 ,-3e2\r\n\n+4,.5,6\n", "t.csv");
  EXPECT_EQ(t.header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t.rows, 2u);
  ASSERT_EQ(t.columns, 3u);
  EXPECT_EQ(t.values, (std::vector<double>{1, 2.5, -300, 4, 0.5, 6}));
  EXPECT_DOUBLE_EQ(t.at(1, 1), 0.5);
  // No header, no final newline, another delimiter.
  CsvOptions o;
  o.delimiter = ';';
  const CsvTable u = parse_csv("1;2\n3;4", "u.csv", o);
  EXPECT_TRUE(u.header.empty());
  EXPECT_EQ(u.rows, 2u);
  // A numeric first line with CsvHeader::Present is the header anyway.
  o.header = CsvHeader::Present;
  EXPECT_EQ(parse_csv("1;2\n3;4", "u.csv", o).rows, 1u);
}

TEST(Csv, ErrorsNameFileLineAndColumn) {
  EXPECT_EQ(error_of("1,2\n3,x\n"), "t.csv:2: column 2: \"x\" is not a finite number");
  EXPECT_EQ(error_of("1,2\n3\n"), "t.csv:2: 1 fields, expected 2");
  EXPECT_EQ(error_of("1,2\n3,nan\n"), "t.csv:2: column 2: \"nan\" is not a finite number");
  EXPECT_EQ(error_of("1,2\n3,1e999\n"), "t.csv:2: column 2: \"1e999\" is not a finite number");
  EXPECT_EQ(error_of("1,2\n3,\n"), "t.csv:2: column 2: \"\" is not a finite number");
  EXPECT_EQ(error_of(""), "t.csv: no data rows");
  EXPECT_EQ(error_of("a,b\n"), "t.csv: no data rows");
  CsvOptions nine;
  nine.columns = 9;
  EXPECT_EQ(error_of("1,2\n", nine), "t.csv:1: 2 fields, expected 9");
  EXPECT_THROW(read_csv("/nonexistent/file.csv"), Error);
}

TEST(Csv, TruncatedFileOnDisk) {
  testing::TempDir dir;
  std::ofstream(dir / "cut.csv") << "1,2,3\n4,5,6\n7,8";
  try {
    read_csv(dir / "cut.csv");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.csv:3: 2 fields, expected 3"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tensorgraph::io
