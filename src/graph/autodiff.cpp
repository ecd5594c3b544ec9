// Reverse-mode differentiation: one sweep over the nodes in reverse topological order, calling
// each op's gradient function (the op table) and summing the contributions of nodes used more
// than once.
#include "tensorgraph/graph/autodiff.hpp"

#include <fmt/format.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/op_registry.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {

namespace {

bool is_float(DType d) {
  return d == DType::F32 || d == DType::F64 || d == DType::F16 || d == DType::BF16;
}

std::string label(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  return n.name.empty() ? fmt::format("node %{} ({})", id, op_name(n.op))
                        : fmt::format("node %{} ({} '{}')", id, op_name(n.op), n.name);
}

}  // namespace

Value GradContext::scalar(double value) const {
  TG_CHECK(graph != nullptr, "GradContext without a graph");
  if (output.dtype() == DType::F64) return graph->constant(Tensor::scalar<double>(value));
  return graph->scalar(static_cast<float>(value));
}

std::vector<Value> grad(Value loss, std::span<const Value> params) {
  TG_CHECK(loss.valid(), "grad: the loss Value is empty");
  const Shape shape = loss.shape();
  TG_CHECK(shape.is_static() && shape.numel() == 1,
           "grad: the loss must have one element, got shape {} (pass the output's gradient "
           "to differentiate a non-scalar value)",
           shape.to_string());
  const Tensor one = loss.dtype() == DType::F64
                         ? Tensor::from<double>(shape, std::vector<double>{1.0})
                         : Tensor::from<float>(shape, std::vector<float>{1.f});
  TG_CHECK(loss.dtype() == DType::F32 || loss.dtype() == DType::F64,
           "grad: the loss must be f32 or f64, got {}", dtype_name(loss.dtype()));
  return grad(loss, params, loss.graph->constant(one, "d_loss"));
}

std::vector<Value> grad(Value loss, std::initializer_list<Value> params) {
  return grad(loss, std::span<const Value>(params.begin(), params.size()));
}

std::vector<Value> grad(Value output, std::span<const Value> params, Value output_grad) {
  TG_CHECK(output.valid() && output_grad.valid(), "grad: empty Value");
  Graph& g = *output.graph;
  TG_CHECK(output_grad.graph == &g, "grad: the output's gradient belongs to another graph");
  TG_CHECK(output_grad.dtype() == output.dtype(), "grad: the output is {}, its gradient {}",
           dtype_name(output.dtype()), dtype_name(output_grad.dtype()));
  TG_CHECK(output_grad.shape() == output.shape(), "grad: the output has shape {}, its gradient {}",
           output.shape().to_string(), output_grad.shape().to_string());
  const auto root = static_cast<std::size_t>(output.id);
  const std::size_t n = root + 1;  // later nodes cannot contribute to the output

  // Nodes on a path from a parameter to the output.
  std::vector<bool> depends(n, false), contributes(n, false);
  for (const Value& p : params) {
    TG_CHECK(p.valid() && p.graph == &g, "grad: a parameter belongs to another graph");
    TG_CHECK(is_float(p.dtype()), "grad: {} is {}, only float values have gradients",
             label(g, p.id), dtype_name(p.dtype()));
    if (static_cast<std::size_t>(p.id) < n) depends[p.id] = true;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const Node& node = g.node(static_cast<NodeId>(i));
    if (!is_float(node.dtype)) continue;
    for (NodeId in : node.inputs)
      if (depends[in]) depends[i] = true;
  }
  contributes[root] = true;
  for (std::size_t i = n; i-- > 0;) {
    if (!contributes[i]) continue;
    for (NodeId in : g.node(static_cast<NodeId>(i)).inputs) contributes[in] = true;
  }
  std::vector<bool> relevant(n);
  for (std::size_t i = 0; i < n; ++i) relevant[i] = depends[i] && contributes[i];
  for (const Value& p : params)
    TG_CHECK(static_cast<std::size_t>(p.id) < n && relevant[p.id], "grad: {} does not depend on {}",
             label(g, output.id), label(g, p.id));

  // Reverse sweep: acc[i] is d output / d node i, summed over its uses.
  std::vector<Value> acc(n);
  acc[root] = output_grad;
  for (std::size_t i = n; i-- > 0;) {
    if (!relevant[i] || !acc[i].valid()) continue;
    const auto id = static_cast<NodeId>(i);
    const Node& node = g.node(id);
    if (node.op == OpKind::Input || node.op == OpKind::Constant) continue;
    GradContext ctx;
    ctx.graph = &g;
    ctx.node = id;
    ctx.op = node.op;
    ctx.attrs = node.attrs;
    ctx.output = Value{&g, id};
    ctx.dy = acc[i];
    bool any = false;
    for (NodeId in : node.inputs) {
      ctx.inputs.push_back(Value{&g, in});
      ctx.wanted.push_back(relevant[in]);
      any = any || relevant[in];
    }
    if (!any) continue;
    const OpDef& def = op_def(ctx.op);
    if (def.grad == nullptr) {
      if (ctx.op == OpKind::FusedElementwise)
        fail("grad: {} has no gradient: differentiate the graph before compiling it", label(g, id));
      fail("grad: {} is not differentiable", label(g, id));
    }
    const std::vector<Value> grads =
        with_context(fmt::format("gradient of {}", label(g, id)), [&] { return def.grad(ctx); });
    TG_CHECK(grads.size() == ctx.inputs.size(),
             "grad: the gradient of {} returned {} values for {} inputs", label(g, id),
             grads.size(), ctx.inputs.size());
    for (std::size_t k = 0; k < grads.size(); ++k) {
      if (!ctx.wanted[k]) continue;
      const Value& gk = grads[k];
      TG_CHECK(gk.valid(), "grad: the gradient of {} gave nothing for input {}", label(g, id), k);
      const NodeId in = ctx.inputs[k].id;
      const Shape want = g.node(in).shape;
      const Shape got = gk.shape();
      bool compatible = want.rank() == got.rank() && gk.dtype() == g.node(in).dtype;
      for (int d = 0; compatible && d < want.rank(); ++d)
        compatible = want.dims()[d] == got.dims()[d] || want.dims()[d] < 0 || got.dims()[d] < 0;
      TG_CHECK(compatible, "grad: the gradient of {} for input {} is {}{}, the input is {}{}",
               label(g, id), k, dtype_name(gk.dtype()), got.to_string(),
               dtype_name(g.node(in).dtype), want.to_string());
      acc[in] = acc[in].valid() ? ops::add(acc[in], gk) : gk;
    }
  }
  std::vector<Value> result;
  result.reserve(params.size());
  for (const Value& p : params) result.push_back(acc[p.id]);
  return result;
}

namespace autodiff {

Value sum_to(Value g, const Shape& target) {
  const Shape gs = g.shape();
  if (gs == target) return g;
  const int lead = gs.rank() - target.rank();
  TG_CHECK(lead >= 0, "sum_to: cannot sum {} to the larger rank of {}", gs.to_string(),
           target.to_string());
  std::vector<std::int64_t> ones;  // broadcast dimensions of size 1 in the target
  for (int i = 0; i < target.rank(); ++i) {
    const std::int64_t t = target.dims()[i], d = gs.dims()[lead + i];
    if (t == d) continue;
    if (t == 1) {
      ones.push_back(lead + i);
    } else if (t == Shape::kDynamic) {
      fail("sum_to: cannot tell whether dynamic dimension {} of {} was broadcast to {}", i,
           target.to_string(), gs.to_string());
    } else if (d != Shape::kDynamic) {
      fail("sum_to: {} does not broadcast to {}", target.to_string(), gs.to_string());
    }
  }
  Value r = g;
  if (!ones.empty()) r = ops::reduce_sum(r, ones, true);
  if (lead > 0) {
    std::vector<std::int64_t> leading;
    for (int i = 0; i < lead; ++i) leading.push_back(i);
    r = ops::reduce_sum(r, leading, false);
  }
  return r;
}

Value reshape_to(Value v, const Shape& target) {
  const Shape vs = v.shape();
  if (vs == target) return v;
  int dynamic = 0;
  for (std::int64_t d : target.dims()) dynamic += d < 0 ? 1 : 0;
  std::vector<std::int64_t> dims;
  bool aligned = true;  // v and target agree on every dimension so far
  int inferred = 0;
  for (int i = 0; i < target.rank(); ++i) {
    const std::int64_t t = target.dims()[i];
    if (t >= 0) {
      dims.push_back(t);
    } else if (dynamic > 1 && aligned && i < vs.rank() && vs.dims()[i] == Shape::kDynamic) {
      dims.push_back(0);  // the same dynamic dimension: copy it
    } else {
      dims.push_back(-1);
      ++inferred;
    }
    aligned = aligned && i < vs.rank() && vs.dims()[i] == t;
  }
  TG_CHECK(inferred <= 1, "reshape_to: cannot reshape {} to {}: too many dynamic dimensions",
           vs.to_string(), target.to_string());
  return ops::reshape(v, std::move(dims));
}

}  // namespace autodiff
}  // namespace tensorgraph
