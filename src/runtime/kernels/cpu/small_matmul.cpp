#include "small_matmul.hpp"

#include <omp.h>

#include <algorithm>

#include "tensorgraph/runtime/vec_math.hpp"

namespace tensorgraph::runtime::cpu {

namespace {

using vec::kWidth;
using vec::VecF;

// C rows [r0, r0 + rows) (rows <= 4) of one batch item: C[i, :] = sum_p A(i, p) * B[p, :], with
// B stored [k, n] (row stride n) and A(i, p) = a[i * a_row + p * a_col]. Register tiles of up to
// 4 rows x 2 vectors: two loads of B feed eight FMAs.
template <int kRows>
void tile_rows(const float* a, std::int64_t a_row, std::int64_t a_col, const float* b, float* c,
               std::int64_t n, std::int64_t k) {
  std::int64_t j = 0;
  for (; j + 2 * kWidth <= n; j += 2 * kWidth) {
    VecF acc0[kRows], acc1[kRows];
    for (int r = 0; r < kRows; ++r) acc0[r] = acc1[r] = vec::splat(0.f);
    for (std::int64_t p = 0; p < k; ++p) {
      const VecF b0 = vec::load(b + p * n + j), b1 = vec::load(b + p * n + j + kWidth);
      for (int r = 0; r < kRows; ++r) {
        const VecF x = vec::splat(a[r * a_row + p * a_col]);
        acc0[r] = vec::fmadd(x, b0, acc0[r]);
        acc1[r] = vec::fmadd(x, b1, acc1[r]);
      }
    }
    for (int r = 0; r < kRows; ++r) {
      vec::store(c + r * n + j, acc0[r]);
      vec::store(c + r * n + j + kWidth, acc1[r]);
    }
  }
  for (; j + kWidth <= n; j += kWidth) {
    VecF acc[kRows];
    for (int r = 0; r < kRows; ++r) acc[r] = vec::splat(0.f);
    for (std::int64_t p = 0; p < k; ++p) {
      const VecF b0 = vec::load(b + p * n + j);
      for (int r = 0; r < kRows; ++r)
        acc[r] = vec::fmadd(vec::splat(a[r * a_row + p * a_col]), b0, acc[r]);
    }
    for (int r = 0; r < kRows; ++r) vec::store(c + r * n + j, acc[r]);
  }
  for (; j < n; ++j)
    for (int r = 0; r < kRows; ++r) {
      float acc = 0;
      for (std::int64_t p = 0; p < k; ++p) acc += a[r * a_row + p * a_col] * b[p * n + j];
      c[r * n + j] = acc;
    }
}

// One batch item, rows [row_begin, row_end).
void item_rows(const SmallMatmulPlan& pl, const float* a, const float* b, float* c,
               std::int64_t row_begin, std::int64_t row_end) {
  const std::int64_t a_row = pl.transpose_a ? 1 : pl.k;  // A(i, p) = a[i * a_row + p * a_col]
  const std::int64_t a_col = pl.transpose_a ? pl.m : 1;
  std::int64_t i = row_begin;
  for (; i + 4 <= row_end; i += 4)
    tile_rows<4>(a + i * a_row, a_row, a_col, b, c + i * pl.n, pl.n, pl.k);
  switch (row_end - i) {
    case 3:
      tile_rows<3>(a + i * a_row, a_row, a_col, b, c + i * pl.n, pl.n, pl.k);
      break;
    case 2:
      tile_rows<2>(a + i * a_row, a_row, a_col, b, c + i * pl.n, pl.n, pl.k);
      break;
    case 1:
      tile_rows<1>(a + i * a_row, a_row, a_col, b, c + i * pl.n, pl.n, pl.k);
      break;
    default:
      break;
  }
}

}  // namespace

SmallMatmulPlan plan_small_matmul(const Shape& a, const Shape& b, const Shape& out,
                                  bool transpose_a, bool transpose_b) {
  SmallMatmulPlan p;
  p.transpose_a = transpose_a;
  p.transpose_b = transpose_b;
  p.m = out[-2];
  p.n = out[-1];
  p.k = transpose_a ? a[-2] : a[-1];
  const int batch_rank = out.rank() - 2;
  std::int64_t batches = 1;
  for (int d = 0; d < batch_rank; ++d) batches *= out.dims()[d];
  // Batch strides of each operand (0 where it broadcasts).
  auto strides = [&](const Shape& s) {
    std::vector<std::int64_t> st(static_cast<std::size_t>(batch_rank), 0);
    std::int64_t stride = s[-2] * s[-1];
    for (int d = s.rank() - 3; d >= 0; --d) {
      const int od = d + (batch_rank - (s.rank() - 2));
      st[od] = s.dims()[d] == 1 ? 0 : stride;
      stride *= s.dims()[d];
    }
    return st;
  };
  const auto sa = strides(a), sb = strides(b);
  p.a_offsets.resize(static_cast<std::size_t>(batches));
  p.b_offsets.resize(static_cast<std::size_t>(batches));
  for (std::int64_t i = 0; i < batches; ++i) {
    std::int64_t rem = i, oa = 0, ob = 0;
    for (int d = batch_rank - 1; d >= 0; --d) {
      const std::int64_t c = rem % out.dims()[d];
      rem /= out.dims()[d];
      oa += c * sa[d];
      ob += c * sb[d];
    }
    p.a_offsets[i] = oa;
    p.b_offsets[i] = ob;
  }
  return p;
}

bool small_matmul_pays(std::int64_t m, std::int64_t n, std::int64_t k) {
  // Measured on AVX2 against oneDNN's batched gemm:jit (benchmarks/RESULTS.md, attention scores
  // of 12 heads): on par at 16 tokens (16x16x64 per head), slower from 32 tokens on. Used only
  // where it is on par or better; it also makes no allocation, unlike a oneDNN execution.
  return m * n * k <= 32 * 32 * 32;
}

std::size_t small_matmul_scratch_floats(const SmallMatmulPlan& p) {
  return p.transpose_b ? static_cast<std::size_t>(p.k * p.n) : 0;
}

void small_matmul(const SmallMatmulPlan& p, const float* a, const float* b, float* c,
                  float* scratch, int threads) {
  const std::int64_t batches = static_cast<std::int64_t>(p.a_offsets.size());
  const std::size_t per_thread = small_matmul_scratch_floats(p);
  // Work item: one batch item (its B^T is packed once into the thread's scratch).
  auto do_item = [&](std::int64_t bi, float* pack) {
    const float* ab = a + p.a_offsets[bi];
    const float* bb = b + p.b_offsets[bi];
    if (p.transpose_b) {  // B stored [n, k]: pack to [k, n] so that rows of B are contiguous
      for (std::int64_t j = 0; j < p.n; ++j)
        for (std::int64_t q = 0; q < p.k; ++q) pack[q * p.n + j] = bb[j * p.k + q];
      bb = pack;
    }
    item_rows(p, ab, bb, c + bi * p.m * p.n, 0, p.m);
  };
  const double flops = 2.0 * static_cast<double>(batches * p.m) * static_cast<double>(p.n * p.k);
  const int nt = flops < 2e6 ? 1 : static_cast<int>(std::min<std::int64_t>(threads, batches));
  if (nt <= 1) {
    for (std::int64_t bi = 0; bi < batches; ++bi) do_item(bi, scratch);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    float* pack = scratch + static_cast<std::size_t>(omp_get_thread_num()) * per_thread;
#pragma omp for schedule(static)
    for (std::int64_t bi = 0; bi < batches; ++bi) do_item(bi, pack);
  }
}

}  // namespace tensorgraph::runtime::cpu
