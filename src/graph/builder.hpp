#pragma once
// Shared by the ops:: builders: appends a node over Values of one graph.
#include <vector>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/graph.hpp"
#include "tensorgraph/graph/op_registry.hpp"

namespace tensorgraph::detail {

inline Value make_node(OpKind op, const std::vector<Value>& inputs, Attrs attrs = {}) {
  TG_CHECK(!inputs.empty(), "{}: no inputs", op_name(op));
  Graph* g = inputs.front().graph;
  std::vector<NodeId> ids;
  ids.reserve(inputs.size());
  for (const Value& v : inputs) {
    TG_CHECK(v.valid(), "{}: an input Value is empty", op_name(op));
    TG_CHECK(v.graph == g, "{}: inputs belong to different graphs", op_name(op));
    ids.push_back(v.id);
  }
  return g->add_node(op, std::move(ids), std::move(attrs));
}

}  // namespace tensorgraph::detail
