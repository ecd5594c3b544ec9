// Fast backward kernels of the ops whose gradient is not a composition of forward ops: pooling,
// layer norm, reductions, slice and gather. Pooling recomputes each window's maximum from the
// forward input (oneDNN's max-pooling backward needs the workspace of a forward_training pass,
// which inference-style forward kernels do not keep); everything runs in f32 with OpenMP over
// independent planes or rows, so results do not depend on the thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "broadcast.hpp"
#include "cpu.hpp"
#include "graph/op_infer.hpp"
#include "pool2x2.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::runtime::cpu {

namespace {

constexpr std::int64_t kParallelElements = 32 * 1024;

// f(i) for i in [0, n), on `threads` threads when the work is large enough.
template <typename F>
void parallel_for(std::int64_t n, std::int64_t work, int threads, F&& f) {
  const int nt =
      work < kParallelElements ? 1 : static_cast<int>(std::min<std::int64_t>(threads, n));
  if (nt <= 1) {
    for (std::int64_t i = 0; i < n; ++i) f(i);
    return;
  }
#pragma omp parallel for num_threads(nt) schedule(static)
  for (std::int64_t i = 0; i < n; ++i) f(i);
}

// ---- pooling ----------------------------------------------------------------------------------

class PoolBackwardKernel final : public Kernel {
 public:
  PoolBackwardKernel(OpKind op, const Attrs& attrs)
      : max_(op == OpKind::MaxPool2dBackward), a_(attrs) {}

  void run(const KernelArgs& args) override {
    const TensorRef& dy = args.inputs[0];
    const TensorRef& x = args.inputs[1];
    const std::int64_t planes = x.shape[0] * x.shape[1], h = x.shape[2], w = x.shape[3];
    const std::int64_t oh = dy.shape[2], ow = dy.shape[3];
    const float* g = dy.as<const float>();
    const float* in = x.as<const float>();
    float* dx = args.output.as<float>();
    const bool pairs = max_ && a_.kernel[0] == 2 && a_.kernel[1] == 2 && a_.stride[0] == 2 &&
                       a_.stride[1] == 2 && a_.padding[0] == 0 && a_.padding[1] == 0;
    parallel_for(planes, planes * h * w, args.threads, [&](std::int64_t p) {
      float* dxp = dx + p * h * w;
      if (pairs) {  // the usual 2x2 max pooling: disjoint windows, every input written once
        max_pool_2x2_backward_plane(in + p * h * w, g + p * oh * ow, dxp, h, w, oh, ow);
        return;
      }
      std::fill_n(dxp, h * w, 0.f);
      const float* xp = in + p * h * w;
      const float* gp = g + p * oh * ow;
      for (std::int64_t i = 0; i < oh; ++i) {
        const std::int64_t y0 = i * a_.stride[0] - a_.padding[0];
        const std::int64_t ylo = std::max<std::int64_t>(y0, 0);
        const std::int64_t yhi = std::min(y0 + a_.kernel[0], h);
        for (std::int64_t j = 0; j < ow; ++j) {
          const std::int64_t x0 = j * a_.stride[1] - a_.padding[1];
          const std::int64_t xlo = std::max<std::int64_t>(x0, 0);
          const std::int64_t xhi = std::min(x0 + a_.kernel[1], w);
          const float grad = gp[i * ow + j];
          if (ylo >= yhi || xlo >= xhi) continue;
          if (max_) {
            std::int64_t best = ylo * w + xlo;
            for (std::int64_t yy = ylo; yy < yhi; ++yy)
              for (std::int64_t xx = xlo; xx < xhi; ++xx)
                if (xp[yy * w + xx] > xp[best]) best = yy * w + xx;
            dxp[best] += grad;
            continue;
          }
          std::int64_t count = (yhi - ylo) * (xhi - xlo);
          if (a_.count_include_pad) {  // the window clipped to the padded input, as forward
            const std::int64_t ph = std::min(y0 + a_.kernel[0], h + a_.padding[0]) - y0;
            const std::int64_t pw = std::min(x0 + a_.kernel[1], w + a_.padding[1]) - x0;
            count = ph * pw;
          }
          const float share = grad / static_cast<float>(count);
          for (std::int64_t yy = ylo; yy < yhi; ++yy)
            for (std::int64_t xx = xlo; xx < xhi; ++xx) dxp[yy * w + xx] += share;
        }
      }
    });
  }

  std::string name() const override {
    return fmt::format("cpu {} pooling backward", max_ ? "max" : "avg");
  }

 private:
  bool max_;
  Attrs a_;
};

// ---- layer norm -------------------------------------------------------------------------------

// dx = (g - mean(g) - xhat mean(g xhat)) / sigma with g = dy * weight; statistics in double.
class LayerNormBackwardKernel final : public Kernel {
 public:
  explicit LayerNormBackwardKernel(const Attrs& attrs) : a_(attrs) {}

  void run(const KernelArgs& args) override {
    const TensorRef& dy = args.inputs[0];
    const TensorRef& x = args.inputs[1];
    const float* w = a_.has_weight ? args.inputs[2].as<const float>() : nullptr;
    const std::int64_t d = x.shape[-1];
    const std::int64_t rows = d > 0 ? x.numel() / d : 0;
    const float* gy = dy.as<const float>();
    const float* in = x.as<const float>();
    float* out = args.output.as<float>();
    parallel_for(rows, rows * d, args.threads, [&](std::int64_t r) {
      const float* xr = in + r * d;
      const float* gr = gy + r * d;
      float* o = out + r * d;
      double sum = 0, sq = 0;
      for (std::int64_t j = 0; j < d; ++j) sum += xr[j];
      const double mean = sum / static_cast<double>(d);
      for (std::int64_t j = 0; j < d; ++j) sq += (xr[j] - mean) * (xr[j] - mean);
      const double inv = 1.0 / std::sqrt(sq / static_cast<double>(d) + a_.epsilon);
      double mean_g = 0, mean_gx = 0;
      for (std::int64_t j = 0; j < d; ++j) {
        const double g = static_cast<double>(gr[j]) * (w ? w[j] : 1.f);
        mean_g += g;
        mean_gx += g * (xr[j] - mean) * inv;
      }
      mean_g /= static_cast<double>(d);
      mean_gx /= static_cast<double>(d);
      const auto fi = static_cast<float>(inv), fm = static_cast<float>(mean);
      const auto fg = static_cast<float>(mean_g), fgx = static_cast<float>(mean_gx);
#pragma omp simd
      for (std::int64_t j = 0; j < d; ++j) {
        const float g = gr[j] * (w ? w[j] : 1.f);
        const float xhat = (xr[j] - fm) * fi;
        o[j] = (g - fg - xhat * fgx) * fi;
      }
    });
  }

  std::string name() const override {
    return "cpu layer norm backward";
  }

 private:
  Attrs a_;
};

// ---- reductions -------------------------------------------------------------------------------

// dy (the reduction's result, seen with the reduced axes kept as 1) broadcast back to x.
struct ReduceBackwardState {
  BroadcastLayout layout;  // over x: inputs (dy, x, y)
  float scale = 1;
  std::int64_t groups = 0;
};

class ReduceBackwardKernel final : public Kernel {
 public:
  ReduceBackwardKernel(OpKind op, const Attrs& attrs) : op_(op), a_(attrs) {}

  Preparation prepare(std::span<const TensorRef> inputs, const TensorRef& output) override {
    const Shape& x = output.shape;
    const int rank = x.rank();
    std::vector<bool> reduced(static_cast<std::size_t>(rank), a_.axes.empty());
    for (std::int64_t a : a_.axes) reduced[static_cast<std::size_t>(a < 0 ? a + rank : a)] = true;
    Shape kept;
    std::int64_t count = 1;
    for (int d = 0; d < rank; ++d) {
      kept.push_back(reduced[d] ? 1 : x.dims()[d]);
      if (reduced[d]) count *= x.dims()[d];
    }
    auto s = std::make_shared<ReduceBackwardState>();
    const Shape shapes[] = {kept, x, kept};
    s->layout = make_broadcast_layout(x, shapes);
    s->scale =
        op_ == OpKind::ReduceMeanBackward && count > 0 ? 1.f / static_cast<float>(count) : 1.f;
    s->groups = inputs[0].shape.numel();
    Preparation p;
    if (op_ == OpKind::ReduceMaxBackward)
      p.scratch_bytes = static_cast<std::size_t>(s->groups) * sizeof(float);
    p.state = std::move(s);
    return p;
  }

  void run(const KernelArgs& args) override {
    const auto& s = *static_cast<const ReduceBackwardState*>(args.state);
    const BroadcastLayout& l = s.layout;
    const float* dy = args.inputs[0].as<const float>();
    float* dx = args.output.as<float>();
    const std::int64_t sg = l.inner_stride[0];
    if (op_ != OpKind::ReduceMaxBackward) {
      const float scale = s.scale;
      parallel_for(l.rows, l.rows * l.inner, args.threads, [&](std::int64_t r) {
        std::int64_t off[3];
        l.row_offsets(r, off);
        float* o = dx + r * l.inner;
        const float* g = dy + off[0];
        for (std::int64_t j = 0; j < l.inner; ++j) o[j] = g[j * sg] * scale;
      });
      return;
    }
    // Max: the gradient is shared by the elements equal to their group's maximum (one thread:
    // the tie counts are scattered over groups).
    const float* x = args.inputs[1].as<const float>();
    const float* y = args.inputs[2].as<const float>();
    auto* ties = reinterpret_cast<float*>(args.scratch);
    std::fill_n(ties, s.groups, 0.f);
    std::int64_t off[3];
    for (std::int64_t r = 0; r < l.rows; ++r) {
      l.row_offsets(r, off);
      for (std::int64_t j = 0; j < l.inner; ++j)
        if (x[off[1] + j] == y[off[2] + j * sg]) ties[off[2] + j * sg] += 1;
    }
    for (std::int64_t r = 0; r < l.rows; ++r) {
      l.row_offsets(r, off);
      float* o = dx + r * l.inner;
      for (std::int64_t j = 0; j < l.inner; ++j) {
        const std::int64_t k = off[2] + j * sg;
        o[j] = x[off[1] + j] == y[k] ? dy[k] / ties[k] : 0.f;
      }
    }
  }

  std::string name() const override {
    return fmt::format("cpu {}", op_ == OpKind::ReduceMaxBackward
                                     ? "max reduction backward"
                                     : "reduction backward (broadcast)");
  }

 private:
  OpKind op_;
  Attrs a_;
};

// ---- slice ------------------------------------------------------------------------------------

struct SliceBackwardState {
  std::array<std::int64_t, Shape::kMaxRank> start{}, step{};
};

class SliceBackwardKernel final : public Kernel {
 public:
  explicit SliceBackwardKernel(const Attrs& attrs) : a_(attrs) {}

  Preparation prepare(std::span<const TensorRef>, const TensorRef& output) override {
    auto s = std::make_shared<SliceBackwardState>();
    s->step.fill(1);
    for (std::size_t j = 0; j < a_.axes.size(); ++j) {
      const int axis = output.shape.normalize_axis(static_cast<int>(a_.axes[j]));
      s->step[axis] = a_.steps.empty() ? 1 : a_.steps[j];
      s->start[axis] =
          detail::slice_bounds(output.shape.dims()[axis], a_.starts[j], a_.ends[j], s->step[axis])
              .start;
    }
    return {0, std::move(s)};
  }

  void run(const KernelArgs& args) override {
    const auto& s = *static_cast<const SliceBackwardState*>(args.state);
    const TensorRef& dy = args.inputs[0];
    const TensorRef& out = args.output;
    const std::size_t size = dtype_size(out.dtype);
    if (out.nbytes()) std::memset(out.data, 0, out.nbytes());
    const int rank = out.shape.rank();
    if (dy.numel() == 0) return;
    if (rank == 0) {
      std::memcpy(out.data, dy.data, size);
      return;
    }
    const auto strides = out.shape.strides();
    const std::int64_t inner = dy.shape[-1];
    const std::int64_t rows = dy.numel() / inner;
    const std::int64_t inner_step = s.step[rank - 1] * strides[rank - 1];
    const auto* src = static_cast<const std::byte*>(dy.data);
    auto* dst = static_cast<std::byte*>(out.data);
    std::array<std::int64_t, Shape::kMaxRank> c{};  // coordinates of the row in dy
    for (std::int64_t r = 0; r < rows; ++r) {
      std::int64_t base = s.start[rank - 1] * strides[rank - 1];
      for (int d = 0; d + 1 < rank; ++d) base += (s.start[d] + c[d] * s.step[d]) * strides[d];
      const std::byte* row = src + static_cast<std::size_t>(r * inner) * size;
      if (inner_step == 1) {
        std::memcpy(dst + base * size, row, static_cast<std::size_t>(inner) * size);
      } else {
        for (std::int64_t j = 0; j < inner; ++j)
          std::memcpy(dst + (base + j * inner_step) * size, row + j * size, size);
      }
      for (int d = rank - 2; d >= 0; --d) {  // next row
        if (++c[d] < dy.shape.dims()[d]) break;
        c[d] = 0;
      }
    }
  }

  std::string name() const override { return "cpu slice backward"; }

 private:
  Attrs a_;
};

// ---- gather -----------------------------------------------------------------------------------

// Rows of dy added into zeros, in index order (so repeated ids accumulate deterministically).
class GatherBackwardKernel final : public Kernel {
 public:
  explicit GatherBackwardKernel(const Attrs& attrs) : a_(attrs) {}

  void run(const KernelArgs& args) override {
    const TensorRef& dy = args.inputs[0];
    const TensorRef& idx = args.inputs[1];
    const TensorRef& out = args.output;
    const int axis = out.shape.normalize_axis(static_cast<int>(a_.axis));
    const std::int64_t extent = out.shape.dims()[axis];
    std::int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= out.shape.dims()[d];
    for (int d = axis + 1; d < out.shape.rank(); ++d) inner *= out.shape.dims()[d];
    const std::int64_t count = idx.numel();
    float* dst = out.as<float>();
    const float* g = dy.as<const float>();
    if (out.nbytes()) std::memset(out.data, 0, out.nbytes());
    for (std::int64_t k = 0; k < count; ++k) {
      const std::int64_t id = idx.dtype == DType::I64 ? idx.as<const std::int64_t>()[k]
                                                      : idx.as<const std::int32_t>()[k];
      TG_CHECK(id >= 0 && id < extent,
               "gather_backward: index {} is out of range for axis {} of size {}", id, axis,
               extent);
    }
    parallel_for(outer, outer * count * inner, args.threads, [&](std::int64_t o) {
      for (std::int64_t k = 0; k < count; ++k) {
        const std::int64_t id = idx.dtype == DType::I64 ? idx.as<const std::int64_t>()[k]
                                                        : idx.as<const std::int32_t>()[k];
        float* row = dst + (o * extent + id) * inner;
        const float* src = g + (o * count + k) * inner;
#pragma omp simd
        for (std::int64_t j = 0; j < inner; ++j) row[j] += src[j];
      }
    });
  }

  std::string name() const override {
    return "cpu gather backward (scatter-add)";
  }

 private:
  Attrs a_;
};

}  // namespace

std::unique_ptr<Kernel> make_pool2d_backward(const KernelContext& ctx) {
  return std::make_unique<PoolBackwardKernel>(ctx.node().op, ctx.node().attrs);
}
std::unique_ptr<Kernel> make_layer_norm_backward(const KernelContext& ctx) {
  return std::make_unique<LayerNormBackwardKernel>(ctx.node().attrs);
}
std::unique_ptr<Kernel> make_reduce_backward(const KernelContext& ctx) {
  return std::make_unique<ReduceBackwardKernel>(ctx.node().op, ctx.node().attrs);
}
std::unique_ptr<Kernel> make_slice_backward(const KernelContext& ctx) {
  return std::make_unique<SliceBackwardKernel>(ctx.node().attrs);
}
std::unique_ptr<Kernel> make_gather_backward(const KernelContext& ctx) {
  return std::make_unique<GatherBackwardKernel>(ctx.node().attrs);
}

}  // namespace tensorgraph::runtime::cpu
