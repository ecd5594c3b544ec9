#pragma once
// The computation graph: nodes in topological order (the builder appends; an input always
// precedes its users), each with an op kind, input node ids, typed attributes, and the output
// dtype and (symbolic) shape inferred when the node was built. Dimensions of -1 are dynamic
// (unknown until run time, e.g. batch and sequence length); the runtime re-infers concrete shapes
// per input-shape class with the same inference functions (op_registry.hpp).
//
//   Graph g;
//   Value x = g.input("x", DType::F32, {-1, 4});
//   g.output("y", ops::relu(x * 2.0f + 1.0f));
//
// A Value is a handle {graph, node id}; it points into its Graph, so keep the Graph at one
// address while building (do not move it while Values are in use).
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tensorgraph/core/dtype.hpp"
#include "tensorgraph/core/shape.hpp"
#include "tensorgraph/core/tensor.hpp"
#include "tensorgraph/graph/elementwise_program.hpp"

namespace tensorgraph {

using NodeId = std::int32_t;
inline constexpr NodeId kNoNode = -1;

// Every op of the graph. Its definition (name, arity, shape inference, traits) is one row of the
// table in src/graph/op_registry.cpp; its builder and inference live in src/graph/ops_*.cpp and
// its kernels in src/runtime/kernels/{reference,cpu}/ (registered in
// src/runtime/kernel_registry.cpp).
enum class OpKind : std::uint8_t {
  Input,
  Constant,
  // element-wise (NumPy broadcasting)
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Neg,
  Relu,
  Gelu,  // erf form: x * Phi(x)
  Tanh,
  Sigmoid,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Where,  // where(cond, a, b): cond != 0 ? a : b
  Cast,
  // linear algebra
  MatMul,  // batched, optional transposes of the last two dims, optional post-ops
  Linear,  // x W^T (+ b), W stored [out, in] as PyTorch; optional post-ops
  // layout
  Reshape,  // a view: 0 copies the input dimension, -1 is inferred
  Transpose,
  Concat,
  Slice,
  Gather,
  // normalisation and reductions
  Softmax,
  LogSoftmax,
  LayerNorm,  // over the last axis
  ReduceSum,
  ReduceMean,
  ReduceMax,
  // convolution and pooling (NCHW, OIHW weights)
  Conv2d,
  MaxPool2d,
  AvgPool2d,
  // backward ops, built by autodiff (grad in autodiff.hpp); each mirrors its forward op
  ReluBackward,           // (dy, y): dy where y > 0, else 0 (element-wise)
  GeluBackward,           // (dy, x): dy * gelu'(x) (element-wise)
  SliceBackward,          // (dy, x): dy placed into zeros of x's shape (slice attributes)
  GatherBackward,         // (dy, indices, data): rows of dy added into zeros of data's shape
  LayerNormBackward,      // (dy, x[, weight]): d loss / d x of layer_norm
  ReduceSumBackward,      // (dy, x): dy broadcast back to x's shape (reduction attributes)
  ReduceMeanBackward,     // (dy, x): the same divided by the reduced count
  ReduceMaxBackward,      // (dy, x, y): dy shared evenly by the maxima of each reduced group
  Conv2dBackwardData,     // (dy, weight, x): d loss / d x of conv2d (x gives the shape)
  Conv2dBackwardWeights,  // (dy, x): d loss / d weight of conv2d (attrs.shape: weight shape)
  MaxPool2dBackward,      // (dy, x): dy routed to the maximum of each window
  AvgPool2dBackward,      // (dy, x): dy spread over each window (x gives the shape)
  // produced by the fusion pass
  FusedElementwise,
};

// An epilogue fused into a MatMul or Linear by the fusion pass, applied in order to the result.
enum class PostOpKind : std::uint8_t {
  Relu,
  Gelu,
  Tanh,
  Sigmoid,
  Affine,  // alpha * x + beta
  Add,     // + the node input at index `input` (same shape as the result)
};

struct PostOp {
  PostOpKind kind = PostOpKind::Relu;
  float alpha = 1;
  float beta = 0;
  int input = -1;  // for Add: index into the node's inputs

  friend bool operator==(const PostOp&, const PostOp&) = default;
};

const char* post_op_name(PostOpKind kind);

// Typed attributes; each op reads the fields it documents in ops.hpp.
struct Attrs {
  std::vector<std::int64_t> axes;                     // reductions; slice; flatten: {start, end}
  std::vector<std::int64_t> perm;                     // transpose
  std::vector<std::int64_t> shape;                    // reshape target (empty for flatten);
                                                      // conv2d_backward_weights: weight shape
  std::vector<std::int64_t> starts, ends, steps;      // slice
  std::int64_t axis = 0;                              // concat, gather, softmax, log_softmax
  bool keepdims = false;                              // reductions
  bool transpose_a = false;                           // matmul
  bool transpose_b = false;                           // matmul
  bool has_bias = false;                              // linear, conv2d: input 2 is the bias
  bool has_weight = false;                            // layer_norm: input 1 is the weight
  float epsilon = 1e-5f;                              // layer_norm
  DType dtype = DType::F32;                           // cast target
  std::array<std::int64_t, 2> kernel{1, 1};           // pooling
  std::array<std::int64_t, 2> stride{1, 1};           // conv, pooling
  std::array<std::int64_t, 2> padding{0, 0};          // conv, pooling (both sides)
  std::array<std::int64_t, 2> dilation{1, 1};         // conv (PyTorch convention: 1 = dense)
  std::int64_t groups = 1;                            // conv
  bool count_include_pad = true;                      // avg_pool2d (PyTorch's default)
  std::vector<PostOp> post_ops;                       // matmul, linear
  std::shared_ptr<const ElementwiseProgram> program;  // fused_elementwise
};

struct Node {
  OpKind op = OpKind::Input;
  std::vector<NodeId> inputs;
  Attrs attrs;
  DType dtype = DType::F32;
  Shape shape;           // symbolic: -1 where unknown until run time
  std::string name;      // debug name (graph inputs and outputs: their names)
  Tensor value;          // Constant only
  int input_index = -1;  // Input only: index into Graph::inputs()
};

class Graph;

// A handle to a node's output while building.
struct Value {
  Graph* graph = nullptr;
  NodeId id = kNoNode;

  bool valid() const { return graph != nullptr && id >= 0; }
  // The node; the reference is invalidated when the graph grows (the next builder call).
  const Node& node() const;
  // The output shape, by value (safe to keep while building).
  Shape shape() const;
  DType dtype() const;
  int rank() const { return shape().rank(); }
  // Sets the node's debug name; returns the value for chaining.
  Value named(std::string name) const;
};

struct NamedNode {
  std::string name;
  NodeId id = kNoNode;
};

class Graph {
 public:
  Graph() = default;
  // Copies share constant tensors (handles), not their bytes. Values of the source graph do not
  // point into the copy.
  Graph(const Graph&) = default;
  Graph& operator=(const Graph&) = default;
  Graph(Graph&&) noexcept = default;
  Graph& operator=(Graph&&) noexcept = default;

  // A named input; -1 dimensions are dynamic. Names are unique among inputs.
  Value input(const std::string& name, DType dtype, const Shape& shape);
  // A constant (weights): the tensor is held by handle, not copied, so it may be a read-only
  // view of a mapped file.
  Value constant(const Tensor& value, const std::string& name = {});
  // A rank-0 f32 constant.
  Value scalar(float value);
  // Declares `value` as the output `name` (unique among outputs).
  void output(const std::string& name, Value value);

  // Appends a node after inferring its dtype and shape (throws Error naming the op and the
  // shapes when they do not fit). Used by the ops:: builders and by passes.
  Value add_node(OpKind op, std::vector<NodeId> inputs, Attrs attrs = {},
                 const std::string& name = {});

  std::size_t size() const { return nodes_.size(); }
  const Node& node(NodeId id) const;
  Node& mutable_node(NodeId id);
  const std::vector<Node>& nodes() const { return nodes_; }
  Value value(NodeId id) { return Value{this, id}; }
  const std::vector<NamedNode>& inputs() const { return inputs_; }
  const std::vector<NamedNode>& outputs() const { return outputs_; }
  // Redirects output `index` to another node (passes).
  void set_output_node(std::size_t index, NodeId id);

  // Number of nodes that use `id` as an input, plus one per graph output naming it.
  std::vector<int> use_counts() const;
  // Keeps the nodes with keep[id] (inputs of kept nodes must be kept), renumbering ids in order.
  // Returns the map old id -> new id (kNoNode for removed nodes).
  std::vector<NodeId> compact(std::span<const bool> keep);
  // Re-runs shape inference of every node in order (after a pass changed attributes).
  void reinfer();
  // A human-readable listing, one node per line.
  std::string to_string() const;

 private:
  std::vector<Node> nodes_;
  std::vector<NamedNode> inputs_;
  std::vector<NamedNode> outputs_;
};

// Element-wise arithmetic with NumPy broadcasting; scalars become rank-0 f32 constants.
Value operator+(Value a, Value b);
Value operator-(Value a, Value b);
Value operator*(Value a, Value b);
Value operator/(Value a, Value b);
Value operator-(Value a);
Value operator+(Value a, float b);
Value operator-(Value a, float b);
Value operator*(Value a, float b);
Value operator/(Value a, float b);
Value operator+(float a, Value b);
Value operator-(float a, Value b);
Value operator*(float a, Value b);
Value operator/(float a, Value b);

}  // namespace tensorgraph
