// Reference layout kernels: every output element computes its source index.
#include <cstring>

#include "graph/op_infer.hpp"
#include "reference.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::runtime::reference {

void copy(OpKind, const Attrs&, const KernelArgs& args) {
  const std::size_t bytes = args.output.nbytes();
  if (bytes) std::memmove(args.output.data, args.inputs[0].data, bytes);
}

void transpose(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& in = args.inputs[0];
  const TensorRef& out = args.output;
  const std::size_t size = dtype_size(out.dtype);
  const auto in_strides = in.shape.strides();
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    const auto c = unravel(out.shape, i);
    std::int64_t src = 0;
    for (int d = 0; d < out.shape.rank(); ++d) src += c[d] * in_strides[attrs.perm[d]];
    std::memcpy(static_cast<std::byte*>(out.data) + i * size,
                static_cast<const std::byte*>(in.data) + src * size, size);
  }
}

void concat(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& out = args.output;
  const int axis = out.shape.normalize_axis(static_cast<int>(attrs.axis));
  const std::size_t size = dtype_size(out.dtype);
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    auto c = unravel(out.shape, i);
    std::size_t k = 0;
    while (c[axis] >= args.inputs[k].shape.dims()[axis])
      c[axis] -= args.inputs[k++].shape.dims()[axis];
    const TensorRef& in = args.inputs[k];
    const auto strides = in.shape.strides();
    std::int64_t src = 0;
    for (int d = 0; d < out.shape.rank(); ++d) src += c[d] * strides[d];
    std::memcpy(static_cast<std::byte*>(out.data) + i * size,
                static_cast<const std::byte*>(in.data) + src * size, size);
  }
}

void slice(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& in = args.inputs[0];
  const TensorRef& out = args.output;
  const int rank = in.shape.rank();
  std::array<std::int64_t, Shape::kMaxRank> start{};
  std::array<std::int64_t, Shape::kMaxRank> step{};
  step.fill(1);
  for (std::size_t j = 0; j < attrs.axes.size(); ++j) {
    const int axis = in.shape.normalize_axis(static_cast<int>(attrs.axes[j]));
    step[axis] = attrs.steps.empty() ? 1 : attrs.steps[j];
    start[axis] =
        detail::slice_bounds(in.shape.dims()[axis], attrs.starts[j], attrs.ends[j], step[axis])
            .start;
  }
  const auto strides = in.shape.strides();
  const std::size_t size = dtype_size(out.dtype);
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    const auto c = unravel(out.shape, i);
    std::int64_t src = 0;
    for (int d = 0; d < rank; ++d) src += (start[d] + c[d] * step[d]) * strides[d];
    std::memcpy(static_cast<std::byte*>(out.data) + i * size,
                static_cast<const std::byte*>(in.data) + src * size, size);
  }
}

void gather(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& data = args.inputs[0];
  const TensorRef& idx = args.inputs[1];
  const TensorRef& out = args.output;
  const int axis = data.shape.normalize_axis(static_cast<int>(attrs.axis));
  const std::int64_t extent = data.shape.dims()[axis];
  const int idx_rank = idx.shape.rank();
  const auto strides = data.shape.strides();
  const std::size_t size = dtype_size(out.dtype);
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    const auto c = unravel(out.shape, i);
    std::int64_t flat_idx = 0;
    for (int d = 0; d < idx_rank; ++d) flat_idx = flat_idx * idx.shape.dims()[d] + c[axis + d];
    const auto id = static_cast<std::int64_t>(load(idx, flat_idx));
    TG_CHECK(id >= 0 && id < extent,
             "gather: index {} is out of range for axis {} of size {} (data {})", id, axis, extent,
             data.shape.to_string());
    std::int64_t src = 0;
    for (int d = 0; d < axis; ++d) src += c[d] * strides[d];
    src += id * strides[axis];
    for (int d = axis + 1; d < data.shape.rank(); ++d) src += c[d - 1 + idx_rank] * strides[d];
    std::memcpy(static_cast<std::byte*>(out.data) + i * size,
                static_cast<const std::byte*>(data.data) + src * size, size);
  }
}

}  // namespace tensorgraph::runtime::reference
