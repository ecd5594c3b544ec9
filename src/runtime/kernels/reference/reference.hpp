#pragma once
// The reference kernels: naive loops over every output element, computing in double. Slow and
// obviously correct; the oracle the fast kernels are tested against. Written separately from the
// cpu kernels on purpose (no shared code beyond this header's helpers).
#include <array>
#include <cmath>
#include <cstdint>

#include "../../kernel.hpp"

namespace tensorgraph::runtime::reference {

using Function = void (*)(OpKind op, const Attrs& attrs, const KernelArgs& args);

void elementwise(OpKind op, const Attrs& attrs, const KernelArgs& args);  // unary and binary
void fused_elementwise(OpKind op, const Attrs& attrs, const KernelArgs& args);
void where(OpKind op, const Attrs& attrs, const KernelArgs& args);
void cast(OpKind op, const Attrs& attrs, const KernelArgs& args);
void matmul(OpKind op, const Attrs& attrs, const KernelArgs& args);
void linear(OpKind op, const Attrs& attrs, const KernelArgs& args);
void copy(OpKind op, const Attrs& attrs, const KernelArgs& args);  // reshape as a copy
void transpose(OpKind op, const Attrs& attrs, const KernelArgs& args);
void concat(OpKind op, const Attrs& attrs, const KernelArgs& args);
void slice(OpKind op, const Attrs& attrs, const KernelArgs& args);
void gather(OpKind op, const Attrs& attrs, const KernelArgs& args);
void softmax(OpKind op, const Attrs& attrs, const KernelArgs& args);  // and log_softmax
void layer_norm(OpKind op, const Attrs& attrs, const KernelArgs& args);
void reduce(OpKind op, const Attrs& attrs, const KernelArgs& args);
void conv2d(OpKind op, const Attrs& attrs, const KernelArgs& args);
void pool2d(OpKind op, const Attrs& attrs, const KernelArgs& args);
// backward ops (backward.cpp); relu/gelu backward are element-wise
void slice_backward(OpKind op, const Attrs& attrs, const KernelArgs& args);
void gather_backward(OpKind op, const Attrs& attrs, const KernelArgs& args);
void layer_norm_backward(OpKind op, const Attrs& attrs, const KernelArgs& args);
void reduce_backward(OpKind op, const Attrs& attrs, const KernelArgs& args);  // sum, mean, max
void conv2d_backward_data(OpKind op, const Attrs& attrs, const KernelArgs& args);
void conv2d_backward_weights(OpKind op, const Attrs& attrs, const KernelArgs& args);
void pool2d_backward(OpKind op, const Attrs& attrs, const KernelArgs& args);  // max and avg

// ---- helpers -----------------------------------------------------------------------------------

// Element i of any dtype as double.
inline double load(const TensorRef& t, std::int64_t i) {
  switch (t.dtype) {
    case DType::F32:
      return static_cast<const float*>(t.data)[i];
    case DType::F16:
      return f16_to_f32(static_cast<const std::uint16_t*>(t.data)[i]);
    case DType::BF16:
      return bf16_to_f32(static_cast<const std::uint16_t*>(t.data)[i]);
    case DType::F64:
      return static_cast<const double*>(t.data)[i];
    case DType::I8:
      return static_cast<const std::int8_t*>(t.data)[i];
    case DType::U8:
      return static_cast<const std::uint8_t*>(t.data)[i];
    case DType::I32:
      return static_cast<const std::int32_t*>(t.data)[i];
    case DType::I64:
      return static_cast<double>(static_cast<const std::int64_t*>(t.data)[i]);
    case DType::Bool:
      return static_cast<const std::uint8_t*>(t.data)[i] != 0;
  }
  return 0;
}

// Stores v as element i of a float output: f64 outputs (gradient checks) keep every bit of the
// double computation, f32 ones are rounded once.
inline void store(const TensorRef& t, std::int64_t i, double v) {
  if (t.dtype == DType::F64)
    static_cast<double*>(t.data)[i] = v;
  else
    static_cast<float*>(t.data)[i] = static_cast<float>(v);
}

// Row-major coordinates of flat index i in `shape`.
inline std::array<std::int64_t, Shape::kMaxRank> unravel(const Shape& shape, std::int64_t i) {
  std::array<std::int64_t, Shape::kMaxRank> c{};
  for (int d = shape.rank() - 1; d >= 0; --d) {
    const std::int64_t n = shape.dims()[d];
    c[d] = n > 0 ? i % n : 0;
    i = n > 0 ? i / n : 0;
  }
  return c;
}

// Flat index in `in` (broadcast to `out`'s rank, NumPy rules) of output coordinates `c`.
inline std::int64_t broadcast_index(const Shape& in, const Shape& out,
                                    const std::array<std::int64_t, Shape::kMaxRank>& c) {
  std::int64_t index = 0;
  const int offset = out.rank() - in.rank();
  for (int d = 0; d < in.rank(); ++d) {
    const std::int64_t n = in.dims()[d];
    index = index * n + (n == 1 ? 0 : c[d + offset]);
  }
  return index;
}

// The exact functions, in double.
inline double gelu_exact(double x) {
  return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
}
// d/dx x Phi(x) = Phi(x) + x phi(x).
inline double gelu_derivative_exact(double x) {
  constexpr double kInvSqrt2Pi = 0.39894228040143267794;
  return 0.5 * std::erfc(-x / std::sqrt(2.0)) + x * kInvSqrt2Pi * std::exp(-0.5 * x * x);
}
inline double sigmoid_exact(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

}  // namespace tensorgraph::runtime::reference
