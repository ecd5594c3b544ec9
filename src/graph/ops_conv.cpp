// 2-D convolution and pooling (NCHW activations, OIHW weights).
#include <fmt/format.h>

#include "builder.hpp"
#include "op_grad.hpp"
#include "op_infer.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {

namespace detail {

namespace {
// f32 inputs take f32, f16 or bf16 weights; f64 inputs (gradient checks) f64 weights.
bool weight_fits(DType x, DType w) {
  if (x == DType::F64) return w == DType::F64;
  return w == DType::F32 || w == DType::F16 || w == DType::BF16;
}
}  // namespace

TensorType infer_conv2d(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& x = in[0];
  const TensorType& w = in[1];
  require_float(op, x);
  TG_CHECK(weight_fits(x.dtype, w.dtype), "{}: the weight must be f32, f16 or bf16, got {}", op,
           dtype_name(w.dtype));
  TG_CHECK(x.shape.rank() == 4, "{}: the input must be [N, C, H, W], got {}", op,
           x.shape.to_string());
  TG_CHECK(w.shape.rank() == 4, "{}: the weight must be [O, C/groups, kH, kW], got {}", op,
           w.shape.to_string());
  TG_CHECK(w.shape.is_static(), "{}: the weight shape {} must be static", op, w.shape.to_string());
  const std::int64_t g = attrs.groups;
  TG_CHECK(g >= 1, "{}: groups must be >= 1, got {}", op, g);
  for (int i = 0; i < 2; ++i) {
    TG_CHECK(attrs.stride[i] >= 1, "{}: stride must be >= 1, got {}", op, attrs.stride[i]);
    TG_CHECK(attrs.dilation[i] >= 1, "{}: dilation must be >= 1, got {}", op, attrs.dilation[i]);
    TG_CHECK(attrs.padding[i] >= 0, "{}: padding must be >= 0, got {}", op, attrs.padding[i]);
  }
  const std::int64_t c = x.shape[1];
  const std::int64_t o = w.shape[0];
  TG_CHECK(o % g == 0, "{}: {} output channels are not divisible by {} groups", op, o, g);
  if (c >= 0)
    TG_CHECK(c == w.shape[1] * g,
             "{}: input {} has {} channels, weight {} with {} groups expects {}", op,
             x.shape.to_string(), c, w.shape.to_string(), g, w.shape[1] * g);
  if (attrs.has_bias) {
    TG_CHECK(in.size() == 3, "{}: bias missing", op);
    TG_CHECK(weight_fits(x.dtype, in[2].dtype), "{}: the bias must be f32, f16 or bf16", op);
    TG_CHECK(in[2].shape.rank() == 1 && in[2].shape[0] == o,
             "{}: bias {} does not match {} output channels", op, in[2].shape.to_string(), o);
  } else {
    TG_CHECK(in.size() == 2, "{}: unexpected third input (has_bias is false)", op);
  }
  Shape out{x.shape[0], o, 0, 0};
  for (int i = 0; i < 2; ++i)
    out[2 + i] = window_output_size(op, x.shape[2 + i], w.shape[2 + i], attrs.stride[i],
                                    attrs.padding[i], attrs.dilation[i]);
  return {x.dtype, out};
}

TensorType infer_pool2d(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& x = in[0];
  require_float(op, x);
  TG_CHECK(x.shape.rank() == 4, "{}: the input must be [N, C, H, W], got {}", op,
           x.shape.to_string());
  Shape out{x.shape[0], x.shape[1], 0, 0};
  for (int i = 0; i < 2; ++i) {
    TG_CHECK(attrs.kernel[i] >= 1, "{}: kernel size must be >= 1, got {}", op, attrs.kernel[i]);
    TG_CHECK(attrs.stride[i] >= 1, "{}: stride must be >= 1, got {}", op, attrs.stride[i]);
    TG_CHECK(attrs.padding[i] >= 0 && 2 * attrs.padding[i] <= attrs.kernel[i],
             "{}: padding {} must be between 0 and half the kernel size {}", op, attrs.padding[i],
             attrs.kernel[i]);
    out[2 + i] = window_output_size(op, x.shape[2 + i], attrs.kernel[i], attrs.stride[i],
                                    attrs.padding[i], 1);
  }
  return {x.dtype, out};
}

namespace {
void require_gradient_of(std::string_view op, const TensorType& dy, const TensorType& x) {
  require_float(op, dy, "gradient");
  TG_CHECK(dy.dtype == x.dtype, "{}: the gradient is {}, the input {}", op, dtype_name(dy.dtype),
           dtype_name(x.dtype));
}
}  // namespace

// (dy, weight, x)
TensorType infer_conv2d_backward_data(std::string_view op, const Attrs& attrs,
                                      std::span<const TensorType> in) {
  const TensorType& dy = in[0];
  const TensorType& x = in[2];
  require_gradient_of(op, dy, x);
  Attrs forward = attrs;
  forward.has_bias = false;
  const TensorType operands[] = {x, in[1]};
  require_compatible(op, dy.shape, infer_conv2d(op, forward, operands).shape, "the gradient");
  return x;
}

// (dy, x); attrs.shape is the weight shape
TensorType infer_conv2d_backward_weights(std::string_view op, const Attrs& attrs,
                                         std::span<const TensorType> in) {
  const TensorType& dy = in[0];
  const TensorType& x = in[1];
  require_gradient_of(op, dy, x);
  TG_CHECK(attrs.shape.size() == 4, "{}: the weight shape must have 4 dimensions, got {}", op,
           attrs.shape.size());
  const TensorType w{x.dtype, Shape(attrs.shape)};
  Attrs forward = attrs;
  forward.has_bias = false;
  const TensorType operands[] = {x, w};
  require_compatible(op, dy.shape, infer_conv2d(op, forward, operands).shape, "the gradient");
  return w;
}

// (dy, x)
TensorType infer_pool2d_backward(std::string_view op, const Attrs& attrs,
                                 std::span<const TensorType> in) {
  const TensorType& dy = in[0];
  const TensorType& x = in[1];
  require_gradient_of(op, dy, x);
  require_compatible(op, dy.shape, infer_pool2d(op, attrs, in.subspan(1, 1)).shape, "the gradient");
  return x;
}

// ---- gradients ----------------------------------------------------------------------------------

namespace {

ops::Conv2dOptions conv_options(const Attrs& a) {
  return {a.stride, a.padding, a.dilation, a.groups};
}

ops::Pool2dOptions pool_options(const Attrs& a) {
  return {a.kernel, a.stride, a.padding, a.count_include_pad};
}

}  // namespace

// dx and dweight through the backward ops; dbias sums dy over batch and positions (first over
// each channel's contiguous plane, then over the batch).
GradResult grad_conv2d(const GradContext& c) {
  GradResult r = no_grads(c);
  const Value x = c.inputs[0], w = c.inputs[1], dy = c.dy;
  const ops::Conv2dOptions options = conv_options(c.attrs);
  if (c.wanted[0]) {
    const Value w_as = w.dtype() == dy.dtype() ? w : ops::cast(w, dy.dtype());
    r[0] = ops::conv2d_backward_data(dy, w_as, x, options);
  }
  if (c.wanted[1]) {
    const Value dw = ops::conv2d_backward_weights(dy, x, w.shape(), options);
    r[1] = dw.dtype() == w.dtype() ? dw : ops::cast(dw, w.dtype());
  }
  if (c.attrs.has_bias && c.wanted[2]) {
    const Value per_plane = ops::reduce_sum(ops::reshape(dy, {0, 0, -1}), {2});
    const Value db = ops::reduce_sum(per_plane, {0});
    const DType bias_dtype = c.inputs[2].dtype();
    r[2] = db.dtype() == bias_dtype ? db : ops::cast(db, bias_dtype);
  }
  return r;
}

GradResult grad_max_pool2d(const GradContext& c) {
  return {ops::max_pool2d_backward(c.dy, c.inputs[0], pool_options(c.attrs))};
}

GradResult grad_avg_pool2d(const GradContext& c) {
  return {ops::avg_pool2d_backward(c.dy, c.inputs[0], pool_options(c.attrs))};
}

}  // namespace detail

namespace ops {

Value conv2d(Value x, Value weight, std::optional<Value> bias, const Conv2dOptions& options) {
  Attrs attrs;
  attrs.stride = options.stride;
  attrs.padding = options.padding;
  attrs.dilation = options.dilation;
  attrs.groups = options.groups;
  attrs.has_bias = bias.has_value();
  if (bias) return detail::make_node(OpKind::Conv2d, {x, weight, *bias}, std::move(attrs));
  return detail::make_node(OpKind::Conv2d, {x, weight}, std::move(attrs));
}

namespace {
// A pooling node over x, or its backward node over (dy, x) when `forward_input` is given.
Value pool(OpKind kind, Value x, const Pool2dOptions& options,
           std::optional<Value> forward_input = std::nullopt) {
  Attrs attrs;
  attrs.kernel = options.kernel;
  for (int i = 0; i < 2; ++i)
    attrs.stride[i] = options.stride[i] == 0 ? options.kernel[i] : options.stride[i];
  attrs.padding = options.padding;
  attrs.count_include_pad = options.count_include_pad;
  if (forward_input) return detail::make_node(kind, {x, *forward_input}, std::move(attrs));
  return detail::make_node(kind, {x}, std::move(attrs));
}
}  // namespace

Value max_pool2d(Value x, const Pool2dOptions& options) {
  return pool(OpKind::MaxPool2d, x, options);
}
Value avg_pool2d(Value x, const Pool2dOptions& options) {
  return pool(OpKind::AvgPool2d, x, options);
}

namespace {
Attrs conv_attrs(const Conv2dOptions& options) {
  Attrs attrs;
  attrs.stride = options.stride;
  attrs.padding = options.padding;
  attrs.dilation = options.dilation;
  attrs.groups = options.groups;
  return attrs;
}
}  // namespace

Value conv2d_backward_data(Value dy, Value weight, Value x, const Conv2dOptions& options) {
  return detail::make_node(OpKind::Conv2dBackwardData, {dy, weight, x}, conv_attrs(options));
}

Value conv2d_backward_weights(Value dy, Value x, const Shape& weight_shape,
                              const Conv2dOptions& options) {
  Attrs attrs = conv_attrs(options);
  attrs.shape = weight_shape.to_vector();
  return detail::make_node(OpKind::Conv2dBackwardWeights, {dy, x}, std::move(attrs));
}

Value max_pool2d_backward(Value dy, Value x, const Pool2dOptions& options) {
  return pool(OpKind::MaxPool2dBackward, dy, options, x);
}

Value avg_pool2d_backward(Value dy, Value x, const Pool2dOptions& options) {
  return pool(OpKind::AvgPool2dBackward, dy, options, x);
}

}  // namespace ops
}  // namespace tensorgraph
