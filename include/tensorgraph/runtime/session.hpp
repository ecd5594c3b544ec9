#pragma once
// compile(graph) -> Session: the executable form of a graph.
//
//   Session s = compile(g);                         // passes, kernels, prepacked weights
//   Tensor y = s.run({{"x", x}})["y"];              // convenient: allocates the outputs
//   s.run(inputs, outputs);                         // hot path: writes into caller tensors
//
// compile() runs the passes (dead-node elimination, constant folding, fusion), creates one kernel
// per node (the cpu set reorders weights for oneDNN once, here) and keeps the graph. The first
// run() with a new combination of input shapes (a "shape class") infers every concrete shape,
// prepares the kernels (oneDNN primitives are created and cached per shape), and plans memory:
// all intermediates live at fixed offsets in ONE arena that the session keeps across runs and
// grows only when a larger shape class needs it. Plans are cached per shape class (a small
// bounded cache), so a later run with the same shapes does no planning, no primitive creation
// and no heap allocation of the engine's own (see docs/ARCHITECTURE.md for what oneDNN does).
//
// Threads: a Session is NOT safe to use from several threads at once (run() shares the arena,
// the plan cache and oneDNN memory handles between calls). Use one Session per thread (compile
// the graph once per thread; constant tensors are shared, not copied, but prepacked weights are
// per session). Distinct Sessions may run concurrently. Each run() uses the session's thread
// count on the OpenMP pool (shared with oneDNN).
#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tensorgraph/core/tensor.hpp"
#include "tensorgraph/graph/graph.hpp"

namespace tensorgraph {

// Which kernels run the nodes.
enum class KernelSet {
  Reference,  // naive loops, obviously correct, accumulate in double: the oracle of the tests
  Cpu,        // fast: oneDNN matmul/conv/pooling, vectorised element-wise and row kernels
};

struct CompileOptions {
  KernelSet kernels = KernelSet::Cpu;
  // OpenMP threads used by run(); 0: tensorgraph::num_threads() (TG_NUM_THREADS, else
  // OMP_NUM_THREADS, else the number of CPUs).
  int threads = 0;
  bool fold_constants = true;
  // Fusion (epilogues into matmul/linear, element-wise chains). Applies to the cpu set only: the
  // reference set runs the graph as written, so that it stays an independent oracle.
  bool fuse = true;
  // Shape classes whose plans are kept; the least recently used plan is dropped beyond this.
  std::size_t plan_cache_size = 8;
};

using NamedTensors = std::map<std::string, Tensor, std::less<>>;

// What the passes did at compile time.
struct CompileStats {
  int dead_nodes_removed = 0;
  int constants_folded = 0;
  int nodes_fused = 0;  // nodes absorbed into fused nodes
  int nodes = 0;        // nodes of the compiled graph (inputs and constants included)
};

// One executed node of a plan (for tests and describe()).
struct PlannedStep {
  NodeId node = kNoNode;
  OpKind op = OpKind::Input;
  std::string name;                // the node's debug name
  std::string kernel;              // the kernel's description
  std::vector<std::string> fused;  // post-ops or fused element-wise ops, in order
  std::string program;             // fused element-wise: the expression
  DType dtype = DType::F32;
  Shape shape;  // concrete output shape
  enum class Storage { Arena, Output, Alias } storage = Storage::Arena;
  std::size_t offset = 0;  // arena offset of the output (Storage::Arena)
  std::size_t bytes = 0;   // output bytes
  bool in_place = false;   // the output reuses an input's buffer
  std::size_t scratch_bytes = 0;
};

struct PlanInfo {
  std::vector<PlannedStep> steps;      // in execution order; view nodes appear with Storage::Alias
  std::size_t arena_bytes = 0;         // planned peak (intermediates + scratch)
  std::size_t intermediate_bytes = 0;  // sum of all intermediate outputs, as if none were reused
  std::size_t scratch_bytes = 0;       // sum of the kernels' scratch
};

class Session {
 public:
  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();

  // Runs with named inputs; returns freshly allocated named outputs.
  NamedTensors run(const NamedTensors& inputs);
  // The hot path: inputs in graph-input order, outputs in graph-output order, already allocated
  // with the right dtype and shape (allocate_outputs() or output_types() tell them). A second
  // call with the same input shapes makes no heap allocation of the engine's own.
  void run(std::span<const Tensor> inputs, std::span<Tensor> outputs);
  // Output tensors for these inputs (plans the shape class when new).
  std::vector<Tensor> allocate_outputs(std::span<const Tensor> inputs);
  // Output dtypes and shapes for these input shapes (plans the shape class when new).
  std::vector<std::pair<DType, Shape>> output_types(std::span<const Shape> input_shapes);

  const std::vector<std::string>& input_names() const;
  const std::vector<std::string>& output_names() const;
  // Index of an input/output by name; throws naming the known names.
  std::size_t input_index(std::string_view name) const;
  std::size_t output_index(std::string_view name) const;

  // The plan for these input shapes, built if new.
  PlanInfo plan(std::span<const Shape> input_shapes);
  // The compiled graph, the kernels, and the most recent plan as text.
  std::string describe() const;
  // The same for a given shape class.
  std::string describe(std::span<const Shape> input_shapes);

  const Graph& graph() const;  // after the passes
  const CompileStats& stats() const;
  const CompileOptions& options() const;
  int threads() const;
  // Bytes currently reserved for the arena and number of cached plans.
  std::size_t arena_capacity() const;
  std::size_t cached_plans() const;

  struct Impl;

 private:
  friend Session compile(const Graph& graph, const CompileOptions& options);
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Compiles a copy of `graph` (constants are shared by handle). Throws Error when the graph has
// no outputs or a kernel cannot be created.
Session compile(const Graph& graph, const CompileOptions& options = {});

}  // namespace tensorgraph
