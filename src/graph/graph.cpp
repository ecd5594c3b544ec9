#include "tensorgraph/graph/graph.hpp"

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/op_registry.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {

const char* post_op_name(PostOpKind kind) {
  switch (kind) {
    case PostOpKind::Relu:
      return "relu";
    case PostOpKind::Gelu:
      return "gelu";
    case PostOpKind::Tanh:
      return "tanh";
    case PostOpKind::Sigmoid:
      return "sigmoid";
    case PostOpKind::Affine:
      return "affine";
    case PostOpKind::Add:
      return "add";
  }
  return "?";
}

const Node& Value::node() const {
  TG_CHECK(valid(), "use of an empty Value");
  return graph->node(id);
}
Shape Value::shape() const {
  return node().shape;
}
DType Value::dtype() const {
  return node().dtype;
}
Value Value::named(std::string name) const {
  TG_CHECK(valid(), "use of an empty Value");
  graph->mutable_node(id).name = std::move(name);
  return *this;
}

Value Graph::input(const std::string& name, DType dtype, const Shape& shape) {
  TG_CHECK(!name.empty(), "graph input names must not be empty");
  for (const auto& in : inputs_)
    TG_CHECK(in.name != name, "graph input '{}' is declared twice", name);
  Node n;
  n.op = OpKind::Input;
  n.dtype = dtype;
  n.shape = shape;
  n.name = name;
  n.input_index = static_cast<int>(inputs_.size());
  nodes_.push_back(std::move(n));
  const auto id = static_cast<NodeId>(nodes_.size() - 1);
  inputs_.push_back({name, id});
  return {this, id};
}

Value Graph::constant(const Tensor& value, const std::string& name) {
  TG_CHECK(value.defined(), "constant '{}': the tensor is empty (default-constructed)", name);
  Node n;
  n.op = OpKind::Constant;
  n.dtype = value.dtype();
  n.shape = value.shape();
  n.name = name;
  n.value = value;
  nodes_.push_back(std::move(n));
  return {this, static_cast<NodeId>(nodes_.size() - 1)};
}

Value Graph::scalar(float value) {
  return constant(Tensor::scalar(value));
}

void Graph::output(const std::string& name, Value value) {
  TG_CHECK(!name.empty(), "graph output names must not be empty");
  TG_CHECK(value.graph == this, "output '{}': the value belongs to another graph", name);
  TG_CHECK(value.id >= 0 && static_cast<std::size_t>(value.id) < nodes_.size(),
           "output '{}': invalid node id {}", name, value.id);
  for (const auto& out : outputs_)
    TG_CHECK(out.name != name, "graph output '{}' is declared twice", name);
  outputs_.push_back({name, value.id});
}

Value Graph::add_node(OpKind op, std::vector<NodeId> inputs, Attrs attrs, const std::string& name) {
  TG_CHECK(op != OpKind::Input && op != OpKind::Constant,
           "add_node: use Graph::input or Graph::constant for leaf nodes");
  std::vector<TensorType> types;
  types.reserve(inputs.size());
  for (NodeId id : inputs) {
    TG_CHECK(id >= 0 && static_cast<std::size_t>(id) < nodes_.size(),
             "{}: invalid input node id {}", op_name(op), id);
    types.push_back({nodes_[id].dtype, nodes_[id].shape});
  }
  const TensorType out = infer_type(op, attrs, types);
  Node n;
  n.op = op;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  n.dtype = out.dtype;
  n.shape = out.shape;
  n.name = name;
  nodes_.push_back(std::move(n));
  return {this, static_cast<NodeId>(nodes_.size() - 1)};
}

const Node& Graph::node(NodeId id) const {
  TG_CHECK(id >= 0 && static_cast<std::size_t>(id) < nodes_.size(), "invalid node id {}", id);
  return nodes_[id];
}

Node& Graph::mutable_node(NodeId id) {
  TG_CHECK(id >= 0 && static_cast<std::size_t>(id) < nodes_.size(), "invalid node id {}", id);
  return nodes_[id];
}

void Graph::set_output_node(std::size_t index, NodeId id) {
  TG_CHECK(index < outputs_.size(), "invalid output index {}", index);
  node(id);
  outputs_[index].id = id;
}

std::vector<int> Graph::use_counts() const {
  std::vector<int> uses(nodes_.size(), 0);
  for (const Node& n : nodes_)
    for (NodeId in : n.inputs) ++uses[in];
  for (const auto& out : outputs_) ++uses[out.id];
  return uses;
}

std::vector<NodeId> Graph::compact(std::span<const bool> keep) {
  TG_CHECK(keep.size() == nodes_.size(), "compact: {} flags for {} nodes", keep.size(),
           nodes_.size());
  std::vector<NodeId> remap(nodes_.size(), kNoNode);
  std::vector<Node> kept;
  kept.reserve(nodes_.size());
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!keep[i]) continue;
    Node n = std::move(nodes_[i]);
    for (NodeId& in : n.inputs) {
      TG_CHECK(remap[in] != kNoNode, "compact: node {} keeps input {} that is removed", i, in);
      in = remap[in];
    }
    remap[i] = static_cast<NodeId>(kept.size());
    kept.push_back(std::move(n));
  }
  for (auto& in : inputs_) {
    TG_CHECK(remap[in.id] != kNoNode, "compact: graph input '{}' cannot be removed", in.name);
    in.id = remap[in.id];
  }
  for (auto& out : outputs_) {
    TG_CHECK(remap[out.id] != kNoNode, "compact: graph output '{}' cannot be removed", out.name);
    out.id = remap[out.id];
  }
  nodes_ = std::move(kept);
  return remap;
}

void Graph::reinfer() {
  std::vector<TensorType> types;
  for (Node& n : nodes_) {
    if (n.op == OpKind::Input || n.op == OpKind::Constant) continue;
    types.clear();
    for (NodeId in : n.inputs) types.push_back({nodes_[in].dtype, nodes_[in].shape});
    const TensorType out = infer_type(n.op, n.attrs, types);
    n.dtype = out.dtype;
    n.shape = out.shape;
  }
}

std::string Graph::to_string() const {
  std::string s;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    std::string args;
    for (NodeId in : n.inputs) args += fmt::format("{}%{}", args.empty() ? "" : ", ", in);
    std::string extra;
    if (n.op == OpKind::FusedElementwise && n.attrs.program)
      extra = " " + n.attrs.program->to_string();
    for (const PostOp& p : n.attrs.post_ops) extra += fmt::format(" +{}", post_op_name(p.kind));
    s += fmt::format("%{} = {}({}) -> {}{}{}{}\n", i, op_name(n.op), args, dtype_name(n.dtype),
                     n.shape.to_string(), n.name.empty() ? "" : "  '" + n.name + "'", extra);
  }
  for (const auto& in : inputs_) s += fmt::format("input '{}' = %{}\n", in.name, in.id);
  for (const auto& out : outputs_) s += fmt::format("output '{}' = %{}\n", out.name, out.id);
  return s;
}

namespace {
Value scalar_like(Value v, float x) {
  TG_CHECK(v.valid(), "use of an empty Value");
  return v.graph->scalar(x);
}
}  // namespace

Value operator+(Value a, Value b) {
  return ops::add(a, b);
}
Value operator-(Value a, Value b) {
  return ops::sub(a, b);
}
Value operator*(Value a, Value b) {
  return ops::mul(a, b);
}
Value operator/(Value a, Value b) {
  return ops::div(a, b);
}
Value operator-(Value a) {
  return ops::neg(a);
}
Value operator+(Value a, float b) {
  return ops::add(a, scalar_like(a, b));
}
Value operator-(Value a, float b) {
  return ops::sub(a, scalar_like(a, b));
}
Value operator*(Value a, float b) {
  return ops::mul(a, scalar_like(a, b));
}
Value operator/(Value a, float b) {
  return ops::div(a, scalar_like(a, b));
}
Value operator+(float a, Value b) {
  return ops::add(scalar_like(b, a), b);
}
Value operator-(float a, Value b) {
  return ops::sub(scalar_like(b, a), b);
}
Value operator*(float a, Value b) {
  return ops::mul(scalar_like(b, a), b);
}
Value operator/(float a, Value b) {
  return ops::div(scalar_like(b, a), b);
}

}  // namespace tensorgraph
