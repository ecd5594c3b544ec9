#pragma once
// Our f32 GEMM for products with constant weights (linear layers): C[M, N] = A[M, K] B[K, N]
// with B packed ONCE, at compile time, into column panels of kPanel columns ([panel][k][kPanel],
// zero-padded), then a register-blocked micro-kernel (kRows x kPanel accumulators, FMA on whole
// SIMD vectors: AVX-512 where the compiler targets it, AVX2 + FMA here) with the epilogue (bias,
// activations, residual add) applied to the tile while it is still in registers.
//
// Why not oneDNN here: on AVX2 machines oneDNN 2.6's matmul runs `gemm:jit`, which re-packs the
// weights on every call (there is no prepacked f32 path below AVX-512), and for the skinny
// products of short sentences (M = 16) that packing costs as much as the arithmetic. Packing at
// compile time streams each weight from memory exactly once per product.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "tensorgraph/core/aligned.hpp"
#include "tensorgraph/graph/graph.hpp"
#include "tensorgraph/runtime/vec_math.hpp"

namespace tensorgraph::runtime::cpu {

inline constexpr int kPanel = 2 * vec::kWidth;            // columns per packed panel
inline constexpr int kRows = vec::kWidth == 16 ? 12 : 6;  // rows per micro-kernel tile

struct HugePageDeleter {
  std::size_t bytes = 0;
  void operator()(std::byte* p) const noexcept;
};
using HugePageBuffer = std::unique_ptr<std::byte[], HugePageDeleter>;
// Zeroed memory in whole 2 MiB pages, advised for transparent huge pages.
HugePageBuffer huge_page_alloc(std::size_t bytes);

struct PackedWeights {
  std::int64_t k = 0;  // rows of B (input features)
  std::int64_t n = 0;  // columns of B (output features)
  std::int64_t panels = 0;
  HugePageBuffer storage;
  const float* data() const { return reinterpret_cast<const float*>(storage.get()); }
};

// Packs B. `b_is_nk`: the weights are stored [N, K] row-major (PyTorch's linear layout, B = W^T);
// otherwise [K, N] row-major.
PackedWeights pack_weights(const float* b, std::int64_t k, std::int64_t n, bool b_is_nk);

// What happens to each output tile before it is stored: + bias[n], then the post-ops in order.
// Every post-op kind runs here; an Add post-op reads `add_operands[i]` for post-op i, a tensor of
// exactly C's shape and row stride (other broadcasts are the caller's business).
struct GemmEpilogue {
  const float* bias = nullptr;
  std::span<const PostOp> post_ops;
  const float* const* add_operands = nullptr;
};

// C = A B (+ epilogue). A is [M, K] with row stride lda, C [M, N] with row stride ldc. C must not
// alias A. Runs on `threads` OpenMP threads (split over column panels, and over rows when the
// panels are too few).
void packed_gemm(const float* a, std::int64_t m, std::int64_t lda, const PackedWeights& b, float* c,
                 std::int64_t ldc, const GemmEpilogue& epilogue, int threads);

}  // namespace tensorgraph::runtime::cpu

namespace tensorgraph::runtime::cpu {
// Which implementation runs products with constant weights: TG_GEMM=own|onednn|auto (default
// auto: ours below AVX-512, where oneDNN 2.6 has no prepacked f32 path; oneDNN's brgemm on
// AVX-512). Read when a kernel is created.
bool use_packed_gemm();
}  // namespace tensorgraph::runtime::cpu
