#include "tensorgraph/graph/op_registry.hpp"

#include <algorithm>
#include <array>

#include "op_grad.hpp"
#include "op_infer.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph {

namespace {

using namespace detail;

TensorType infer_leaf(std::string_view op, const Attrs&, std::span<const TensorType>) {
  fail("{}: leaf nodes carry their type; nothing to infer", op);
}

// clang-format off
// kind, name, min inputs, max inputs (-1: any), inference, elementwise, view, inplace, gradient
constexpr OpDef kOps[] = {
    {OpKind::Input, "input", 0, 0, infer_leaf, false, false, false, nullptr},
    {OpKind::Constant, "constant", 0, 0, infer_leaf, false, false, false, nullptr},
    {OpKind::Add, "add", 2, 2, infer_binary, true, false, true, grad_add},
    {OpKind::Sub, "sub", 2, 2, infer_binary, true, false, true, grad_sub},
    {OpKind::Mul, "mul", 2, 2, infer_binary, true, false, true, grad_mul},
    {OpKind::Div, "div", 2, 2, infer_binary, true, false, true, grad_div},
    {OpKind::Pow, "pow", 2, 2, infer_binary, true, false, true, grad_pow},
    {OpKind::Neg, "neg", 1, 1, infer_unary, true, false, true, grad_neg},
    {OpKind::Relu, "relu", 1, 1, infer_unary, true, false, true, grad_relu},
    {OpKind::Gelu, "gelu", 1, 1, infer_unary, true, false, true, grad_gelu},
    {OpKind::Tanh, "tanh", 1, 1, infer_unary, true, false, true, grad_tanh},
    {OpKind::Sigmoid, "sigmoid", 1, 1, infer_unary, true, false, true, grad_sigmoid},
    {OpKind::Exp, "exp", 1, 1, infer_unary, true, false, true, grad_exp},
    {OpKind::Log, "log", 1, 1, infer_unary, true, false, true, grad_log},
    {OpKind::Sqrt, "sqrt", 1, 1, infer_unary, true, false, true, grad_sqrt},
    {OpKind::Rsqrt, "rsqrt", 1, 1, infer_unary, true, false, true, grad_rsqrt},
    {OpKind::Where, "where", 3, 3, infer_where, false, false, false, grad_where},
    {OpKind::Cast, "cast", 1, 1, infer_cast, false, false, false, grad_cast},
    {OpKind::MatMul, "matmul", 2, -1, infer_matmul, false, false, false, grad_matmul},
    {OpKind::Linear, "linear", 2, -1, infer_linear, false, false, false, grad_linear},
    {OpKind::Reshape, "reshape", 1, 1, infer_reshape, false, true, false, grad_reshape},
    {OpKind::Transpose, "transpose", 1, 1, infer_transpose, false, false, false, grad_transpose},
    {OpKind::Concat, "concat", 1, -1, infer_concat, false, false, false, grad_concat},
    {OpKind::Slice, "slice", 1, 1, infer_slice, false, false, false, grad_slice},
    {OpKind::Gather, "gather", 2, 2, infer_gather, false, false, false, grad_gather},
    {OpKind::Softmax, "softmax", 1, 1, infer_softmax, false, false, true, grad_softmax},
    {OpKind::LogSoftmax, "log_softmax", 1, 1, infer_softmax, false, false, true, grad_log_softmax},
    {OpKind::LayerNorm, "layer_norm", 1, 3, infer_layer_norm, false, false, true, grad_layer_norm},
    {OpKind::ReduceSum, "reduce_sum", 1, 1, infer_reduce, false, false, false, grad_reduce_sum},
    {OpKind::ReduceMean, "reduce_mean", 1, 1, infer_reduce, false, false, false, grad_reduce_mean},
    {OpKind::ReduceMax, "reduce_max", 1, 1, infer_reduce, false, false, false, grad_reduce_max},
    {OpKind::Conv2d, "conv2d", 2, 3, infer_conv2d, false, false, false, grad_conv2d},
    {OpKind::MaxPool2d, "max_pool2d", 1, 1, infer_pool2d, false, false, false, grad_max_pool2d},
    {OpKind::AvgPool2d, "avg_pool2d", 1, 1, infer_pool2d, false, false, false, grad_avg_pool2d},
    {OpKind::ReluBackward, "relu_backward", 2, 2, infer_binary, true, false, true, nullptr},
    {OpKind::GeluBackward, "gelu_backward", 2, 2, infer_binary, true, false, true, nullptr},
    {OpKind::SliceBackward, "slice_backward", 2, 2, infer_slice_backward, false, false, false, nullptr},
    {OpKind::GatherBackward, "gather_backward", 3, 3, infer_gather_backward, false, false, false, nullptr},
    {OpKind::LayerNormBackward, "layer_norm_backward", 2, 3, infer_layer_norm_backward, false, false, false, nullptr},
    {OpKind::ReduceSumBackward, "reduce_sum_backward", 2, 2, infer_reduce_backward, false, false, false, nullptr},
    {OpKind::ReduceMeanBackward, "reduce_mean_backward", 2, 2, infer_reduce_backward, false, false, false, nullptr},
    {OpKind::ReduceMaxBackward, "reduce_max_backward", 3, 3, infer_reduce_backward, false, false, false, nullptr},
    {OpKind::Conv2dBackwardData, "conv2d_backward_data", 3, 3, infer_conv2d_backward_data, false, false, false, nullptr},
    {OpKind::Conv2dBackwardWeights, "conv2d_backward_weights", 2, 2, infer_conv2d_backward_weights, false, false, false, nullptr},
    {OpKind::MaxPool2dBackward, "max_pool2d_backward", 2, 2, infer_pool2d_backward, false, false, false, nullptr},
    {OpKind::AvgPool2dBackward, "avg_pool2d_backward", 2, 2, infer_pool2d_backward, false, false, false, nullptr},
    {OpKind::FusedElementwise, "fused_elementwise", 1, -1, infer_fused_elementwise, false, false, true, nullptr},
};
// clang-format on

constexpr bool table_is_in_enum_order() {
  for (std::size_t i = 0; i < std::size(kOps); ++i)
    if (static_cast<std::size_t>(kOps[i].kind) != i) return false;
  return true;
}
static_assert(table_is_in_enum_order(), "kOps rows must follow the OpKind enum order");
static_assert(std::size(kOps) == static_cast<std::size_t>(OpKind::FusedElementwise) + 1,
              "every OpKind needs a row in kOps");

}  // namespace

const OpDef& op_def(OpKind kind) {
  const auto i = static_cast<std::size_t>(kind);
  TG_CHECK(i < std::size(kOps), "invalid op kind {}", i);
  return kOps[i];
}

std::string_view op_name(OpKind kind) {
  return op_def(kind).name;
}

TensorType infer_type(OpKind kind, const Attrs& attrs, std::span<const TensorType> inputs) {
  const OpDef& def = op_def(kind);
  const int n = static_cast<int>(inputs.size());
  if (n < def.min_inputs || (def.max_inputs >= 0 && n > def.max_inputs)) {
    if (def.min_inputs == def.max_inputs)
      fail("{}: expects {} input(s), got {}", def.name, def.min_inputs, n);
    if (def.max_inputs < 0)
      fail("{}: expects at least {} input(s), got {}", def.name, def.min_inputs, n);
    fail("{}: expects {} to {} inputs, got {}", def.name, def.min_inputs, def.max_inputs, n);
  }
  return def.infer(def.name, attrs, inputs);
}

Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b) {
  const int rank = std::max(a.rank(), b.rank());
  std::array<std::int64_t, Shape::kMaxRank> dims{};
  for (int i = 0; i < rank; ++i) {
    const int ia = a.rank() - rank + i;
    const int ib = b.rank() - rank + i;
    const std::int64_t da = ia >= 0 ? a.dims()[ia] : 1;
    const std::int64_t db = ib >= 0 ? b.dims()[ib] : 1;
    std::int64_t d;
    if (da == db)
      d = da;
    else if (da == 1)
      d = db;
    else if (db == 1)
      d = da;
    else if (da == Shape::kDynamic)
      d = db;  // the dynamic dimension must be db (or 1) at run time
    else if (db == Shape::kDynamic)
      d = da;
    else
      fail("{}: shapes {} and {} cannot be broadcast together", op, a.to_string(), b.to_string());
    dims[i] = d;
  }
  return Shape(std::span<const std::int64_t>(dims.data(), static_cast<std::size_t>(rank)));
}

namespace detail {

std::string join_shapes(std::span<const TensorType> inputs, std::string_view separator) {
  std::string s;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (i) s += separator;
    s += inputs[i].shape.to_string();
  }
  return s;
}

void require_f32(std::string_view op, const TensorType& t, std::string_view what) {
  TG_CHECK(t.dtype == DType::F32, "{}: expects an f32 {}, got {}{}", op, what, dtype_name(t.dtype),
           t.shape.to_string());
}

void require_float(std::string_view op, const TensorType& t, std::string_view what) {
  TG_CHECK(t.dtype == DType::F32 || t.dtype == DType::F64,
           "{}: expects an f32 (or f64) {}, got {}{}", op, what, dtype_name(t.dtype),
           t.shape.to_string());
}

void require_compatible(std::string_view op, const Shape& got, const Shape& expected,
                        std::string_view what) {
  bool ok = got.rank() == expected.rank();
  for (int i = 0; ok && i < got.rank(); ++i) {
    const std::int64_t a = got.dims()[i], b = expected.dims()[i];
    ok = a == b || a < 0 || b < 0;
  }
  TG_CHECK(ok, "{}: {} has shape {}, expected {}", op, what, got.to_string(), expected.to_string());
}

SliceBounds slice_bounds(std::int64_t dim, std::int64_t start, std::int64_t end,
                         std::int64_t step) {
  if (dim < 0) {
    // Unknown extent: the length is known only for non-negative, finite bounds (assuming the
    // dimension is large enough; the runtime re-infers with the real extent).
    if (start >= 0 && end >= start && end != INT64_MAX)
      return {start, (end - start + step - 1) / step};
    return {start, Shape::kDynamic};
  }
  auto clamp_index = [dim](std::int64_t i) {
    if (i < 0) i += dim;
    return std::clamp<std::int64_t>(i, 0, dim);
  };
  const std::int64_t s = clamp_index(start);
  const std::int64_t e = clamp_index(end);
  const std::int64_t length = e > s ? (e - s + step - 1) / step : 0;
  return {s, length};
}

std::int64_t window_output_size(std::string_view op, std::int64_t in, std::int64_t kernel,
                                std::int64_t stride, std::int64_t pad, std::int64_t dilation) {
  if (in < 0) return Shape::kDynamic;
  const std::int64_t span = dilation * (kernel - 1) + 1;
  const std::int64_t padded = in + 2 * pad;
  TG_CHECK(padded >= span,
           "{}: window of {} (kernel {}, dilation {}) is larger than the padded input {}", op, span,
           kernel, dilation, padded);
  return (padded - span) / stride + 1;
}

}  // namespace detail
}  // namespace tensorgraph
