#include "tensorgraph/runtime/passes.hpp"

#include <algorithm>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/runtime/session.hpp"

namespace tensorgraph {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Tensor random(const Shape& shape, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(static_cast<std::size_t>(shape.numel()));
  for (auto& x : v) x = d(rng);
  return Tensor::from<float>(shape, v);
}

int count_op(const Graph& g, OpKind op) {
  return static_cast<int>(std::count_if(g.nodes().begin(), g.nodes().end(),
                                        [op](const Node& n) { return n.op == op; }));
}

std::vector<OpKind> step_ops(const PlanInfo& info) {
  std::vector<OpKind> ops;
  for (const PlannedStep& s : info.steps) ops.push_back(s.op);
  return ops;
}

TEST(DeadNodes, RemovesWhatNoOutputNeedsButKeepsInputs) {
  Graph g;
  Value x = g.input("x", DType::F32, {4});
  Value unused = g.input("unused", DType::F32, {4});
  Value dead = ops::exp(ops::tanh(x));
  g.output("y", ops::relu(x));
  (void)dead;
  (void)unused;
  EXPECT_EQ(eliminate_dead_nodes(g), 2);
  EXPECT_EQ(g.size(), 3u);  // x, unused, relu
  EXPECT_EQ(count_op(g, OpKind::Tanh), 0);
  EXPECT_EQ(g.inputs().size(), 2u);
  EXPECT_EQ(eliminate_dead_nodes(g), 0);
}

TEST(DeadNodes, ObservableThroughCompile) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 4});
  ops::softmax(ops::exp(x));  // never used
  g.output("y", x * 3.0f);
  Session s = compile(g);
  EXPECT_EQ(s.stats().dead_nodes_removed, 2);
  const Shape shapes[] = {{2, 4}};
  EXPECT_THAT(step_ops(s.plan(shapes)), ElementsAre(OpKind::FusedElementwise));
}

TEST(ConstantFolding, FoldsConstantSubgraphsWithTheReferenceKernels) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 3});
  Value w = g.constant(Tensor::from<float>({3, 2}, {1, 2, 3, 4, 5, 6}));
  Value wt = ops::transpose(w, 0, 1);                         // foldable
  Value scale = ops::sqrt(g.constant(Tensor::scalar(4.0f)));  // foldable: 2
  g.output("y", ops::linear(x, wt) * scale);
  Graph folded = g;
  EXPECT_EQ(fold_constants(folded), 2);
  eliminate_dead_nodes(folded);
  EXPECT_EQ(count_op(folded, OpKind::Transpose), 0);
  EXPECT_EQ(count_op(folded, OpKind::Sqrt), 0);
  // The folded transpose holds W^T.
  for (const Node& n : folded.nodes()) {
    if (n.op == OpKind::Constant && n.shape == Shape{2, 3}) {
      EXPECT_EQ(n.value.to_vector<float>(), (std::vector<float>{1, 3, 5, 2, 4, 6}));
    }
  }
  for (KernelSet set : {KernelSet::Reference, KernelSet::Cpu}) {
    CompileOptions o;
    o.kernels = set;
    Session s = compile(g, o);
    EXPECT_EQ(s.stats().constants_folded, 2);
    const Tensor y = s.run({{"x", Tensor::from<float>({1, 3}, {1, 1, 1})}})["y"];
    EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{18, 24}));  // (1+3+5)*2, (2+4+6)*2
    for (const PlannedStep& step : s.plan(std::vector<Shape>{{1, 3}}).steps) {
      EXPECT_NE(step.op, OpKind::Transpose);
      EXPECT_NE(step.op, OpKind::Sqrt);
    }
  }
}

TEST(ConstantFolding, RespectsTheSizeLimitAndNeedsAllInputsConstant) {
  Graph g;
  Value x = g.input("x", DType::F32, {8});
  Value c = g.constant(Tensor::zeros(DType::F32, {1000}));
  g.output("a", ops::exp(c));
  g.output("b", ops::exp(x));
  Graph copy = g;
  EXPECT_EQ(fold_constants(copy, 1000), 0);  // 4000 bytes > 1000
  EXPECT_EQ(fold_constants(copy), 1);
}

TEST(Fusion, LinearGeluLinearCompilesToTwoFusedNodes) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, -1, 32});
  Value h = ops::gelu(ops::linear(x, g.constant(random({64, 32}, 1)), g.constant(random({64}, 2))));
  Value y = ops::linear(h, g.constant(random({32, 64}, 3)), g.constant(random({32}, 4))) + x;
  g.output("y", y);
  Session s = compile(g);
  EXPECT_EQ(s.stats().nodes_fused,
            2);  // gelu into the first linear, the residual add into the second
  const PlanInfo info = s.plan(std::vector<Shape>{{2, 5, 32}});
  ASSERT_EQ(info.steps.size(), 2u);
  EXPECT_EQ(info.steps[0].op, OpKind::Linear);
  EXPECT_THAT(info.steps[0].fused, ElementsAre("gelu"));
  EXPECT_THAT(info.steps[0].kernel, HasSubstr("matmul"));  // oneDNN or our packed GEMM (TG_GEMM)
  EXPECT_EQ(info.steps[1].op, OpKind::Linear);
  EXPECT_THAT(info.steps[1].fused, ElementsAre("add"));
  EXPECT_EQ(info.steps[1].storage, PlannedStep::Storage::Output);
  // The graph after the passes: linear nodes carry the post-ops.
  const Graph& cg = s.graph();
  EXPECT_EQ(count_op(cg, OpKind::Gelu), 0);
  EXPECT_EQ(count_op(cg, OpKind::Add), 0);
  // The reference set runs the graph as written.
  CompileOptions ref;
  ref.kernels = KernelSet::Reference;
  Session r = compile(g, ref);
  EXPECT_EQ(r.stats().nodes_fused, 0);
  EXPECT_EQ(r.plan(std::vector<Shape>{{2, 5, 32}}).steps.size(), 4u);
}

TEST(Fusion, EpilogueRewrites) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 8});
  Value r = g.input("r", DType::F32, {-1, 4});
  Value w = g.constant(random({4, 8}, 5));
  // bias given as a separate add becomes the linear's bias; then tanh, scale, shift, residual
  Value y = ops::tanh(ops::linear(x, w) + g.constant(random({4}, 6))) * 2.0f - 1.0f + r;
  g.output("y", y);
  Graph fused = g;
  fuse(fused);
  ASSERT_EQ(count_op(fused, OpKind::Linear), 1);
  const Node* lin = nullptr;
  for (const Node& n : fused.nodes())
    if (n.op == OpKind::Linear) lin = &n;
  EXPECT_TRUE(lin->attrs.has_bias);
  ASSERT_EQ(lin->attrs.post_ops.size(), 4u);
  EXPECT_EQ(lin->attrs.post_ops[0].kind, PostOpKind::Tanh);
  EXPECT_EQ(lin->attrs.post_ops[1], (PostOp{PostOpKind::Affine, 2.f, 0.f, -1}));
  EXPECT_EQ(lin->attrs.post_ops[2], (PostOp{PostOpKind::Affine, 1.f, -1.f, -1}));
  EXPECT_EQ(lin->attrs.post_ops[3].kind, PostOpKind::Add);
  EXPECT_EQ(fused.node(lin->inputs[lin->attrs.post_ops[3].input]).name, "r");
}

TEST(Fusion, DoesNotFuseValuesUsedTwiceOrGraphOutputs) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 8});
  Value l = ops::linear(x, g.constant(random({8, 8}, 7)));
  g.output("pre", l);  // an output: cannot disappear into a fused node
  g.output("post", ops::relu(l));
  Value e = ops::exp(x);  // used twice: stays a node of its own
  g.output("z", ops::tanh(e) + ops::sigmoid(e));
  Graph fused = g;
  fuse(fused);
  EXPECT_EQ(count_op(fused, OpKind::Linear), 1);
  for (const Node& n : fused.nodes()) {
    if (n.op == OpKind::Linear) {
      EXPECT_TRUE(n.attrs.post_ops.empty());
    }
  }
  EXPECT_EQ(count_op(fused, OpKind::Exp), 1);
  ASSERT_EQ(count_op(fused, OpKind::FusedElementwise), 1);
  for (const Node& n : fused.nodes()) {
    if (n.op == OpKind::FusedElementwise) {
      EXPECT_EQ(n.attrs.program->to_string(), "add(tanh(in0), sigmoid(in0))");
    }
  }
}

TEST(Fusion, ElementwiseChainsBecomeOneNode) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 16});
  Value b = g.input("b", DType::F32, {16});
  g.output("y", ops::relu(ops::gelu(x * 0.5f + b) - ops::pow(x, 2.0f)));
  Session s = compile(g);
  const PlanInfo info = s.plan(std::vector<Shape>{{3, 16}, {16}});
  ASSERT_EQ(info.steps.size(), 1u);
  EXPECT_EQ(info.steps[0].op, OpKind::FusedElementwise);
  EXPECT_EQ(info.steps[0].program, "relu(sub(gelu(add(mul(in0, 0.5), in1)), pow(in0, 2)))");
  EXPECT_THAT(info.steps[0].fused, ElementsAre("mul", "add", "gelu", "pow", "sub", "relu"));
  EXPECT_EQ(s.stats().nodes_fused, 5);
}

TEST(MemoryPlanner, LiveBuffersNeverOverlap) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferRequest> req;
    std::uniform_int_distribution<int> t(0, 30), size(1, 5000);
    for (int i = 0; i < 40; ++i) {
      const int a = t(rng), b = t(rng);
      req.push_back({static_cast<std::size_t>(size(rng)), std::min(a, b), std::max(a, b)});
    }
    const MemoryPlan plan = plan_memory(req);
    std::size_t sum = 0;
    for (std::size_t i = 0; i < req.size(); ++i) {
      sum += (req[i].bytes + 63) / 64 * 64;
      EXPECT_EQ(plan.offsets[i] % 64, 0u);
      EXPECT_LE(plan.offsets[i] + req[i].bytes, plan.peak_bytes);
      for (std::size_t j = 0; j < i; ++j) {
        const bool live_together = !(req[i].last < req[j].first || req[j].last < req[i].first);
        const bool overlap = plan.offsets[i] < plan.offsets[j] + req[j].bytes &&
                             plan.offsets[j] < plan.offsets[i] + req[i].bytes;
        EXPECT_FALSE(live_together && overlap) << "buffers " << i << " and " << j;
      }
    }
    EXPECT_LE(plan.peak_bytes, sum);
  }
}

TEST(MemoryPlanner, ReusesAndPicksTheBestFittingGap) {
  // a [0,1] 1000 B, b [0,3] 64 B, c [2,3] 1000 B: c reuses a's place.
  std::vector<BufferRequest> req = {{1000, 0, 1}, {64, 0, 3}, {1000, 2, 3}};
  MemoryPlan p = plan_memory(req);
  EXPECT_EQ(p.offsets[0], p.offsets[2]);
  EXPECT_EQ(p.peak_bytes, 1024u + 64u);
  // Placed largest first, one after the other: 8192 B (live 0-9), 4096 (0-1), 2048 (0-9), 1024
  // (0-1), 1010 (0-9). At steps 5-6 the places of the 4096 and the 1024 buffers are gaps between
  // live ones; a 1000 B buffer goes into the 1024 B gap (best fit), not the first that fits.
  req = {{8192, 0, 9}, {4096, 0, 1}, {2048, 0, 9}, {1024, 0, 1}, {1010, 0, 9}, {1000, 5, 6}};
  p = plan_memory(req);
  EXPECT_EQ(p.offsets[1], 8192u);
  EXPECT_EQ(p.offsets[3], 14336u);
  EXPECT_EQ(p.offsets[5], 14336u);
  EXPECT_EQ(p.peak_bytes, 16384u);
}

TEST(MemoryPlanner, PlannedPeakIsBelowTheSumOfIntermediates) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 64});
  Value h = x;
  for (int i = 0; i < 6; ++i) h = ops::tanh(ops::linear(h, g.constant(random({64, 64}, 10 + i))));
  g.output("y", ops::softmax(h));
  for (KernelSet set : {KernelSet::Reference, KernelSet::Cpu}) {
    CompileOptions o;
    o.kernels = set;
    Session s = compile(g, o);
    const PlanInfo info = s.plan(std::vector<Shape>{{32, 64}});
    EXPECT_GT(info.intermediate_bytes, 0u);
    EXPECT_LT(info.arena_bytes, info.intermediate_bytes + info.scratch_bytes);
    // Two live activations of 32x64 floats suffice (plus kernel scratch).
    EXPECT_LE(info.arena_bytes, 2 * 32 * 64 * 4 + info.scratch_bytes);
  }
  // The reference plan computes tanh in place over the linear's output.
  CompileOptions ref;
  ref.kernels = KernelSet::Reference;
  Session r = compile(g, ref);
  const PlanInfo info = r.plan(std::vector<Shape>{{32, 64}});
  const auto tanh_step = std::find_if(info.steps.begin(), info.steps.end(),
                                      [](const PlannedStep& s) { return s.op == OpKind::Tanh; });
  ASSERT_NE(tanh_step, info.steps.end());
  EXPECT_TRUE(tanh_step->in_place);
}

}  // namespace
}  // namespace tensorgraph
