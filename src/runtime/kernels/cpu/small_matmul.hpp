#pragma once
// A batched matrix product for the small shapes of attention (per batch item a few rows and
// columns, K around 64), where a oneDNN primitive's fixed cost per call outweighs the math.
// Register tiles of 4 rows x 2 SIMD vectors accumulate scaled rows of B (B^T, as in Q K^T, is
// packed first into per-thread scratch); OpenMP over batch items when there is enough work.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensorgraph/core/shape.hpp"

namespace tensorgraph::runtime::cpu {

struct SmallMatmulPlan {
  std::int64_t m = 0, n = 0, k = 0;
  bool transpose_a = false, transpose_b = false;
  std::vector<std::int64_t> a_offsets, b_offsets;  // per output batch item, in elements
};

// Plans C[..., m, n] = op(A)[..., m, k] x op(B)[..., k, n] with NumPy batch broadcasting.
SmallMatmulPlan plan_small_matmul(const Shape& a, const Shape& b, const Shape& out,
                                  bool transpose_a, bool transpose_b);
// True when the shapes are small enough for small_matmul to beat a oneDNN call.
bool small_matmul_pays(std::int64_t m, std::int64_t n, std::int64_t k);
// Scratch floats per thread (for packing B^T).
std::size_t small_matmul_scratch_floats(const SmallMatmulPlan& plan);
void small_matmul(const SmallMatmulPlan& plan, const float* a, const float* b, float* c,
                  float* scratch, int threads);

}  // namespace tensorgraph::runtime::cpu
