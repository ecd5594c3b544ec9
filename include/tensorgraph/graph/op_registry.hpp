#pragma once
// One table describing every op: its name, how many inputs it takes, its shape and dtype
// inference, its gradient, and traits the passes and the memory planner rely on. Adding an op =
// one enum value (graph.hpp), one row here (src/graph/op_registry.cpp), its builder, inference
// and gradient next to its siblings (src/graph/ops_*.cpp), and its kernels
// (src/runtime/kernel_registry.cpp).
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensorgraph/core/dtype.hpp"
#include "tensorgraph/core/shape.hpp"
#include "tensorgraph/graph/graph.hpp"

namespace tensorgraph {

// A value's type: dtype and (possibly symbolic) shape.
struct TensorType {
  DType dtype = DType::F32;
  Shape shape;
};

// Output type from the attributes and the input types. Throws Error naming the op and the shapes
// ("matmul: inner dimensions differ: [2,3] x [4,5]"). Works on symbolic shapes (-1 = unknown,
// kept as -1 where the output dimension cannot be known) and on concrete ones.
using InferFunction = TensorType (*)(std::string_view op, const Attrs& attrs,
                                     std::span<const TensorType> inputs);

// The gradient of an op (reverse mode): given the forward node and d loss / d output, appends
// the nodes computing d loss / d input for the wanted inputs (autodiff.hpp). nullptr: the op is
// not differentiable.
struct GradContext;
using GradFunction = std::vector<Value> (*)(const GradContext& ctx);

struct OpDef {
  OpKind kind;
  std::string_view name;
  int min_inputs;
  int max_inputs;  // -1: any number
  InferFunction infer;
  bool elementwise;   // f32 element-wise with broadcasting: the fusion pass may merge it
  bool view;          // the output is the input 0 buffer under another shape (no kernel)
  bool inplace;       // the output may overwrite input 0 when it has the same size and dies here
  GradFunction grad;  // defined next to the op's inference in src/graph/ops_*.cpp
};

const OpDef& op_def(OpKind kind);
std::string_view op_name(OpKind kind);

// Infers the output type of an op (checks the input count first). Errors name the op.
TensorType infer_type(OpKind kind, const Attrs& attrs, std::span<const TensorType> inputs);

// NumPy broadcasting of two (possibly symbolic) shapes; `op` names the op in errors.
Shape broadcast_shapes(std::string_view op, const Shape& a, const Shape& b);

}  // namespace tensorgraph
