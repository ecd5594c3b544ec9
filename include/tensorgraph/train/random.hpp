#pragma once
// Seeded randomness that is the same on every platform and compiler (the standard library's
// distributions are not): a Mersenne Twister (std::mt19937, whose output sequence the C++
// standard fixes) with NumPy's legacy conversions, so that Rng(seed) draws exactly what
// numpy.random.RandomState(seed) draws for seeds below 2^32: random_sample() (uniform),
// standard_normal() (polar Box-Muller) and permutation(n).
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace tensorgraph::train {

class Rng {
 public:
  explicit Rng(std::uint32_t seed) : engine_(seed) {}

  std::uint32_t next_u32() { return static_cast<std::uint32_t>(engine_()); }
  // Uniform in [0, 1) with 53 random bits (NumPy's random_sample).
  double uniform();
  // Uniform in [low, high).
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  // Standard normal (NumPy's legacy gauss: polar method, the second value cached).
  double normal();
  // Uniform integer in [0, max] by masked rejection (NumPy's random_interval).
  std::uint64_t interval(std::uint64_t max);
  // Fisher-Yates from the end, as NumPy's shuffle.
  void shuffle(std::span<std::int64_t> values);

 private:
  std::mt19937 engine_;
  bool has_gauss_ = false;
  double gauss_ = 0;
};

// numpy.random.RandomState(seed).permutation(n).
std::vector<std::int64_t> permutation(std::int64_t n, std::uint32_t seed);

// A 32-bit seed derived from a seed and a stream number (e.g. the epoch), so that every epoch
// has its own order and a resumed run can recompute it.
std::uint32_t derive_seed(std::uint64_t seed, std::uint64_t stream);

}  // namespace tensorgraph::train
