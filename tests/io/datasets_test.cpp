// California housing and MNIST from ../shared/data: the derived features against the check values
// of california_housing/PROVENANCE.md, MNIST's counts and first labels from mnist/PROVENANCE.md.
#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/california_housing.hpp"
#include "tensorgraph/io/mnist.hpp"

namespace tensorgraph::io {
namespace {

TEST(CaliforniaHousing, DerivedAsScikitLearn) {
  TG_REQUIRE_SHARED_FILE(testing::shared_path("data/california_housing/cal_housing.data"));
  const CaliforniaHousing d = load_california_housing(testing::shared_path("data"));
  ASSERT_EQ(d.features.shape(), (Shape{20640, 8}));
  ASSERT_EQ(d.target.shape(), (Shape{20640}));
  const double* x = d.features.data<double>();
  // First row: [8.3252, 41, 6.984127, 1.023810, 322, 2.555556, 37.88, -122.23], target 4.526.
  const double first[8] = {8.3252, 41, 6.984127, 1.023810, 322, 2.555556, 37.88, -122.23};
  for (int j = 0; j < 8; ++j) EXPECT_NEAR(x[j], first[j], 5e-7) << kCaliforniaHousingFeatures[j];
  EXPECT_DOUBLE_EQ(d.target.data<double>()[0], 4.526);
  // Column means, minima and maxima of PROVENANCE.md (6 decimals).
  const double mean[8] = {3.870671,    28.639486, 5.429000,  1.096675,
                          1425.476744, 3.070655,  35.631861, -119.569704};
  const double lo[8] = {0.4999, 1, 0.846154, 0.333333, 3, 0.692308, 32.54, -124.35};
  const double hi[8] = {15.0001, 52, 141.909091, 34.066667, 35682, 1243.333333, 41.95, -114.31};
  for (int j = 0; j < 8; ++j) {
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    for (int i = 0; i < 20640; ++i) {
      sum += x[i * 8 + j];
      mn = std::min(mn, x[i * 8 + j]);
      mx = std::max(mx, x[i * 8 + j]);
    }
    EXPECT_NEAR(sum / 20640, mean[j], 5e-7) << kCaliforniaHousingFeatures[j];
    EXPECT_NEAR(mn, lo[j], 5e-7) << kCaliforniaHousingFeatures[j];
    EXPECT_NEAR(mx, hi[j], 5e-7) << kCaliforniaHousingFeatures[j];
  }
  double t = 0, t2 = 0;
  for (int i = 0; i < 20640; ++i) t += d.target.data<double>()[i];
  t /= 20640;
  for (int i = 0; i < 20640; ++i) t2 += std::pow(d.target.data<double>()[i] - t, 2);
  EXPECT_NEAR(t, 2.068558, 5e-7);
  EXPECT_NEAR(std::sqrt(t2 / 20639), 1.153956, 5e-7);  // sample standard deviation
}

TEST(CaliforniaHousing, MissingAndMalformedFiles) {
  testing::TempDir dir;
  try {
    load_california_housing(dir.path());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cal_housing.data: not found"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("download-data california-housing"), std::string::npos);
  }
  std::filesystem::create_directories(dir / "california_housing");
  std::ofstream(dir / "california_housing" / "cal_housing.data")
      << "-122.23,37.88,41,880,129,322,126,8.3252,452600\n-122.22,37.86,21,7099,1106,2401,0,8.3,"
         "358500\n";
  EXPECT_THROW(load_california_housing(dir.path()), Error);  // households 0
  std::ofstream(dir / "california_housing" / "cal_housing.data") << "1,2,3\n";
  EXPECT_THROW(load_california_housing(dir.path()), Error);  // 3 columns, not 9
}

TEST(Mnist, CountsAndLabels) {
  TG_REQUIRE_SHARED_FILE(testing::shared_path("data/mnist/t10k-images-idx3-ubyte.gz"));
  const Mnist test = load_mnist(testing::shared_path("data"), MnistSplit::Test);
  EXPECT_EQ(test.images.shape(), (Shape{10000, 28, 28}));
  std::vector<int> counts(10, 0);
  for (std::uint8_t l : test.labels.span<std::uint8_t>()) ++counts[l];
  EXPECT_EQ(counts, (std::vector<int>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009}));
  double sum = 0;
  for (std::uint8_t p : test.images.span<std::uint8_t>()) sum += p;
  EXPECT_NEAR(sum / static_cast<double>(test.images.numel()), 33.7912, 5e-5);

  const Mnist train = load_mnist(testing::shared_path("data"), MnistSplit::Train);
  EXPECT_EQ(train.images.shape(), (Shape{60000, 28, 28}));
  const auto labels = train.labels.span<std::uint8_t>();
  EXPECT_EQ(std::vector<int>(labels.begin(), labels.begin() + 10),
            (std::vector<int>{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}));
}

TEST(Mnist, MissingFilesAndMismatchedCounts) {
  testing::TempDir dir;
  try {
    load_mnist(dir.path(), MnistSplit::Train);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("train-images-idx3-ubyte.gz: not found"),
              std::string::npos)
        << e.what();
  }
  std::filesystem::create_directories(dir / "mnist");
  // Plain (not gzipped) files are accepted; 2 images with 1 label is an error.
  std::string images = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28};
  images += std::string(2 * 784, '\0');
  std::ofstream(dir / "mnist" / "t10k-images-idx3-ubyte", std::ios::binary) << images;
  std::ofstream(dir / "mnist" / "t10k-labels-idx1-ubyte", std::ios::binary)
      << std::string("\0\0\x08\x01\0\0\0\x01\x07", 9);
  try {
    load_mnist(dir.path(), MnistSplit::Test);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("1 labels for 2 images"), std::string::npos) << e.what();
  }
  std::ofstream(dir / "mnist" / "t10k-labels-idx1-ubyte", std::ios::binary)
      << std::string("\0\0\x08\x01\0\0\0\x02\x07\x0c", 10);
  try {
    load_mnist(dir.path(), MnistSplit::Test);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("label 12 of image 1 is not a digit"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tensorgraph::io
