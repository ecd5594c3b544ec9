// 2-D convolution and pooling (NCHW activations, OIHW weights).
#include <fmt/format.h>

#include "builder.hpp"
#include "op_infer.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {

namespace detail {

TensorType infer_conv2d(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& x = in[0];
  const TensorType& w = in[1];
  require_f32(op, x);
  TG_CHECK(w.dtype == DType::F32 || w.dtype == DType::F16 || w.dtype == DType::BF16,
           "{}: the weight must be f32, f16 or bf16, got {}", op, dtype_name(w.dtype));
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
    TG_CHECK(in[2].dtype == DType::F32 || in[2].dtype == DType::F16 || in[2].dtype == DType::BF16,
             "{}: the bias must be f32, f16 or bf16", op);
    TG_CHECK(in[2].shape.rank() == 1 && in[2].shape[0] == o,
             "{}: bias {} does not match {} output channels", op, in[2].shape.to_string(), o);
  } else {
    TG_CHECK(in.size() == 2, "{}: unexpected third input (has_bias is false)", op);
  }
  Shape out{x.shape[0], o, 0, 0};
  for (int i = 0; i < 2; ++i)
    out[2 + i] = window_output_size(op, x.shape[2 + i], w.shape[2 + i], attrs.stride[i],
                                    attrs.padding[i], attrs.dilation[i]);
  return {DType::F32, out};
}

TensorType infer_pool2d(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& x = in[0];
  require_f32(op, x);
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
  return {DType::F32, out};
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
Value pool(OpKind kind, Value x, const Pool2dOptions& options) {
  Attrs attrs;
  attrs.kernel = options.kernel;
  for (int i = 0; i < 2; ++i)
    attrs.stride[i] = options.stride[i] == 0 ? options.kernel[i] : options.stride[i];
  attrs.padding = options.padding;
  attrs.count_include_pad = options.count_include_pad;
  return detail::make_node(kind, {x}, std::move(attrs));
}
}  // namespace

Value max_pool2d(Value x, const Pool2dOptions& options) {
  return pool(OpKind::MaxPool2d, x, options);
}
Value avg_pool2d(Value x, const Pool2dOptions& options) {
  return pool(OpKind::AvgPool2d, x, options);
}

}  // namespace ops
}  // namespace tensorgraph
