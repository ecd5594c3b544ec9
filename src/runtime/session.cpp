// compile() and Session: passes, kernels, per-shape-class plans (concrete shapes, memory
// offsets in one arena, prepared kernels) and the hot path that executes a plan.
#include "tensorgraph/runtime/session.hpp"

#include <omp.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "kernel.hpp"
#include "tensorgraph/core/aligned.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/core/threads.hpp"
#include "tensorgraph/graph/op_registry.hpp"
#include "tensorgraph/runtime/passes.hpp"

namespace tensorgraph {

using runtime::Kernel;
using runtime::KernelArgs;
using runtime::Preparation;
using runtime::TensorRef;

namespace {

struct Location {
  enum class Kind : std::uint8_t { None, Arena, Input, Output, Constant };
  Kind kind = Kind::None;
  std::uint32_t index = 0;  // input or output slot
  std::size_t offset = 0;   // arena offset
  const void* constant = nullptr;
};

struct Step {
  Kernel* kernel = nullptr;
  NodeId node = kNoNode;
  std::shared_ptr<const void> state;
  std::size_t scratch_offset = 0;
  std::size_t scratch_bytes = 0;
  std::vector<Location> in_locs;
  Location out_loc;
  std::vector<TensorRef> inputs;  // shapes fixed by the plan; data pointers set on every run
  TensorRef output;
};

struct Plan {
  std::vector<Shape> input_shapes;  // the shape class
  std::vector<DType> output_dtypes;
  std::vector<Shape> output_shapes;
  std::vector<Step> steps;
  std::size_t arena_bytes = 0;
  PlanInfo info;
  std::uint64_t last_used = 0;
};

// Copies a node into a caller's output tensor (outputs that are inputs, constants, views or
// named twice).
class CopyKernel final : public Kernel {
 public:
  void run(const KernelArgs& args) override {
    const std::size_t bytes = args.output.nbytes();
    if (bytes) std::memcpy(args.output.data, args.inputs[0].data, bytes);
  }
  std::string name() const override { return "copy to output"; }
};

// Sets the OpenMP thread count of the calling thread for the duration of a scope.
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : previous_(omp_get_max_threads()) {
    if (previous_ != threads) omp_set_num_threads(threads);
  }
  ~ThreadScope() {
    if (omp_get_max_threads() != previous_) omp_set_num_threads(previous_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
};

std::string node_label(const Graph& g, NodeId id) {
  const Node& n = g.node(id);
  return n.name.empty() ? fmt::format("node %{} ({})", id, op_name(n.op))
                        : fmt::format("node %{} ({} '{}')", id, op_name(n.op), n.name);
}

std::string shapes_label(const std::vector<std::string>& names, std::span<const Shape> shapes) {
  std::string s;
  for (std::size_t i = 0; i < names.size() && i < shapes.size(); ++i)
    s += fmt::format("{}{} {}", i ? ", " : "", names[i], shapes[i].to_string());
  return s;
}

}  // namespace

struct Session::Impl {
  Graph graph;
  CompileOptions options;
  CompileStats stats;
  int threads = 1;
  std::vector<std::unique_ptr<Kernel>> kernels;  // per node; null for inputs, constants, views
  CopyKernel copy_kernel;
  std::vector<std::string> input_names, output_names;
  std::vector<NodeId> input_nodes, output_nodes;
  std::vector<std::unique_ptr<Plan>> plans;
  std::uint64_t clock = 0;
  std::unique_ptr<std::byte[], AlignedDeleter> arena;
  std::size_t arena_capacity = 0;
  const Plan* last_plan = nullptr;

  template <typename ShapeOf>
  Plan* find_plan(ShapeOf&& shape_of) {
    for (auto& p : plans) {
      bool same = true;
      for (std::size_t k = 0; k < p->input_shapes.size() && same; ++k)
        same = p->input_shapes[k] == shape_of(k);
      if (same) return p.get();
    }
    return nullptr;
  }

  Plan& plan_for(std::span<const Shape> shapes) {
    TG_CHECK(shapes.size() == input_nodes.size(), "expected {} input shape(s), got {}",
             input_nodes.size(), shapes.size());
    Plan* p = find_plan([&](std::size_t k) -> const Shape& { return shapes[k]; });
    if (!p) p = &add_plan(shapes);
    p->last_used = ++clock;
    last_plan = p;
    return *p;
  }

  Plan& add_plan(std::span<const Shape> shapes) {
    // Primitives are created for the session's thread count (oneDNN sizes some for it).
    ThreadScope thread_scope(threads);
    std::unique_ptr<Plan> plan =
        with_context(fmt::format("input shapes {}", shapes_label(input_names, shapes)),
                     [&] { return build_plan(shapes); });
    if (plans.size() >= std::max<std::size_t>(options.plan_cache_size, 1)) {
      auto lru = std::min_element(plans.begin(), plans.end(), [](const auto& a, const auto& b) {
        return a->last_used < b->last_used;
      });
      if (last_plan == lru->get()) last_plan = nullptr;
      plans.erase(lru);
    }
    if (plan->arena_bytes > arena_capacity) {
      // Grow (never shrink) and touch every page now, so that runs do not page-fault.
      arena.reset();
      arena = aligned_alloc_bytes(plan->arena_bytes);
      std::memset(arena.get(), 0, plan->arena_bytes);
      arena_capacity = plan->arena_bytes;
    }
    plans.push_back(std::move(plan));
    return *plans.back();
  }

  std::unique_ptr<Plan> build_plan(std::span<const Shape> given);
  void execute(Plan& plan, std::span<const Tensor> inputs, std::span<Tensor> outputs);
};

std::unique_ptr<Plan> Session::Impl::build_plan(std::span<const Shape> given) {
  const Graph& g = graph;
  const std::size_t n = g.size();
  auto plan = std::make_unique<Plan>();
  plan->input_shapes.assign(given.begin(), given.end());

  // 1. Concrete shapes of every node.
  std::vector<Shape> shapes(n);
  std::vector<runtime::TensorRef> refs;
  for (std::size_t k = 0; k < input_nodes.size(); ++k) {
    const Node& in = g.node(input_nodes[k]);
    const Shape& s = given[k];
    bool ok = s.rank() == in.shape.rank();
    for (int d = 0; ok && d < s.rank(); ++d)
      ok = s.dims()[d] >= 0 && (in.shape.dims()[d] < 0 || in.shape.dims()[d] == s.dims()[d]);
    TG_CHECK(ok, "input '{}': shape {} does not match the declared {}", in.name, s.to_string(),
             in.shape.to_string());
  }
  std::vector<TensorType> types;
  for (std::size_t i = 0; i < n; ++i) {
    const Node& node = g.node(static_cast<NodeId>(i));
    if (node.op == OpKind::Input) {
      shapes[i] = given[node.input_index];
    } else if (node.op == OpKind::Constant) {
      shapes[i] = node.value.shape();
    } else {
      types.clear();
      for (NodeId in : node.inputs) types.push_back({g.node(in).dtype, shapes[in]});
      shapes[i] = with_context(node_label(g, static_cast<NodeId>(i)),
                               [&] { return infer_type(node.op, node.attrs, types).shape; });
    }
  }
  auto bytes_of = [&](std::size_t i) {
    return static_cast<std::size_t>(shapes[i].numel()) *
           dtype_size(g.node(static_cast<NodeId>(i)).dtype);
  };
  auto is_leaf = [&](std::size_t i) {
    const OpKind op = g.node(static_cast<NodeId>(i)).op;
    return op == OpKind::Input || op == OpKind::Constant;
  };
  auto is_view = [&](std::size_t i) { return op_def(g.node(static_cast<NodeId>(i)).op).view; };

  // 2. Storage: outputs computed directly into the caller's tensors where possible; views alias
  //    their input; other intermediates get an arena buffer, reusing an input's buffer in place
  //    when that input dies here.
  std::vector<int> out_slot(n, -1);
  std::vector<std::pair<std::size_t, std::size_t>> copies;  // (output slot, node)
  for (std::size_t k = 0; k < output_nodes.size(); ++k) {
    const auto id = static_cast<std::size_t>(output_nodes[k]);
    if (out_slot[id] < 0 && !is_leaf(id) && !is_view(id))
      out_slot[id] = static_cast<int>(k);
    else
      copies.emplace_back(k, id);
  }
  std::vector<std::size_t> root(n);
  for (std::size_t i = 0; i < n; ++i)
    root[i] = is_view(i) ? root[g.node(static_cast<NodeId>(i)).inputs[0]] : i;
  std::vector<int> last_use(n, -1);
  for (std::size_t i = 0; i < n; ++i)
    for (NodeId in : g.node(static_cast<NodeId>(i)).inputs)
      last_use[root[in]] = std::max(last_use[root[in]], static_cast<int>(i));
  for (const auto& [slot, id] : copies)
    last_use[root[id]] = std::max(last_use[root[id]], static_cast<int>(id));

  std::vector<BufferRequest> buffers;
  std::vector<int> buffer_of(n, -1);
  std::vector<bool> in_place(n, false);
  std::vector<Preparation> preps(n);
  std::vector<int> scratch_buffer(n, -1);
  for (std::size_t i = 0; i < n; ++i) {
    if (is_leaf(i) || is_view(i)) continue;
    const Node& node = g.node(static_cast<NodeId>(i));
    // Prepare the kernel for these shapes (may create primitives); it tells its scratch size.
    refs.clear();
    for (NodeId in : node.inputs) refs.push_back({nullptr, g.node(in).dtype, shapes[in]});
    const TensorRef out_ref{nullptr, node.dtype, shapes[i]};
    preps[i] = with_context(node_label(g, static_cast<NodeId>(i)),
                            [&] { return kernels[i]->prepare(refs, out_ref); });
    if (preps[i].scratch_bytes > 0) {
      scratch_buffer[i] = static_cast<int>(buffers.size());
      buffers.push_back({preps[i].scratch_bytes, static_cast<int>(i), static_cast<int>(i)});
    }
    if (out_slot[i] >= 0) continue;
    const OpDef& def = op_def(node.op);
    const int last = std::max(last_use[i], static_cast<int>(i));
    if (def.inplace) {
      const std::size_t candidates =
          (def.elementwise || node.op == OpKind::FusedElementwise) ? node.inputs.size() : 1;
      for (std::size_t j = 0; j < candidates && buffer_of[i] < 0; ++j) {
        const auto in = static_cast<std::size_t>(node.inputs[j]);
        const std::size_t r = root[in];
        if (buffer_of[r] < 0 || last_use[r] != static_cast<int>(i)) continue;
        if (!(shapes[in] == shapes[i]) || g.node(node.inputs[j]).dtype != node.dtype) continue;
        buffer_of[i] = buffer_of[r];
        buffers[buffer_of[r]].last = std::max(buffers[buffer_of[r]].last, last);
        in_place[i] = true;
      }
    }
    if (buffer_of[i] < 0) {
      buffer_of[i] = static_cast<int>(buffers.size());
      buffers.push_back({bytes_of(i), static_cast<int>(i), last});
    }
  }
  const MemoryPlan memory = plan_memory(buffers);
  plan->arena_bytes = memory.peak_bytes;

  // 3. Steps with resolved locations.
  std::vector<Location> loc(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Node& node = g.node(static_cast<NodeId>(i));
    Location& l = loc[i];
    if (node.op == OpKind::Input) {
      l.kind = Location::Kind::Input;
      l.index = static_cast<std::uint32_t>(node.input_index);
    } else if (node.op == OpKind::Constant) {
      l.kind = Location::Kind::Constant;
      l.constant = node.value.raw();
    } else if (is_view(i)) {
      l = loc[root[i]];
    } else if (out_slot[i] >= 0) {
      l.kind = Location::Kind::Output;
      l.index = static_cast<std::uint32_t>(out_slot[i]);
    } else {
      l.kind = Location::Kind::Arena;
      l.offset = memory.offsets[buffer_of[i]];
    }
  }
  auto add_copy_steps = [&](std::size_t id) {
    for (const auto& [slot, node_id] : copies) {
      if (node_id != id) continue;
      Step s;
      s.kernel = &copy_kernel;
      s.node = static_cast<NodeId>(id);
      s.in_locs = {loc[id]};
      s.inputs = {{nullptr, g.node(static_cast<NodeId>(id)).dtype, shapes[id]}};
      s.out_loc.kind = Location::Kind::Output;
      s.out_loc.index = static_cast<std::uint32_t>(slot);
      s.output = {nullptr, g.node(static_cast<NodeId>(id)).dtype, shapes[id]};
      plan->steps.push_back(std::move(s));
    }
  };
  PlanInfo& info = plan->info;
  for (std::size_t i = 0; i < n; ++i) {
    const Node& node = g.node(static_cast<NodeId>(i));
    if (!is_leaf(i)) {
      PlannedStep ps;
      ps.node = static_cast<NodeId>(i);
      ps.op = node.op;
      ps.name = node.name;
      ps.dtype = node.dtype;
      ps.shape = shapes[i];
      ps.bytes = bytes_of(i);
      for (const PostOp& p : node.attrs.post_ops) ps.fused.emplace_back(post_op_name(p.kind));
      if (node.attrs.program) {
        ps.program = node.attrs.program->to_string();
        for (const EwInstr& ins : node.attrs.program->code)
          if (ins.op != EwOp::Const) ps.fused.emplace_back(ew_op_name(ins.op));
      }
      if (is_view(i)) {
        ps.storage = PlannedStep::Storage::Alias;
        ps.kernel = "view (no kernel)";
      } else {
        ps.kernel = kernels[i]->name();
        ps.storage = out_slot[i] >= 0 ? PlannedStep::Storage::Output : PlannedStep::Storage::Arena;
        ps.offset = loc[i].offset;
        ps.in_place = in_place[i];
        ps.scratch_bytes = preps[i].scratch_bytes;
        info.scratch_bytes += preps[i].scratch_bytes;
        if (out_slot[i] < 0) info.intermediate_bytes += bytes_of(i);

        Step s;
        s.kernel = kernels[i].get();
        s.node = static_cast<NodeId>(i);
        s.state = preps[i].state;
        s.scratch_bytes = preps[i].scratch_bytes;
        if (scratch_buffer[i] >= 0) s.scratch_offset = memory.offsets[scratch_buffer[i]];
        for (NodeId in : node.inputs) {
          s.in_locs.push_back(loc[in]);
          s.inputs.push_back({nullptr, g.node(in).dtype, shapes[in]});
        }
        s.out_loc = loc[i];
        s.output = {nullptr, node.dtype, shapes[i]};
        plan->steps.push_back(std::move(s));
      }
      info.steps.push_back(std::move(ps));
    }
    add_copy_steps(i);
  }
  info.arena_bytes = plan->arena_bytes;
  for (NodeId id : output_nodes) {
    plan->output_dtypes.push_back(g.node(id).dtype);
    plan->output_shapes.push_back(shapes[id]);
  }
  return plan;
}

void Session::Impl::execute(Plan& plan, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  std::byte* base = arena.get();
  auto resolve = [&](const Location& l) -> void* {
    switch (l.kind) {
      case Location::Kind::Arena:
        return base + l.offset;
      case Location::Kind::Input:
        return const_cast<void*>(inputs[l.index].raw());
      case Location::Kind::Output:
        return outputs[l.index].raw_mutable();
      case Location::Kind::Constant:
        return const_cast<void*>(l.constant);
      case Location::Kind::None:
        break;
    }
    return nullptr;
  };
  ThreadScope thread_scope(threads);
  // The plan is reused across runs; only the data pointers of its refs change.
  for (Step& s : plan.steps) {
    for (std::size_t j = 0; j < s.inputs.size(); ++j) s.inputs[j].data = resolve(s.in_locs[j]);
    s.output.data = resolve(s.out_loc);
    KernelArgs args;
    args.inputs = s.inputs;
    args.output = s.output;
    args.scratch = s.scratch_bytes ? base + s.scratch_offset : nullptr;
    args.state = s.state.get();
    args.threads = threads;
    try {
      s.kernel->run(args);
    } catch (const Error& e) {
      throw e.with_context(node_label(graph, s.node));
    }
  }
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

void Session::run(std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  Impl& m = *impl_;
  TG_CHECK(inputs.size() == m.input_nodes.size(), "run: expected {} input(s), got {}",
           m.input_nodes.size(), inputs.size());
  TG_CHECK(outputs.size() == m.output_nodes.size(), "run: expected {} output(s), got {}",
           m.output_nodes.size(), outputs.size());
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const DType want = m.graph.node(m.input_nodes[k]).dtype;
    if (inputs[k].dtype() != want || !inputs[k].defined())
      fail("input '{}': expected {} data, got {}", m.input_names[k], dtype_name(want),
           inputs[k].defined() ? inputs[k].description() : "an empty tensor");
  }
  Plan* plan = m.find_plan([&](std::size_t k) -> const Shape& { return inputs[k].shape(); });
  if (!plan) {
    std::vector<Shape> shapes;
    for (const Tensor& t : inputs) shapes.push_back(t.shape());
    plan = &m.add_plan(shapes);
  }
  plan->last_used = ++m.clock;
  m.last_plan = plan;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    if (outputs[k].dtype() != plan->output_dtypes[k] ||
        !(outputs[k].shape() == plan->output_shapes[k]) || !outputs[k].defined())
      fail("output '{}': expected a {}{} tensor, got {}", m.output_names[k],
           dtype_name(plan->output_dtypes[k]), plan->output_shapes[k].to_string(),
           outputs[k].defined() ? outputs[k].description() : "an empty tensor");
  }
  m.execute(*plan, inputs, outputs);
}

NamedTensors Session::run(const NamedTensors& inputs) {
  const Impl& m = *impl_;
  std::vector<Tensor> ordered;
  ordered.reserve(m.input_names.size());
  auto known = [&] { return fmt::format("{}", fmt::join(m.input_names, ", ")); };
  for (const std::string& name : m.input_names) {
    auto it = inputs.find(name);
    TG_CHECK(it != inputs.end(), "run: missing input '{}' (the graph's inputs: {})", name, known());
    ordered.push_back(it->second);
  }
  for (const auto& [name, t] : inputs)
    TG_CHECK(std::find(m.input_names.begin(), m.input_names.end(), name) != m.input_names.end(),
             "run: unknown input '{}' (the graph's inputs: {})", name, known());
  std::vector<Tensor> outs = allocate_outputs(ordered);
  run(ordered, outs);
  NamedTensors result;
  for (std::size_t k = 0; k < outs.size(); ++k)
    result.emplace(m.output_names[k], std::move(outs[k]));
  return result;
}

std::vector<std::pair<DType, Shape>> Session::output_types(std::span<const Shape> input_shapes) {
  const Plan& p = impl_->plan_for(input_shapes);
  std::vector<std::pair<DType, Shape>> types;
  for (std::size_t k = 0; k < p.output_shapes.size(); ++k)
    types.emplace_back(p.output_dtypes[k], p.output_shapes[k]);
  return types;
}

std::vector<Tensor> Session::allocate_outputs(std::span<const Tensor> inputs) {
  std::vector<Shape> shapes;
  for (const Tensor& t : inputs) shapes.push_back(t.shape());
  std::vector<Tensor> outs;
  for (const auto& [dtype, shape] : output_types(shapes))
    outs.push_back(Tensor::empty(dtype, shape));
  return outs;
}

const std::vector<std::string>& Session::input_names() const {
  return impl_->input_names;
}
const std::vector<std::string>& Session::output_names() const {
  return impl_->output_names;
}

std::size_t Session::input_index(std::string_view name) const {
  const auto& names = impl_->input_names;
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k] == name) return k;
  fail("unknown input '{}' (the graph's inputs: {})", name, fmt::join(names, ", "));
}

std::size_t Session::output_index(std::string_view name) const {
  const auto& names = impl_->output_names;
  for (std::size_t k = 0; k < names.size(); ++k)
    if (names[k] == name) return k;
  fail("unknown output '{}' (the graph's outputs: {})", name, fmt::join(names, ", "));
}

PlanInfo Session::plan(std::span<const Shape> input_shapes) {
  return impl_->plan_for(input_shapes).info;
}

namespace {

std::string describe_plan(const Graph& g, const std::vector<std::string>& input_names,
                          const Plan& p) {
  std::string s = fmt::format("plan for {}:\n", shapes_label(input_names, p.input_shapes));
  for (const PlannedStep& ps : p.info.steps) {
    std::string storage;
    switch (ps.storage) {
      case PlannedStep::Storage::Arena:
        storage = fmt::format("arena @{}{}", ps.offset, ps.in_place ? " (in place)" : "");
        break;
      case PlannedStep::Storage::Output:
        storage = "output";
        break;
      case PlannedStep::Storage::Alias:
        storage = "alias of its input";
        break;
    }
    std::string args;
    for (NodeId in : g.node(ps.node).inputs)
      args += fmt::format("{}%{}", args.empty() ? "" : ",", in);
    s += fmt::format("  %{:<4} {:<18} ({}) -> {}{} {} B  {}  [{}]", ps.node, op_name(ps.op), args,
                     dtype_name(ps.dtype), ps.shape.to_string(), ps.bytes, storage, ps.kernel);
    if (!ps.program.empty())
      s += fmt::format("  = {}", ps.program);
    else if (!ps.fused.empty())
      s += fmt::format("  +{}", fmt::join(ps.fused, " +"));
    if (ps.scratch_bytes) s += fmt::format("  scratch {} B", ps.scratch_bytes);
    if (!ps.name.empty()) s += fmt::format("  '{}'", ps.name);
    s += "\n";
  }
  s += fmt::format(
      "  arena: {} B planned peak (intermediates {} B + scratch {} B if nothing were reused)\n",
      p.info.arena_bytes, p.info.intermediate_bytes, p.info.scratch_bytes);
  return s;
}

}  // namespace

std::string Session::describe() const {
  const Impl& m = *impl_;
  std::string s = fmt::format(
      "session: {} kernels, {} thread(s); {} nodes after passes (dead removed {}, constants folded "
      "{}, "
      "nodes fused {})\n",
      m.options.kernels == KernelSet::Cpu ? "cpu" : "reference", m.threads, m.stats.nodes,
      m.stats.dead_nodes_removed, m.stats.constants_folded, m.stats.nodes_fused);
  s += fmt::format("inputs: {}\noutputs: {}\n", fmt::join(m.input_names, ", "),
                   fmt::join(m.output_names, ", "));
  if (m.last_plan)
    s += describe_plan(m.graph, m.input_names, *m.last_plan);
  else
    s += "no plan yet (run once, or call describe(input_shapes))\n";
  s += fmt::format("arena capacity: {} B, cached plans: {}\n", m.arena_capacity, m.plans.size());
  return s;
}

std::string Session::describe(std::span<const Shape> input_shapes) {
  impl_->plan_for(input_shapes);
  return describe();
}

const Graph& Session::graph() const {
  return impl_->graph;
}
const CompileStats& Session::stats() const {
  return impl_->stats;
}
const CompileOptions& Session::options() const {
  return impl_->options;
}
int Session::threads() const {
  return impl_->threads;
}
std::size_t Session::arena_capacity() const {
  return impl_->arena_capacity;
}
std::size_t Session::cached_plans() const {
  return impl_->plans.size();
}

Session compile(const Graph& graph, const CompileOptions& options) {
  auto m = std::make_unique<Session::Impl>();
  m->graph = graph;
  m->options = options;
  TG_CHECK(!graph.outputs().empty(),
           "compile: the graph has no outputs (declare them with Graph::output)");
  TG_CHECK(options.threads >= 0, "compile: threads must be >= 0, got {}", options.threads);
  m->threads = options.threads > 0 ? options.threads : num_threads();
  Graph& g = m->graph;
  m->stats.dead_nodes_removed = eliminate_dead_nodes(g);
  if (options.fold_constants) {
    m->stats.constants_folded = fold_constants(g);
    m->stats.dead_nodes_removed += eliminate_dead_nodes(g);
  }
  if (options.fuse && options.kernels == KernelSet::Cpu) m->stats.nodes_fused = fuse(g);
  m->stats.nodes = static_cast<int>(g.size());

  ThreadScope thread_scope(m->threads);  // oneDNN may size primitives for the thread count
  m->kernels.resize(g.size());
  for (std::size_t i = 0; i < g.size(); ++i) {
    const auto id = static_cast<NodeId>(i);
    const Node& node = g.node(id);
    if (node.op == OpKind::Input || node.op == OpKind::Constant || op_def(node.op).view) continue;
    const runtime::KernelContext ctx{g, id, m->threads};
    m->kernels[i] =
        with_context(node_label(g, id), [&] { return runtime::make_kernel(options.kernels, ctx); });
  }
  for (const auto& in : g.inputs()) {
    m->input_names.push_back(in.name);
    m->input_nodes.push_back(in.id);
  }
  for (const auto& out : g.outputs()) {
    m->output_names.push_back(out.name);
    m->output_nodes.push_back(out.id);
  }
  return Session(std::move(m));
}

}  // namespace tensorgraph
