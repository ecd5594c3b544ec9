// Fusion: (1) epilogues into matmul/linear (bias, activation, scale, residual add) as post-ops
// that oneDNN applies while the result is still in registers/cache; (2) trees of element-wise
// ops into one fused_elementwise node evaluated in one pass over memory.
#include <optional>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/op_registry.hpp"
#include "tensorgraph/runtime/passes.hpp"

namespace tensorgraph {

namespace {

std::vector<bool> output_flags(const Graph& g) {
  std::vector<bool> flags(g.size(), false);
  for (const auto& out : g.outputs()) flags[out.id] = true;
  return flags;
}

// The value of a one-element f32 constant whose broadcast cannot grow a result of `max_rank`.
std::optional<float> scalar_constant(const Graph& g, NodeId id, int max_rank) {
  const Node& n = g.node(id);
  if (n.op != OpKind::Constant || n.dtype != DType::F32 || n.shape.rank() > max_rank) return {};
  if (n.value.numel() != 1) return {};
  return n.value.data<float>()[0];
}

std::optional<PostOpKind> activation_post_op(OpKind op) {
  switch (op) {
    case OpKind::Relu:
      return PostOpKind::Relu;
    case OpKind::Gelu:
      return PostOpKind::Gelu;
    case OpKind::Tanh:
      return PostOpKind::Tanh;
    case OpKind::Sigmoid:
      return PostOpKind::Sigmoid;
    default:
      return {};
  }
}

// Tries to fold consumer `c` of matmul/linear node `p` into p's post-ops. On success `c` becomes
// the fused node (it is later in topological order than every input it then reads) and p is left
// without users.
bool absorb_consumer(Graph& g, NodeId p, NodeId c) {
  const Node& pn = g.node(p);
  const Node& cn = g.node(c);
  const int rank = pn.shape.rank();
  Attrs attrs = pn.attrs;
  std::vector<NodeId> inputs = pn.inputs;
  auto other_operand = [&]() -> std::pair<NodeId, int> {
    if (cn.inputs.size() != 2) return {kNoNode, -1};
    if (cn.inputs[0] == p && cn.inputs[1] != p) return {cn.inputs[1], 1};
    if (cn.inputs[1] == p && cn.inputs[0] != p) return {cn.inputs[0], 0};
    return {kNoNode, -1};
  };
  if (auto act = activation_post_op(cn.op)) {
    attrs.post_ops.push_back({*act});
  } else if (cn.op == OpKind::Mul || cn.op == OpKind::Div || cn.op == OpKind::Add ||
             cn.op == OpKind::Sub) {
    const auto [other, other_pos] = other_operand();
    if (other == kNoNode) return false;
    if (const auto s = scalar_constant(g, other, rank)) {
      if (cn.op == OpKind::Mul) {
        attrs.post_ops.push_back({PostOpKind::Affine, *s, 0.f});
      } else if (cn.op == OpKind::Div) {
        if (other_pos != 1) return false;  // s / x is not affine
        attrs.post_ops.push_back({PostOpKind::Affine, 1.f / *s, 0.f});
      } else if (cn.op == OpKind::Add) {
        attrs.post_ops.push_back({PostOpKind::Affine, 1.f, *s});
      } else {  // x - s or s - x
        attrs.post_ops.push_back(other_pos == 1 ? PostOp{PostOpKind::Affine, 1.f, -*s}
                                                : PostOp{PostOpKind::Affine, -1.f, *s});
      }
    } else if (cn.op == OpKind::Add) {
      const Node& on = g.node(other);
      if (pn.op == OpKind::Linear && !attrs.has_bias && attrs.post_ops.empty() &&
          on.op == OpKind::Constant && on.shape.rank() == 1 && on.shape[0] == pn.shape[-1] &&
          (on.dtype == DType::F32 || on.dtype == DType::F16 || on.dtype == DType::BF16)) {
        attrs.has_bias = true;  // x W^T + b: the bias of the linear itself
        inputs.push_back(other);
      } else if (on.dtype == DType::F32 && on.shape.rank() <= rank &&
                 broadcast_shapes("add", pn.shape, on.shape) == pn.shape) {
        attrs.post_ops.push_back({PostOpKind::Add, 1.f, 0.f, static_cast<int>(inputs.size())});
        inputs.push_back(other);
      } else {
        return false;
      }
    } else {
      return false;
    }
  } else {
    return false;
  }
  Node& target = g.mutable_node(c);
  target.op = pn.op;
  target.inputs = std::move(inputs);
  target.attrs = std::move(attrs);
  if (target.name.empty()) target.name = pn.name;
  return true;
}

int fuse_epilogues(Graph& g) {
  int absorbed = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const OpKind op = g.node(static_cast<NodeId>(i)).op;
    if (op != OpKind::Linear && op != OpKind::MatMul) continue;
    if (g.node(static_cast<NodeId>(i)).dtype != DType::F32) continue;
    auto cur = static_cast<NodeId>(i);
    while (true) {
      const std::vector<int> uses = g.use_counts();
      const std::vector<bool> is_output = output_flags(g);
      if (uses[cur] != 1 || is_output[cur]) break;
      NodeId consumer = kNoNode;
      for (std::size_t j = static_cast<std::size_t>(cur) + 1; j < g.size() && consumer == kNoNode;
           ++j)
        for (NodeId in : g.node(static_cast<NodeId>(j)).inputs)
          if (in == cur) consumer = static_cast<NodeId>(j);
      if (consumer == kNoNode || !absorb_consumer(g, cur, consumer)) break;
      ++absorbed;
      cur = consumer;
    }
  }
  return absorbed;
}

std::optional<EwOp> ew_op(OpKind op) {
  switch (op) {
    case OpKind::Add:
      return EwOp::Add;
    case OpKind::Sub:
      return EwOp::Sub;
    case OpKind::Mul:
      return EwOp::Mul;
    case OpKind::Div:
      return EwOp::Div;
    case OpKind::Pow:
      return EwOp::Pow;
    case OpKind::Neg:
      return EwOp::Neg;
    case OpKind::Relu:
      return EwOp::Relu;
    case OpKind::Gelu:
      return EwOp::Gelu;
    case OpKind::Tanh:
      return EwOp::Tanh;
    case OpKind::Sigmoid:
      return EwOp::Sigmoid;
    case OpKind::Exp:
      return EwOp::Exp;
    case OpKind::Log:
      return EwOp::Log;
    case OpKind::Sqrt:
      return EwOp::Sqrt;
    case OpKind::Rsqrt:
      return EwOp::Rsqrt;
    case OpKind::ReluBackward:
      return EwOp::ReluBackward;
    case OpKind::GeluBackward:
      return EwOp::GeluBackward;
    default:
      return {};
  }
}

// Builds the program of one fused tree rooted at `root`.
class TreeBuilder {
 public:
  TreeBuilder(const Graph& g, const std::vector<int>& uses, const std::vector<bool>& is_output,
              std::vector<bool>& absorbed, NodeId root)
      : g_(g), uses_(uses), is_output_(is_output), absorbed_(absorbed), root_(root) {}

  bool build() {
    emit(root_, true);
    return inlined_ > 0 || constants_ > 0;
  }

  // Operands: >= 0 index into code_, < 0 external input -(k+1).
  ElementwiseProgram program() const {
    ElementwiseProgram p;
    p.num_inputs = static_cast<int>(inputs_.size());
    auto reg = [&](int operand) -> std::int16_t {
      return static_cast<std::int16_t>(operand < 0 ? -operand - 1 : p.num_inputs + operand);
    };
    for (const Pending& ins : code_) {
      EwInstr e;
      e.op = ins.op;
      e.imm = ins.imm;
      if (ins.a != kUnused) e.a = reg(ins.a);
      if (ins.b != kUnused) e.b = reg(ins.b);
      p.code.push_back(e);
    }
    return p;
  }
  const std::vector<NodeId>& inputs() const { return inputs_; }
  int inlined() const { return inlined_; }

 private:
  static constexpr int kUnused = 1 << 20;
  struct Pending {
    EwOp op;
    int a = kUnused, b = kUnused;
    float imm = 0;
  };

  bool fusable(NodeId id) const {
    const Node& n = g_.node(id);
    // Registers are emitted after the recursion, so budget them when a node is taken: its own
    // instruction plus one per operand (an upper bound).
    const int cost = 1 + static_cast<int>(n.inputs.size());
    const bool room = reserved_ + cost <= kMaxFusedRegisters;
    return room && op_def(n.op).elementwise && n.dtype == DType::F32 && uses_[id] == 1 &&
           !is_output_[id] && !absorbed_[id] && n.shape.rank() <= g_.node(root_).shape.rank();
  }

  int emit(NodeId id, bool is_root) {
    const Node& n = g_.node(id);
    if (is_root || fusable(id)) {
      reserved_ += 1 + static_cast<int>(n.inputs.size());
      Pending ins{*ew_op(n.op)};
      if (!n.inputs.empty()) ins.a = emit(n.inputs[0], false);
      if (n.inputs.size() > 1) ins.b = emit(n.inputs[1], false);
      code_.push_back(ins);
      if (!is_root) {
        absorbed_[id] = true;
        ++inlined_;
      }
      return static_cast<int>(code_.size()) - 1;
    }
    if (const auto s = scalar_constant(g_, id, g_.node(root_).shape.rank())) {
      code_.push_back({EwOp::Const, kUnused, kUnused, *s});
      ++constants_;
      return static_cast<int>(code_.size()) - 1;
    }
    for (std::size_t k = 0; k < inputs_.size(); ++k)
      if (inputs_[k] == id) return -static_cast<int>(k) - 1;
    inputs_.push_back(id);
    return -static_cast<int>(inputs_.size());
  }

  const Graph& g_;
  const std::vector<int>& uses_;
  const std::vector<bool>& is_output_;
  std::vector<bool>& absorbed_;
  NodeId root_;
  std::vector<Pending> code_;
  std::vector<NodeId> inputs_;
  int inlined_ = 0;
  int constants_ = 0;
  int reserved_ = 0;
};

int fuse_elementwise(Graph& g) {
  const std::vector<int> uses = g.use_counts();
  const std::vector<bool> is_output = output_flags(g);
  std::vector<bool> absorbed(g.size(), false);
  int total = 0;
  // Consumers before producers: the first node met of a chain is its root.
  for (std::size_t i = g.size(); i-- > 0;) {
    const auto id = static_cast<NodeId>(i);
    const Node& n = g.node(id);
    if (absorbed[id] || !op_def(n.op).elementwise || n.dtype != DType::F32) continue;
    std::vector<bool> trial = absorbed;
    TreeBuilder builder(g, uses, is_output, trial, id);
    if (!builder.build() || builder.inputs().empty()) continue;
    absorbed = std::move(trial);
    total += builder.inlined();
    Node& target = g.mutable_node(id);
    target.op = OpKind::FusedElementwise;
    target.inputs = builder.inputs();
    target.attrs = Attrs{};
    target.attrs.program = std::make_shared<const ElementwiseProgram>(builder.program());
  }
  return total;
}

}  // namespace

int fuse(Graph& graph, const FusionOptions& options) {
  int absorbed = 0;
  if (options.epilogues) absorbed += fuse_epilogues(graph);
  // Absorbed nodes still count as users of their inputs: drop them before counting uses again.
  eliminate_dead_nodes(graph);
  if (options.elementwise) absorbed += fuse_elementwise(graph);
  eliminate_dead_nodes(graph);
  graph.reinfer();  // validates the rewritten nodes
  return absorbed;
}

}  // namespace tensorgraph
