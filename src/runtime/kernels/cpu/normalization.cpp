// Fast softmax, log-softmax, layer norm and reductions: rows on SIMD vectors (vec_math.hpp),
// OpenMP over rows. Sums accumulate in float vectors per block and in double across blocks.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include <fmt/format.h>

#include "cpu.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/runtime/vec_math.hpp"

namespace tensorgraph::runtime::cpu {

namespace {

using vec::kWidth;
using vec::splat;
using vec::VecF;

constexpr std::int64_t kParallelElements = 32 * 1024;

template <typename F>
void for_rows(std::int64_t rows, std::int64_t row_len, int threads, F&& f) {
  const std::int64_t total = rows * row_len;
  const int nt =
      total < kParallelElements ? 1 : static_cast<int>(std::min<std::int64_t>(threads, rows));
  if (nt <= 1) {
    for (std::int64_t r = 0; r < rows; ++r) f(r);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(static)
  for (std::int64_t r = 0; r < rows; ++r) f(r);
}

float hmax(VecF v) {
  float m = v[0];
  for (int i = 1; i < kWidth; ++i) m = std::max(m, v[i]);
  return m;
}
double hsum(VecF v) {
  double s = 0;
  for (int i = 0; i < kWidth; ++i) s += v[i];
  return s;
}

float row_max(const float* x, std::int64_t n) {
  std::int64_t j = 0;
  float m = -std::numeric_limits<float>::infinity();
  if (n >= kWidth) {
    VecF acc = vec::load(x);
    for (j = kWidth; j + kWidth <= n; j += kWidth) acc = vec::max(acc, vec::load(x + j));
    m = hmax(acc);
  }
  for (; j < n; ++j) m = std::max(m, x[j]);
  return m;
}

// Sum of x[0..n) with float vector partial sums per block of 1024 and a double total.
double row_sum(const float* x, std::int64_t n) {
  double total = 0;
  std::int64_t j = 0;
  while (j + kWidth <= n) {
    VecF acc = splat(0.f);
    const std::int64_t end = std::min(n, j + 1024) / kWidth * kWidth;
    for (; j < end; j += kWidth) acc += vec::load(x + j);
    total += hsum(acc);
  }
  for (; j < n; ++j) total += x[j];
  return total;
}

// y = exp(x - m) over a row (y may equal x, or be null: sum only); returns the sum.
double exp_shifted(const float* x, float* y, std::int64_t n, float m) {
  double total = 0;
  std::int64_t j = 0;
  const VecF vm = splat(m);
  while (j + kWidth <= n) {
    VecF acc = splat(0.f);
    const std::int64_t end = std::min(n, j + 1024) / kWidth * kWidth;
    for (; j < end; j += kWidth) {
      const VecF e = vec::exp(vec::load(x + j) - vm);
      if (y) vec::store(y + j, e);
      acc += e;
    }
    total += hsum(acc);
  }
  for (; j < n; ++j) {
    const float e = vec::exp_scalar(x[j] - m);
    if (y) y[j] = e;
    total += e;
  }
  return total;
}

class SoftmaxKernel final : public Kernel {
 public:
  SoftmaxKernel(std::int64_t axis, bool log) : axis_(axis), log_(log) {}

  Preparation prepare(std::span<const TensorRef> inputs, const TensorRef&) override {
    const Shape& s = inputs[0].shape;
    const int axis = s.normalize_axis(static_cast<int>(axis_));
    std::int64_t inner = 1;
    for (int d = axis + 1; d < s.rank(); ++d) inner *= s.dims()[d];
    // Along a non-last axis each thread keeps a max and a sum per inner position.
    Preparation p;
    if (inner > 1)
      p.scratch_bytes = static_cast<std::size_t>(max_threads_) * 2 * inner * sizeof(double);
    return p;
  }

  void run(const KernelArgs& args) override {
    const TensorRef& in = args.inputs[0];
    const int axis = in.shape.normalize_axis(static_cast<int>(axis_));
    const std::int64_t n = in.shape.dims()[axis];
    std::int64_t inner = 1;
    for (int d = axis + 1; d < in.shape.rank(); ++d) inner *= in.shape.dims()[d];
    const std::int64_t outer = n * inner > 0 ? in.numel() / (n * inner) : 0;
    const float* x = in.as<const float>();
    float* y = args.output.as<float>();
    if (inner == 1) {
      for_rows(outer, n, args.threads,
               [&](std::int64_t r) { last_axis_row(x + r * n, y + r * n, n); });
      return;
    }
    auto* scratch = reinterpret_cast<double*>(args.scratch);
    for_rows(outer, n * inner, std::min(args.threads, max_threads_), [&](std::int64_t o) {
      double* mx = scratch + static_cast<std::size_t>(omp_get_thread_num()) * 2 * inner;
      double* sum = mx + inner;
      const float* xo = x + o * n * inner;
      float* yo = y + o * n * inner;
      std::fill_n(mx, inner, -std::numeric_limits<double>::infinity());
      std::fill_n(sum, inner, 0.0);
      for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t i = 0; i < inner; ++i)
          mx[i] = std::max(mx[i], static_cast<double>(xo[j * inner + i]));
      for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t i = 0; i < inner; ++i)
          sum[i] += vec::exp_scalar(xo[j * inner + i] - static_cast<float>(mx[i]));
      // Reads x before writing y at the same position: safe in place.
      for (std::int64_t j = 0; j < n; ++j)
        for (std::int64_t i = 0; i < inner; ++i) {
          const float v = xo[j * inner + i] - static_cast<float>(mx[i]);
          yo[j * inner + i] = log_ ? static_cast<float>(v - std::log(sum[i]))
                                   : static_cast<float>(vec::exp_scalar(v) / sum[i]);
        }
    });
  }

  std::string name() const override { return log_ ? "cpu log_softmax" : "cpu softmax"; }
  void set_max_threads(int n) { max_threads_ = std::max(1, n); }

 private:
  void last_axis_row(const float* x, float* y, std::int64_t n) const {
    const float m = row_max(x, n);
    if (log_) {
      // log_softmax = x - m - log(sum exp(x - m)); y may be x (in place): sum without storing.
      const double s = exp_shifted(x, nullptr, n, m);
      const float shift = m + static_cast<float>(std::log(s));
      std::int64_t j = 0;
      const VecF vs = splat(shift);
      for (; j + kWidth <= n; j += kWidth) vec::store(y + j, vec::load(x + j) - vs);
      for (; j < n; ++j) y[j] = x[j] - shift;
      return;
    }
    const double s = exp_shifted(x, y, n, m);
    const VecF inv = splat(static_cast<float>(1.0 / s));
    std::int64_t j = 0;
    for (; j + kWidth <= n; j += kWidth) vec::store(y + j, vec::load(y + j) * inv);
    for (; j < n; ++j) y[j] *= inv[0];
  }

  std::int64_t axis_;
  bool log_;
  int max_threads_ = 1;
};

class LayerNormKernel final : public Kernel {
 public:
  explicit LayerNormKernel(const Attrs& attrs) : attrs_(attrs) {}
  void run(const KernelArgs& args) override {
    const TensorRef& in = args.inputs[0];
    const std::int64_t d = in.shape[-1];
    const std::int64_t rows = d > 0 ? in.numel() / d : 0;
    const float* x = in.as<const float>();
    float* y = args.output.as<float>();
    const float* w = attrs_.has_weight ? args.inputs[1].as<const float>() : nullptr;
    const float* b =
        attrs_.has_bias ? args.inputs[attrs_.has_weight ? 2 : 1].as<const float>() : nullptr;
    const float eps = attrs_.epsilon;
    for_rows(rows, d, args.threads, [&](std::int64_t r) {
      const float* xr = x + r * d;
      float* yr = y + r * d;
      const float mean = static_cast<float>(row_sum(xr, d) / static_cast<double>(d));
      // Two passes (mean, then squared deviations): no cancellation.
      double var = 0;
      {
        std::int64_t j = 0;
        const VecF vm = splat(mean);
        VecF acc = splat(0.f);
        for (; j + kWidth <= d; j += kWidth) {
          const VecF t = vec::load(xr + j) - vm;
          acc += t * t;
        }
        var = hsum(acc);
        for (; j < d; ++j) var += static_cast<double>(xr[j] - mean) * (xr[j] - mean);
      }
      const float inv = static_cast<float>(1.0 / std::sqrt(var / static_cast<double>(d) + eps));
      const VecF vm = splat(mean), vi = splat(inv);
      std::int64_t j = 0;
      for (; j + kWidth <= d; j += kWidth) {
        VecF t = (vec::load(xr + j) - vm) * vi;
        if (w) t *= vec::load(w + j);
        if (b) t += vec::load(b + j);
        vec::store(yr + j, t);
      }
      for (; j < d; ++j) {
        float t = (xr[j] - mean) * inv;
        if (w) t *= w[j];
        if (b) t += b[j];
        yr[j] = t;
      }
    });
  }
  std::string name() const override { return "cpu layer_norm"; }

 private:
  Attrs attrs_;
};

// ---- reductions -----------------------------------------------------------------------------

struct ReduceLayout {
  // Input viewed as groups of alternating kept/reduced dims, merged; the fast paths are
  // [outer, R] (rows) and [outer, R, inner] (middle axis).
  std::int64_t outer = 1, reduced = 1, inner = 1;
  bool simple = false;  // one reduced group
  std::int64_t count = 1;
  std::array<bool, Shape::kMaxRank> is_reduced{};
};

class ReduceKernel final : public Kernel {
 public:
  ReduceKernel(OpKind op, const Attrs& attrs) : op_(op), attrs_(attrs) {}

  Preparation prepare(std::span<const TensorRef> inputs, const TensorRef&) override {
    const Shape& s = inputs[0].shape;
    const int rank = s.rank();
    auto l = std::make_shared<ReduceLayout>();
    for (int d = 0; d < rank; ++d) l->is_reduced[d] = attrs_.axes.empty();
    for (std::int64_t a : attrs_.axes) l->is_reduced[a < 0 ? a + rank : a] = true;
    // Find the reduced dims (ignoring extent-1 dims) and check they are one contiguous group.
    int first = -1, last = -1;
    bool contiguous = true;
    for (int d = 0; d < rank; ++d) {
      if (!l->is_reduced[d] || s.dims()[d] == 1) continue;
      if (first < 0) first = d;
      for (int e = last + 1; last >= 0 && e < d; ++e)
        if (!l->is_reduced[e] && s.dims()[e] != 1) contiguous = false;
      last = d;
    }
    for (int d = 0; d < rank; ++d)
      if (l->is_reduced[d]) l->count *= s.dims()[d];
    if (first < 0) {  // nothing of extent > 1 is reduced: a copy (sum/max) or scale (mean)
      l->simple = true;
      l->outer = s.numel();
      return {0, std::move(l)};
    }
    if (contiguous) {
      l->simple = true;
      for (int d = 0; d < first; ++d) l->outer *= s.dims()[d];
      for (int d = first; d <= last; ++d) l->reduced *= s.dims()[d];
      for (int d = last + 1; d < rank; ++d) l->inner *= s.dims()[d];
    }
    return {0, std::move(l)};
  }

  void run(const KernelArgs& args) override {
    const auto& l = *static_cast<const ReduceLayout*>(args.state);
    const float* x = args.inputs[0].as<const float>();
    float* y = args.output.as<float>();
    const bool is_max = op_ == OpKind::ReduceMax;
    const double scale = op_ == OpKind::ReduceMean ? 1.0 / static_cast<double>(l.count) : 1.0;
    if (!l.simple) {
      general(args, l, scale);
      return;
    }
    if (l.inner == 1) {
      for_rows(l.outer, l.reduced, args.threads, [&](std::int64_t o) {
        const float* xr = x + o * l.reduced;
        y[o] = is_max
                   ? (l.reduced ? row_max(xr, l.reduced) : -std::numeric_limits<float>::infinity())
                   : static_cast<float>(row_sum(xr, l.reduced) * scale);
      });
      return;
    }
    // [outer, R, inner]: accumulate rows of `inner` into the output row.
    for_rows(l.outer, l.reduced * l.inner, args.threads, [&](std::int64_t o) {
      float* yr = y + o * l.inner;
      const float* xo = x + o * l.reduced * l.inner;
      if (is_max) {
        std::fill_n(yr, l.inner, -std::numeric_limits<float>::infinity());
        for (std::int64_t j = 0; j < l.reduced; ++j)
          for (std::int64_t i = 0; i < l.inner; ++i) yr[i] = std::max(yr[i], xo[j * l.inner + i]);
        return;
      }
      // Float partial sums over chunks of 64 rows, accumulated into the output in double steps.
      std::fill_n(yr, l.inner, 0.f);
      for (std::int64_t i0 = 0; i0 < l.inner; i0 += 256) {
        const std::int64_t i1 = std::min(l.inner, i0 + 256);
        double acc[256] = {};
        for (std::int64_t j0 = 0; j0 < l.reduced; j0 += 64) {
          float part[256] = {};
          const std::int64_t j1 = std::min(l.reduced, j0 + 64);
          for (std::int64_t j = j0; j < j1; ++j)
            for (std::int64_t i = i0; i < i1; ++i) part[i - i0] += xo[j * l.inner + i];
          for (std::int64_t i = i0; i < i1; ++i) acc[i - i0] += part[i - i0];
        }
        for (std::int64_t i = i0; i < i1; ++i) yr[i] = static_cast<float>(acc[i - i0] * scale);
      }
    });
  }
  std::string name() const override {
    return fmt::format("cpu {}", op_ == OpKind::ReduceSum    ? "reduce_sum"
                                 : op_ == OpKind::ReduceMean ? "reduce_mean"
                                                             : "reduce_max");
  }

 private:
  // Any set of axes: one pass over the input accumulating into the output (single thread).
  void general(const KernelArgs& args, const ReduceLayout& l, double scale) const {
    const TensorRef& in = args.inputs[0];
    const Shape& s = in.shape;
    const int rank = s.rank();
    const float* x = in.as<const float>();
    float* y = args.output.as<float>();
    const std::int64_t n_out = args.output.numel();
    const bool is_max = op_ == OpKind::ReduceMax;
    std::fill_n(y, n_out, is_max ? -std::numeric_limits<float>::infinity() : 0.f);
    // Output strides per input dim (0 for reduced dims).
    std::array<std::int64_t, Shape::kMaxRank> ostride{};
    std::int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      if (l.is_reduced[d]) continue;
      ostride[d] = stride;
      stride *= s.dims()[d];
    }
    std::array<std::int64_t, Shape::kMaxRank> c{};
    std::int64_t o = 0;
    const std::int64_t n = in.numel();
    for (std::int64_t i = 0; i < n; ++i) {
      y[o] = is_max ? std::max(y[o], x[i]) : y[o] + x[i];
      for (int d = rank - 1; d >= 0; --d) {  // odometer
        o += ostride[d];
        if (++c[d] < s.dims()[d]) break;
        o -= ostride[d] * c[d];
        c[d] = 0;
      }
    }
    if (scale != 1.0)
      for (std::int64_t k = 0; k < n_out; ++k) y[k] = static_cast<float>(y[k] * scale);
  }

  OpKind op_;
  Attrs attrs_;
};

}  // namespace

std::unique_ptr<Kernel> make_softmax(const KernelContext& ctx) {
  auto k =
      std::make_unique<SoftmaxKernel>(ctx.node().attrs.axis, ctx.node().op == OpKind::LogSoftmax);
  k->set_max_threads(ctx.threads);
  return k;
}
std::unique_ptr<Kernel> make_layer_norm(const KernelContext& ctx) {
  return std::make_unique<LayerNormKernel>(ctx.node().attrs);
}
std::unique_ptr<Kernel> make_reduce(const KernelContext& ctx) {
  return std::make_unique<ReduceKernel>(ctx.node().op, ctx.node().attrs);
}

}  // namespace tensorgraph::runtime::cpu
