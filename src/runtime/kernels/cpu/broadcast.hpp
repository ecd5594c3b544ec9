#pragma once
// Iteration layout for broadcasting kernels: the output is walked as rows of `inner` contiguous
// elements; along a row every input is either contiguous (stride 1) or one repeated value
// (stride 0). Adjacent dimensions that every input walks the same way are merged first, so
// that x + bias over [B, S, D] is B*S rows of D, and x * scalar is one row.
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "tensorgraph/core/shape.hpp"

namespace tensorgraph::runtime::cpu {

struct BroadcastLayout {
  std::int64_t inner = 1;                                // row length
  std::int64_t rows = 1;                                 // product of the outer dims
  std::vector<std::int64_t> outer;                       // outer dims (outermost first)
  std::vector<std::vector<std::int64_t>> outer_strides;  // per input, per outer dim (elements)
  std::vector<std::int64_t> inner_stride;                // per input: 1 or 0

  // Element offset of each input at the start of row r.
  void row_offsets(std::int64_t r, std::int64_t* offsets) const {
    for (std::size_t k = 0; k < outer_strides.size(); ++k) offsets[k] = 0;
    for (std::size_t d = outer.size(); d-- > 0;) {
      const std::int64_t c = r % outer[d];
      r /= outer[d];
      for (std::size_t k = 0; k < outer_strides.size(); ++k) offsets[k] += c * outer_strides[k][d];
    }
  }
};

inline BroadcastLayout make_broadcast_layout(const Shape& out, std::span<const Shape> inputs) {
  const int rank = out.rank();
  const std::size_t n = inputs.size();
  // Per input, per output dim: stride in elements (0 where broadcast).
  std::vector<std::array<std::int64_t, Shape::kMaxRank>> strides(n);
  for (std::size_t k = 0; k < n; ++k) {
    const Shape& s = inputs[k];
    std::int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      const int sd = d - (rank - s.rank());
      const std::int64_t dim = sd >= 0 ? s.dims()[sd] : 1;
      strides[k][d] = (dim == 1 && out.dims()[d] != 1) ? 0 : stride;
      stride *= dim;
    }
  }
  // Merge dims from the inside out; dims of extent 1 vanish.
  std::vector<std::int64_t> dims;                // innermost first
  std::vector<std::vector<std::int64_t>> st(n);  // innermost first
  for (int d = rank - 1; d >= 0; --d) {
    const std::int64_t extent = out.dims()[d];
    if (extent == 1) continue;
    bool merge = !dims.empty();
    for (std::size_t k = 0; k < n && merge; ++k)
      merge = strides[k][d] == st[k].back() * dims.back();
    if (merge) {
      dims.back() *= extent;
    } else {
      dims.push_back(extent);
      for (std::size_t k = 0; k < n; ++k) st[k].push_back(strides[k][d]);
    }
  }
  BroadcastLayout layout;
  layout.outer_strides.resize(n);
  layout.inner_stride.assign(n, 1);
  if (dims.empty()) return layout;  // a single element
  layout.inner = dims.front();
  for (std::size_t k = 0; k < n; ++k) layout.inner_stride[k] = st[k].front();
  for (std::size_t d = dims.size(); d-- > 1;) {
    layout.outer.push_back(dims[d]);
    layout.rows *= dims[d];
    for (std::size_t k = 0; k < n; ++k) layout.outer_strides[k].push_back(st[k][d]);
  }
  return layout;
}

}  // namespace tensorgraph::runtime::cpu
