#include <memory>

#include "tensorgraph/runtime/passes.hpp"

namespace tensorgraph {

int eliminate_dead_nodes(Graph& graph) {
  const std::size_t n = graph.size();
  std::unique_ptr<bool[]> live(new bool[n]());
  for (const auto& out : graph.outputs()) live[out.id] = true;
  for (const auto& in : graph.inputs()) live[in.id] = true;  // the interface stays
  for (std::size_t i = n; i-- > 0;) {
    if (!live[i]) continue;
    for (NodeId in : graph.node(static_cast<NodeId>(i)).inputs) live[in] = true;
  }
  int removed = 0;
  for (std::size_t i = 0; i < n; ++i) removed += live[i] ? 0 : 1;
  if (removed > 0) graph.compact(std::span<const bool>(live.get(), n));
  return removed;
}

}  // namespace tensorgraph
