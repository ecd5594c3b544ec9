// Seeded randomness and data handling: NumPy parity of Rng and permutation (so splits equal
// scikit-learn's), splits, the scaler, batches and one-hot rows.
#include <cmath>
#include <numeric>

#include <gtest/gtest.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/train/data.hpp"
#include "tensorgraph/train/random.hpp"

namespace tensorgraph::train {
namespace {

TEST(Random, MatchesNumpyRandomState) {
  // numpy.random.RandomState(5).random_sample() x3
  Rng u(5);
  EXPECT_DOUBLE_EQ(u.uniform(), 0.22199317108973948);
  EXPECT_DOUBLE_EQ(u.uniform(), 0.8707323061773764);
  EXPECT_DOUBLE_EQ(u.uniform(), 0.20671915533942642);
  // RandomState(7): random_sample(), then standard_normal() x3 (the polar method's pairs)
  Rng r(7);
  EXPECT_DOUBLE_EQ(r.uniform(), 0.07630828937395717);
  EXPECT_NEAR(r.normal(), -0.3206032549443759, 1e-15);
  EXPECT_NEAR(r.normal(), 1.4570832287334776, 1e-15);
  EXPECT_NEAR(r.normal(), 0.09316606097975175, 1e-15);
}

TEST(Random, PermutationMatchesNumpy) {
  // numpy.random.RandomState(3).permutation(10)
  EXPECT_EQ(permutation(10, 3), (std::vector<std::int64_t>{5, 4, 1, 2, 9, 6, 7, 0, 3, 8}));
  // RandomState(42).permutation(20640): scikit-learn's train_test_split(..., random_state=42)
  // of California housing puts these rows first in its test part.
  const std::vector<std::int64_t> p = permutation(20640, 42);
  EXPECT_EQ(std::vector<std::int64_t>(p.begin(), p.begin() + 12),
            (std::vector<std::int64_t>{20046, 3024, 15663, 20484, 9814, 13311, 7113, 7668, 18246,
                                       5723, 20069, 6835}));
  EXPECT_EQ(std::vector<std::int64_t>(p.end() - 5, p.end()),
            (std::vector<std::int64_t>{11284, 11964, 5390, 860, 15795}));
  std::vector<std::int64_t> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 20640; ++i) ASSERT_EQ(sorted[static_cast<std::size_t>(i)], i);
}

TEST(Random, IntervalStaysInRangeAndDerivedSeedsDiffer) {
  Rng r(11);
  for (std::uint64_t max : {0ull, 1ull, 6ull, 1000ull, 0xFFFFFFFFull, 0x1FFFFFFFFull})
    for (int i = 0; i < 200; ++i) ASSERT_LE(r.interval(max), max);
  EXPECT_NE(derive_seed(0, 0), derive_seed(0, 1));
  EXPECT_NE(derive_seed(0, 1), derive_seed(1, 0));
  EXPECT_EQ(derive_seed(42, 7), derive_seed(42, 7));
}

TEST(Split, IsScikitLearnsTrainTestSplit) {
  const Split s = train_test_split(20640, 0.2, 42);
  ASSERT_EQ(s.test.size(), 4128u);  // ceil(0.2 * 20640)
  ASSERT_EQ(s.train.size(), 16512u);
  EXPECT_EQ(s.test[0], 20046);
  EXPECT_EQ(s.test[1], 3024);
  EXPECT_EQ(s.train.back(), 15795);
  std::vector<bool> seen(20640, false);
  for (auto i : s.train) seen[static_cast<std::size_t>(i)] = true;
  for (auto i : s.test) {
    ASSERT_FALSE(seen[static_cast<std::size_t>(i)]) << "row " << i << " is in both parts";
    seen[static_cast<std::size_t>(i)] = true;
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), true), 20640);
  // Splitting an index list keeps its values.
  const Split inner = split_indices(s.train, 0.1, 42);
  EXPECT_EQ(inner.test.size(), 1652u);
  EXPECT_EQ(inner.train.size() + inner.test.size(), s.train.size());
  EXPECT_EQ(inner.test[0], s.train[static_cast<std::size_t>(permutation(16512, 42)[0])]);
  EXPECT_THROW(train_test_split(10, 0.0, 1), Error);
  EXPECT_THROW(train_test_split(1, 0.5, 1), Error);
}

TEST(Scaler, PopulationStatisticsOfTheGivenRows) {
  const Tensor x = Tensor::from<double>({4, 2}, {1, 10, 3, 10, 5, 10, 100, -7});
  const std::vector<std::int64_t> rows{0, 1, 2};
  const StandardScaler s = StandardScaler::fit(x, rows);
  EXPECT_DOUBLE_EQ(s.mean[0], 3.0);
  EXPECT_DOUBLE_EQ(s.scale[0], std::sqrt(8.0 / 3.0));  // ddof = 0, as scikit-learn
  EXPECT_DOUBLE_EQ(s.mean[1], 10.0);
  EXPECT_DOUBLE_EQ(s.scale[1], 1.0);  // constant column
  EXPECT_THROW(StandardScaler::fit(Tensor::from<double>({3}, {1, 2, 3}), rows), Error);
}

TEST(Batches, GatherRowsAndOneHot) {
  const Tensor images =
      Tensor::from<std::uint8_t>({3, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
  const std::vector<std::int64_t> rows{2, 0};
  const Tensor b = gather_rows(images, rows);
  EXPECT_EQ(b.shape(), (Shape{2, 2, 2}));
  EXPECT_EQ(b.to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{8, 9, 10, 11, 0, 1, 2, 3}));
  const std::vector<std::int64_t> bad{3};
  EXPECT_THROW(gather_rows(images, bad), Error);
  Tensor small = Tensor::empty(DType::U8, {1, 2, 2});
  EXPECT_THROW(gather_rows_into(images, rows, small), Error);

  const Tensor labels = Tensor::from<std::uint8_t>({3}, {2, 0, 1});
  Tensor onehot = Tensor::empty(DType::F32, {2, 3});
  one_hot_into(labels, rows, 3, onehot);
  EXPECT_EQ(onehot.to_vector<float>(), (std::vector<float>{0, 1, 0, 0, 0, 1}));
  EXPECT_THROW(one_hot_into(labels, rows, 2, onehot), Error);
}

}  // namespace
}  // namespace tensorgraph::train
