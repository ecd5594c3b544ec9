#include "tensorgraph/graph/graph.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tensorgraph/graph/op_registry.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {
namespace {

using ::testing::HasSubstr;

// Expects `body` to throw an Error whose message contains `text`.
template <typename F>
void expect_error(F&& body, const std::string& text) {
  try {
    body();
    ADD_FAILURE() << "no error; expected one containing: " << text;
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(text));
  }
}

Tensor zeros(const Shape& s, DType d = DType::F32) {
  return Tensor::zeros(d, s);
}

TEST(Graph, InputsConstantsOutputs) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 4});
  Value w = g.constant(zeros({4}), "w");
  Value y = (x + w).named("sum");
  g.output("y", y);
  EXPECT_EQ(g.size(), 3u);
  EXPECT_EQ(y.shape(), (Shape{-1, 4}));
  EXPECT_EQ(y.node().name, "sum");
  EXPECT_EQ(g.inputs().size(), 1u);
  EXPECT_EQ(g.outputs()[0].id, y.id);
  EXPECT_EQ(g.node(w.id).op, OpKind::Constant);
  EXPECT_EQ(g.use_counts(), (std::vector<int>{1, 1, 1}));
  EXPECT_THAT(g.to_string(), HasSubstr("add(%0, %1) -> f32[-1,4]"));
  expect_error([&] { g.input("x", DType::F32, {1}); }, "graph input 'x' is declared twice");
  expect_error([&] { g.output("y", x); }, "graph output 'y' is declared twice");
  Graph other;
  Value z = other.input("z", DType::F32, {4});
  expect_error([&] { ops::add(x, z); }, "inputs belong to different graphs");
  expect_error([&] { g.output("z", z); }, "belongs to another graph");
  expect_error([&] { ops::relu(Value{}); }, "empty");
}

TEST(Graph, ConstantsAreHeldNotCopied) {
  Tensor t = Tensor::from<float>({2}, {1.f, 2.f});
  Graph g;
  Value c = g.constant(t);
  EXPECT_EQ(c.node().value.raw(), t.raw());
  Graph copy = g;
  EXPECT_EQ(copy.node(c.id).value.raw(), t.raw());
}

TEST(ShapeInference, Broadcasting) {
  Graph g;
  auto in = [&](const char* name, Shape s) { return g.input(name, DType::F32, s); };
  EXPECT_EQ((in("a", {2, 3}) + in("b", {3})).shape(), (Shape{2, 3}));
  EXPECT_EQ((in("c", {2, 1}) * in("d", {1, 4})).shape(), (Shape{2, 4}));
  EXPECT_EQ((in("e", {-1, 4}) - in("f", {4})).shape(), (Shape{-1, 4}));
  EXPECT_EQ((in("g", {-1, 1}) / in("h", {1, 5})).shape(), (Shape{-1, 5}));
  EXPECT_EQ((in("i", {-1}) + in("j", {3})).shape(), (Shape{3}));
  EXPECT_EQ((in("k", {}) + in("l", {2, 2})).shape(), (Shape{2, 2}));
  EXPECT_EQ((in("m", {2, 3}) * 2.0f).shape(), (Shape{2, 3}));
  EXPECT_EQ((1.0f - in("n", {5})).shape(), (Shape{5}));
  EXPECT_EQ(broadcast_shapes("x", {-1, -1}, {-1, 1}), (Shape{-1, -1}));
  expect_error(
      [&] {
        in("o", {2, 3}) + in("p", {4, 3});
      },
      "add: shapes [2,3] and [4,3] cannot be broadcast together");
  expect_error([&] { ops::relu(g.input("q", DType::I64, {3})); },
               "relu: expects an f32 (or f64) input, got i64[3]");
}

TEST(ShapeInference, MatMulAndLinear) {
  Graph g;
  auto in = [&](const char* name, Shape s) { return g.input(name, DType::F32, s); };
  EXPECT_EQ(ops::matmul(in("a", {2, 3}), in("b", {3, 5})).shape(), (Shape{2, 5}));
  EXPECT_EQ(ops::matmul(in("c", {3, 1, 4, 6}), in("d", {5, 6, 2})).shape(), (Shape{3, 5, 4, 2}));
  EXPECT_EQ(ops::matmul(in("e", {-1, 12, -1, 64}), in("f", {-1, 12, -1, 64}), false, true).shape(),
            (Shape{-1, 12, -1, -1}));
  EXPECT_EQ(ops::matmul(in("g", {7, 2}), in("h", {7, 3}), true, false).shape(), (Shape{2, 3}));
  expect_error(
      [&] {
        ops::matmul(in("i", {2, 3}), in("j", {4, 5}));
      },
      "matmul: inner dimensions differ: [2,3] x [4,5]");
  expect_error(
      [&] {
        ops::matmul(in("k", {3}), in("l", {3, 2}));
      },
      "matmul: operands must have rank >= 2");
  Value w = g.constant(zeros({8, 4}));
  Value b = g.constant(zeros({8}));
  EXPECT_EQ(ops::linear(in("m", {-1, -1, 4}), w, b).shape(), (Shape{-1, -1, 8}));
  expect_error(
      [&] {
        ops::linear(in("n", {2, 5}), w);
      },
      "linear: input features differ: x [2,5] x weight [8,4]");
  expect_error(
      [&] {
        ops::linear(in("o", {2, 4}), w, g.constant(zeros({7})));
      },
      "linear: bias [7] does not match weight [8,4]");
  Value w16 = g.constant(zeros({8, 4}, DType::F16));
  EXPECT_EQ(ops::linear(in("p", {1, 4}), w16).dtype(), DType::F32);
  expect_error(
      [&] {
        ops::linear(in("q", {1, 4}), g.constant(zeros({8, 4}, DType::I32)));
      },
      "linear: the weight must be f32, f16 or bf16, got i32");
}

TEST(ShapeInference, ReshapeFlattenTranspose) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 16, 768});
  EXPECT_EQ(ops::reshape(x, {0, 0, 12, 64}).shape(), (Shape{-1, 16, 12, 64}));
  EXPECT_EQ(ops::reshape(x, {-1, 768}).shape(), (Shape{-1, 768}));
  EXPECT_EQ(ops::reshape(x, {0, -1}).shape(), (Shape{-1, 12288}));
  Value s = g.input("s", DType::F32, {2, 3, 4});
  EXPECT_EQ(ops::reshape(s, {4, -1}).shape(), (Shape{4, 6}));
  EXPECT_EQ(ops::flatten(s).shape(), (Shape{2, 12}));
  EXPECT_EQ(ops::flatten(s, 0, 1).shape(), (Shape{6, 4}));
  EXPECT_EQ(ops::flatten(g.input("c", DType::F32, {-1, 32, 7, 7})).shape(), (Shape{-1, 1568}));
  expect_error(
      [&] {
        ops::reshape(s, {5, -1});
      },
      "reshape: cannot reshape [2,3,4] to [5,-1]: the element counts differ");
  expect_error([&] { ops::reshape(s, {-1, -1}); }, "more than one -1");
  expect_error(
      [&] {
        ops::reshape(s, {0, 0, 0, 0});
      },
      "copies dimension 3 (0) but the input [2,3,4] has rank 3");
  EXPECT_EQ(ops::permute(x, {0, 2, 1}).shape(), (Shape{-1, 768, 16}));
  EXPECT_EQ(ops::transpose(s, -1, 0).shape(), (Shape{4, 3, 2}));
  expect_error(
      [&] {
        ops::permute(s, {0, 0, 1});
      },
      "transpose: [0,0,1] is not a permutation of 3 axes");
  expect_error([&] { ops::permute(s, {0, 1}); }, "does not match the rank of [2,3,4]");
}

TEST(ShapeInference, ConcatSliceGather) {
  Graph g;
  Value a = g.input("a", DType::F32, {2, -1, 4});
  Value b = g.input("b", DType::F32, {2, 3, 4});
  EXPECT_EQ(ops::concat({a, b}, 1).shape(), (Shape{2, -1, 4}));
  EXPECT_EQ(ops::concat({b, b}, -1).shape(), (Shape{2, 3, 8}));
  EXPECT_EQ(ops::concat({a, b}, 0).shape(), (Shape{4, 3, 4}));
  expect_error(
      [&] {
        ops::concat({b, g.input("c", DType::F32, {2, 5, 4})}, 0);
      },
      "concat: shapes differ outside axis 0");
  expect_error(
      [&] {
        ops::concat({b, g.input("d", DType::I32, {2, 3, 4})}, 0);
      },
      "concat: input 1 is i32, input 0 is f32");
  Value x = g.input("x", DType::F32, {-1, -1, 768});
  EXPECT_EQ(ops::slice(x, 1, 0, 1).shape(), (Shape{-1, 1, 768}));
  EXPECT_EQ(ops::slice(b, 1, -2, 100).shape(), (Shape{2, 2, 4}));
  EXPECT_EQ(ops::slice(b, 2, 0, 4, 3).shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(ops::slice(b, 1, 2, 1).shape(), (Shape{2, 0, 4}));
  EXPECT_EQ(ops::slice(x, 1, -1, INT64_MAX).shape(), (Shape{-1, -1, 768}));
  expect_error([&] { ops::slice(b, 0, 0, 1, 0); }, "slice: step 0 on axis 0");
  Value table = g.constant(zeros({1000, 768}));
  Value ids = g.input("ids", DType::I64, {-1, -1});
  EXPECT_EQ(ops::gather(table, ids).shape(), (Shape{-1, -1, 768}));
  EXPECT_EQ(ops::gather(b, g.input("i", DType::I32, {5}), 1).shape(), (Shape{2, 5, 4}));
  expect_error([&] { ops::gather(table, g.input("f", DType::F32, {3})); },
               "gather: indices must be i32 or i64, got f32[3]");
}

TEST(ShapeInference, NormalisationAndReductions) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 5, 8});
  EXPECT_EQ(ops::softmax(x).shape(), x.shape());
  EXPECT_EQ(ops::log_softmax(x, 1).shape(), x.shape());
  expect_error([&] { ops::softmax(x, 3); }, "axis 3 is out of range for shape [-1,5,8]");
  EXPECT_EQ(ops::layer_norm(x, g.constant(zeros({8})), g.constant(zeros({8}))).shape(), x.shape());
  expect_error(
      [&] { ops::layer_norm(x, g.constant(zeros({7})), std::nullopt); },
      "layer_norm: weight [7] does not match the last dimension of [-1,5,8] (expects [8])");
  EXPECT_EQ(ops::reduce_sum(x).shape(), Shape{});
  EXPECT_EQ(ops::reduce_mean(x, {-1}).shape(), (Shape{-1, 5}));
  EXPECT_EQ(ops::reduce_max(x, {0, 2}, true).shape(), (Shape{1, 5, 1}));
  expect_error([&] { ops::reduce_sum(x, {1, -2}); }, "reduce_sum: axis 1 listed twice");
  expect_error([&] { ops::reduce_sum(x, {3}); },
               "reduce_sum: axis 3 is out of range for shape [-1,5,8]");
}

TEST(ShapeInference, WhereAndCast) {
  Graph g;
  Value c = g.input("c", DType::Bool, {4, 1});
  Value a = g.input("a", DType::F32, {4, 6});
  Value b = g.input("b", DType::F32, {6});
  EXPECT_EQ(ops::where(c, a, b).shape(), (Shape{4, 6}));
  expect_error([&] { ops::where(c, a, g.input("i", DType::I32, {6})); },
               "where: the two branches have different dtypes");
  EXPECT_EQ(ops::cast(c, DType::F32).dtype(), DType::F32);
  EXPECT_EQ(ops::cast(a, DType::I64).shape(), a.shape());
}

TEST(ShapeInference, ConvAndPool) {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 1, 28, 28});
  Value w = g.constant(zeros({32, 1, 3, 3}));
  Value y = ops::conv2d(x, w, g.constant(zeros({32})), {{1, 1}, {1, 1}});
  EXPECT_EQ(y.shape(), (Shape{-1, 32, 28, 28}));
  EXPECT_EQ(ops::max_pool2d(y).shape(), (Shape{-1, 32, 14, 14}));
  EXPECT_EQ(ops::avg_pool2d(y, {{3, 3}, {2, 2}, {1, 1}}).shape(), (Shape{-1, 32, 14, 14}));
  EXPECT_EQ(ops::conv2d(x, w, std::nullopt, {{2, 2}, {0, 0}, {2, 2}}).shape(),
            (Shape{-1, 32, 12, 12}));
  Value x4 = g.input("x4", DType::F32, {1, 4, 8, 8});
  EXPECT_EQ(
      ops::conv2d(x4, g.constant(zeros({6, 2, 3, 3})), std::nullopt, {{1, 1}, {0, 0}, {1, 1}, 2})
          .shape(),
      (Shape{1, 6, 6, 6}));
  expect_error(
      [&] {
        ops::conv2d(x4, g.constant(zeros({6, 3, 3, 3})));
      },
      "conv2d: input [1,4,8,8] has 4 channels, weight [6,3,3,3] with 1 groups expects 3");
  expect_error(
      [&] {
        ops::conv2d(g.input("x3", DType::F32, {4, 8, 8}), w);
      },
      "conv2d: the input must be [N, C, H, W], got [4,8,8]");
  expect_error([&] { ops::max_pool2d(x4, {{9, 9}}); }, "max_pool2d: window of 9");
  expect_error(
      [&] {
        ops::max_pool2d(x4, {{2, 2}, {0, 0}, {2, 2}});
      },
      "padding 2 must be between 0 and half the kernel size 2");
}

TEST(Graph, CompactRenumbers) {
  Graph g;
  Value x = g.input("x", DType::F32, {3});
  Value dead = ops::exp(x);
  Value y = ops::relu(x);
  g.output("y", y);
  (void)dead;
  bool keep[] = {true, false, true};
  const auto remap = g.compact(keep);
  EXPECT_EQ(remap, (std::vector<NodeId>{0, kNoNode, 1}));
  EXPECT_EQ(g.size(), 2u);
  EXPECT_EQ(g.outputs()[0].id, 1);
  EXPECT_EQ(g.node(1).inputs, (std::vector<NodeId>{0}));
  bool drop_input[] = {false, true};
  expect_error([&] { g.compact(drop_input); }, "keeps input 0 that is removed");
}

TEST(OpRegistry, EveryKindHasARow) {
  for (int k = 0; k <= static_cast<int>(OpKind::FusedElementwise); ++k) {
    const OpDef& d = op_def(static_cast<OpKind>(k));
    EXPECT_EQ(static_cast<int>(d.kind), k);
    EXPECT_FALSE(d.name.empty());
  }
  EXPECT_EQ(op_name(OpKind::LayerNorm), "layer_norm");
  EXPECT_TRUE(op_def(OpKind::Reshape).view);
  EXPECT_TRUE(op_def(OpKind::Gelu).elementwise);
  expect_error([] { infer_type(OpKind::Add, {}, {}); }, "add: expects 2 input(s), got 0");
}

}  // namespace
}  // namespace tensorgraph
