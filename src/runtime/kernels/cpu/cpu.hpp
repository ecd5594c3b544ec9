#pragma once
// Factories of the fast (cpu) kernels, one per op family; see kernel_registry.cpp for the table.
#include <memory>

#include "../../kernel.hpp"

namespace tensorgraph::runtime::cpu {

std::unique_ptr<Kernel> make_elementwise(const KernelContext& ctx);  // unary, binary, fused
std::unique_ptr<Kernel> make_where(const KernelContext& ctx);
std::unique_ptr<Kernel> make_cast(const KernelContext& ctx);
std::unique_ptr<Kernel> make_matmul(const KernelContext& ctx);  // matmul and linear (oneDNN)
std::unique_ptr<Kernel> make_copy(const KernelContext& ctx);
std::unique_ptr<Kernel> make_transpose(const KernelContext& ctx);
std::unique_ptr<Kernel> make_concat(const KernelContext& ctx);
std::unique_ptr<Kernel> make_slice(const KernelContext& ctx);
std::unique_ptr<Kernel> make_gather(const KernelContext& ctx);
std::unique_ptr<Kernel> make_softmax(const KernelContext& ctx);  // and log_softmax
std::unique_ptr<Kernel> make_layer_norm(const KernelContext& ctx);
std::unique_ptr<Kernel> make_reduce(const KernelContext& ctx);
std::unique_ptr<Kernel> make_conv2d(const KernelContext& ctx);  // oneDNN
std::unique_ptr<Kernel> make_pool2d(const KernelContext& ctx);  // oneDNN, or ours for 2x2 max
// Our 2x2 stride-2 max pooling (pool2x2.cpp), which make_pool2d picks for such nodes.
bool is_max_pool_2x2(const Node& node);
std::unique_ptr<Kernel> make_max_pool_2x2(const KernelContext& ctx);
// backward ops (relu/gelu backward are element-wise)
std::unique_ptr<Kernel> make_conv2d_backward_data(const KernelContext& ctx);     // oneDNN
std::unique_ptr<Kernel> make_conv2d_backward_weights(const KernelContext& ctx);  // oneDNN
std::unique_ptr<Kernel> make_pool2d_backward(const KernelContext& ctx);          // max and avg
std::unique_ptr<Kernel> make_layer_norm_backward(const KernelContext& ctx);
std::unique_ptr<Kernel> make_reduce_backward(const KernelContext& ctx);  // sum, mean, max
std::unique_ptr<Kernel> make_slice_backward(const KernelContext& ctx);
std::unique_ptr<Kernel> make_gather_backward(const KernelContext& ctx);

}  // namespace tensorgraph::runtime::cpu
