#pragma once
// Shape and dtype inference of every op, defined next to its builder in src/graph/ops_*.cpp and
// gathered in the op table (op_registry.cpp).
#include <span>
#include <string>
#include <string_view>

#include "tensorgraph/graph/op_registry.hpp"

namespace tensorgraph::detail {

// ops_elementwise.cpp
TensorType infer_binary(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_unary(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_where(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_cast(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_fused_elementwise(std::string_view op, const Attrs&, std::span<const TensorType>);
// ops_linalg.cpp
TensorType infer_matmul(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_linear(std::string_view op, const Attrs&, std::span<const TensorType>);
// ops_layout.cpp
TensorType infer_reshape(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_transpose(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_concat(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_slice(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_gather(std::string_view op, const Attrs&, std::span<const TensorType>);
// ops_normalization.cpp
TensorType infer_softmax(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_layer_norm(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_reduce(std::string_view op, const Attrs&, std::span<const TensorType>);
// ops_conv.cpp
TensorType infer_conv2d(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_pool2d(std::string_view op, const Attrs&, std::span<const TensorType>);

// Backward ops, next to their forward ops.
TensorType infer_slice_backward(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_gather_backward(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_layer_norm_backward(std::string_view op, const Attrs&,
                                     std::span<const TensorType>);
TensorType infer_reduce_backward(std::string_view op, const Attrs&, std::span<const TensorType>);
TensorType infer_conv2d_backward_data(std::string_view op, const Attrs&,
                                      std::span<const TensorType>);
TensorType infer_conv2d_backward_weights(std::string_view op, const Attrs&,
                                         std::span<const TensorType>);
TensorType infer_pool2d_backward(std::string_view op, const Attrs&, std::span<const TensorType>);

// "[2,3] x [4,5]"-style helpers for messages.
std::string join_shapes(std::span<const TensorType> inputs, std::string_view separator = ", ");
// Throws "<op>: expects an f32 input, got <dtype><shape>" unless t is f32.
void require_f32(std::string_view op, const TensorType& t, std::string_view what = "input");
// The same for the ops that also run in f64 (on the reference kernels: gradient checks).
void require_float(std::string_view op, const TensorType& t, std::string_view what = "input");
// Throws unless two (possibly symbolic) shapes can be equal at run time (same rank; each pair of
// dimensions equal or one of them dynamic).
void require_compatible(std::string_view op, const Shape& got, const Shape& expected,
                        std::string_view what);
// Slice bounds of one axis, Python semantics; returns the output length (or -1 when `dim` is
// unknown and the length cannot be known).
struct SliceBounds {
  std::int64_t start = 0;
  std::int64_t length = 0;
};
SliceBounds slice_bounds(std::int64_t dim, std::int64_t start, std::int64_t end, std::int64_t step);

// Output size of a convolution/pooling window along one spatial axis (-1 if `in` is unknown).
std::int64_t window_output_size(std::string_view op, std::int64_t in, std::int64_t kernel,
                                std::int64_t stride, std::int64_t pad, std::int64_t dilation);

}  // namespace tensorgraph::detail
