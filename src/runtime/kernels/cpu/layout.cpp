// Fast layout kernels: copies of contiguous runs (memcpy) wherever the layout allows, tiled
// loops otherwise; OpenMP over rows when there is enough to move.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include <fmt/format.h>

#include "cpu.hpp"
#include "graph/op_infer.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::runtime::cpu {

namespace {

// Below this many bytes a copy kernel stays on one thread.
constexpr std::size_t kParallelBytes = 256 * 1024;

int threads_for(std::size_t bytes, int threads, std::int64_t items) {
  if (bytes < kParallelBytes) return 1;
  return static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, items)));
}

class CopyKernel final : public Kernel {
 public:
  void run(const KernelArgs& args) override {
    const std::size_t bytes = args.output.nbytes();
    if (bytes && args.output.data != args.inputs[0].data)
      std::memcpy(args.output.data, args.inputs[0].data, bytes);
  }
  std::string name() const override { return "cpu copy"; }
};

// ---- transpose ------------------------------------------------------------------------------

struct TransposeLayout {
  // After merging input dims that stay adjacent: output dims and, per output dim, the input
  // stride (elements).
  std::vector<std::int64_t> dims;
  std::vector<std::int64_t> strides;
  std::int64_t rows = 1;  // product of all output dims but the last (or last two when tiled)
  bool tiled = false;     // the last two output dims come from a 2-D transpose: tile them
};

class TransposeKernel final : public Kernel {
 public:
  explicit TransposeKernel(std::vector<std::int64_t> perm) : perm_(std::move(perm)) {}

  Preparation prepare(std::span<const TensorRef> inputs, const TensorRef&) override {
    const Shape& in = inputs[0].shape;
    const auto in_strides = in.strides();
    auto layout = std::make_shared<TransposeLayout>();
    // Output dims in order with their input strides; drop extent-1 dims; merge an output dim into
    // the previous one when, in the input, it directly follows it.
    for (std::size_t d = 0; d < perm_.size(); ++d) {
      const std::int64_t extent = in.dims()[perm_[d]];
      const std::int64_t stride = in_strides[perm_[d]];
      if (extent == 1) continue;
      if (!layout->dims.empty() && layout->strides.back() == stride * extent) {
        layout->dims.back() *= extent;
        layout->strides.back() = stride;
      } else {
        layout->dims.push_back(extent);
        layout->strides.push_back(stride);
      }
    }
    if (layout->dims.empty()) {
      layout->dims.push_back(1);
      layout->strides.push_back(1);
    }
    const std::size_t r = layout->dims.size();
    layout->tiled = layout->strides.back() != 1 && r >= 2;
    const std::size_t row_dims = layout->tiled ? r - 2 : r - 1;
    for (std::size_t d = 0; d < row_dims; ++d) layout->rows *= layout->dims[d];
    return {0, std::move(layout)};
  }

  void run(const KernelArgs& args) override {
    const auto& layout = *static_cast<const TransposeLayout*>(args.state);
    switch (dtype_size(args.output.dtype)) {
      case 1:
        go<std::uint8_t>(args, layout);
        break;
      case 2:
        go<std::uint16_t>(args, layout);
        break;
      case 4:
        go<std::uint32_t>(args, layout);
        break;
      default:
        go<std::uint64_t>(args, layout);
        break;
    }
  }
  std::string name() const override { return "cpu transpose"; }

 private:
  template <typename T>
  static void go(const KernelArgs& args, const TransposeLayout& l) {
    const T* in = static_cast<const T*>(args.inputs[0].data);
    T* out = static_cast<T*>(args.output.data);
    const std::size_t r = l.dims.size();
    const std::size_t row_dims = l.tiled ? r - 2 : r - 1;
    const std::int64_t c = l.dims[r - 1];
    const std::int64_t c_stride = l.strides[r - 1];
    const std::int64_t rr = l.tiled ? l.dims[r - 2] : 1;
    const std::int64_t r_stride = l.tiled ? l.strides[r - 2] : 0;
    const std::int64_t block = rr * c;  // output elements per row index
    auto base_of = [&](std::int64_t row) {
      std::int64_t off = 0;
      for (std::size_t d = row_dims; d-- > 0;) {
        off += (row % l.dims[d]) * l.strides[d];
        row /= l.dims[d];
      }
      return off;
    };
    auto do_row = [&](std::int64_t row) {
      const T* src = in + base_of(row);
      T* dst = out + row * block;
      if (!l.tiled) {
        if (c_stride == 1) {
          std::memcpy(dst, src, static_cast<std::size_t>(c) * sizeof(T));
        } else {
          for (std::int64_t j = 0; j < c; ++j) dst[j] = src[j * c_stride];
        }
        return;
      }
      // 8x8 tiles through a small buffer: the reads walk the source contiguously (r_stride is
      // 1 in a plain 2-D transpose) and the writes walk the destination contiguously.
      constexpr std::int64_t kTile = 8;
      T tile[kTile][kTile];
      for (std::int64_t i0 = 0; i0 < rr; i0 += kTile)
        for (std::int64_t j0 = 0; j0 < c; j0 += kTile) {
          const std::int64_t ni = std::min(rr - i0, kTile), nj = std::min(c - j0, kTile);
          const T* s0 = src + i0 * r_stride + j0 * c_stride;
          T* d0 = dst + i0 * c + j0;
          if (ni == kTile && nj == kTile) {  // constant bounds: fully unrolled
            for (std::int64_t j = 0; j < kTile; ++j)
              for (std::int64_t i = 0; i < kTile; ++i) tile[i][j] = s0[i * r_stride + j * c_stride];
            for (std::int64_t i = 0; i < kTile; ++i)
              for (std::int64_t j = 0; j < kTile; ++j) d0[i * c + j] = tile[i][j];
            continue;
          }
          for (std::int64_t j = 0; j < nj; ++j)
            for (std::int64_t i = 0; i < ni; ++i) tile[i][j] = s0[i * r_stride + j * c_stride];
          for (std::int64_t i = 0; i < ni; ++i)
            for (std::int64_t j = 0; j < nj; ++j) d0[i * c + j] = tile[i][j];
        }
    };
    const int nt = threads_for(args.output.nbytes(), args.threads, l.rows);
    if (nt <= 1) {
      for (std::int64_t row = 0; row < l.rows; ++row) do_row(row);
      return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (std::int64_t row = 0; row < l.rows; ++row) do_row(row);
  }

  std::vector<std::int64_t> perm_;
};

// ---- concat ---------------------------------------------------------------------------------

class ConcatKernel final : public Kernel {
 public:
  explicit ConcatKernel(std::int64_t axis) : axis_(axis) {}
  void run(const KernelArgs& args) override {
    const TensorRef& out = args.output;
    const int axis = out.shape.normalize_axis(static_cast<int>(axis_));
    const std::size_t size = dtype_size(out.dtype);
    std::int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= out.shape.dims()[d];
    for (int d = axis + 1; d < out.shape.rank(); ++d) inner *= out.shape.dims()[d];
    const std::size_t out_row = static_cast<std::size_t>(out.shape.dims()[axis] * inner) * size;
    auto do_row = [&](std::int64_t o) {
      auto* dst = static_cast<std::byte*>(out.data) + o * out_row;
      for (const TensorRef& in : args.inputs) {
        const std::size_t chunk = static_cast<std::size_t>(in.shape.dims()[axis] * inner) * size;
        std::memcpy(dst, static_cast<const std::byte*>(in.data) + o * chunk, chunk);
        dst += chunk;
      }
    };
    const int nt = threads_for(out.nbytes(), args.threads, outer);
    if (nt <= 1) {
      for (std::int64_t o = 0; o < outer; ++o) do_row(o);
      return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (std::int64_t o = 0; o < outer; ++o) do_row(o);
  }
  std::string name() const override {
    return "cpu concat";
  }

 private:
  std::int64_t axis_;
};

// ---- slice ----------------------------------------------------------------------------------

struct SliceLayout {
  std::array<std::int64_t, Shape::kMaxRank> start{};
  std::array<std::int64_t, Shape::kMaxRank> step{};
};

class SliceKernel final : public Kernel {
 public:
  explicit SliceKernel(const Attrs& attrs) : attrs_(attrs) {}
  Preparation prepare(std::span<const TensorRef> inputs, const TensorRef&) override {
    const Shape& in = inputs[0].shape;
    auto l = std::make_shared<SliceLayout>();
    l->step.fill(1);
    for (std::size_t j = 0; j < attrs_.axes.size(); ++j) {
      const int axis = in.normalize_axis(static_cast<int>(attrs_.axes[j]));
      l->step[axis] = attrs_.steps.empty() ? 1 : attrs_.steps[j];
      l->start[axis] =
          detail::slice_bounds(in.dims()[axis], attrs_.starts[j], attrs_.ends[j], l->step[axis])
              .start;
    }
    return {0, std::move(l)};
  }
  void run(const KernelArgs& args) override {
    const auto& l = *static_cast<const SliceLayout*>(args.state);
    const TensorRef& in = args.inputs[0];
    const TensorRef& out = args.output;
    const int rank = out.shape.rank();
    const std::size_t size = dtype_size(out.dtype);
    if (out.numel() == 0) return;
    if (rank == 0) {
      std::memcpy(out.data, in.data, size);
      return;
    }
    const auto strides = in.shape.strides();
    const std::int64_t last = out.shape.dims()[rank - 1];
    const std::int64_t rows = out.numel() / last;
    const std::int64_t last_step = l.step[rank - 1] * strides[rank - 1];
    auto do_row = [&](std::int64_t row) {
      std::int64_t src = (l.start[rank - 1]) * strides[rank - 1];
      std::int64_t rem = row;
      for (int d = rank - 2; d >= 0; --d) {
        const std::int64_t c = rem % out.shape.dims()[d];
        rem /= out.shape.dims()[d];
        src += (l.start[d] + c * l.step[d]) * strides[d];
      }
      const auto* s =
          static_cast<const std::byte*>(in.data) + src * static_cast<std::int64_t>(size);
      auto* dst = static_cast<std::byte*>(out.data) + row * last * static_cast<std::int64_t>(size);
      if (last_step == 1) {
        std::memcpy(dst, s, static_cast<std::size_t>(last) * size);
      } else {
        for (std::int64_t j = 0; j < last; ++j)
          std::memcpy(dst + j * static_cast<std::int64_t>(size),
                      s + j * last_step * static_cast<std::int64_t>(size), size);
      }
    };
    const int nt = threads_for(out.nbytes(), args.threads, rows);
    if (nt <= 1) {
      for (std::int64_t r = 0; r < rows; ++r) do_row(r);
      return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (std::int64_t r = 0; r < rows; ++r) do_row(r);
  }
  std::string name() const override {
    return "cpu slice";
  }

 private:
  Attrs attrs_;
};

// ---- gather ---------------------------------------------------------------------------------

class GatherKernel final : public Kernel {
 public:
  explicit GatherKernel(std::int64_t axis) : axis_(axis) {}
  void run(const KernelArgs& args) override {
    const TensorRef& data = args.inputs[0];
    const TensorRef& idx = args.inputs[1];
    const TensorRef& out = args.output;
    const int axis = data.shape.normalize_axis(static_cast<int>(axis_));
    const std::int64_t extent = data.shape.dims()[axis];
    std::int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= data.shape.dims()[d];
    for (int d = axis + 1; d < data.shape.rank(); ++d) inner *= data.shape.dims()[d];
    const std::int64_t n = idx.numel();
    // Validate every id before touching memory (errors cannot leave an OpenMP region).
    auto id_at = [&](std::int64_t j) -> std::int64_t {
      return idx.dtype == DType::I64 ? idx.as<const std::int64_t>()[j]
                                     : idx.as<const std::int32_t>()[j];
    };
    for (std::int64_t j = 0; j < n; ++j) {
      const std::int64_t id = id_at(j);
      if (id < 0 || id >= extent)
        fail("gather: index {} (at position {}) is out of range for axis {} of size {} (data {})",
             id, j, axis, extent, data.shape.to_string());
    }
    const std::size_t row = static_cast<std::size_t>(inner) * dtype_size(out.dtype);
    const auto* src = static_cast<const std::byte*>(data.data);
    auto* dst = static_cast<std::byte*>(out.data);
    const std::int64_t items = outer * n;
    auto do_item = [&](std::int64_t it) {
      const std::int64_t o = it / n, j = it % n;
      std::memcpy(dst + it * static_cast<std::int64_t>(row),
                  src + (o * extent + id_at(j)) * static_cast<std::int64_t>(row), row);
    };
    const int nt = threads_for(out.nbytes(), args.threads, items);
    if (nt <= 1) {
      for (std::int64_t it = 0; it < items; ++it) do_item(it);
      return;
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (std::int64_t it = 0; it < items; ++it) do_item(it);
  }
  std::string name() const override {
    return "cpu gather";
  }

 private:
  std::int64_t axis_;
};

}  // namespace

std::unique_ptr<Kernel> make_copy(const KernelContext&) {
  return std::make_unique<CopyKernel>();
}
std::unique_ptr<Kernel> make_transpose(const KernelContext& ctx) {
  return std::make_unique<TransposeKernel>(ctx.node().attrs.perm);
}
std::unique_ptr<Kernel> make_concat(const KernelContext& ctx) {
  return std::make_unique<ConcatKernel>(ctx.node().attrs.axis);
}
std::unique_ptr<Kernel> make_slice(const KernelContext& ctx) {
  return std::make_unique<SliceKernel>(ctx.node().attrs);
}
std::unique_ptr<Kernel> make_gather(const KernelContext& ctx) {
  return std::make_unique<GatherKernel>(ctx.node().attrs.axis);
}

}  // namespace tensorgraph::runtime::cpu
