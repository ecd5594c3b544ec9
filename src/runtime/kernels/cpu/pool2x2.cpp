#include "pool2x2.hpp"

#include <algorithm>

#include "tensorgraph/runtime/vec_math.hpp"

namespace tensorgraph::runtime::cpu {

namespace {

using vec::kWidth;
using vec::VecF;
using vec::VecI;

// Lane masks for __builtin_shuffle over two vectors (lanes 0..2W-1).
VecI even_lanes() {
  VecI m;
  for (int i = 0; i < kWidth; ++i) m[i] = 2 * i;
  return m;
}
VecI odd_lanes() {
  VecI m;
  for (int i = 0; i < kWidth; ++i) m[i] = 2 * i + 1;
  return m;
}
// Interleaving back: (evens, odds) -> first half and second half of the row.
VecI low_interleave() {
  VecI m;
  for (int i = 0; i < kWidth; ++i) m[i] = (i % 2 == 0 ? 0 : kWidth) + i / 2;
  return m;
}
VecI high_interleave() {
  VecI m;
  for (int i = 0; i < kWidth; ++i) m[i] = (i % 2 == 0 ? 0 : kWidth) + kWidth / 2 + i / 2;
  return m;
}

struct Lanes {
  VecI even = even_lanes(), odd = odd_lanes(), low = low_interleave(), high = high_interleave();
};

#if defined(__clang__)
// Clang has no __builtin_shuffle with run-time masks (only the fuzz preset builds with clang):
// the same lanes, element by element.
inline void split(const float* p, const Lanes&, VecF& even, VecF& odd) {
  for (int i = 0; i < kWidth; ++i) {
    even[i] = p[2 * i];
    odd[i] = p[2 * i + 1];
  }
}

inline void merge(float* p, const Lanes&, VecF even, VecF odd) {
  for (int i = 0; i < kWidth; ++i) {
    p[2 * i] = even[i];
    p[2 * i + 1] = odd[i];
  }
}
#else
// The even and odd columns of 2W consecutive values.
inline void split(const float* p, const Lanes& l, VecF& even, VecF& odd) {
  const VecF lo = vec::load(p), hi = vec::load(p + kWidth);
  even = __builtin_shuffle(lo, hi, l.even);
  odd = __builtin_shuffle(lo, hi, l.odd);
}

inline void merge(float* p, const Lanes& l, VecF even, VecF odd) {
  vec::store(p, __builtin_shuffle(even, odd, l.low));
  vec::store(p + kWidth, __builtin_shuffle(even, odd, l.high));
}
#endif

}  // namespace

void max_pool_2x2_plane(const float* x, float* y, std::int64_t, std::int64_t w, std::int64_t oh,
                        std::int64_t ow) {
  static const Lanes l;
  for (std::int64_t i = 0; i < oh; ++i) {
    const float* r0 = x + 2 * i * w;
    const float* r1 = r0 + w;
    float* yi = y + i * ow;
    std::int64_t j = 0;
    for (; j + kWidth <= ow; j += kWidth) {
      VecF a, b, c, d;
      split(r0 + 2 * j, l, a, b);
      split(r1 + 2 * j, l, c, d);
      vec::store(yi + j, vec::max(vec::max(a, b), vec::max(c, d)));
    }
    for (; j < ow; ++j)
      yi[j] = std::max(std::max(r0[2 * j], r0[2 * j + 1]), std::max(r1[2 * j], r1[2 * j + 1]));
  }
}

void max_pool_2x2_backward_plane(const float* x, const float* dy, float* dx, std::int64_t h,
                                 std::int64_t w, std::int64_t oh, std::int64_t ow) {
  static const Lanes l;
  const VecF zero = vec::splat(0.f);
  for (std::int64_t i = 0; i < oh; ++i) {
    const float* r0 = x + 2 * i * w;
    const float* r1 = r0 + w;
    float* d0 = dx + 2 * i * w;
    float* d1 = d0 + w;
    const float* g = dy + i * ow;
    std::int64_t j = 0;
    for (; j + kWidth <= ow; j += kWidth) {
      VecF a, b, c, d;
      split(r0 + 2 * j, l, a, b);
      split(r1 + 2 * j, l, c, d);
      const VecF m = vec::max(vec::max(a, b), vec::max(c, d));
      const VecI ta = a == m;
      const VecI tb = (b == m) & ~ta;
      const VecI tc = (c == m) & ~(ta | tb);
      const VecI td = ~(ta | tb | tc);
      const VecF v = vec::load(g + j);
      merge(d0 + 2 * j, l, vec::select(ta, v, zero), vec::select(tb, v, zero));
      merge(d1 + 2 * j, l, vec::select(tc, v, zero), vec::select(td, v, zero));
    }
    for (; j < ow; ++j) {
      const float a = r0[2 * j], b = r0[2 * j + 1], c = r1[2 * j], d = r1[2 * j + 1];
      const float m = std::max(std::max(a, b), std::max(c, d));
      const bool ta = a == m, tb = !ta && b == m, tc = !ta && !tb && c == m;
      const float v = g[j];
      d0[2 * j] = ta ? v : 0.f;
      d0[2 * j + 1] = tb ? v : 0.f;
      d1[2 * j] = tc ? v : 0.f;
      d1[2 * j + 1] = !ta && !tb && !tc ? v : 0.f;
    }
    for (std::int64_t k = 2 * ow; k < w; ++k) d0[k] = d1[k] = 0.f;
  }
  if (2 * oh < h) std::fill(dx + 2 * oh * w, dx + h * w, 0.f);
}

}  // namespace tensorgraph::runtime::cpu

#include <omp.h>

#include "cpu.hpp"

namespace tensorgraph::runtime::cpu {

namespace {

class MaxPool2x2Kernel final : public Kernel {
 public:
  void run(const KernelArgs& args) override {
    const TensorRef& x = args.inputs[0];
    const std::int64_t planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3];
    const std::int64_t oh = args.output.shape[2], ow = args.output.shape[3];
    const float* in = x.as<const float>();
    float* out = args.output.as<float>();
    const int threads = planes * h * w < 64 * 1024 ? 1 : args.threads;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (std::int64_t p = 0; p < planes; ++p)
      max_pool_2x2_plane(in + p * h * w, out + p * oh * ow, h, w, oh, ow);
  }
  std::string name() const override {
    return "cpu max pooling 2x2";
  }
};

}  // namespace

bool is_max_pool_2x2(const Node& node) {
  const Attrs& a = node.attrs;
  return node.op == OpKind::MaxPool2d && a.kernel[0] == 2 && a.kernel[1] == 2 && a.stride[0] == 2 &&
         a.stride[1] == 2 && a.padding[0] == 0 && a.padding[1] == 0;
}

std::unique_ptr<Kernel> make_max_pool_2x2(const KernelContext&) {
  return std::make_unique<MaxPool2x2Kernel>();
}

}  // namespace tensorgraph::runtime::cpu
