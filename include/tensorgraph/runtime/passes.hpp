#pragma once
// The compile passes, each a separate function on a Graph (compile() runs them in this order),
// and the memory planner. They are public so that tests (and later passes) can run them alone.
#include <cstddef>
#include <span>
#include <vector>

#include "tensorgraph/graph/graph.hpp"

namespace tensorgraph {

// Removes nodes that no output depends on (graph inputs are kept: they are the interface).
// Returns the number of nodes removed.
int eliminate_dead_nodes(Graph& graph);

// Replaces every node whose inputs are all constants by a constant holding its value, computed
// with the reference kernels. Nodes whose value would exceed `max_bytes` are left alone. Returns
// the number of nodes folded (run eliminate_dead_nodes afterwards to drop the now unused inputs).
int fold_constants(Graph& graph, std::size_t max_bytes = std::size_t{256} << 20);

struct FusionOptions {
  bool epilogues = true;    // matmul/linear + bias + activation / scale / residual add -> post-ops
  bool elementwise = true;  // chains of element-wise ops -> one fused_elementwise node
};
// Rewrites the graph with fused nodes and removes the absorbed ones (with every other dead node:
// node ids change). Returns the number of nodes absorbed.
int fuse(Graph& graph, const FusionOptions& options = {});

// ---- memory planning ---------------------------------------------------------------------------

// A buffer live from step `first` to step `last` (inclusive).
struct BufferRequest {
  std::size_t bytes = 0;
  int first = 0;
  int last = 0;
};

struct MemoryPlan {
  std::vector<std::size_t> offsets;  // one per request, aligned
  std::size_t peak_bytes = 0;        // arena size needed
};

// Places the buffers in one arena so that buffers live at the same time never overlap: greedy by
// size (largest first), each at the best-fitting gap (the smallest gap that holds it) among the
// already placed buffers whose lifetimes overlap its own.
MemoryPlan plan_memory(std::span<const BufferRequest> requests, std::size_t alignment = 64);

}  // namespace tensorgraph
