#include "tensorgraph/core/dtype.hpp"

#include "tensorgraph/core/error.hpp"

namespace tensorgraph {

namespace {
struct DTypeNames {
  DType dtype;
  std::size_t size;
  std::string_view name;
  std::string_view safetensors;
};
constexpr DTypeNames kNames[] = {
    {DType::F32, 4, "f32", "F32"},  {DType::F16, 2, "f16", "F16"}, {DType::BF16, 2, "bf16", "BF16"},
    {DType::F64, 8, "f64", "F64"},  {DType::I8, 1, "i8", "I8"},    {DType::U8, 1, "u8", "U8"},
    {DType::I32, 4, "i32", "I32"},  {DType::I64, 8, "i64", "I64"}, {DType::Bool, 1, "bool", "BOOL"},
};
const DTypeNames& entry(DType dtype) {
  for (const auto& e : kNames)
    if (e.dtype == dtype) return e;
  fail("invalid dtype value {}", static_cast<int>(dtype));
}
}  // namespace

std::size_t dtype_size(DType dtype) { return entry(dtype).size; }
std::string_view dtype_name(DType dtype) { return entry(dtype).name; }
std::string_view dtype_safetensors_name(DType dtype) { return entry(dtype).safetensors; }

std::optional<DType> dtype_from_safetensors_name(std::string_view name) {
  for (const auto& e : kNames)
    if (e.safetensors == name) return e.dtype;
  return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& e : kNames)
    if (e.name == name) return e.dtype;
  return std::nullopt;
}

bool is_floating(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16 || dtype == DType::F64;
}

}  // namespace tensorgraph
