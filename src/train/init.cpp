#include "tensorgraph/train/init.hpp"

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::train {

Fans fans_of(const Shape& s) {
  TG_CHECK(s.rank() >= 2, "initialiser: a weight needs rank >= 2, got {}", s.to_string());
  std::int64_t receptive = 1;
  for (int i = 2; i < s.rank(); ++i) receptive *= s.dims()[i];
  return {s[1] * receptive, s[0] * receptive};
}

Tensor uniform(const Shape& shape, Rng& rng, double low, double high) {
  Tensor t = Tensor::empty(DType::F32, shape);
  float* p = t.mutable_data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(rng.uniform(low, high));
  return t;
}

namespace {
Tensor normal(const Shape& shape, Rng& rng, double stddev) {
  Tensor t = Tensor::empty(DType::F32, shape);
  float* p = t.mutable_data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<float>(stddev * rng.normal());
  return t;
}
}  // namespace

Tensor kaiming_uniform(const Shape& shape, Rng& rng, double gain) {
  const double bound = gain * std::sqrt(3.0 / static_cast<double>(fans_of(shape).in));
  return uniform(shape, rng, -bound, bound);
}

Tensor kaiming_normal(const Shape& shape, Rng& rng, double gain) {
  return normal(shape, rng, gain / std::sqrt(static_cast<double>(fans_of(shape).in)));
}

Tensor xavier_uniform(const Shape& shape, Rng& rng, double gain) {
  const Fans f = fans_of(shape);
  const double bound = gain * std::sqrt(6.0 / static_cast<double>(f.in + f.out));
  return uniform(shape, rng, -bound, bound);
}

Tensor xavier_normal(const Shape& shape, Rng& rng, double gain) {
  const Fans f = fans_of(shape);
  return normal(shape, rng, gain * std::sqrt(2.0 / static_cast<double>(f.in + f.out)));
}

}  // namespace tensorgraph::train
