// Example 02, minimal: a linear layer with ReLU, y = relu(x W^T + b), W stored [out, in] as in
// PyTorch. compile() reorders W once for oneDNN and fuses bias and ReLU into the matmul.
#include <cstdio>

#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/runtime/session.hpp"

using namespace tensorgraph;

int main() {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 3});  // any number of rows of 3 features
  Value w = g.constant(Tensor::from<float>({2, 3}, {0.5f, -1.f, 2.f, 1.f, 1.f, 1.f}));
  Value b = g.constant(Tensor::from<float>({2}, {0.25f, -4.f}));
  g.output("y", ops::relu(ops::linear(x, w, b)));

  Session session = compile(g);

  Tensor input = Tensor::from<float>({2, 3}, {1.f, 2.f, 3.f, -1.f, 0.f, 4.f});
  Tensor y = session.run({{"x", input}})["y"];

  const float* v = y.data<float>();
  std::printf("y[0] = %.2f %.2f\n", v[0], v[1]);  // relu(4.75), relu(2)
  std::printf("y[1] = %.2f %.2f\n", v[2], v[3]);  // relu(7.75), relu(-1)
  std::printf("%s", session.describe().c_str());
  return 0;
}
