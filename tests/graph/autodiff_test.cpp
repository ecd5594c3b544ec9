// The structure of gradient graphs: which nodes grad() builds, shapes of the backward ops,
// accumulation over several uses, sum_to and reshape_to on symbolic shapes, and the errors.
// Numerical correctness is checked in tests/runtime/gradcheck_test.cpp.
#include "tensorgraph/graph/autodiff.hpp"

#include <gtest/gtest.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/op_registry.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

int count_ops(const Graph& g, OpKind op) {
  int n = 0;
  for (const Node& node : g.nodes()) n += node.op == op;
  return n;
}

TEST(Autodiff, EveryForwardOpHasAGradientOrIsDeclaredWithout) {
  for (int k = 0; k <= static_cast<int>(OpKind::FusedElementwise); ++k) {
    const auto op = static_cast<OpKind>(k);
    const bool backward = k >= static_cast<int>(OpKind::ReluBackward);
    const bool leaf = op == OpKind::Input || op == OpKind::Constant;
    EXPECT_EQ(op_def(op).grad != nullptr, !backward && !leaf) << op_name(op);
  }
}

TEST(Autodiff, BuildsBackwardOpsWithForwardShapes) {
  Graph g;
  const Value x = g.input("x", DType::F32, {-1, 1, 28, 28});
  const Value w = g.input("w", DType::F32, {8, 1, 3, 3});
  const Value b = g.input("b", DType::F32, {8});
  const Value h = ops::max_pool2d(ops::relu(ops::conv2d(x, w, b, {{1, 1}, {1, 1}, {1, 1}, 1})));
  const Value loss = ops::reduce_mean(h);
  const std::vector<Value> grads = grad(loss, {w, b});
  EXPECT_EQ(grads[0].shape(), (Shape{8, 1, 3, 3}));
  EXPECT_EQ(grads[1].shape(), (Shape{8}));
  EXPECT_EQ(count_ops(g, OpKind::Conv2dBackwardWeights), 1);
  EXPECT_EQ(count_ops(g, OpKind::Conv2dBackwardData), 0);  // x needs no gradient
  EXPECT_EQ(count_ops(g, OpKind::MaxPool2dBackward), 1);
  EXPECT_EQ(count_ops(g, OpKind::ReluBackward), 1);
  EXPECT_EQ(count_ops(g, OpKind::ReduceMeanBackward), 1);
  // The input's gradient keeps the dynamic batch dimension.
  Graph g2;
  const Value x2 = g2.input("x", DType::F32, {-1, 1, 28, 28});
  const Value w2 = g2.input("w", DType::F32, {8, 1, 3, 3});
  const Value dx = grad(ops::reduce_sum(ops::conv2d(x2, w2)), {x2})[0];
  EXPECT_EQ(dx.shape(), (Shape{-1, 1, 28, 28}));
  EXPECT_EQ(g2.node(dx.id).op, OpKind::Conv2dBackwardData);
}

TEST(Autodiff, SumsTheGradientsOfEveryUse) {
  Graph g;
  const Value x = g.input("x", DType::F32, {3});
  const Value y = ops::reduce_sum(x * x + ops::exp(x));
  const Value dx = grad(y, {x})[0];
  // d/dx: x*dy + dy*x + dy*exp(x): the three contributions are added.
  EXPECT_GE(count_ops(g, OpKind::Add), 3);
  EXPECT_EQ(dx.shape(), (Shape{3}));
  // A parameter used directly as the loss.
  Graph h;
  const Value s = h.input("s", DType::F32, {});
  EXPECT_EQ(h.node(grad(s, {s})[0].id).op, OpKind::Constant);
}

TEST(Autodiff, SumToAndReshapeTo) {
  Graph g;
  const Value v = g.input("v", DType::F32, {-1, 5, 4});
  EXPECT_EQ(autodiff::sum_to(v, {5, 4}).shape(), (Shape{5, 4}));
  EXPECT_EQ(autodiff::sum_to(v, {4}).shape(), (Shape{4}));
  EXPECT_EQ(autodiff::sum_to(v, {5, 1}).shape(), (Shape{5, 1}));
  EXPECT_EQ(autodiff::sum_to(v, {}).shape(), (Shape{}));
  EXPECT_EQ(autodiff::sum_to(v, {-1, 1, 4}).shape(), (Shape{-1, 1, 4}));
  EXPECT_EQ(autodiff::sum_to(v, {-1, 5, 4}).id, v.id);  // nothing to sum
  EXPECT_NE(error_of([&] {
              autodiff::sum_to(v, {3, 4});
            }).find("does not broadcast"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              autodiff::sum_to(g.input("w", DType::F32, {2, 3}), {-1, 3});
            }).find("dynamic"),
            std::string::npos);
  const Value flat = g.input("flat", DType::F32, {-1, 20});
  EXPECT_EQ(autodiff::reshape_to(flat, {-1, 5, 4}).shape(), (Shape{-1, 5, 4}));
  const Value two = g.input("two", DType::F32, {-1, -1, 20});
  EXPECT_EQ(autodiff::reshape_to(two, {-1, -1, 5, 4}).shape(), (Shape{-1, -1, 5, 4}));
}

TEST(Autodiff, ErrorsNameTheNodes) {
  Graph g;
  const Value x = g.input("x", DType::F32, {2, 3});
  const Value w = g.input("w", DType::F32, {3});
  const Value unused = g.input("unused", DType::F32, {3});
  const Value loss = ops::reduce_sum(x * w);
  EXPECT_EQ(error_of([&] { grad(x * w, {w}); }),
            "grad: the loss must have one element, got shape [2,3] (pass the output's gradient "
            "to differentiate a non-scalar value)");
  EXPECT_NE(
      error_of([&] { grad(loss, {unused}); }).find("does not depend on node %2 (input 'unused')"),
      std::string::npos)
      << error_of([&] { grad(loss, {unused}); });
  const Value ids = g.input("ids", DType::I64, {2});
  EXPECT_NE(error_of([&] { grad(loss, {ids}); }).find("only float values have gradients"),
            std::string::npos);
  Graph other;
  const Value o = other.input("o", DType::F32, {3});
  EXPECT_NE(error_of([&] { grad(loss, {o}); }).find("another graph"), std::string::npos);
  // Backward ops have no gradient (no second derivatives).
  const Value dy = g.input("dy", DType::F32, {2, 3});
  const Value r = ops::reduce_sum(ops::relu_backward(dy, x));
  EXPECT_NE(error_of([&] { grad(r, {dy}); }).find("relu_backward"), std::string::npos);
  EXPECT_NE(error_of([&] { grad(r, {dy}); }).find("is not differentiable"), std::string::npos);
}

TEST(Autodiff, BackwardOpShapeChecks) {
  Graph g;
  const Value x = g.input("x", DType::F32, {2, 3, 8, 8});
  const Value dy = g.input("dy", DType::F32, {2, 3, 4, 4});
  EXPECT_EQ(ops::max_pool2d_backward(dy, x).shape(), (Shape{2, 3, 8, 8}));
  const Value wrong = g.input("wrong", DType::F32, {2, 3, 5, 4});
  EXPECT_NE(error_of([&] { ops::max_pool2d_backward(wrong, x); }).find("the gradient has shape"),
            std::string::npos);
  const Value w = g.input("w", DType::F32, {5, 3, 3, 3});
  const Value conv_dy = g.input("cdy", DType::F32, {2, 5, 6, 6});
  EXPECT_EQ(ops::conv2d_backward_data(conv_dy, w, x).shape(), x.shape());
  EXPECT_EQ(ops::conv2d_backward_weights(conv_dy, x, {5, 3, 3, 3}).shape(), (Shape{5, 3, 3, 3}));
  EXPECT_NE(error_of([&] {
              ops::conv2d_backward_weights(conv_dy, x, {5, 3, 2, 2});
            }).find("the gradient has shape"),
            std::string::npos);
  const Value f64 = g.input("f64", DType::F64, {2, 3, 4, 4});
  EXPECT_NE(error_of([&] { ops::avg_pool2d_backward(f64, x); }).find("the gradient is f64"),
            std::string::npos);
  const Value table = g.input("table", DType::F32, {10, 4});
  const Value ids = g.input("ids", DType::I32, {7});
  EXPECT_EQ(ops::gather_backward(g.input("gdy", DType::F32, {7, 4}), ids, table).shape(),
            (Shape{10, 4}));
  EXPECT_EQ(ops::slice_backward(g.input("sdy", DType::F32, {1, 3}), table, {0, 1}, {2, 0}, {3, 3})
                .shape(),
            (Shape{10, 4}));
}

}  // namespace
}  // namespace tensorgraph
