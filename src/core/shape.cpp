#include "tensorgraph/core/shape.hpp"

#include "tensorgraph/core/error.hpp"

namespace tensorgraph {

Shape::Shape(std::initializer_list<std::int64_t> dims)
    : Shape(std::span<const std::int64_t>(dims.begin(), dims.size())) {}

Shape::Shape(std::span<const std::int64_t> dims) {
  TG_CHECK(dims.size() <= static_cast<std::size_t>(kMaxRank), "shape of rank {} exceeds the maximum rank {}",
           dims.size(), kMaxRank);
  for (std::size_t i = 0; i < dims.size(); ++i) {
    TG_CHECK(dims[i] >= kDynamic, "invalid dimension {} in shape", dims[i]);
    dims_[i] = dims[i];
  }
  rank_ = static_cast<int>(dims.size());
}

std::int64_t Shape::numel() const {
  std::int64_t n = 1;
  for (int i = 0; i < rank_; ++i) {
    TG_CHECK(dims_[i] >= 0, "numel of shape {} with a dynamic dimension", to_string());
    TG_CHECK(!__builtin_mul_overflow(n, dims_[i], &n), "shape {} has too many elements",
             to_string());
  }
  return n;
}

bool Shape::is_static() const {
  for (int i = 0; i < rank_; ++i)
    if (dims_[i] < 0) return false;
  return true;
}

void Shape::push_back(std::int64_t d) {
  TG_CHECK(rank_ < kMaxRank, "shape {} cannot grow past rank {}", to_string(), kMaxRank);
  TG_CHECK(d >= kDynamic, "invalid dimension {} in shape", d);
  dims_[rank_++] = d;
}

std::array<std::int64_t, Shape::kMaxRank> Shape::strides() const {
  std::array<std::int64_t, kMaxRank> s{};
  std::int64_t stride = 1;
  for (int i = rank_ - 1; i >= 0; --i) {
    s[i] = stride;
    // Wrapping arithmetic: a shape with a zero dimension may have a product of the other
    // dimensions past int64 (a valid empty tensor); its strides never address memory, but signed
    // overflow would be undefined behaviour.
    stride = static_cast<std::int64_t>(static_cast<std::uint64_t>(stride) *
                                       static_cast<std::uint64_t>(dims_[i]));
  }
  return s;
}

int Shape::normalize_axis(int axis) const {
  const int a = axis < 0 ? axis + rank_ : axis;
  TG_CHECK(a >= 0 && a < rank_, "axis {} is out of range for shape {}", axis, to_string());
  return a;
}

std::string Shape::to_string() const {
  std::string s = "[";
  for (int i = 0; i < rank_; ++i) {
    if (i) s += ',';
    s += std::to_string(dims_[i]);
  }
  return s + "]";
}

}  // namespace tensorgraph
