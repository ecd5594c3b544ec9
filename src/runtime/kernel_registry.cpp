// The kernel table: for every op, its reference kernel and its fast (cpu) kernel factory.
#include <fmt/format.h>

#include "kernel.hpp"
#include "kernels/cpu/cpu.hpp"
#include "kernels/reference/reference.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/op_registry.hpp"

namespace tensorgraph::runtime {

namespace {

using CpuFactory = std::unique_ptr<Kernel> (*)(const KernelContext&);

struct KernelEntry {
  OpKind op;
  reference::Function reference;
  CpuFactory cpu;
};

// clang-format off
constexpr KernelEntry kKernels[] = {
    {OpKind::Add, reference::elementwise, cpu::make_elementwise},
    {OpKind::Sub, reference::elementwise, cpu::make_elementwise},
    {OpKind::Mul, reference::elementwise, cpu::make_elementwise},
    {OpKind::Div, reference::elementwise, cpu::make_elementwise},
    {OpKind::Pow, reference::elementwise, cpu::make_elementwise},
    {OpKind::Neg, reference::elementwise, cpu::make_elementwise},
    {OpKind::Relu, reference::elementwise, cpu::make_elementwise},
    {OpKind::Gelu, reference::elementwise, cpu::make_elementwise},
    {OpKind::Tanh, reference::elementwise, cpu::make_elementwise},
    {OpKind::Sigmoid, reference::elementwise, cpu::make_elementwise},
    {OpKind::Exp, reference::elementwise, cpu::make_elementwise},
    {OpKind::Log, reference::elementwise, cpu::make_elementwise},
    {OpKind::Sqrt, reference::elementwise, cpu::make_elementwise},
    {OpKind::Rsqrt, reference::elementwise, cpu::make_elementwise},
    {OpKind::Where, reference::where, cpu::make_where},
    {OpKind::Cast, reference::cast, cpu::make_cast},
    {OpKind::MatMul, reference::matmul, cpu::make_matmul},
    {OpKind::Linear, reference::linear, cpu::make_matmul},
    {OpKind::Reshape, reference::copy, cpu::make_copy},
    {OpKind::Transpose, reference::transpose, cpu::make_transpose},
    {OpKind::Concat, reference::concat, cpu::make_concat},
    {OpKind::Slice, reference::slice, cpu::make_slice},
    {OpKind::Gather, reference::gather, cpu::make_gather},
    {OpKind::Softmax, reference::softmax, cpu::make_softmax},
    {OpKind::LogSoftmax, reference::softmax, cpu::make_softmax},
    {OpKind::LayerNorm, reference::layer_norm, cpu::make_layer_norm},
    {OpKind::ReduceSum, reference::reduce, cpu::make_reduce},
    {OpKind::ReduceMean, reference::reduce, cpu::make_reduce},
    {OpKind::ReduceMax, reference::reduce, cpu::make_reduce},
    {OpKind::Conv2d, reference::conv2d, cpu::make_conv2d},
    {OpKind::MaxPool2d, reference::pool2d, cpu::make_pool2d},
    {OpKind::AvgPool2d, reference::pool2d, cpu::make_pool2d},
    {OpKind::ReluBackward, reference::elementwise, cpu::make_elementwise},
    {OpKind::GeluBackward, reference::elementwise, cpu::make_elementwise},
    {OpKind::SliceBackward, reference::slice_backward, cpu::make_slice_backward},
    {OpKind::GatherBackward, reference::gather_backward, cpu::make_gather_backward},
    {OpKind::LayerNormBackward, reference::layer_norm_backward, cpu::make_layer_norm_backward},
    {OpKind::ReduceSumBackward, reference::reduce_backward, cpu::make_reduce_backward},
    {OpKind::ReduceMeanBackward, reference::reduce_backward, cpu::make_reduce_backward},
    {OpKind::ReduceMaxBackward, reference::reduce_backward, cpu::make_reduce_backward},
    {OpKind::Conv2dBackwardData, reference::conv2d_backward_data, cpu::make_conv2d_backward_data},
    {OpKind::Conv2dBackwardWeights, reference::conv2d_backward_weights, cpu::make_conv2d_backward_weights},
    {OpKind::MaxPool2dBackward, reference::pool2d_backward, cpu::make_pool2d_backward},
    {OpKind::AvgPool2dBackward, reference::pool2d_backward, cpu::make_pool2d_backward},
    {OpKind::FusedElementwise, reference::fused_elementwise, cpu::make_elementwise},
};
// clang-format on

const KernelEntry& entry(OpKind op) {
  for (const KernelEntry& e : kKernels)
    if (e.op == op) return e;
  fail("no kernel for op {}", op_name(op));
}

class ReferenceKernel final : public Kernel {
 public:
  ReferenceKernel(OpKind op, Attrs attrs, reference::Function fn)
      : op_(op), attrs_(std::move(attrs)), fn_(fn) {}
  void run(const KernelArgs& args) override { fn_(op_, attrs_, args); }
  std::string name() const override { return fmt::format("reference {}", op_name(op_)); }

 private:
  OpKind op_;
  Attrs attrs_;
  reference::Function fn_;
};

// The cpu kernels are f32 (and integer) kernels; f64 graphs, which exist for gradient checks in
// double precision, run on the reference kernels in either set.
bool is_f64(const KernelContext& ctx) {
  const Node& node = ctx.node();
  if (node.op == OpKind::Cast) return false;
  if (node.dtype == DType::F64) return true;
  for (NodeId in : node.inputs)
    if (ctx.graph.node(in).dtype == DType::F64) return true;
  return false;
}

}  // namespace

std::unique_ptr<Kernel> make_kernel(KernelSet set, const KernelContext& ctx) {
  const Node& node = ctx.node();
  const KernelEntry& e = entry(node.op);
  if (set == KernelSet::Reference || is_f64(ctx))
    return std::make_unique<ReferenceKernel>(node.op, node.attrs, e.reference);
  return e.cpu(ctx);
}

Tensor evaluate_reference(const Node& node, std::span<const Tensor> inputs,
                          const Shape& out_shape) {
  const KernelEntry& e = entry(node.op);
  std::vector<TensorRef> refs;
  refs.reserve(inputs.size());
  for (const Tensor& t : inputs) refs.push_back({const_cast<void*>(t.raw()), t.dtype(), t.shape()});
  Tensor out = Tensor::empty(node.dtype, out_shape);
  KernelArgs args;
  args.inputs = refs;
  args.output = {out.raw_mutable(), out.dtype(), out.shape()};
  args.threads = 1;
  e.reference(node.op, node.attrs, args);
  return out;
}

}  // namespace tensorgraph::runtime
