// Element-wise ops: builders, inference, and the fused element-wise program they may become.
#include <fmt/format.h>

#include "builder.hpp"
#include "op_grad.hpp"
#include "op_infer.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {

namespace detail {

TensorType infer_binary(std::string_view op, const Attrs&, std::span<const TensorType> in) {
  require_float(op, in[0], "first operand");
  require_float(op, in[1], "second operand");
  TG_CHECK(in[0].dtype == in[1].dtype, "{}: operands have different dtypes: {}{} and {}{}", op,
           dtype_name(in[0].dtype), in[0].shape.to_string(), dtype_name(in[1].dtype),
           in[1].shape.to_string());
  return {in[0].dtype, broadcast_shapes(op, in[0].shape, in[1].shape)};
}

TensorType infer_unary(std::string_view op, const Attrs&, std::span<const TensorType> in) {
  require_float(op, in[0]);
  return in[0];
}

TensorType infer_where(std::string_view op, const Attrs&, std::span<const TensorType> in) {
  TG_CHECK(in[1].dtype == in[2].dtype, "{}: the two branches have different dtypes: {}{} and {}{}",
           op, dtype_name(in[1].dtype), in[1].shape.to_string(), dtype_name(in[2].dtype),
           in[2].shape.to_string());
  const Shape ab = broadcast_shapes(op, in[1].shape, in[2].shape);
  return {in[1].dtype, broadcast_shapes(op, in[0].shape, ab)};
}

TensorType infer_cast(std::string_view, const Attrs& attrs, std::span<const TensorType> in) {
  return {attrs.dtype, in[0].shape};
}

TensorType infer_fused_elementwise(std::string_view op, const Attrs& attrs,
                                   std::span<const TensorType> in) {
  TG_CHECK(attrs.program != nullptr, "{}: no program", op);
  TG_CHECK(attrs.program->num_inputs == static_cast<int>(in.size()),
           "{}: the program reads {} inputs, the node has {}", op, attrs.program->num_inputs,
           in.size());
  TG_CHECK(!attrs.program->code.empty(), "{}: empty program", op);
  Shape shape = in[0].shape;
  for (const TensorType& t : in) {
    require_f32(op, t);
    shape = broadcast_shapes(op, shape, t.shape);
  }
  return {DType::F32, shape};
}

// ---- gradients ----------------------------------------------------------------------------------

using autodiff::sum_to;

GradResult grad_add(const GradContext& c) {
  GradResult r = no_grads(c);
  for (int i = 0; i < 2; ++i)
    if (c.wanted[i]) r[i] = sum_to(c.dy, c.inputs[i].shape());
  return r;
}

GradResult grad_sub(const GradContext& c) {
  GradResult r = no_grads(c);
  if (c.wanted[0]) r[0] = sum_to(c.dy, c.inputs[0].shape());
  if (c.wanted[1]) r[1] = sum_to(ops::neg(c.dy), c.inputs[1].shape());
  return r;
}

GradResult grad_mul(const GradContext& c) {
  GradResult r = no_grads(c);
  if (c.wanted[0]) r[0] = sum_to(c.dy * c.inputs[1], c.inputs[0].shape());
  if (c.wanted[1]) r[1] = sum_to(c.dy * c.inputs[0], c.inputs[1].shape());
  return r;
}

GradResult grad_div(const GradContext& c) {  // y = a / b: dy/da = 1/b, dy/db = -y/b
  GradResult r = no_grads(c);
  const Value q = c.dy / c.inputs[1];
  if (c.wanted[0]) r[0] = sum_to(q, c.inputs[0].shape());
  if (c.wanted[1]) r[1] = sum_to(ops::neg(q * c.output), c.inputs[1].shape());
  return r;
}

GradResult grad_pow(const GradContext& c) {  // y = a^b: dy/da = b a^(b-1), dy/db = y ln(a)
  GradResult r = no_grads(c);
  const Value a = c.inputs[0], b = c.inputs[1];
  if (c.wanted[0]) r[0] = sum_to(c.dy * (b * ops::pow(a, b - c.scalar(1))), a.shape());
  if (c.wanted[1]) r[1] = sum_to(c.dy * (c.output * ops::log(a)), b.shape());
  return r;
}

GradResult grad_neg(const GradContext& c) {
  return {ops::neg(c.dy)};
}
GradResult grad_relu(const GradContext& c) {  // from the output: y > 0 exactly where x > 0
  return {ops::relu_backward(c.dy, c.output)};
}
GradResult grad_gelu(const GradContext& c) {
  return {ops::gelu_backward(c.dy, c.inputs[0])};
}
GradResult grad_tanh(const GradContext& c) {  // 1 - y^2
  return {c.dy * (c.scalar(1) - c.output * c.output)};
}
GradResult grad_sigmoid(const GradContext& c) {  // y (1 - y)
  return {c.dy * (c.output * (c.scalar(1) - c.output))};
}
GradResult grad_exp(const GradContext& c) {
  return {c.dy * c.output};
}
GradResult grad_log(const GradContext& c) {
  return {c.dy / c.inputs[0]};
}
GradResult grad_sqrt(const GradContext& c) {  // 1 / (2 y)
  return {(c.dy / c.output) * c.scalar(0.5)};
}
GradResult grad_rsqrt(const GradContext& c) {  // -y^3 / 2
  return {c.dy * (c.output * c.output * c.output * c.scalar(-0.5))};
}

GradResult grad_where(const GradContext& c) {  // where(cond, a, b): the chosen branch gets dy
  GradResult r = no_grads(c);
  const Value cond = c.inputs[0];
  const Value zero = c.scalar(0);
  if (c.wanted[1]) r[1] = sum_to(ops::where(cond, c.dy, zero), c.inputs[1].shape());
  if (c.wanted[2]) r[2] = sum_to(ops::where(cond, zero, c.dy), c.inputs[2].shape());
  return r;
}

GradResult grad_cast(const GradContext& c) {  // between float types: cast the gradient back
  GradResult r = no_grads(c);
  const DType from = c.inputs[0].dtype();
  if (c.wanted[0] && is_floating(from)) r[0] = ops::cast(c.dy, from);
  return r;
}

}  // namespace detail

const char* ew_op_name(EwOp op) {
  switch (op) {
    case EwOp::Const:
      return "const";
    case EwOp::Add:
      return "add";
    case EwOp::Sub:
      return "sub";
    case EwOp::Mul:
      return "mul";
    case EwOp::Div:
      return "div";
    case EwOp::Pow:
      return "pow";
    case EwOp::Neg:
      return "neg";
    case EwOp::Relu:
      return "relu";
    case EwOp::Gelu:
      return "gelu";
    case EwOp::Tanh:
      return "tanh";
    case EwOp::Sigmoid:
      return "sigmoid";
    case EwOp::Exp:
      return "exp";
    case EwOp::Log:
      return "log";
    case EwOp::Sqrt:
      return "sqrt";
    case EwOp::Rsqrt:
      return "rsqrt";
    case EwOp::ReluBackward:
      return "relu_backward";
    case EwOp::GeluBackward:
      return "gelu_backward";
  }
  return "?";
}

int ew_op_arity(EwOp op) {
  switch (op) {
    case EwOp::Const:
      return 0;
    case EwOp::Add:
    case EwOp::Sub:
    case EwOp::Mul:
    case EwOp::Div:
    case EwOp::Pow:
    case EwOp::ReluBackward:
    case EwOp::GeluBackward:
      return 2;
    default:
      return 1;
  }
}

std::string ElementwiseProgram::to_string() const {
  std::vector<std::string> text(static_cast<std::size_t>(num_registers()));
  for (int i = 0; i < num_inputs; ++i) text[i] = fmt::format("in{}", i);
  for (std::size_t i = 0; i < code.size(); ++i) {
    const EwInstr& ins = code[i];
    std::string& t = text[num_inputs + i];
    switch (ew_op_arity(ins.op)) {
      case 0:
        t = fmt::format("{}", ins.imm);
        break;
      case 1:
        t = fmt::format("{}({})", ew_op_name(ins.op), text[ins.a]);
        break;
      default:
        t = fmt::format("{}({}, {})", ew_op_name(ins.op), text[ins.a], text[ins.b]);
        break;
    }
  }
  return code.empty() ? std::string("()") : text.back();
}

namespace ops {

using detail::make_node;

Value add(Value a, Value b) {
  return make_node(OpKind::Add, {a, b});
}
Value sub(Value a, Value b) {
  return make_node(OpKind::Sub, {a, b});
}
Value mul(Value a, Value b) {
  return make_node(OpKind::Mul, {a, b});
}
Value div(Value a, Value b) {
  return make_node(OpKind::Div, {a, b});
}
Value pow(Value a, Value b) {
  return make_node(OpKind::Pow, {a, b});
}
Value pow(Value a, float exponent) {
  TG_CHECK(a.valid(), "pow: the input Value is empty");
  return make_node(OpKind::Pow, {a, a.graph->scalar(exponent)});
}
Value neg(Value x) {
  return make_node(OpKind::Neg, {x});
}
Value relu(Value x) {
  return make_node(OpKind::Relu, {x});
}
Value gelu(Value x) {
  return make_node(OpKind::Gelu, {x});
}
Value tanh(Value x) {
  return make_node(OpKind::Tanh, {x});
}
Value sigmoid(Value x) {
  return make_node(OpKind::Sigmoid, {x});
}
Value exp(Value x) {
  return make_node(OpKind::Exp, {x});
}
Value log(Value x) {
  return make_node(OpKind::Log, {x});
}
Value sqrt(Value x) {
  return make_node(OpKind::Sqrt, {x});
}
Value rsqrt(Value x) {
  return make_node(OpKind::Rsqrt, {x});
}
Value where(Value cond, Value a, Value b) {
  return make_node(OpKind::Where, {cond, a, b});
}
Value relu_backward(Value dy, Value y) {
  return make_node(OpKind::ReluBackward, {dy, y});
}
Value gelu_backward(Value dy, Value x) {
  return make_node(OpKind::GeluBackward, {dy, x});
}
Value cast(Value x, DType dtype) {
  Attrs attrs;
  attrs.dtype = dtype;
  return make_node(OpKind::Cast, {x}, std::move(attrs));
}

}  // namespace ops
}  // namespace tensorgraph
