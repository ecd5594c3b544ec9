#pragma once
// Reverse-mode automatic differentiation on the graph: grad() appends to the graph the nodes that
// compute d loss / d param, built from every op's gradient function (OpDef::grad, defined next to
// the op's inference in src/graph/ops_*.cpp). The gradients are ordinary graph values: declare
// them as outputs and compile() runs forward and backward in one plan (memory planned together,
// activations kept exactly as long as the backward nodes need them).
//
//   Graph g;
//   Value x = g.input("x", DType::F32, {-1, 8});
//   Value w = g.input("w", DType::F32, {1, 8});
//   Value loss = ops::reduce_mean(ops::relu(ops::linear(x, w)));
//   std::vector<Value> dw = grad(loss, {w});
//   g.output("loss", loss);
//   g.output("dw", dw[0]);
//
// Differentiate before compile(): fused nodes (the fusion pass runs inside compile) have no
// gradient. Backward ops (conv2d_backward_data, max_pool2d_backward...) are ops like any other:
// in the op table, with shape inference and kernels in both kernel sets; they are not
// differentiable themselves (no second derivatives).
#include <span>
#include <vector>

#include "tensorgraph/graph/graph.hpp"

namespace tensorgraph {

// d loss / d param for each of `params` (graph inputs or any other float values the loss depends
// on), appended to the loss's graph. `loss` must have one element. Throws Error when the loss
// does not depend on a param or the path from it crosses an op without a gradient.
std::vector<Value> grad(Value loss, std::span<const Value> params);
std::vector<Value> grad(Value loss, std::initializer_list<Value> params);
// The same with d loss / d output given (`output_grad` has `output`'s dtype and shape): the
// vector-Jacobian product of any value.
std::vector<Value> grad(Value output, std::span<const Value> params, Value output_grad);

// What an op's gradient function sees. The node's fields are copied here because building new
// nodes may move the graph's storage.
struct GradContext {
  Graph* graph = nullptr;
  NodeId node = kNoNode;      // the forward node
  OpKind op = OpKind::Input;  // its op
  Attrs attrs;                // its attributes
  std::vector<Value> inputs;  // its inputs
  Value output;               // its result
  Value dy;                   // d loss / d output: the output's dtype and shape
  std::vector<bool> wanted;   // wanted[i]: input i needs a gradient

  // A rank-0 constant of the output's dtype (f32 graphs get f32 constants, f64 graphs f64).
  Value scalar(double value) const;
};

namespace autodiff {

// Sums `g` back to `target` (the shape of an operand that NumPy broadcasting expanded to g's
// shape): over the leading dimensions `target` lacks and over the dimensions where it has 1.
// Returns g itself when nothing was broadcast.
Value sum_to(Value g, const Shape& target);
// `v` reshaped to `target` (a possibly symbolic shape): dynamic dimensions are copied from `v`
// where they line up, else inferred (at most one -1).
Value reshape_to(Value v, const Shape& target);

}  // namespace autodiff
}  // namespace tensorgraph
