// Softmax, log-softmax, layer norm and reductions.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "builder.hpp"
#include "op_infer.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {

namespace detail {

TensorType infer_softmax(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  require_f32(op, in[0]);
  TG_CHECK(in[0].shape.rank() >= 1, "{}: needs rank >= 1, got a scalar", op);
  in[0].shape.normalize_axis(static_cast<int>(attrs.axis));
  return in[0];
}

TensorType infer_layer_norm(std::string_view op, const Attrs& attrs,
                            std::span<const TensorType> in) {
  const TensorType& x = in[0];
  require_f32(op, x);
  TG_CHECK(x.shape.rank() >= 1, "{}: needs rank >= 1, got a scalar", op);
  const std::size_t expected = 1 + (attrs.has_weight ? 1 : 0) + (attrs.has_bias ? 1 : 0);
  TG_CHECK(in.size() == expected, "{}: expects {} inputs, got {}", op, expected, in.size());
  TG_CHECK(attrs.epsilon >= 0, "{}: epsilon must be >= 0, got {}", op, attrs.epsilon);
  const std::int64_t d = x.shape[-1];
  for (std::size_t i = 1; i < in.size(); ++i) {
    const char* what = (i == 1 && attrs.has_weight) ? "weight" : "bias";
    require_f32(op, in[i], what);
    const Shape& p = in[i].shape;
    TG_CHECK(p.rank() == 1 && (p[0] == d || p[0] < 0 || d < 0),
             "{}: {} {} does not match the last dimension of {} (expects [{}])", op, what,
             p.to_string(), x.shape.to_string(), d);
  }
  return x;
}

TensorType infer_reduce(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& x = in[0];
  require_f32(op, x);
  const int rank = x.shape.rank();
  std::vector<bool> reduced(static_cast<std::size_t>(rank), attrs.axes.empty());
  for (std::int64_t a : attrs.axes) {
    TG_CHECK(a >= -rank && a < rank, "{}: axis {} is out of range for shape {}", op, a,
             x.shape.to_string());
    const int axis = static_cast<int>(a < 0 ? a + rank : a);
    TG_CHECK(!reduced[axis], "{}: axis {} listed twice in [{}]", op, axis,
             fmt::join(attrs.axes, ","));
    reduced[axis] = true;
  }
  Shape out;
  for (int i = 0; i < rank; ++i) {
    if (!reduced[i])
      out.push_back(x.shape.dims()[i]);
    else if (attrs.keepdims)
      out.push_back(1);
  }
  return {DType::F32, out};
}

}  // namespace detail

namespace ops {

using detail::make_node;

Value softmax(Value x, int axis) {
  Attrs attrs;
  attrs.axis = axis;
  return make_node(OpKind::Softmax, {x}, std::move(attrs));
}

Value log_softmax(Value x, int axis) {
  Attrs attrs;
  attrs.axis = axis;
  return make_node(OpKind::LogSoftmax, {x}, std::move(attrs));
}

Value layer_norm(Value x, std::optional<Value> weight, std::optional<Value> bias, float epsilon) {
  Attrs attrs;
  attrs.epsilon = epsilon;
  attrs.has_weight = weight.has_value();
  attrs.has_bias = bias.has_value();
  std::vector<Value> inputs{x};
  if (weight) inputs.push_back(*weight);
  if (bias) inputs.push_back(*bias);
  return make_node(OpKind::LayerNorm, inputs, std::move(attrs));
}

namespace {
Value reduce(OpKind kind, Value x, std::vector<std::int64_t> axes, bool keepdims) {
  Attrs attrs;
  attrs.axes = std::move(axes);
  attrs.keepdims = keepdims;
  return make_node(kind, {x}, std::move(attrs));
}
}  // namespace

Value reduce_sum(Value x, std::vector<std::int64_t> axes, bool keepdims) {
  return reduce(OpKind::ReduceSum, x, std::move(axes), keepdims);
}
Value reduce_mean(Value x, std::vector<std::int64_t> axes, bool keepdims) {
  return reduce(OpKind::ReduceMean, x, std::move(axes), keepdims);
}
Value reduce_max(Value x, std::vector<std::int64_t> axes, bool keepdims) {
  return reduce(OpKind::ReduceMax, x, std::move(axes), keepdims);
}

}  // namespace ops
}  // namespace tensorgraph
