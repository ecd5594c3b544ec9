#include <algorithm>
#include <numeric>

#include "tensorgraph/runtime/passes.hpp"

namespace tensorgraph {

MemoryPlan plan_memory(std::span<const BufferRequest> requests, std::size_t alignment) {
  auto align = [alignment](std::size_t v) { return (v + alignment - 1) / alignment * alignment; };
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<std::size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    return requests[a].first < requests[b].first;
  });
  struct Placed {
    std::size_t begin, end;
  };
  std::vector<std::size_t> placed;
  std::vector<Placed> busy;
  for (std::size_t r : order) {
    const BufferRequest& req = requests[r];
    if (req.bytes == 0) continue;
    const std::size_t size = align(req.bytes);
    busy.clear();
    for (std::size_t p : placed) {
      const BufferRequest& other = requests[p];
      if (other.last < req.first || req.last < other.first) continue;  // disjoint lifetimes
      busy.push_back({plan.offsets[p], plan.offsets[p] + align(other.bytes)});
    }
    std::sort(busy.begin(), busy.end(),
              [](const Placed& a, const Placed& b) { return a.begin < b.begin; });
    // Best fit: the smallest gap between busy ranges that holds the buffer; else after them all.
    std::size_t best = SIZE_MAX, best_gap = SIZE_MAX, cursor = 0;
    for (const Placed& b : busy) {
      if (b.begin > cursor) {
        const std::size_t gap = b.begin - cursor;
        if (gap >= size && gap < best_gap) {
          best = cursor;
          best_gap = gap;
        }
      }
      cursor = std::max(cursor, b.end);
    }
    if (best == SIZE_MAX) best = cursor;
    plan.offsets[r] = best;
    plan.peak_bytes = std::max(plan.peak_bytes, best + size);
    placed.push_back(r);
  }
  return plan;
}

}  // namespace tensorgraph
