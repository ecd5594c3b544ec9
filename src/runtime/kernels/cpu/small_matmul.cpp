#include "small_matmul.hpp"

#include <omp.h>

#include <algorithm>

#include "tensorgraph/runtime/vec_math.hpp"

namespace tensorgraph::runtime::cpu {

namespace {

using vec::kWidth;
using vec::VecF;

float hsum(VecF v) {
  float s = 0;
  for (int i = 0; i < kWidth; ++i) s += v[i];
  return s;
}

// Row i of C = A_i . B^T with B stored [n, k] (both contiguous along k).
void row_dot(const float* a, const float* b, float* c, std::int64_t n, std::int64_t k) {
  const std::int64_t kv = k / kWidth * kWidth;
  std::int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const float* b0 = b + j * k;
    const float* b1 = b0 + k;
    const float* b2 = b1 + k;
    const float* b3 = b2 + k;
    VecF s0 = vec::splat(0.f), s1 = s0, s2 = s0, s3 = s0;
    for (std::int64_t p = 0; p < kv; p += kWidth) {
      const VecF x = vec::load(a + p);
      s0 = vec::fmadd(x, vec::load(b0 + p), s0);
      s1 = vec::fmadd(x, vec::load(b1 + p), s1);
      s2 = vec::fmadd(x, vec::load(b2 + p), s2);
      s3 = vec::fmadd(x, vec::load(b3 + p), s3);
    }
    float r0 = hsum(s0), r1 = hsum(s1), r2 = hsum(s2), r3 = hsum(s3);
    for (std::int64_t p = kv; p < k; ++p) {
      r0 += a[p] * b0[p];
      r1 += a[p] * b1[p];
      r2 += a[p] * b2[p];
      r3 += a[p] * b3[p];
    }
    c[j] = r0;
    c[j + 1] = r1;
    c[j + 2] = r2;
    c[j + 3] = r3;
  }
  for (; j < n; ++j) {
    const float* bj = b + j * k;
    VecF s = vec::splat(0.f);
    for (std::int64_t p = 0; p < kv; p += kWidth)
      s = vec::fmadd(vec::load(a + p), vec::load(bj + p), s);
    float r = hsum(s);
    for (std::int64_t p = kv; p < k; ++p) r += a[p] * bj[p];
    c[j] = r;
  }
}

// Row i of C = sum_p A[i, p] * B_p with B stored [k, n]; A[i, p] = a[p * a_step].
void row_axpy(const float* a, std::int64_t a_step, const float* b, float* c, std::int64_t n,
              std::int64_t k) {
  constexpr std::int64_t kChunk = 4 * kWidth;  // columns held in registers
  std::int64_t j0 = 0;
  for (; j0 + kChunk <= n; j0 += kChunk) {
    VecF c0 = vec::splat(0.f), c1 = c0, c2 = c0, c3 = c0;
    for (std::int64_t p = 0; p < k; ++p) {
      const VecF x = vec::splat(a[p * a_step]);
      const float* bp = b + p * n + j0;
      c0 = vec::fmadd(x, vec::load(bp), c0);
      c1 = vec::fmadd(x, vec::load(bp + kWidth), c1);
      c2 = vec::fmadd(x, vec::load(bp + 2 * kWidth), c2);
      c3 = vec::fmadd(x, vec::load(bp + 3 * kWidth), c3);
    }
    vec::store(c + j0, c0);
    vec::store(c + j0 + kWidth, c1);
    vec::store(c + j0 + 2 * kWidth, c2);
    vec::store(c + j0 + 3 * kWidth, c3);
  }
  for (; j0 + kWidth <= n; j0 += kWidth) {
    VecF acc = vec::splat(0.f);
    for (std::int64_t p = 0; p < k; ++p)
      acc = vec::fmadd(vec::splat(a[p * a_step]), vec::load(b + p * n + j0), acc);
    vec::store(c + j0, acc);
  }
  for (std::int64_t j = j0; j < n; ++j) {
    float acc = 0;
    for (std::int64_t p = 0; p < k; ++p) acc += a[p * a_step] * b[p * n + j];
    c[j] = acc;
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
  // Measured on AVX2 (benchmarks/RESULTS.md): below about this much work per batch item the
  // fixed cost of a oneDNN call dominates.
  return m * n * k <= 64 * 64 * 64;
}

void small_matmul(const SmallMatmulPlan& p, const float* a, const float* b, float* c, int threads) {
  const std::int64_t batches = static_cast<std::int64_t>(p.a_offsets.size());
  const std::int64_t rows = batches * p.m;
  auto do_row = [&](std::int64_t r) {
    const std::int64_t bi = r / p.m, i = r % p.m;
    const float* ab = a + p.a_offsets[bi];
    const float* bb = b + p.b_offsets[bi];
    float* cr = c + r * p.n;
    if (!p.transpose_a && p.transpose_b) {
      row_dot(ab + i * p.k, bb, cr, p.n, p.k);
    } else if (!p.transpose_b) {
      // A row i: contiguous (a_step 1) or, transposed, a column of the stored [k, m] (step m).
      row_axpy(p.transpose_a ? ab + i : ab + i * p.k, p.transpose_a ? p.m : 1, bb, cr, p.n, p.k);
    } else {  // both transposed: rare, plain loops
      for (std::int64_t j = 0; j < p.n; ++j) {
        float acc = 0;
        for (std::int64_t q = 0; q < p.k; ++q) acc += ab[q * p.m + i] * bb[j * p.k + q];
        cr[j] = acc;
      }
    }
  };
  const double flops = 2.0 * static_cast<double>(rows) * static_cast<double>(p.n * p.k);
  const int nt = flops < 2e5 ? 1 : static_cast<int>(std::min<std::int64_t>(threads, rows));
  if (nt <= 1) {
    for (std::int64_t r = 0; r < rows; ++r) do_row(r);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(static)
  for (std::int64_t r = 0; r < rows; ++r) do_row(r);
}

}  // namespace tensorgraph::runtime::cpu
