// Example 01, minimal: build y = relu(x * 2 + 1), compile it, run it.
#include <cstdio>

#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/runtime/session.hpp"

using namespace tensorgraph;

int main() {
  Graph g;
  Value x = g.input("x", DType::F32, {-1, 4});  // -1: any number of rows
  g.output("y", ops::relu(x * 2.0f + 1.0f));

  Session session = compile(g);  // fuses the three ops into one pass over memory

  Tensor input = Tensor::from<float>({2, 4}, {-2.f, -1.f, -0.5f, 0.f, 0.5f, 1.f, 2.f, 3.f});
  Tensor y = session.run({{"x", input}})["y"];

  const float* v = y.data<float>();
  for (std::int64_t r = 0; r < y.shape()[0]; ++r)
    std::printf("y[%lld] = %5.1f %5.1f %5.1f %5.1f\n", static_cast<long long>(r), v[r * 4],
                v[r * 4 + 1], v[r * 4 + 2], v[r * 4 + 3]);
  return 0;
}
