#pragma once
// The ops:: builder: free functions on Value handles that append a node to the value's graph
// after inferring its dtype and shape. Errors name the op and the shapes, at build time.
// Floating-point math ops take f32; integer tensors enter through gather (ids), where (the
// condition) and cast.
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "tensorgraph/graph/graph.hpp"

namespace tensorgraph::ops {

// ---- element-wise (NumPy broadcasting) -------------------------------------------------------
Value add(Value a, Value b);
Value sub(Value a, Value b);
Value mul(Value a, Value b);
Value div(Value a, Value b);
Value pow(Value a, Value b);
Value pow(Value a, float exponent);
Value neg(Value x);
Value relu(Value x);
Value gelu(Value x);  // exact (erf) form, as PyTorch's default and HF's "gelu"
Value tanh(Value x);
Value sigmoid(Value x);
Value exp(Value x);
Value log(Value x);
Value sqrt(Value x);
Value rsqrt(Value x);
// cond ? a : b, element-wise with broadcasting of all three; cond may be of any dtype (non-zero
// is true); a and b have the same dtype.
Value where(Value cond, Value a, Value b);
// Converts to `dtype` (floats round to nearest even; float to integer truncates and saturates).
Value cast(Value x, DType dtype);

// ---- linear algebra --------------------------------------------------------------------------
// Batched matrix product of the last two dimensions ([..., M, K] x [..., K, N] -> [..., M, N]),
// batch dimensions broadcast; the transposes swap the last two dimensions of an operand first.
Value matmul(Value a, Value b, bool transpose_a = false, bool transpose_b = false);
// x W^T + b with W stored [out, in] (PyTorch/HuggingFace layout): [..., in] -> [..., out].
Value linear(Value x, Value weight, std::optional<Value> bias = std::nullopt);

// ---- layout ----------------------------------------------------------------------------------
// Reshape as ONNX: 0 copies the input dimension at that index (keeps dynamic dims), one -1 is
// inferred from the element count.
Value reshape(Value x, std::vector<std::int64_t> shape);
// Merges dimensions start..end (inclusive, negative counts from the end) into one.
Value flatten(Value x, int start_axis = 1, int end_axis = -1);
// Reorders dimensions: output dim i is input dim perm[i].
Value permute(Value x, std::vector<std::int64_t> perm);
// Swaps two dimensions.
Value transpose(Value x, int dim0, int dim1);
// Joins along `axis`; the other dimensions must agree.
Value concat(const std::vector<Value>& xs, int axis);
// Python-style slicing per axis: negative starts/ends count from the end, ends are clamped,
// steps >= 1 (default 1).
Value slice(Value x, std::vector<std::int64_t> axes, std::vector<std::int64_t> starts,
            std::vector<std::int64_t> ends, std::vector<std::int64_t> steps = {});
Value slice(Value x, int axis, std::int64_t start, std::int64_t end, std::int64_t step = 1);
// Rows of `data` along `axis` picked by integer `indices` (i32 or i64): the embedding lookup
// gather(table [V, D], ids [B, S]) -> [B, S, D]. Out-of-range ids fail at run time.
Value gather(Value data, Value indices, int axis = 0);

// ---- normalisation and reductions ------------------------------------------------------------
Value softmax(Value x, int axis = -1);
Value log_softmax(Value x, int axis = -1);
// Normalises over the last axis: (x - mean) / sqrt(var + eps) * weight + bias; weight and bias
// are [D] and optional.
Value layer_norm(Value x, std::optional<Value> weight, std::optional<Value> bias,
                 float epsilon = 1e-5f);
// Reductions over `axes` (empty: all axes).
Value reduce_sum(Value x, std::vector<std::int64_t> axes = {}, bool keepdims = false);
Value reduce_mean(Value x, std::vector<std::int64_t> axes = {}, bool keepdims = false);
Value reduce_max(Value x, std::vector<std::int64_t> axes = {}, bool keepdims = false);

// ---- convolution and pooling (NCHW) ----------------------------------------------------------
struct Conv2dOptions {
  std::array<std::int64_t, 2> stride{1, 1};
  std::array<std::int64_t, 2> padding{0, 0};   // zero padding on both sides
  std::array<std::int64_t, 2> dilation{1, 1};  // PyTorch convention: 1 = no dilation
  std::int64_t groups = 1;
};
// x [N, C, H, W], weight [O, C/groups, kH, kW], bias [O] -> [N, O, H', W'].
Value conv2d(Value x, Value weight, std::optional<Value> bias = std::nullopt,
             const Conv2dOptions& options = {});

struct Pool2dOptions {
  std::array<std::int64_t, 2> kernel{2, 2};
  std::array<std::int64_t, 2> stride{0, 0};  // 0: the kernel size (PyTorch's default)
  std::array<std::int64_t, 2> padding{0, 0};
  bool count_include_pad = true;  // avg_pool2d: padding counts in the divisor (PyTorch default)
};
Value max_pool2d(Value x, const Pool2dOptions& options = {});
Value avg_pool2d(Value x, const Pool2dOptions& options = {});

// ---- backward ops ------------------------------------------------------------------------------
// Built by autodiff (grad in autodiff.hpp) from the gradients of the ops above; usable directly.
// Each takes dy = d loss / d output of its forward op and returns d loss / d (one input).

// dy where y = relu(x) > 0, else 0.
Value relu_backward(Value dy, Value y);
// dy * gelu'(x) (exact erf form).
Value gelu_backward(Value dy, Value x);
// dy of slice(x, ...) placed into zeros shaped like x.
Value slice_backward(Value dy, Value x, std::vector<std::int64_t> axes,
                     std::vector<std::int64_t> starts, std::vector<std::int64_t> ends,
                     std::vector<std::int64_t> steps = {});
// d loss / d data of gather(data, indices, axis): rows of dy added into zeros shaped like data
// (repeated indices accumulate).
Value gather_backward(Value dy, Value indices, Value data, int axis = 0);
// d loss / d x of layer_norm(x, weight, bias, epsilon).
Value layer_norm_backward(Value dy, Value x, std::optional<Value> weight, float epsilon = 1e-5f);
// d loss / d x of reduce_sum / reduce_mean(x, axes, keepdims): dy broadcast back to x's shape
// (divided by the number of reduced elements for the mean).
Value reduce_sum_backward(Value dy, Value x, std::vector<std::int64_t> axes = {},
                          bool keepdims = false);
Value reduce_mean_backward(Value dy, Value x, std::vector<std::int64_t> axes = {},
                           bool keepdims = false);
// d loss / d x of y = reduce_max(x, axes, keepdims): dy shared evenly by the elements equal to
// the maximum of their group (PyTorch's amax rule).
Value reduce_max_backward(Value dy, Value x, Value y, std::vector<std::int64_t> axes = {},
                          bool keepdims = false);
// d loss / d x of conv2d(x, weight, ...): x gives the shape (its values are not read).
Value conv2d_backward_data(Value dy, Value weight, Value x, const Conv2dOptions& options = {});
// d loss / d weight of conv2d(x, weight, ...) for a weight of `weight_shape` [O, C/g, kH, kW].
Value conv2d_backward_weights(Value dy, Value x, const Shape& weight_shape,
                              const Conv2dOptions& options = {});
// d loss / d x of max_pool2d(x) (dy goes to the first maximum of each window) and avg_pool2d(x).
Value max_pool2d_backward(Value dy, Value x, const Pool2dOptions& options = {});
Value avg_pool2d_backward(Value dy, Value x, const Pool2dOptions& options = {});

}  // namespace tensorgraph::ops
