// Softmax, log-softmax, layer norm and reductions.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "builder.hpp"
#include "op_grad.hpp"
#include "op_infer.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {

namespace detail {

TensorType infer_softmax(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  require_float(op, in[0]);
  TG_CHECK(in[0].shape.rank() >= 1, "{}: needs rank >= 1, got a scalar", op);
  in[0].shape.normalize_axis(static_cast<int>(attrs.axis));
  return in[0];
}

TensorType infer_layer_norm(std::string_view op, const Attrs& attrs,
                            std::span<const TensorType> in) {
  const TensorType& x = in[0];
  require_float(op, x);
  TG_CHECK(x.shape.rank() >= 1, "{}: needs rank >= 1, got a scalar", op);
  const std::size_t expected = 1 + (attrs.has_weight ? 1 : 0) + (attrs.has_bias ? 1 : 0);
  TG_CHECK(in.size() == expected, "{}: expects {} inputs, got {}", op, expected, in.size());
  TG_CHECK(attrs.epsilon >= 0, "{}: epsilon must be >= 0, got {}", op, attrs.epsilon);
  const std::int64_t d = x.shape[-1];
  for (std::size_t i = 1; i < in.size(); ++i) {
    const char* what = (i == 1 && attrs.has_weight) ? "weight" : "bias";
    require_float(op, in[i], what);
    TG_CHECK(in[i].dtype == x.dtype, "{}: the {} is {}, the input {}", op, what,
             dtype_name(in[i].dtype), dtype_name(x.dtype));
    const Shape& p = in[i].shape;
    TG_CHECK(p.rank() == 1 && (p[0] == d || p[0] < 0 || d < 0),
             "{}: {} {} does not match the last dimension of {} (expects [{}])", op, what,
             p.to_string(), x.shape.to_string(), d);
  }
  return x;
}

TensorType infer_reduce(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& x = in[0];
  require_float(op, x);
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
  return {x.dtype, out};
}

TensorType infer_layer_norm_backward(std::string_view op, const Attrs& attrs,
                                     std::span<const TensorType> in) {
  const TensorType& dy = in[0];
  const TensorType& x = in[1];
  require_float(op, dy, "gradient");
  TG_CHECK(dy.dtype == x.dtype, "{}: the gradient is {}, the input {}", op, dtype_name(dy.dtype),
           dtype_name(x.dtype));
  require_compatible(op, dy.shape, x.shape, "the gradient");
  Attrs forward = attrs;
  forward.has_bias = false;
  infer_layer_norm(op, forward, in.subspan(1));
  return x;
}

// (dy, x) or, for reduce_max, (dy, x, y): dy has the reduction's output shape.
TensorType infer_reduce_backward(std::string_view op, const Attrs& attrs,
                                 std::span<const TensorType> in) {
  const TensorType& dy = in[0];
  const TensorType& x = in[1];
  require_float(op, dy, "gradient");
  TG_CHECK(dy.dtype == x.dtype, "{}: the gradient is {}, the input {}", op, dtype_name(dy.dtype),
           dtype_name(x.dtype));
  const TensorType reduced = infer_reduce(op, attrs, in.subspan(1, 1));
  require_compatible(op, dy.shape, reduced.shape, "the gradient");
  if (in.size() == 3) require_compatible(op, in[2].shape, reduced.shape, "the maximum");
  return x;
}

// ---- gradients ----------------------------------------------------------------------------------

GradResult grad_softmax(const GradContext& c) {  // dx = y (dy - sum(dy y))
  const int axis = static_cast<int>(c.attrs.axis);
  const Value y = c.output;
  return {y * (c.dy - ops::reduce_sum(c.dy * y, {axis}, true))};
}

GradResult grad_log_softmax(const GradContext& c) {  // dx = dy - softmax(x) sum(dy)
  const int axis = static_cast<int>(c.attrs.axis);
  return {c.dy - ops::exp(c.output) * ops::reduce_sum(c.dy, {axis}, true)};
}

// dx through layer_norm_backward; the affine parameters from the normalised input xhat:
// dweight = sum over rows of dy xhat, dbias = sum over rows of dy.
GradResult grad_layer_norm(const GradContext& c) {
  GradResult r = no_grads(c);
  const Value x = c.inputs[0];
  const bool has_weight = c.attrs.has_weight;
  const std::optional<Value> weight = has_weight ? std::optional<Value>(c.inputs[1]) : std::nullopt;
  if (c.wanted[0]) r[0] = ops::layer_norm_backward(c.dy, x, weight, c.attrs.epsilon);
  std::vector<std::int64_t> rows;
  for (int i = 0; i + 1 < x.rank(); ++i) rows.push_back(i);
  auto sum_rows = [&](Value v) { return rows.empty() ? v : ops::reduce_sum(v, rows); };
  if (has_weight && c.wanted[1]) {
    const Value xhat = ops::layer_norm(x, std::nullopt, std::nullopt, c.attrs.epsilon);
    r[1] = sum_rows(c.dy * xhat);
  }
  const std::size_t bias = has_weight ? 2 : 1;
  if (c.attrs.has_bias && c.wanted[bias]) r[bias] = sum_rows(c.dy);
  return r;
}

GradResult grad_reduce_sum(const GradContext& c) {
  return {ops::reduce_sum_backward(c.dy, c.inputs[0], c.attrs.axes, c.attrs.keepdims)};
}
GradResult grad_reduce_mean(const GradContext& c) {
  return {ops::reduce_mean_backward(c.dy, c.inputs[0], c.attrs.axes, c.attrs.keepdims)};
}
GradResult grad_reduce_max(const GradContext& c) {
  return {ops::reduce_max_backward(c.dy, c.inputs[0], c.output, c.attrs.axes, c.attrs.keepdims)};
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

Value layer_norm_backward(Value dy, Value x, std::optional<Value> weight, float epsilon) {
  Attrs attrs;
  attrs.epsilon = epsilon;
  attrs.has_weight = weight.has_value();
  if (weight) return make_node(OpKind::LayerNormBackward, {dy, x, *weight}, std::move(attrs));
  return make_node(OpKind::LayerNormBackward, {dy, x}, std::move(attrs));
}

namespace {
Value reduce_backward(OpKind kind, std::vector<Value> inputs, std::vector<std::int64_t> axes,
                      bool keepdims) {
  Attrs attrs;
  attrs.axes = std::move(axes);
  attrs.keepdims = keepdims;
  return make_node(kind, inputs, std::move(attrs));
}
}  // namespace

Value reduce_sum_backward(Value dy, Value x, std::vector<std::int64_t> axes, bool keepdims) {
  return reduce_backward(OpKind::ReduceSumBackward, {dy, x}, std::move(axes), keepdims);
}
Value reduce_mean_backward(Value dy, Value x, std::vector<std::int64_t> axes, bool keepdims) {
  return reduce_backward(OpKind::ReduceMeanBackward, {dy, x}, std::move(axes), keepdims);
}
Value reduce_max_backward(Value dy, Value x, Value y, std::vector<std::int64_t> axes,
                          bool keepdims) {
  return reduce_backward(OpKind::ReduceMaxBackward, {dy, x, y}, std::move(axes), keepdims);
}

}  // namespace ops
}  // namespace tensorgraph
