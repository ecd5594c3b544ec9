#pragma once
// A tensor shape: up to kMaxRank dimensions stored inline, so that creating one never allocates
// (the runtime builds shapes on its hot path). A dimension of -1 means "dynamic" in graph inputs.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace tensorgraph {

class Shape {
 public:
  static constexpr int kMaxRank = 8;
  static constexpr std::int64_t kDynamic = -1;

  Shape() = default;
  Shape(std::initializer_list<std::int64_t> dims);
  explicit Shape(std::span<const std::int64_t> dims);
  explicit Shape(const std::vector<std::int64_t>& dims)
      : Shape(std::span<const std::int64_t>(dims.data(), dims.size())) {}

  int rank() const { return rank_; }
  bool empty() const { return rank_ == 0; }
  // Dimension i; negative i counts from the end (-1 is the last).
  std::int64_t operator[](int i) const { return dims_[normalize_axis(i)]; }
  std::int64_t& operator[](int i) { return dims_[normalize_axis(i)]; }
  std::span<const std::int64_t> dims() const { return {dims_.data(), static_cast<std::size_t>(rank_)}; }
  std::vector<std::int64_t> to_vector() const { return {dims_.begin(), dims_.begin() + rank_}; }

  // Number of elements (1 for rank 0). Throws on dynamic dims or overflow.
  std::int64_t numel() const;
  bool is_static() const;  // no dynamic dimension
  void push_back(std::int64_t d);
  // Row-major strides in elements.
  std::array<std::int64_t, kMaxRank> strides() const;
  // Maps a possibly negative axis into [0, rank); throws when out of range.
  int normalize_axis(int axis) const;

  // "[2,3,-1]"
  std::string to_string() const;

  friend bool operator==(const Shape& a, const Shape& b) {
    if (a.rank_ != b.rank_) return false;
    for (int i = 0; i < a.rank_; ++i)
      if (a.dims_[i] != b.dims_[i]) return false;
    return true;
  }

 private:
  std::array<std::int64_t, kMaxRank> dims_{};
  int rank_ = 0;
};

}  // namespace tensorgraph
