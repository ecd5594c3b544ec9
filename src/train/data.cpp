#include "tensorgraph/train/data.hpp"

#include <cmath>
#include <cstring>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/train/random.hpp"

namespace tensorgraph::train {

Split train_test_split(std::int64_t n, double test_fraction, std::uint32_t seed) {
  std::vector<std::int64_t> all(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) all[static_cast<std::size_t>(i)] = i;
  return split_indices(all, test_fraction, seed);
}

Split split_indices(std::span<const std::int64_t> indices, double test_fraction,
                    std::uint32_t seed) {
  TG_CHECK(test_fraction > 0 && test_fraction < 1,
           "split: the test fraction must be in (0, 1), got {}", test_fraction);
  const auto n = static_cast<std::int64_t>(indices.size());
  const auto n_test = static_cast<std::int64_t>(std::ceil(test_fraction * static_cast<double>(n)));
  TG_CHECK(n_test >= 1 && n_test < n, "split: {} rows cannot be split with a test fraction of {}",
           n, test_fraction);
  const std::vector<std::int64_t> order = permutation(n, seed);
  Split s;
  s.test.reserve(static_cast<std::size_t>(n_test));
  s.train.reserve(static_cast<std::size_t>(n - n_test));
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t row = indices[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])];
    (i < n_test ? s.test : s.train).push_back(row);
  }
  return s;
}

StandardScaler StandardScaler::fit(const Tensor& x, std::span<const std::int64_t> rows) {
  TG_CHECK(x.rank() == 2 && (x.dtype() == DType::F64 || x.dtype() == DType::F32),
           "StandardScaler: expects f32 or f64 [N, D], got {}", x.description());
  TG_CHECK(!rows.empty(), "StandardScaler: no rows to fit");
  const std::int64_t d = x.shape()[1];
  StandardScaler s;
  s.mean.assign(static_cast<std::size_t>(d), 0.0);
  s.scale.assign(static_cast<std::size_t>(d), 0.0);
  for (std::int64_t r : rows)
    for (std::int64_t j = 0; j < d; ++j) s.mean[j] += x.value_as_double(r * d + j);
  for (auto& m : s.mean) m /= static_cast<double>(rows.size());
  for (std::int64_t r : rows)
    for (std::int64_t j = 0; j < d; ++j) {
      const double c = x.value_as_double(r * d + j) - s.mean[j];
      s.scale[j] += c * c;
    }
  for (auto& v : s.scale) {
    v = std::sqrt(v / static_cast<double>(rows.size()));
    if (v == 0) v = 1;
  }
  return s;
}

namespace {
std::size_t row_bytes(const Tensor& t) {
  TG_CHECK(t.rank() >= 1, "gather_rows: expects a tensor of rank >= 1, got a scalar");
  return t.shape()[0] == 0 ? 0 : t.nbytes() / static_cast<std::size_t>(t.shape()[0]);
}
}  // namespace

void gather_rows_into(const Tensor& src, std::span<const std::int64_t> rows, Tensor& dst) {
  const std::size_t bytes = row_bytes(src);
  TG_CHECK(dst.dtype() == src.dtype() && dst.rank() == src.rank() &&
               dst.shape()[0] >= static_cast<std::int64_t>(rows.size()) && row_bytes(dst) == bytes,
           "gather_rows: cannot put {} rows of {} into {}", rows.size(), src.description(),
           dst.description());
  const auto* s = static_cast<const std::byte*>(src.raw());
  auto* d = static_cast<std::byte*>(dst.raw_mutable());
  const std::int64_t n = src.shape()[0];
  for (std::size_t i = 0; i < rows.size(); ++i) {
    TG_CHECK(rows[i] >= 0 && rows[i] < n, "gather_rows: row {} is out of range for {}", rows[i],
             src.description());
    std::memcpy(d + i * bytes, s + static_cast<std::size_t>(rows[i]) * bytes, bytes);
  }
}

Tensor gather_rows(const Tensor& src, std::span<const std::int64_t> rows) {
  Shape shape = src.shape();
  shape[0] = static_cast<std::int64_t>(rows.size());
  Tensor out = Tensor::empty(src.dtype(), shape);
  gather_rows_into(src, rows, out);
  return out;
}

void one_hot_into(const Tensor& labels, std::span<const std::int64_t> rows, std::int64_t classes,
                  Tensor& dst) {
  TG_CHECK(labels.rank() == 1, "one_hot: labels must be [N], got {}", labels.description());
  TG_CHECK(dst.dtype() == DType::F32 && dst.rank() == 2 && dst.shape()[1] == classes &&
               dst.shape()[0] >= static_cast<std::int64_t>(rows.size()),
           "one_hot: cannot write {} rows of {} classes into {}", rows.size(), classes,
           dst.description());
  float* d = dst.mutable_data<float>();
  std::memset(d, 0, rows.size() * static_cast<std::size_t>(classes) * sizeof(float));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto label = static_cast<std::int64_t>(labels.value_as_double(rows[i]));
    TG_CHECK(label >= 0 && label < classes, "one_hot: label {} of row {} is not in 0..{}", label,
             rows[i], classes - 1);
    d[i * static_cast<std::size_t>(classes) + static_cast<std::size_t>(label)] = 1.f;
  }
}

}  // namespace tensorgraph::train
