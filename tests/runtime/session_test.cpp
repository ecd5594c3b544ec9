#include "tensorgraph/runtime/session.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include <cmath>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/alloc_counter.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {
namespace {

using ::testing::HasSubstr;

template <typename F>
void expect_error(F&& body, const std::string& text) {
  try {
    body();
    ADD_FAILURE() << "no error; expected one containing: " << text;
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(text));
  }
}

Tensor random(const Shape& shape, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.f, 1.f);
  std::vector<float> v(static_cast<std::size_t>(shape.numel()));
  for (auto& x : v) x = d(rng);
  return Tensor::from<float>(shape, v);
}

CompileOptions with(KernelSet set) {
  CompileOptions o;
  o.kernels = set;
  return o;
}

TEST(Session, ElementwiseExample) {
  for (KernelSet set : {KernelSet::Reference, KernelSet::Cpu}) {
    Graph g;
    Value x = g.input("x", DType::F32, {-1, 4});
    g.output("y", ops::relu(x * 2.0f + 1.0f));
    Session s = compile(g, with(set));
    Tensor out = s.run({{"x", Tensor::from<float>({1, 4}, {-1.f, 0.f, 1.f, 2.f})}})["y"];
    EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{0.f, 1.f, 3.f, 5.f}));
  }
}

TEST(Session, LinearExample) {
  for (KernelSet set : {KernelSet::Reference, KernelSet::Cpu}) {
    Graph g;
    Value x = g.input("x", DType::F32, {-1, 3});
    Value w = g.constant(Tensor::from<float>({2, 3}, {1, 2, 3, -1, -2, -3}));
    Value b = g.constant(Tensor::from<float>({2}, {0.5f, 0.25f}));
    g.output("y", ops::relu(ops::linear(x, w, b)));
    Session s = compile(g, with(set));
    Tensor out = s.run({{"x", Tensor::from<float>({2, 3}, {1, 1, 1, -1, 0, 0})}})["y"];
    EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{6.5f, 0.f, 0.f, 1.25f}));
  }
}

TEST(Session, InputErrors) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 4});
  Value m = g.input("mask", DType::F32, {-1, 4});
  g.output("y", x * m);
  Session s = compile(g);
  const Tensor ok = Tensor::zeros(DType::F32, {2, 4});
  expect_error(
      [&] {
        s.run({{"x", ok}});
      },
      "run: missing input 'mask' (the graph's inputs: x, mask)");
  expect_error([&] { s.run({{"x", ok}, {"mask", ok}, {"z", ok}}); }, "run: unknown input 'z'");
  expect_error(
      [&] {
        s.run({{"x", Tensor::zeros(DType::I64, {2, 4})}, {"mask", ok}});
      },
      "input 'x': expected f32 data, got i64[2,4]");
  expect_error(
      [&] {
        s.run({{"x", Tensor::zeros(DType::F32, {3, 5})}, {"mask", ok}});
      },
      "input 'x': shape [3,5] does not match the declared [-1,4]");
  // Dynamic dims that disagree at run time: the node and the shapes are named.
  expect_error(
      [&] {
        s.run({{"x", ok}, {"mask", Tensor::zeros(DType::F32, {3, 4})}});
      },
      "mul: shapes [2,4] and [3,4] cannot be broadcast together");
  std::vector<Tensor> ins{ok, ok};
  std::vector<Tensor> outs{Tensor::zeros(DType::F32, {2, 5})};
  expect_error([&] { s.run(ins, outs); }, "output 'y': expected a f32[2,4] tensor, got f32[2,5]");
  std::vector<Tensor> none;
  expect_error([&] { s.run(ins, none); }, "run: expected 1 output(s), got 0");
  EXPECT_EQ(s.input_index("mask"), 1u);
  expect_error([&] { s.output_index("nope"); }, "unknown output 'nope' (the graph's outputs: y)");
  Graph empty;
  empty.input("x", DType::F32, {1});
  expect_error([&] { compile(empty); }, "the graph has no outputs");
}

TEST(Session, KernelErrorsNameTheNode) {
  Graph g;
  Value ids = g.input("ids", DType::I64, {-1});
  g.output("e",
           ops::gather(g.constant(Tensor::zeros(DType::F32, {10, 4})), ids).named("embeddings"));
  for (KernelSet set : {KernelSet::Reference, KernelSet::Cpu}) {
    Session s = compile(g, with(set));
    expect_error(
        [&] {
          s.run({{"ids", Tensor::from<std::int64_t>({3}, {1, 10, 2})}});
        },
        "(gather 'embeddings'): gather: index 10");
    expect_error(
        [&] {
          s.run({{"ids", Tensor::from<std::int64_t>({1}, {-1})}});
        },
        "out of range for axis 0 of size 10");
  }
}

TEST(Session, OutputsThatAreInputsConstantsViewsOrRepeated) {
  Graph g;
  Value x = g.input("x", DType::F32, {2, 3});
  Value c = g.constant(Tensor::from<float>({2}, {7.f, 8.f}));
  Value y = ops::relu(x);
  g.output("x_again", x);
  g.output("const", c);
  g.output("y", y);
  g.output("y_flat", ops::reshape(y, {-1}));
  g.output("y_twice", y);
  for (KernelSet set : {KernelSet::Reference, KernelSet::Cpu}) {
    Session s = compile(g, with(set));
    const Tensor in = Tensor::from<float>({2, 3}, {-1, 2, -3, 4, -5, 6});
    NamedTensors out = s.run({{"x", in}});
    EXPECT_EQ(out["x_again"].to_vector<float>(), in.to_vector<float>());
    EXPECT_NE(out["x_again"].raw(), in.raw());
    EXPECT_EQ(out["const"].to_vector<float>(), (std::vector<float>{7, 8}));
    EXPECT_EQ(out["y"].to_vector<float>(), (std::vector<float>{0, 2, 0, 4, 0, 6}));
    EXPECT_EQ(out["y_flat"].shape(), Shape{6});
    EXPECT_EQ(out["y_flat"].to_vector<float>(), out["y"].to_vector<float>());
    EXPECT_EQ(out["y_twice"].to_vector<float>(), out["y"].to_vector<float>());
  }
}

// A graph mixing the cpu set's own kernels: no oneDNN node.
Graph own_kernels_graph() {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, -1, 64});
  Value ids = g.input("ids", DType::I64, {-1, -1});
  Value table = g.constant(random({50, 64}, 1));
  Value h = ops::gather(table, ids) + x;
  h = ops::layer_norm(h, g.constant(random({64}, 2)), g.constant(random({64}, 3)));
  Value heads = ops::permute(ops::reshape(h, {0, 0, 4, 16}), {0, 2, 1, 3});
  Value p = ops::softmax(ops::gelu(heads) * 0.5f);
  Value back = ops::reshape(ops::permute(p, {0, 2, 1, 3}), {0, 0, 64});
  g.output("y", ops::reduce_mean(back, {-1}, true) + ops::slice(back, 2, 0, 1));
  return g;
}

TEST(Session, SecondRunMakesNoHeapAllocation) {
  Session s = compile(own_kernels_graph());
  std::vector<Tensor> in{random({3, 17, 64}, 4),
                         Tensor::from<std::int64_t>({3, 17}, std::vector<std::int64_t>(51, 7))};
  std::vector<Tensor> out = s.allocate_outputs(in);
  s.run(in, out);  // plans the shape class
  testing::AllocationCounter counter;
  s.run(in, out);
  s.run(in, out);
  EXPECT_EQ(counter.count(), 0u);
  EXPECT_EQ(counter.count_all_threads(), 0u);  // OpenMP workers included
}

// oneDNN 2.6 allocates inside every primitive execution (dnnl_primitive_execute builds a
// std::unordered_map of its arguments; its AVX2 gemm also mallocs packing buffers): allocations
// no caller can avoid. The engine must add none of its own: the same oneDNN nodes with many more
// steps of our own kernels around them allocate exactly as much.
std::size_t second_run_allocations(bool with_own_kernels) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 32});
  Value h = ops::gelu(ops::linear(x, g.constant(random({48, 32}, 5)), g.constant(random({48}, 6))));
  Value y = ops::linear(h, g.constant(random({32, 48}, 7))) + x;  // residual: a post-op add
  if (with_own_kernels) {
    y = ops::layer_norm(ops::softmax(y) * 0.5f, std::nullopt,
                        std::nullopt);  // nothing fuses into the linear
    y = ops::reshape(ops::transpose(ops::reshape(y, {0, 4, 8}), 1, 2), {0, 32});
    y = ops::concat({y, ops::slice(y, 1, 0, 7)}, 1);
  }
  g.output("y", y);
  Session s = compile(g);
  std::vector<Tensor> in{random({16, 32}, 8)};
  std::vector<Tensor> out = s.allocate_outputs(in);
  s.run(in, out);
  s.run(in, out);
  testing::AllocationCounter counter;
  s.run(in, out);
  return counter.count();
}

TEST(Session, OneDnnNodesAllocateOnlyInsideOneDnn) {
  const std::size_t onednn_only = second_run_allocations(false);
  const std::size_t mixed = second_run_allocations(true);
  std::printf("allocations of a second run with 2 oneDNN matmuls: %zu (all inside oneDNN)\n",
              onednn_only);
  RecordProperty("onednn_internal_allocations", static_cast<int>(onednn_only));
  EXPECT_EQ(mixed, onednn_only) << "steps of the engine's own kernels allocated";
  EXPECT_LE(onednn_only, 2u * 16u);  // a handful per primitive execution, not proportional to sizes
}

TEST(Session, DynamicShapesReuseTheArena) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, -1, 24});
  Value h = ops::linear(x, g.constant(random({40, 24}, 9)), g.constant(random({40}, 10)));
  g.output("y", ops::softmax(ops::tanh(h) * 3.0f));
  CompileOptions opts;
  opts.plan_cache_size = 2;
  Session cpu = compile(g, opts);
  Session ref = compile(g, with(KernelSet::Reference));
  auto check = [&](const Shape& shape, std::uint32_t seed) {
    const Tensor in = random(shape, seed);
    const Tensor got = cpu.run({{"x", in}})["y"];
    const Tensor want = ref.run({{"x", in}})["y"];
    ASSERT_EQ(got.shape(), (Shape{shape[0], shape[1], 40}));
    for (std::int64_t i = 0; i < got.numel(); ++i)
      ASSERT_NEAR(got.value_as_double(i), want.value_as_double(i), 1e-5) << shape.to_string();
  };
  check({4, 9, 24}, 1);
  const std::size_t big = cpu.arena_capacity();
  check({1, 3, 24}, 2);
  EXPECT_EQ(cpu.arena_capacity(), big);  // a smaller class fits the arena kept from the larger
  EXPECT_EQ(cpu.cached_plans(), 2u);
  check({4, 9, 24}, 3);
  EXPECT_EQ(cpu.cached_plans(), 2u);  // the first plan was still cached
  check({2, 5, 24}, 4);
  EXPECT_EQ(cpu.cached_plans(), 2u);  // bounded: the least recently used plan was dropped
  EXPECT_EQ(cpu.arena_capacity(), big);
  check({8, 16, 24}, 5);
  EXPECT_GT(cpu.arena_capacity(), big);  // grows only for a larger class
}

TEST(Session, DescribeAndPlanInfo) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 8});
  Value h = ops::relu(ops::linear(x, g.constant(random({16, 8}, 11)), g.constant(random({16}, 12))))
                .named("hidden");
  g.output("y", ops::softmax(h));
  Session s = compile(g);
  EXPECT_THAT(s.describe(), HasSubstr("no plan yet"));
  const Shape shapes[] = {{5, 8}};
  const std::string text = s.describe(shapes);
  EXPECT_THAT(text, HasSubstr("plan for x [5,8]"));
  EXPECT_THAT(text, HasSubstr("matmul ("));
  EXPECT_THAT(text, HasSubstr("+relu"));
  EXPECT_THAT(text, HasSubstr("cpu softmax"));
  EXPECT_THAT(text, HasSubstr("'hidden'"));
  EXPECT_THAT(text, HasSubstr("planned peak"));
  const PlanInfo info = s.plan(shapes);
  ASSERT_EQ(info.steps.size(), 2u);
  EXPECT_EQ(info.steps[0].op, OpKind::Linear);
  EXPECT_EQ(info.steps[0].shape, (Shape{5, 16}));
  EXPECT_EQ(info.steps[1].storage, PlannedStep::Storage::Output);
  const auto types = s.output_types(shapes);
  EXPECT_EQ(types[0].second, (Shape{5, 16}));
}

TEST(Session, ThreadCountOption) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 4});
  g.output("y", x * 2.0f);
  CompileOptions one;
  one.threads = 1;
  EXPECT_EQ(compile(g, one).threads(), 1);
  CompileOptions three;
  three.threads = 3;
  Session s = compile(g, three);
  EXPECT_EQ(s.threads(), 3);
  EXPECT_EQ(s.run({{"x", Tensor::from<float>({1, 4}, {1, 2, 3, 4})}})["y"].to_vector<float>(),
            (std::vector<float>{2, 4, 6, 8}));
  CompileOptions bad;
  bad.threads = -2;
  expect_error([&] { compile(g, bad); }, "threads must be >= 0");
}

TEST(Session, SessionsOnSeveralThreads) {
  // One session per thread (the documented contract); sessions share constants, not arenas.
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 16});
  g.output("y", ops::gelu(ops::linear(x, g.constant(random({16, 16}, 13)))));
  Session ref = compile(g, with(KernelSet::Reference));
  const Tensor in = random({7, 16}, 14);
  const Tensor want = ref.run({{"x", in}})["y"];
  std::vector<std::thread> threads;
  std::vector<int> ok(3, 0);
  for (int t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      CompileOptions o;
      o.threads = 1;
      Session s = compile(g, o);
      bool good = true;
      for (int r = 0; r < 20; ++r) {
        const Tensor got = s.run({{"x", in}})["y"];
        for (std::int64_t i = 0; i < got.numel(); ++i)
          good = good && std::fabs(got.value_as_double(i) - want.value_as_double(i)) < 1e-4;
      }
      ok[t] = good ? 1 : 0;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, (std::vector<int>{1, 1, 1}));
}

}  // namespace
}  // namespace tensorgraph
