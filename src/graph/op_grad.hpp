#pragma once
// Gradient functions of the ops (OpDef::grad), each defined next to its op's inference in
// src/graph/ops_*.cpp and gathered in the op table (op_registry.cpp). Each returns one Value per
// input of the node: d loss / d input for the wanted inputs, an empty Value for the others.
#include <vector>

#include "tensorgraph/graph/autodiff.hpp"

namespace tensorgraph::detail {

using GradResult = std::vector<Value>;

// ops_elementwise.cpp
GradResult grad_add(const GradContext&);
GradResult grad_sub(const GradContext&);
GradResult grad_mul(const GradContext&);
GradResult grad_div(const GradContext&);
GradResult grad_pow(const GradContext&);
GradResult grad_neg(const GradContext&);
GradResult grad_relu(const GradContext&);
GradResult grad_gelu(const GradContext&);
GradResult grad_tanh(const GradContext&);
GradResult grad_sigmoid(const GradContext&);
GradResult grad_exp(const GradContext&);
GradResult grad_log(const GradContext&);
GradResult grad_sqrt(const GradContext&);
GradResult grad_rsqrt(const GradContext&);
GradResult grad_where(const GradContext&);
GradResult grad_cast(const GradContext&);
// ops_linalg.cpp
GradResult grad_matmul(const GradContext&);
GradResult grad_linear(const GradContext&);
// ops_layout.cpp
GradResult grad_reshape(const GradContext&);
GradResult grad_transpose(const GradContext&);
GradResult grad_concat(const GradContext&);
GradResult grad_slice(const GradContext&);
GradResult grad_gather(const GradContext&);
// ops_normalization.cpp
GradResult grad_softmax(const GradContext&);
GradResult grad_log_softmax(const GradContext&);
GradResult grad_layer_norm(const GradContext&);
GradResult grad_reduce_sum(const GradContext&);
GradResult grad_reduce_mean(const GradContext&);
GradResult grad_reduce_max(const GradContext&);
// ops_conv.cpp
GradResult grad_conv2d(const GradContext&);
GradResult grad_max_pool2d(const GradContext&);
GradResult grad_avg_pool2d(const GradContext&);

// One result slot per input of the node, all empty.
inline GradResult no_grads(const GradContext& ctx) {
  return GradResult(ctx.inputs.size());
}

}  // namespace tensorgraph::detail
