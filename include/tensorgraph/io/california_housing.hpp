#pragma once
// The California housing data set as scikit-learn's fetch_california_housing gives it, derived
// from StatLib's cal_housing.data (DIR/california_housing/cal_housing.data, the layout of
// ../shared/data and of `tensorgraph download-data california-housing`). Per row
// (lon, lat, age, rooms, beds, pop, hh, inc, val), in scikit-learn's column order:
//
//   MedInc = inc, HouseAge = age, AveRooms = rooms / hh, AveBedrms = beds / hh,
//   Population = pop, AveOccup = pop / hh, Latitude = lat, Longitude = lon,
//   target MedHouseVal = val / 100000 (units of $100,000)
//
// computed in double precision, rows in file order.
#include <array>
#include <filesystem>
#include <string_view>

#include "tensorgraph/core/tensor.hpp"

namespace tensorgraph::io {

inline constexpr std::array<std::string_view, 8> kCaliforniaHousingFeatures = {
    "MedInc",     "HouseAge", "AveRooms", "AveBedrms",
    "Population", "AveOccup", "Latitude", "Longitude"};
// The target's unit in dollars.
inline constexpr double kCaliforniaHousingTargetDollars = 100000.0;

struct CaliforniaHousing {
  Tensor features;  // f64 [20640, 8]
  Tensor target;    // f64 [20640]
};

// DIR/california_housing/cal_housing.data
std::filesystem::path california_housing_file(const std::filesystem::path& data_dir);
// Reads and derives the data set; throws Error naming the file when it is missing or malformed
// (9 columns, households > 0).
CaliforniaHousing load_california_housing(const std::filesystem::path& data_dir);

}  // namespace tensorgraph::io
