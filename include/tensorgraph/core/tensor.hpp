#pragma once
// A dense, row-major tensor. It either owns an aligned buffer (shared between copies of the
// handle, like a shared_ptr) or views memory owned by something else, typically a read-only
// mapped SafeTensors file that the view keeps alive.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "tensorgraph/core/dtype.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/shape.hpp"

namespace tensorgraph {

// Storage types for the 16-bit floats (bit patterns, converted with dtype.hpp).
struct f16 {
  std::uint16_t bits;
};
struct bf16 {
  std::uint16_t bits;
};

template <typename T>
struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<f16> { static constexpr DType value = DType::F16; };
template <> struct DTypeOf<bf16> { static constexpr DType value = DType::BF16; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<std::int8_t> { static constexpr DType value = DType::I8; };
template <> struct DTypeOf<std::uint8_t> { static constexpr DType value = DType::U8; };
template <> struct DTypeOf<std::int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<std::int64_t> { static constexpr DType value = DType::I64; };
template <> struct DTypeOf<bool> { static constexpr DType value = DType::Bool; };
template <typename T>
inline constexpr DType dtype_of = DTypeOf<std::remove_cv_t<T>>::value;

class Tensor {
 public:
  Tensor() = default;

  // Uninitialised owning tensor (64-byte aligned). The shape must be static.
  static Tensor empty(DType dtype, const Shape& shape);
  static Tensor zeros(DType dtype, const Shape& shape);
  // Owning copy of `values`; their count must equal the shape's element count.
  template <typename T>
  static Tensor from(const Shape& shape, std::span<const T> values) {
    Tensor t = empty(dtype_of<T>, shape);
    TG_CHECK(static_cast<std::int64_t>(values.size()) == t.numel(),
             "Tensor::from: {} values for shape {} ({} elements)", values.size(), shape.to_string(),
             t.numel());
    if (!values.empty()) std::memcpy(t.raw_mutable(), values.data(), values.size() * sizeof(T));
    return t;
  }
  template <typename T>
  static Tensor from(const Shape& shape, std::initializer_list<T> values) {
    return from<T>(shape, std::span<const T>(values.begin(), values.size()));
  }
  template <typename T>
  static Tensor from(const Shape& shape, const std::vector<T>& values) {
    return from<T>(shape, std::span<const T>(values.data(), values.size()));
  }
  // A rank-0 tensor holding one value.
  template <typename T>
  static Tensor scalar(T value) {
    return from<T>(Shape{}, std::span<const T>(&value, 1));
  }
  // Read-only view of memory kept alive by `owner` (for example a MappedFile).
  static Tensor view(DType dtype, const Shape& shape, const void* data,
                     std::shared_ptr<const void> owner);
  // Writable view of memory the caller keeps alive for the tensor's lifetime.
  static Tensor borrow(DType dtype, const Shape& shape, void* data);

  // False for a default-constructed Tensor. A tensor with no elements (a zero dimension) is
  // defined even without a data pointer; a rank-0 tensor has one element and always needs data.
  bool defined() const { return data_ != nullptr || (numel_ == 0 && shape_.rank() > 0); }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int rank() const { return shape_.rank(); }
  std::int64_t numel() const { return numel_; }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel_) * dtype_size(dtype_); }
  bool read_only() const { return read_only_; }

  const void* raw() const { return data_; }
  void* raw_mutable();

  template <typename T>
  const T* data() const {
    check_dtype(dtype_of<T>);
    return static_cast<const T*>(data_);
  }
  template <typename T>
  T* mutable_data() {
    check_dtype(dtype_of<T>);
    return static_cast<T*>(raw_mutable());
  }
  template <typename T>
  std::span<const T> span() const {
    return {data<T>(), static_cast<std::size_t>(numel_)};
  }
  template <typename T>
  std::vector<T> to_vector() const {
    auto s = span<T>();
    return {s.begin(), s.end()};
  }

  // Deep, owning, writable copy.
  Tensor clone() const;
  // Converting copy (any dtype to any dtype; floats round to nearest even, to-int truncates).
  Tensor to(DType dtype) const;
  // The same memory with another shape of the same element count.
  Tensor reshaped(const Shape& shape) const;
  // Element i (flat index) converted to double; for tests and printing.
  double value_as_double(std::int64_t index) const;
  // "f32[2,3]"
  std::string description() const;

 private:
  void check_dtype(DType expected) const;

  DType dtype_ = DType::F32;
  Shape shape_;
  std::int64_t numel_ = 0;
  void* data_ = nullptr;
  std::shared_ptr<const void> owner_;
  bool read_only_ = false;
};

}  // namespace tensorgraph
