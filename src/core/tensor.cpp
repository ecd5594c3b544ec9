#include "tensorgraph/core/tensor.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include "tensorgraph/core/aligned.hpp"

namespace tensorgraph {

Tensor Tensor::empty(DType dtype, const Shape& shape) {
  TG_CHECK(shape.is_static(), "cannot allocate a tensor of dynamic shape {}", shape.to_string());
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.numel_ = shape.numel();
  std::shared_ptr<std::byte> buffer = aligned_shared_bytes(t.nbytes());
  t.data_ = buffer.get();
  t.owner_ = std::move(buffer);
  return t;
}

Tensor Tensor::zeros(DType dtype, const Shape& shape) {
  Tensor t = empty(dtype, shape);
  if (t.nbytes()) std::memset(t.data_, 0, t.nbytes());
  return t;
}

Tensor Tensor::view(DType dtype, const Shape& shape, const void* data,
                    std::shared_ptr<const void> owner) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.numel_ = shape.numel();
  t.data_ = const_cast<void*>(data);
  t.owner_ = std::move(owner);
  t.read_only_ = true;
  return t;
}

Tensor Tensor::borrow(DType dtype, const Shape& shape, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.numel_ = shape.numel();
  t.data_ = data;
  return t;
}

void* Tensor::raw_mutable() {
  TG_CHECK(!read_only_, "tensor {} is a read-only view", description());
  return data_;
}

void Tensor::check_dtype(DType expected) const {
  TG_CHECK(dtype_ == expected, "tensor {} accessed as {}", description(), dtype_name(expected));
}

Tensor Tensor::clone() const {
  Tensor t = empty(dtype_, shape_);
  if (nbytes()) std::memcpy(t.data_, data_, nbytes());
  return t;
}

Tensor Tensor::reshaped(const Shape& shape) const {
  TG_CHECK(shape.is_static() && shape.numel() == numel_, "cannot reshape {} to {}", description(),
           shape.to_string());
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

namespace {

double load_as_double(DType dtype, const void* data, std::int64_t i) {
  switch (dtype) {
    case DType::F32: return static_cast<const float*>(data)[i];
    case DType::F16: return f16_to_f32(static_cast<const std::uint16_t*>(data)[i]);
    case DType::BF16: return bf16_to_f32(static_cast<const std::uint16_t*>(data)[i]);
    case DType::F64: return static_cast<const double*>(data)[i];
    case DType::I8: return static_cast<const std::int8_t*>(data)[i];
    case DType::U8: return static_cast<const std::uint8_t*>(data)[i];
    case DType::I32: return static_cast<const std::int32_t*>(data)[i];
    case DType::I64: return static_cast<double>(static_cast<const std::int64_t*>(data)[i]);
    case DType::Bool: return static_cast<const std::uint8_t*>(data)[i] != 0;
  }
  return 0;
}

// Float to integer: truncates toward zero and saturates at the type's range (NaN gives 0),
// so that no input is undefined behaviour.
template <typename To>
To saturating_int(double v) {
  if (std::isnan(v)) return 0;
  constexpr double lo = static_cast<double>(std::numeric_limits<To>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<To>::max());
  if (v <= lo) return std::numeric_limits<To>::min();
  if (v >= hi) return std::numeric_limits<To>::max();
  return static_cast<To>(v);
}

void convert(DType from, const void* src, DType to, void* dst, std::int64_t n) {
  // Exact paths first: 16-bit floats to f32 and back without a detour through double.
  if (to == DType::F32 && from == DType::F16) {
    auto* s = static_cast<const std::uint16_t*>(src);
    auto* d = static_cast<float*>(dst);
    for (std::int64_t i = 0; i < n; ++i) d[i] = f16_to_f32(s[i]);
    return;
  }
  if (to == DType::F32 && from == DType::BF16) {
    auto* s = static_cast<const std::uint16_t*>(src);
    auto* d = static_cast<float*>(dst);
    for (std::int64_t i = 0; i < n; ++i) d[i] = bf16_to_f32(s[i]);
    return;
  }
  if (from == DType::F32 && (to == DType::F16 || to == DType::BF16)) {
    auto* s = static_cast<const float*>(src);
    auto* d = static_cast<std::uint16_t*>(dst);
    if (to == DType::F16)
      for (std::int64_t i = 0; i < n; ++i) d[i] = f32_to_f16(s[i]);
    else
      for (std::int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(s[i]);
    return;
  }
  if (from == DType::I64 && to == DType::I32) {
    auto* s = static_cast<const std::int64_t*>(src);
    auto* d = static_cast<std::int32_t*>(dst);
    for (std::int64_t i = 0; i < n; ++i) d[i] = static_cast<std::int32_t>(s[i]);
    return;
  }
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = load_as_double(from, src, i);
    switch (to) {
      case DType::F32: static_cast<float*>(dst)[i] = static_cast<float>(v); break;
      case DType::F16: static_cast<std::uint16_t*>(dst)[i] = f32_to_f16(static_cast<float>(v)); break;
      case DType::BF16: static_cast<std::uint16_t*>(dst)[i] = f32_to_bf16(static_cast<float>(v)); break;
      case DType::F64: static_cast<double*>(dst)[i] = v; break;
      case DType::I8: static_cast<std::int8_t*>(dst)[i] = saturating_int<std::int8_t>(v); break;
      case DType::U8: static_cast<std::uint8_t*>(dst)[i] = saturating_int<std::uint8_t>(v); break;
      case DType::I32: static_cast<std::int32_t*>(dst)[i] = saturating_int<std::int32_t>(v); break;
      case DType::I64:
        // Through double would lose precision above 2^53: copy integers directly.
        if (from == DType::I32)
          static_cast<std::int64_t*>(dst)[i] = static_cast<const std::int32_t*>(src)[i];
        else
          static_cast<std::int64_t*>(dst)[i] = saturating_int<std::int64_t>(v);
        break;
      case DType::Bool: static_cast<std::uint8_t*>(dst)[i] = v != 0 ? 1 : 0; break;
    }
  }
}

}  // namespace

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return clone();
  Tensor t = empty(dtype, shape_);
  convert(dtype_, data_, dtype, t.data_, numel_);
  return t;
}

double Tensor::value_as_double(std::int64_t index) const {
  TG_CHECK(index >= 0 && index < numel_, "index {} out of range for {}", index, description());
  return load_as_double(dtype_, data_, index);
}

std::string Tensor::description() const {
  return std::string(dtype_name(dtype_)) + shape_.to_string();
}

}  // namespace tensorgraph
