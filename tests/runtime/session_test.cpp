#include "tensorgraph/runtime/session.hpp"

#include <gtest/gtest.h>

#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph {
namespace {

TEST(Session, ElementwiseExample) {
  for (KernelSet set : {KernelSet::Reference, KernelSet::Cpu}) {
    Graph g;
    Value x = g.input("x", DType::F32, {-1, 4});
    g.output("y", ops::relu(x * 2.0f + 1.0f));
    CompileOptions opts;
    opts.kernels = set;
    Session s = compile(g, opts);
    Tensor out = s.run({{"x", Tensor::from<float>({1, 4}, {-1.f, 0.f, 1.f, 2.f})}})["y"];
    EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{0.f, 1.f, 3.f, 5.f}));
    std::cout << s.describe();
  }
}

TEST(Session, LinearExample) {
  for (KernelSet set : {KernelSet::Reference, KernelSet::Cpu}) {
    Graph g;
    Value x = g.input("x", DType::F32, {-1, 3});
    Value w = g.constant(Tensor::from<float>({2, 3}, {1, 2, 3, -1, -2, -3}));
    Value b = g.constant(Tensor::from<float>({2}, {0.5f, 0.25f}));
    g.output("y", ops::relu(ops::linear(x, w, b)));
    CompileOptions opts;
    opts.kernels = set;
    Session s = compile(g, opts);
    Tensor out = s.run({{"x", Tensor::from<float>({2, 3}, {1, 1, 1, -1, 0, 0})}})["y"];
    EXPECT_EQ(out.to_vector<float>(), (std::vector<float>{6.5f, 0.f, 0.f, 1.25f}));
    std::cout << s.describe();
  }
}

}  // namespace
}  // namespace tensorgraph
