#pragma once
// The kernel interface: one Kernel object per compiled node, created once by compile() (it may
// prepack weights then), prepared once per input-shape class (it may create and cache primitives
// then, and says how much scratch memory it needs), and run many times. run() must not allocate,
// create primitives, format strings or look anything up by name: it is the hot path.
#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "tensorgraph/core/dtype.hpp"
#include "tensorgraph/core/shape.hpp"
#include "tensorgraph/graph/graph.hpp"
#include "tensorgraph/runtime/session.hpp"

namespace tensorgraph::runtime {

// What a kernel sees of a tensor: a pointer, a dtype and a concrete shape (dense, row-major).
struct TensorRef {
  void* data = nullptr;
  DType dtype = DType::F32;
  Shape shape;

  std::int64_t numel() const {
    std::int64_t n = 1;
    for (std::int64_t d : shape.dims()) n *= d;
    return n;
  }
  std::size_t nbytes() const { return static_cast<std::size_t>(numel()) * dtype_size(dtype); }
  template <typename T>
  T* as() const {
    return static_cast<T*>(data);
  }
};

struct KernelArgs {
  std::span<const TensorRef> inputs;
  TensorRef output;
  std::byte* scratch = nullptr;  // Preparation::scratch_bytes, 64-byte aligned
  const void* state = nullptr;   // Preparation::state of this shape class
  int threads = 1;               // the session's thread count
};

// What prepare() returns for one shape class. The state (layouts, oneDNN primitives...) is
// owned by the plan, so that it is released with it when the plan cache drops the plan.
struct Preparation {
  std::size_t scratch_bytes = 0;
  std::shared_ptr<const void> state;
};

// Everything a kernel may look at when it is created (at compile time).
struct KernelContext {
  const Graph& graph;
  NodeId id;
  int threads;

  const Node& node() const { return graph.node(id); }
  // The value of input `i` when it is a constant, else nullptr.
  const Tensor* constant_input(std::size_t i) const {
    const Node& in = graph.node(node().inputs.at(i));
    return in.op == OpKind::Constant ? &in.value : nullptr;
  }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Called when a plan for concrete shapes is built (data pointers are null).
  virtual Preparation prepare(std::span<const TensorRef> inputs, const TensorRef& output) {
    return {};
  }
  virtual void run(const KernelArgs& args) = 0;
  // Shown by Session::describe(): "onednn matmul (gemm:jit), weights prepacked".
  virtual std::string name() const = 0;
};

// The kernel of `ctx.node()` in the chosen set (src/runtime/kernel_registry.cpp).
std::unique_ptr<Kernel> make_kernel(KernelSet set, const KernelContext& ctx);

// Runs one node with the reference kernels on owning tensors (constant folding, tests).
Tensor evaluate_reference(const Node& node, std::span<const Tensor> inputs, const Shape& out_shape);

}  // namespace tensorgraph::runtime
