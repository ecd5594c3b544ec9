#include "packed_gemm.hpp"

#include <omp.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "tensorgraph/core/error.hpp"

namespace tensorgraph::runtime::cpu {

namespace {

using vec::VecF;
constexpr int W = vec::kWidth;

// Product rows per block: the A rows of one block are re-read for every panel, so a block
// should stay in L2 (kMc x K floats) while the panel (K x kPanel) streams through.
constexpr std::int64_t kMc = kRows * 8;

[[gnu::always_inline]] inline VecF apply_post_ops(VecF v, const GemmEpilogue& e,
                                                  std::int64_t offset) {
  for (std::size_t i = 0; i < e.post_ops.size(); ++i) {
    const PostOp& p = e.post_ops[i];
    switch (p.kind) {
      case PostOpKind::Relu:
        v = vec::max(v, vec::splat(0.0f));
        break;
      case PostOpKind::Gelu:
        v = vec::gelu(v);
        break;
      case PostOpKind::Tanh:
        v = vec::tanh(v);
        break;
      case PostOpKind::Sigmoid:
        v = vec::sigmoid(v);
        break;
      case PostOpKind::Affine:
        v = vec::fmadd(v, vec::splat(p.alpha), vec::splat(p.beta));
        break;
      case PostOpKind::Add:
        v = v + vec::load(e.add_operands[i] + offset);
        break;
    }
  }
  return v;
}

// Stores one row of a finished tile: + bias, post-ops, then the `cols` valid columns.
inline void store_row(VecF v0, VecF v1, float* out, std::int64_t offset, int cols, VecF bias0,
                      VecF bias1, const GemmEpilogue& e, bool has_add) {
  alignas(64) float tmp[kPanel];
  if (cols == kPanel) {
    vec::store(out, apply_post_ops(v0 + bias0, e, offset));
    vec::store(out + W, apply_post_ops(v1 + bias1, e, offset + W));
  } else if (!has_add) {
    vec::store(tmp, apply_post_ops(v0 + bias0, e, 0));
    vec::store(tmp + W, apply_post_ops(v1 + bias1, e, 0));
    std::memcpy(out, tmp, static_cast<std::size_t>(cols) * sizeof(float));
  } else {
    // Partial panel with a residual operand: finish element by element.
    vec::store(tmp, v0 + bias0);
    vec::store(tmp + W, v1 + bias1);
    for (int j = 0; j < cols; ++j) {
      float x = tmp[j];
      for (std::size_t i = 0; i < e.post_ops.size(); ++i) {
        const PostOp& p = e.post_ops[i];
        if (p.kind == PostOpKind::Add) {
          x += e.add_operands[i][offset + j];
        } else {
          const GemmEpilogue single{nullptr, std::span<const PostOp>(&p, 1), nullptr};
          x = apply_post_ops(vec::splat(x), single, 0)[0];
        }
      }
      out[j] = x;
    }
  }
}

// R rows x kPanel columns over the k-chunk [k0, k0 + kc) of one panel. The partial sums live in
// `partial` ([R][kPanel]) between chunks; the last chunk runs the epilogue from the registers.
// (Software prefetching of the next chunk was tried here, evenly spread or in bursts, at several
// distances: no gain over the hardware prefetcher on the AVX2 development machine.)
template <int R>
void tile_chunk(const float* a, std::int64_t lda, const float* panel, std::int64_t k0,
                std::int64_t kc, bool first, bool last, float* partial, float* c, std::int64_t ldc,
                std::int64_t row0, std::int64_t col0, int cols, const GemmEpilogue& e) {
  VecF acc[R][2];
  if (first) {
    for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = vec::splat(0.0f);
  } else {
    for (int r = 0; r < R; ++r) {
      acc[r][0] = vec::load(partial + r * kPanel);
      acc[r][1] = vec::load(partial + r * kPanel + W);
    }
  }
  const float* ap[R];
  for (int r = 0; r < R; ++r) ap[r] = a + r * lda + k0;
  const float* bp = panel + k0 * kPanel;
  for (std::int64_t kk = 0; kk < kc; ++kk) {
    const VecF b0 = vec::load(bp + kk * kPanel);
    const VecF b1 = vec::load(bp + kk * kPanel + W);
#pragma GCC unroll 12
    for (int r = 0; r < R; ++r) {
      const VecF av = vec::splat(ap[r][kk]);
      acc[r][0] = vec::fmadd(av, b0, acc[r][0]);
      acc[r][1] = vec::fmadd(av, b1, acc[r][1]);
    }
  }
  if (!last) {
    for (int r = 0; r < R; ++r) {
      vec::store(partial + r * kPanel, acc[r][0]);
      vec::store(partial + r * kPanel + W, acc[r][1]);
    }
    return;
  }
  VecF bias0 = vec::splat(0.0f), bias1 = vec::splat(0.0f);
  if (e.bias) {
    alignas(64) float tmp[kPanel] = {};
    std::memcpy(tmp, e.bias + col0, static_cast<std::size_t>(cols) * sizeof(float));
    bias0 = vec::load(tmp);
    bias1 = vec::load(tmp + W);
  }
  bool has_add = false;
  for (const PostOp& p : e.post_ops) has_add |= p.kind == PostOpKind::Add;
  for (int r = 0; r < R; ++r)
    store_row(acc[r][0], acc[r][1], c + r * ldc, (row0 + r) * ldc + col0, cols, bias0, bias1, e,
              has_add);
}

using TileFn = void (*)(const float*, std::int64_t, const float*, std::int64_t, std::int64_t, bool,
                        bool, float*, float*, std::int64_t, std::int64_t, std::int64_t, int,
                        const GemmEpilogue&);

template <int... R>
constexpr auto make_tile_table(std::integer_sequence<int, R...>) {
  return std::array<TileFn, sizeof...(R)>{&tile_chunk<R + 1>...};
}
constexpr auto kTiles = make_tile_table(std::make_integer_sequence<int, kRows>{});

// K per chunk: the chunk of a panel (kKc x kPanel floats, 8 KB on AVX2) stays in L1 while every
// row block of the M block passes over it.
constexpr std::int64_t kKc = 128;

// Rows [m0, m1) x panels [p0, p1).
void gemm_block(const float* a, std::int64_t lda, const PackedWeights& b, float* c,
                std::int64_t ldc, const GemmEpilogue& e, std::int64_t m0, std::int64_t m1,
                std::int64_t p0, std::int64_t p1) {
  const std::int64_t panel_floats = b.k * kPanel;
  alignas(64) float partial[kMc * kPanel];
  for (std::int64_t mb = m0; mb < m1; mb += kMc) {
    const std::int64_t me = std::min(m1, mb + kMc);
    for (std::int64_t p = p0; p < p1; ++p) {
      const float* panel = b.data() + p * panel_floats;
      const std::int64_t col0 = p * kPanel;
      const int cols = static_cast<int>(std::min<std::int64_t>(kPanel, b.n - col0));
      for (std::int64_t k0 = 0; k0 < b.k || k0 == 0; k0 += kKc) {
        const std::int64_t kc = std::min(kKc, b.k - k0);
        const bool first = k0 == 0, last = k0 + kc >= b.k;
        for (std::int64_t r = mb; r < me; r += kRows) {
          const int rows = static_cast<int>(std::min<std::int64_t>(kRows, me - r));
          kTiles[static_cast<std::size_t>(rows - 1)](a + r * lda, lda, panel, k0, kc, first, last,
                                                     partial + (r - mb) * kPanel,
                                                     c + r * ldc + col0, ldc, r, col0, cols, e);
        }
        if (b.k == 0) break;
      }
    }
  }
}

}  // namespace

void HugePageDeleter::operator()(std::byte* p) const noexcept {
  if (p) ::munmap(p, bytes);
}

HugePageBuffer huge_page_alloc(std::size_t bytes) {
  // Whole 2 MiB pages, so the kernel can back the buffer with transparent huge pages: weights
  // stream through the TLB 512 times less often.
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  const std::size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
  void* p =
      ::mmap(nullptr, rounded + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  TG_CHECK(p != MAP_FAILED, "out of memory allocating {} bytes of packed weights", bytes);
  // Align to 2 MiB and give back the unused head and tail.
  auto* base = static_cast<std::byte*>(p);
  const auto addr = reinterpret_cast<std::uintptr_t>(base);
  const std::size_t head = (kHuge - addr % kHuge) % kHuge;
  if (head) ::munmap(base, head);
  const std::size_t tail = kHuge - head;
  if (tail) ::munmap(base + head + rounded, tail);
  ::madvise(base + head, rounded, MADV_HUGEPAGE);
  return HugePageBuffer(base + head, HugePageDeleter{rounded});
}

PackedWeights pack_weights(const float* b, std::int64_t k, std::int64_t n, bool b_is_nk) {
  PackedWeights p;
  p.k = k;
  p.n = n;
  p.panels = (n + kPanel - 1) / kPanel;
  const std::size_t floats = static_cast<std::size_t>(p.panels * k * kPanel);
  p.storage = huge_page_alloc(std::max<std::size_t>(floats, 1) * sizeof(float));
  auto* out = reinterpret_cast<float*>(p.storage.get());
  for (std::int64_t panel = 0; panel < p.panels; ++panel) {
    float* dst = out + panel * k * kPanel;
    for (std::int64_t kk = 0; kk < k; ++kk) {
      for (int j = 0; j < kPanel; ++j) {
        const std::int64_t col = panel * kPanel + j;
        float v = 0;
        if (col < n) v = b_is_nk ? b[col * k + kk] : b[kk * n + col];
        dst[kk * kPanel + j] = v;
      }
    }
  }
  return p;
}

void packed_gemm(const float* a, std::int64_t m, std::int64_t lda, const PackedWeights& b, float* c,
                 std::int64_t ldc, const GemmEpilogue& e, int threads) {
  if (m <= 0 || b.n <= 0) return;
  threads = std::max(1, threads);
  // Work units: panels, split further by rows when there are fewer panels than threads x 4.
  const std::int64_t panels = b.panels;
  const std::int64_t row_splits =
      (panels >= 4 * threads || m < 2 * kRows) ? 1 : std::min<std::int64_t>(threads, m / kRows);
  const std::int64_t units = panels * row_splits;
  if (threads == 1 || units == 1) {
    gemm_block(a, lda, b, c, ldc, e, 0, m, 0, panels);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num();
    const int nt = omp_get_num_threads();
    // Contiguous panel ranges per row split, so each thread streams its own weights.
    const std::int64_t per_split_threads = std::max<std::int64_t>(1, nt / row_splits);
    const std::int64_t split = std::min<std::int64_t>(row_splits - 1, t / per_split_threads);
    const std::int64_t lane = t - split * per_split_threads;
    const std::int64_t lanes =
        split == row_splits - 1 ? nt - split * per_split_threads : per_split_threads;
    const std::int64_t rows_per = (m + row_splits - 1) / row_splits;
    const std::int64_t r0 = std::min(m, split * rows_per);
    const std::int64_t r1 = std::min(m, r0 + rows_per);
    const std::int64_t p0 = panels * lane / lanes;
    const std::int64_t p1 = panels * (lane + 1) / lanes;
    if (r0 < r1 && p0 < p1) gemm_block(a, lda, b, c, ldc, e, r0, r1, p0, p1);
  }
}

bool use_packed_gemm() {
  const char* env = std::getenv("TG_GEMM");
  const std::string v = env ? env : "auto";
  if (v == "own") return true;
  if (v == "onednn") return false;
  TG_CHECK(v == "auto" || v.empty(), "TG_GEMM must be own, onednn or auto, got '{}'", v);
  return vec::kWidth < 16;
}

}  // namespace tensorgraph::runtime::cpu
