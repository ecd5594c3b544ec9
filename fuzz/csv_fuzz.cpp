// Fuzz target: io::parse_csv on arbitrary text (the first byte picks the options). Every input
// must either give an Error or a table whose values fill rows x columns exactly, all finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  tensorgraph::io::CsvOptions o;
  o.delimiter = (data[0] & 1) ? ';' : ',';
  o.header = static_cast<tensorgraph::io::CsvHeader>((data[0] >> 1) % 3);
  o.columns = (data[0] >> 3) % 4;  // 0: from the first line
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  tensorgraph::io::CsvTable t;
  try {
    t = tensorgraph::io::parse_csv(text, "fuzz-input", o);
  } catch (const tensorgraph::Error&) {
    return 0;
  }
  if (t.rows == 0 || t.values.size() != t.rows * t.columns ||
      (!t.header.empty() && t.header.size() != t.columns)) {
    std::fprintf(stderr, "csv_fuzz: property violated: %zu values for %zu x %zu\n", t.values.size(),
                 t.rows, t.columns);
    std::abort();
  }
  for (double v : t.values)
    if (!std::isfinite(v)) {
      std::fprintf(stderr, "csv_fuzz: property violated: a non-finite value\n");
      std::abort();
    }
  return 0;
}
