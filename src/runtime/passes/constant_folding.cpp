#include "../kernel.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/op_registry.hpp"
#include "tensorgraph/runtime/passes.hpp"

namespace tensorgraph {

int fold_constants(Graph& graph, std::size_t max_bytes) {
  int folded = 0;
  std::vector<Tensor> inputs;
  for (std::size_t i = 0; i < graph.size(); ++i) {
    const auto id = static_cast<NodeId>(i);
    const Node& node = graph.node(id);
    if (node.op == OpKind::Input || node.op == OpKind::Constant || node.inputs.empty()) continue;
    bool all_constant = true;
    for (NodeId in : node.inputs)
      all_constant = all_constant && graph.node(in).op == OpKind::Constant;
    if (!all_constant || !node.shape.is_static()) continue;
    const std::size_t bytes = static_cast<std::size_t>(node.shape.numel()) * dtype_size(node.dtype);
    if (bytes > max_bytes) continue;
    inputs.clear();
    for (NodeId in : node.inputs) inputs.push_back(graph.node(in).value);
    Tensor value =
        with_context(fmt::format("constant folding of node %{} ({})", id, op_name(node.op)),
                     [&] { return runtime::evaluate_reference(node, inputs, node.shape); });
    Node& n = graph.mutable_node(id);
    n.op = OpKind::Constant;
    n.inputs.clear();
    n.attrs = Attrs{};
    n.value = std::move(value);
    ++folded;
  }
  return folded;
}

}  // namespace tensorgraph
