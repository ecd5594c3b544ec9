#pragma once
// 2x2 max pooling with stride 2 and no padding, the pooling of most CNNs (example 05), on plain
// NCHW planes with SIMD vectors: a window's four values come from two rows, de-interleaved into
// even and odd columns with shuffles. Memory-bound, so faster than oneDNN's blocked kernels plus
// the two reorders they need at our plain-layout boundary; and branch-free, which matters for the
// backward pass (the position of the maximum is random).
#include <cstdint>

namespace tensorgraph::runtime::cpu {

// y[i, j] = max of x[2i..2i+1, 2j..2j+1] for one plane (x: h x w, y: oh x ow, oh = h / 2).
void max_pool_2x2_plane(const float* x, float* y, std::int64_t h, std::int64_t w, std::int64_t oh,
                        std::int64_t ow);
// dx of one plane: dy[i, j] goes to the first maximum (scan order) of its window, every other
// element (rows and columns beyond the last window included) gets 0.
void max_pool_2x2_backward_plane(const float* x, const float* dy, float* dx, std::int64_t h,
                                 std::int64_t w, std::int64_t oh, std::int64_t ow);

}  // namespace tensorgraph::runtime::cpu
