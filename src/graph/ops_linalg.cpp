// Matrix products: matmul (batched, transposes) and linear (x W^T + b), with fused post-ops.
#include <fmt/format.h>

#include "builder.hpp"
#include "op_grad.hpp"
#include "op_infer.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {

namespace detail {
namespace {

bool is_float_weight(DType d) {
  return d == DType::F32 || d == DType::F16 || d == DType::BF16;
}

// Weights of an f32 input may be stored as f32, f16 or bf16; an f64 input (gradient checks on
// the reference kernels) takes f64 weights.
bool weight_fits(DType x, DType w) {
  return x == DType::F64 ? w == DType::F64 : is_float_weight(w);
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
  require_float(op, a, "first operand");
  require_float(op, b, "second operand");
  TG_CHECK(a.dtype == b.dtype, "{}: operands have different dtypes: {}{} and {}{}", op,
           dtype_name(a.dtype), a.shape.to_string(), dtype_name(b.dtype), b.shape.to_string());
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
  return {a.dtype, out};
}

TensorType infer_linear(std::string_view op, const Attrs& attrs, std::span<const TensorType> in) {
  const TensorType& x = in[0];
  const TensorType& w = in[1];
  require_float(op, x);
  TG_CHECK(weight_fits(x.dtype, w.dtype), "{}: the weight must be f32, f16 or bf16, got {}", op,
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
    TG_CHECK(weight_fits(x.dtype, b.dtype), "{}: the bias must be f32, f16 or bf16, got {}", op,
             dtype_name(b.dtype));
    TG_CHECK(b.shape.rank() == 1 && (b.shape[0] == w.shape[0] || b.shape[0] < 0 || w.shape[0] < 0),
             "{}: bias {} does not match weight {} (expects [{}])", op, b.shape.to_string(),
             w.shape.to_string(), w.shape[0]);
    extra = 3;
  }
  Shape out = x.shape;
  out[-1] = w.shape[0];
  check_post_ops(op, attrs, in, extra, out);
  return {x.dtype, out};
}

// ---- gradients ----------------------------------------------------------------------------------

namespace {

void require_unfused(const GradContext& c) {
  TG_CHECK(c.attrs.post_ops.empty(),
           "{} with fused post-ops has no gradient: differentiate the graph before compiling it",
           op_name(c.op));
}

// The value in `dtype` (f16/bf16 weights meet f32 gradients).
Value as_dtype(Value v, DType dtype) {
  return v.dtype() == dtype ? v : ops::cast(v, dtype);
}

}  // namespace

// C = op(A) op(B) with op() an optional transpose of the last two dimensions. With A, B, C as
// stored: dA = dC B^T (A^T stored: B dC^T), dB = A^T dC (B^T stored: dC^T A); batch dimensions
// that were broadcast are summed back.
GradResult grad_matmul(const GradContext& c) {
  require_unfused(c);
  GradResult r = no_grads(c);
  const Value a = c.inputs[0], b = c.inputs[1], dy = c.dy;
  const bool ta = c.attrs.transpose_a, tb = c.attrs.transpose_b;
  if (c.wanted[0]) {
    const Value da = ta ? ops::matmul(b, dy, tb, true) : ops::matmul(dy, b, false, !tb);
    r[0] = autodiff::sum_to(da, a.shape());
  }
  if (c.wanted[1]) {
    const Value db = tb ? ops::matmul(dy, a, true, ta) : ops::matmul(a, dy, !ta, false);
    r[1] = autodiff::sum_to(db, b.shape());
  }
  return r;
}

// y = x W^T + b over the last dimension: dx = dy W, dW = dy^T x over all rows, db = sum of dy.
GradResult grad_linear(const GradContext& c) {
  require_unfused(c);
  GradResult r = no_grads(c);
  const Value x = c.inputs[0], w = c.inputs[1], dy = c.dy;
  const Shape xs = x.shape();
  const std::int64_t out_features = w.shape()[0], in_features = w.shape()[1];
  const bool vector = xs.rank() == 1;
  if (c.wanted[0]) {
    const Value w_as = as_dtype(w, dy.dtype());
    if (vector)
      r[0] = ops::reshape(ops::matmul(ops::reshape(dy, {1, out_features}), w_as), {in_features});
    else
      r[0] = ops::matmul(dy, w_as);
  }
  if (c.wanted[1]) {
    const Value dy2 = xs.rank() == 2 ? dy : ops::reshape(dy, {-1, out_features});
    const Value x2 = xs.rank() == 2 ? x : ops::reshape(x, {-1, in_features});
    r[1] = as_dtype(ops::matmul(dy2, x2, true, false), w.dtype());
  }
  if (c.attrs.has_bias && c.wanted[2]) {
    std::vector<std::int64_t> rows;
    for (int i = 0; i + 1 < xs.rank(); ++i) rows.push_back(i);
    r[2] = as_dtype(rows.empty() ? dy : ops::reduce_sum(dy, rows), c.inputs[2].dtype());
  }
  return r;
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
