#pragma once
// Seeded weight initialisers (the formulas of torch.nn.init), drawing from train::Rng so that a
// seed gives the same weights everywhere. fan_in of a linear weight [out, in] is `in`, of a
// convolution weight [O, C, kH, kW] C*kH*kW; fan_out is out or O*kH*kW.
#include <cmath>

#include "tensorgraph/core/tensor.hpp"
#include "tensorgraph/train/random.hpp"

namespace tensorgraph::train {

// fan_in and fan_out of a weight shape (rank 2: linear; rank 4: convolution).
struct Fans {
  std::int64_t in = 1;
  std::int64_t out = 1;
};
Fans fans_of(const Shape& weight_shape);

// The gain torch.nn.init recommends for ReLU layers.
inline const double kReluGain = std::sqrt(2.0);

// U(-b, b) with b = gain * sqrt(3 / fan_in) ("He" uniform for gain sqrt(2)).
Tensor kaiming_uniform(const Shape& shape, Rng& rng, double gain = kReluGain);
// N(0, s^2) with s = gain / sqrt(fan_in).
Tensor kaiming_normal(const Shape& shape, Rng& rng, double gain = kReluGain);
// U(-b, b) with b = gain * sqrt(6 / (fan_in + fan_out)) (Glorot).
Tensor xavier_uniform(const Shape& shape, Rng& rng, double gain = 1.0);
// N(0, s^2) with s = gain * sqrt(2 / (fan_in + fan_out)).
Tensor xavier_normal(const Shape& shape, Rng& rng, double gain = 1.0);
// U(low, high), f32.
Tensor uniform(const Shape& shape, Rng& rng, double low, double high);

}  // namespace tensorgraph::train
