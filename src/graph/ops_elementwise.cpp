// Element-wise ops: builders, inference, and the fused element-wise program they may become.
#include <fmt/format.h>

#include "builder.hpp"
#include "op_infer.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {

namespace detail {

TensorType infer_binary(std::string_view op, const Attrs&, std::span<const TensorType> in) {
  require_f32(op, in[0], "first operand");
  require_f32(op, in[1], "second operand");
  return {DType::F32, broadcast_shapes(op, in[0].shape, in[1].shape)};
}

TensorType infer_unary(std::string_view op, const Attrs&, std::span<const TensorType> in) {
  require_f32(op, in[0]);
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
Value cast(Value x, DType dtype) {
  Attrs attrs;
  attrs.dtype = dtype;
  return make_node(OpKind::Cast, {x}, std::move(attrs));
}

}  // namespace ops
}  // namespace tensorgraph
