// Matrix products: matmul (batched, transposes) and linear (x W^T + b), with fused post-ops.
#include <fmt/format.h>

#include "builder.hpp"
#include "op_infer.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {

namespace detail {
namespace {

bool is_float_weight(DType d) {
  return d == DType::F32 || d == DType::F16 || d == DType::BF16;
}

// Post-op inputs (for Add) start after `first_extra`; each must broadcast into the result
// without changing its shape.
void check_post_ops(std::string_view op, const Attrs& attrs, std::span<const TensorType> in,
                    std::size_t first_extra, const Shape& out) {
  std::size_t expected = first_extra;
  for (const PostOp& p : attrs.post_ops) {
    if (p.kind != PostOpKind::Add) continue;
    TG_CHECK(p.input >= 0 && static_cast<std::size_t>(p.input) < in.size(),
             "{}: post-op add reads input {} of {}", op, p.input, in.size());
    TG_CHECK(static_cast<std::size_t>(p.input) == expected, "{}: post-op inputs out of order", op);
    ++expected;
    require_f32(op, in[p.input], "post-op operand");
    TG_CHECK(broadcast_shapes(op, out, in[p.input].shape) == out,
             "{}: post-op operand {} does not broadcast to the result {}", op,
             in[p.input].shape.to_string(), out.to_string());
  }
  TG_CHECK(expected == in.size(), "{}: {} inputs, expected {}", op, in.size(), expected);
}

}  // namespace

TensorType infer_matmul(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& a = in[0];
  const TensorType& b = in[1];
  require_f32(op, a, "first operand");
  require_f32(op, b, "second operand");
  TG_CHECK(a.shape.rank() >= 2 && b.shape.rank() >= 2,
           "{}: operands must have rank >= 2, got {} x {}", op, a.shape.to_string(),
           b.shape.to_string());
  const std::int64_t m = attrs.transpose_a ? a.shape[-1] : a.shape[-2];
  const std::int64_t ka = attrs.transpose_a ? a.shape[-2] : a.shape[-1];
  const std::int64_t kb = attrs.transpose_b ? b.shape[-1] : b.shape[-2];
  const std::int64_t n = attrs.transpose_b ? b.shape[-2] : b.shape[-1];
  if (ka >= 0 && kb >= 0 && ka != kb)
    fail("{}: inner dimensions differ: {}{} x {}{}", op, a.shape.to_string(),
         attrs.transpose_a ? "^T" : "", b.shape.to_string(), attrs.transpose_b ? "^T" : "");
  std::vector<std::int64_t> batch_a(a.shape.dims().begin(), a.shape.dims().end() - 2);
  std::vector<std::int64_t> batch_b(b.shape.dims().begin(), b.shape.dims().end() - 2);
  Shape out = broadcast_shapes(op, Shape(batch_a), Shape(batch_b));
  out.push_back(m);
  out.push_back(n);
  check_post_ops(op, attrs, in, 2, out);
  return {DType::F32, out};
}

TensorType infer_linear(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& x = in[0];
  const TensorType& w = in[1];
  require_f32(op, x);
  TG_CHECK(is_float_weight(w.dtype), "{}: the weight must be f32, f16 or bf16, got {}", op,
           dtype_name(w.dtype));
  TG_CHECK(x.shape.rank() >= 1, "{}: the input must have rank >= 1", op);
  TG_CHECK(w.shape.rank() == 2, "{}: the weight must be [out, in], got {}", op,
           w.shape.to_string());
  const std::int64_t k = x.shape[-1];
  if (k >= 0 && w.shape[1] >= 0 && k != w.shape[1])
    fail("{}: input features differ: x {} x weight {} (expects [out, {}])", op, x.shape.to_string(),
         w.shape.to_string(), k);
  std::size_t extra = 2;
  if (attrs.has_bias) {
    TG_CHECK(in.size() >= 3, "{}: bias missing", op);
    const TensorType& b = in[2];
    TG_CHECK(is_float_weight(b.dtype), "{}: the bias must be f32, f16 or bf16, got {}", op,
             dtype_name(b.dtype));
    TG_CHECK(b.shape.rank() == 1 && (b.shape[0] == w.shape[0] || b.shape[0] < 0 || w.shape[0] < 0),
             "{}: bias {} does not match weight {} (expects [{}])", op, b.shape.to_string(),
             w.shape.to_string(), w.shape[0]);
    extra = 3;
  }
  Shape out = x.shape;
  out[-1] = w.shape[0];
  check_post_ops(op, attrs, in, extra, out);
  return {DType::F32, out};
}

}  // namespace detail

namespace ops {

Value matmul(Value a, Value b, bool transpose_a, bool transpose_b) {
  Attrs attrs;
  attrs.transpose_a = transpose_a;
  attrs.transpose_b = transpose_b;
  return detail::make_node(OpKind::MatMul, {a, b}, std::move(attrs));
}

Value linear(Value x, Value weight, std::optional<Value> bias) {
  Attrs attrs;
  attrs.has_bias = bias.has_value();
  if (bias) return detail::make_node(OpKind::Linear, {x, weight, *bias}, std::move(attrs));
  return detail::make_node(OpKind::Linear, {x, weight}, std::move(attrs));
}

}  // namespace ops
}  // namespace tensorgraph
