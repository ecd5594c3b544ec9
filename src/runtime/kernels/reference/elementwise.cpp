// Reference element-wise kernels: one output element at a time, in double.
#include <cstring>

#include "reference.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/op_registry.hpp"

namespace tensorgraph::runtime::reference {

namespace {

double apply_unary(OpKind op, double x) {
  switch (op) {
    case OpKind::Neg:
      return -x;
    case OpKind::Relu:
      return x < 0 ? 0.0 : x;  // NaN stays NaN
    case OpKind::Gelu:
      return gelu_exact(x);
    case OpKind::Tanh:
      return std::tanh(x);
    case OpKind::Sigmoid:
      return sigmoid_exact(x);
    case OpKind::Exp:
      return std::exp(x);
    case OpKind::Log:
      return std::log(x);
    case OpKind::Sqrt:
      return std::sqrt(x);
    case OpKind::Rsqrt:
      return 1.0 / std::sqrt(x);
    default:
      fail("reference: {} is not a unary element-wise op", op_name(op));
  }
}

double apply_binary(OpKind op, double a, double b) {
  switch (op) {
    case OpKind::Add:
      return a + b;
    case OpKind::Sub:
      return a - b;
    case OpKind::Mul:
      return a * b;
    case OpKind::Div:
      return a / b;
    case OpKind::Pow:
      return std::pow(a, b);
    case OpKind::ReluBackward:
      return b > 0 ? a : 0.0;
    case OpKind::GeluBackward:
      return a * gelu_derivative_exact(b);
    default:
      fail("reference: {} is not a binary element-wise op", op_name(op));
  }
}

double apply_ew(EwOp op, double a, double b) {
  switch (op) {
    case EwOp::Add:
      return a + b;
    case EwOp::Sub:
      return a - b;
    case EwOp::Mul:
      return a * b;
    case EwOp::Div:
      return a / b;
    case EwOp::Pow:
      return std::pow(a, b);
    case EwOp::Neg:
      return -a;
    case EwOp::Relu:
      return a < 0 ? 0.0 : a;
    case EwOp::Gelu:
      return gelu_exact(a);
    case EwOp::Tanh:
      return std::tanh(a);
    case EwOp::Sigmoid:
      return sigmoid_exact(a);
    case EwOp::Exp:
      return std::exp(a);
    case EwOp::Log:
      return std::log(a);
    case EwOp::Sqrt:
      return std::sqrt(a);
    case EwOp::Rsqrt:
      return 1.0 / std::sqrt(a);
    case EwOp::ReluBackward:
      return b > 0 ? a : 0.0;
    case EwOp::GeluBackward:
      return a * gelu_derivative_exact(b);
    case EwOp::Const:
      break;
  }
  fail("reference: invalid element-wise instruction");
}

}  // namespace

void elementwise(OpKind op, const Attrs&, const KernelArgs& args) {
  const TensorRef& out = args.output;
  const std::int64_t n = out.numel();
  if (args.inputs.size() == 1) {
    const TensorRef& a = args.inputs[0];
    for (std::int64_t i = 0; i < n; ++i) store(out, i, apply_unary(op, load(a, i)));
    return;
  }
  const TensorRef& a = args.inputs[0];
  const TensorRef& b = args.inputs[1];
  for (std::int64_t i = 0; i < n; ++i) {
    const auto c = unravel(out.shape, i);
    const double va = load(a, broadcast_index(a.shape, out.shape, c));
    const double vb = load(b, broadcast_index(b.shape, out.shape, c));
    store(out, i, apply_binary(op, va, vb));
  }
}

void fused_elementwise(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const ElementwiseProgram& program = *attrs.program;
  const TensorRef& out = args.output;
  std::vector<double> regs(static_cast<std::size_t>(program.num_registers()));
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    const auto c = unravel(out.shape, i);
    for (int k = 0; k < program.num_inputs; ++k) {
      const TensorRef& in = args.inputs[k];
      regs[k] = load(in, broadcast_index(in.shape, out.shape, c));
    }
    for (std::size_t k = 0; k < program.code.size(); ++k) {
      const EwInstr& ins = program.code[k];
      double& r = regs[program.num_inputs + k];
      if (ins.op == EwOp::Const)
        r = ins.imm;
      else
        r = apply_ew(ins.op, regs[ins.a], ins.b >= 0 ? regs[ins.b] : 0.0);
    }
    store(out, i, regs.back());
  }
}

void where(OpKind, const Attrs&, const KernelArgs& args) {
  const TensorRef& out = args.output;
  const TensorRef& cond = args.inputs[0];
  const TensorRef& a = args.inputs[1];
  const TensorRef& b = args.inputs[2];
  const std::size_t size = dtype_size(out.dtype);
  auto* y = static_cast<std::byte*>(out.data);
  for (std::int64_t i = 0; i < out.numel(); ++i) {
    const auto c = unravel(out.shape, i);
    const bool take_a = load(cond, broadcast_index(cond.shape, out.shape, c)) != 0;
    const TensorRef& src = take_a ? a : b;
    const std::int64_t j = broadcast_index(src.shape, out.shape, c);
    std::memcpy(y + i * size, static_cast<const std::byte*>(src.data) + j * size, size);
  }
}

void cast(OpKind, const Attrs& attrs, const KernelArgs& args) {
  // The conversion rules of Tensor::to (core), applied to a view of the input.
  const TensorRef& in = args.inputs[0];
  const Tensor view = Tensor::borrow(in.dtype, in.shape, in.data);
  const Tensor converted = view.to(attrs.dtype);
  if (converted.nbytes()) std::memcpy(args.output.data, converted.raw(), converted.nbytes());
}

}  // namespace tensorgraph::runtime::reference
