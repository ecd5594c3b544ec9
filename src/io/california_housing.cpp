#include "tensorgraph/io/california_housing.hpp"

#include <filesystem>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/csv.hpp"

namespace tensorgraph::io {

std::filesystem::path california_housing_file(const std::filesystem::path& data_dir) {
  return data_dir / "california_housing" / "cal_housing.data";
}

CaliforniaHousing load_california_housing(const std::filesystem::path& data_dir) {
  const std::filesystem::path path = california_housing_file(data_dir);
  TG_CHECK(std::filesystem::exists(path),
           "{}: not found (`tensorgraph download-data california-housing` fetches it, or pass "
           "--data with a directory holding california_housing/)",
           path.string());
  CsvOptions options;
  options.header = CsvHeader::Absent;
  options.columns = 9;
  const CsvTable table = read_csv(path, options);
  const auto n = static_cast<std::int64_t>(table.rows);
  Tensor features = Tensor::empty(DType::F64, {n, 8});
  Tensor target = Tensor::empty(DType::F64, {n});
  double* x = features.mutable_data<double>();
  double* y = target.mutable_data<double>();
  for (std::size_t r = 0; r < table.rows; ++r) {
    const double lon = table.at(r, 0), lat = table.at(r, 1), age = table.at(r, 2);
    const double rooms = table.at(r, 3), beds = table.at(r, 4), pop = table.at(r, 5);
    const double hh = table.at(r, 6), inc = table.at(r, 7), val = table.at(r, 8);
    TG_CHECK(hh > 0, "{}: row {}: households must be positive, got {}", path.string(), r + 1, hh);
    double* row = x + r * 8;
    row[0] = inc;
    row[1] = age;
    row[2] = rooms / hh;
    row[3] = beds / hh;
    row[4] = pop;
    row[5] = pop / hh;
    row[6] = lat;
    row[7] = lon;
    y[r] = val / kCaliforniaHousingTargetDollars;
  }
  return {features, target};
}

}  // namespace tensorgraph::io
