// Every fast (cpu) backward kernel against the reference backward, in f32: the gradient graph of
// an op (grad() with a random cotangent fed as an input) compiled with both kernel sets. The cpu
// session fuses (relu_backward/gelu_backward join element-wise chains), the reference one runs the
// graph as written. Shapes include the CNN of example 05 at a small batch, odd sizes, and
// dynamic batch dimensions run with two batch sizes.
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tensorgraph/graph/autodiff.hpp"
#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/runtime/session.hpp"

namespace tensorgraph {
namespace {

struct Tolerance {
  double rtol, atol;
};
constexpr Tolerance kElementwise{2e-6, 1e-6};
constexpr Tolerance kSums{2e-5, 2e-5};  // matmul, reductions: sums of products
// Weight gradients of convolutions sum N * H * W products (2,352 for a 28x28 batch of 3) of
// values up to 4: f32 rounding reaches ~1e-4 absolute.
constexpr Tolerance kConv{1e-4, 3e-4};

struct Arg {
  std::string name;
  Shape declared;
  std::vector<Shape> runs;  // concrete shapes, one per run
  bool ids = false;
  std::int64_t id_range = 0;
  bool positive = false;
};

Arg arg(std::string name, Shape s, bool positive = false) {
  return {std::move(name), s, {s}, false, 0, positive};
}
Arg dyn(std::string name, Shape declared, Shape a, Shape b) {
  return {std::move(name), declared, {a, b}};
}

Tensor random_input(const Arg& a, const Shape& s, std::mt19937& rng) {
  const std::int64_t n = s.numel();
  if (a.ids) {
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = static_cast<std::int64_t>(rng() % static_cast<std::uint32_t>(a.id_range));
    return Tensor::from<std::int64_t>(s, v);
  }
  std::uniform_real_distribution<float> u(a.positive ? 0.2f : -2.f, 2.f);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = u(rng);
  return Tensor::from<float>(s, v);
}

using Build = std::function<Value(const std::vector<Value>&)>;

void expect_close(const Tensor& got, const Tensor& want, Tolerance tol, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  int reported = 0;
  for (std::int64_t i = 0; i < want.numel(); ++i) {
    const double g = got.value_as_double(i), w = want.value_as_double(i);
    if (!(std::fabs(g - w) <= tol.atol + tol.rtol * std::fabs(w))) {
      ADD_FAILURE() << what << "[" << i << "]: cpu " << g << ", reference " << w;
      if (++reported >= 5) return;
    }
  }
}

void check_backward(const std::string& name, const std::vector<Arg>& args, const Build& build,
                    Tolerance tol) {
  SCOPED_TRACE(name);
  Graph g;
  std::vector<Value> inputs, params;
  std::vector<std::string> param_names;
  for (const Arg& a : args) {
    inputs.push_back(g.input(a.name, a.ids ? DType::I64 : DType::F32, a.declared));
    if (!a.ids) {
      params.push_back(inputs.back());
      param_names.push_back(a.name);
    }
  }
  const Value out = build(inputs);
  const Value dy = g.input("dy", DType::F32, out.shape());
  const std::vector<Value> grads = grad(out, params, dy);
  for (std::size_t k = 0; k < grads.size(); ++k) g.output("d" + param_names[k], grads[k]);
  CompileOptions ref_options;
  ref_options.kernels = KernelSet::Reference;
  ref_options.threads = 1;
  CompileOptions cpu_options;
  cpu_options.threads = 2;
  Session ref = compile(g, ref_options);
  Session cpu = compile(g, cpu_options);
  std::mt19937 rng(7);
  std::size_t runs = 1;
  for (const Arg& a : args) runs = std::max(runs, a.runs.size());
  // Arguments with one shape keep it in every run.
  auto shape_of = [](const Arg& a, std::size_t r) {
    return a.runs[std::min(r, a.runs.size() - 1)];
  };
  for (std::size_t r = 0; r < runs; ++r) {
    NamedTensors feed;
    for (const Arg& a : args) feed[a.name] = random_input(a, shape_of(a, r), rng);
    // dy's concrete shape: the forward output's shape for these inputs.
    Graph probe;
    std::vector<Value> probe_inputs;
    for (const Arg& a : args)
      probe_inputs.push_back(probe.input(a.name, a.ids ? DType::I64 : DType::F32, shape_of(a, r)));
    const Shape out_shape = build(probe_inputs).shape();
    feed["dy"] = random_input(arg("dy", out_shape), out_shape, rng);
    const NamedTensors want = ref.run(feed);
    const NamedTensors got = cpu.run(feed);
    SCOPED_TRACE(fmt::format("run {}\n{}", r, cpu.describe()));
    for (const auto& [key, value] : want) expect_close(got.at(key), value, tol, key);
  }
}

TEST(BackwardCpuVsReference, ElementwiseChains) {
  check_backward(
      "relu", {dyn("x", {-1, 37}, {3, 37}, {1, 37})},
      [](const std::vector<Value>& v) { return ops::relu(v[0]); }, kElementwise);
  check_backward(
      "gelu", {arg("x", {5, 300})}, [](const std::vector<Value>& v) { return ops::gelu(v[0]); },
      kElementwise);
  check_backward(
      "tanh(sigmoid(x) * y) with broadcasting", {arg("x", {4, 33}), arg("y", {33})},
      [](const std::vector<Value>& v) { return ops::tanh(ops::sigmoid(v[0]) * v[1]); },
      kElementwise);
  check_backward("exp, log, sqrt, rsqrt, div, pow",
                 {arg("x", {2, 65}, true), arg("y", {2, 65}, true)},
                 [](const std::vector<Value>& v) {
                   return ops::exp(v[0]) / v[1] + ops::log(v[0]) * ops::sqrt(v[1]) +
                          ops::rsqrt(v[0]) - ops::pow(v[1], v[0]);
                 },
                 {1e-5, 1e-5});
}

TEST(BackwardCpuVsReference, LinearAndMatMul) {
  check_backward(
      "linear + relu, dynamic batch",
      {dyn("x", {-1, 8}, {64, 8}, {13, 8}), arg("w", {128, 8}), arg("b", {128})},
      [](const std::vector<Value>& v) { return ops::relu(ops::linear(v[0], v[1], v[2])); }, kSums);
  check_backward(
      "linear rank 3", {arg("x", {2, 5, 7}), arg("w", {3, 7}), arg("b", {3})},
      [](const std::vector<Value>& v) { return ops::linear(v[0], v[1], v[2]); }, kSums);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      check_backward(
          fmt::format("batched matmul ta={} tb={}", ta, tb),
          {arg("a", ta ? Shape{3, 9, 6} : Shape{3, 6, 9}),
           arg("b", tb ? Shape{1, 5, 9} : Shape{1, 9, 5})},
          [ta, tb](const std::vector<Value>& v) { return ops::matmul(v[0], v[1], ta, tb); }, kSums);
}

TEST(BackwardCpuVsReference, Convolution) {
  const ops::Conv2dOptions same{{1, 1}, {1, 1}, {1, 1}, 1};
  // Example 05's layers at batch 3.
  check_backward(
      "conv 1->32 3x3 pad 1 (28x28)",
      {dyn("x", {-1, 1, 28, 28}, {3, 1, 28, 28}, {2, 1, 28, 28}), arg("w", {32, 1, 3, 3}),
       arg("b", {32})},
      [same](const std::vector<Value>& v) { return ops::conv2d(v[0], v[1], v[2], same); }, kConv);
  check_backward(
      "conv 32->64 3x3 pad 1 (14x14)",
      {arg("x", {3, 32, 14, 14}), arg("w", {64, 32, 3, 3}), arg("b", {64})},
      [same](const std::vector<Value>& v) { return ops::conv2d(v[0], v[1], v[2], same); }, kConv);
  check_backward(
      "conv stride 2, dilation, odd sizes", {arg("x", {2, 3, 11, 9}), arg("w", {5, 3, 3, 2})},
      [](const std::vector<Value>& v) {
        return ops::conv2d(v[0], v[1], std::nullopt, {{2, 1}, {1, 0}, {2, 1}, 1});
      },
      kSums);
  check_backward(
      "conv groups 2", {arg("x", {2, 4, 7, 7}), arg("w", {6, 2, 3, 3}), arg("b", {6})},
      [](const std::vector<Value>& v) {
        return ops::conv2d(v[0], v[1], v[2], {{1, 1}, {1, 1}, {1, 1}, 2});
      },
      kSums);
}

TEST(BackwardCpuVsReference, Pooling) {
  check_backward(
      "max_pool2d 2x2 (example 05)", {arg("x", {3, 32, 28, 28})},
      [](const std::vector<Value>& v) { return ops::max_pool2d(v[0]); }, kElementwise);
  check_backward(
      "max_pool2d 3x3 stride 2 pad 1, odd", {arg("x", {2, 3, 9, 7})},
      [](const std::vector<Value>& v) {
        return ops::max_pool2d(v[0], {{3, 3}, {2, 2}, {1, 1}});
      },
      kElementwise);
  for (bool include : {true, false})
    check_backward(
        fmt::format("avg_pool2d 3x3 stride 2 pad 1 include_pad={}", include),
        {arg("x", {2, 3, 9, 8})},
        [include](const std::vector<Value>& v) {
          return ops::avg_pool2d(v[0], {{3, 3}, {2, 2}, {1, 1}, include});
        },
        kElementwise);
}

TEST(BackwardCpuVsReference, NormalizationAndReductions) {
  check_backward(
      "layer_norm", {dyn("x", {-1, 7, 96}, {2, 7, 96}, {1, 7, 96}), arg("w", {96}), arg("b", {96})},
      [](const std::vector<Value>& v) { return ops::layer_norm(v[0], v[1], v[2]); }, {1e-4, 1e-5});
  check_backward(
      "softmax and log_softmax", {arg("x", {4, 10})},
      [](const std::vector<Value>& v) { return ops::softmax(v[0]) + ops::log_softmax(v[0], 0); },
      kSums);
  const std::vector<std::pair<std::vector<std::int64_t>, bool>> cases = {
      {{}, false}, {{0}, false}, {{1, 2}, true}, {{-1}, false}, {{0, 2}, false}};
  for (const auto& [axes, keep] : cases) {
    for (OpKind kind : {OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax})
      check_backward(
          fmt::format("{} axes {} keepdims {}", static_cast<int>(kind), axes.size(), keep),
          {arg("x", {3, 5, 17})},
          [kind, ax = axes, k = keep](const std::vector<Value>& v) {
            if (kind == OpKind::ReduceSum) return ops::reduce_sum(v[0], ax, k);
            if (kind == OpKind::ReduceMean) return ops::reduce_mean(v[0], ax, k);
            return ops::reduce_max(v[0], ax, k);
          },
          kSums);
  }
}

TEST(BackwardCpuVsReference, Layout) {
  check_backward(
      "slice with steps", {arg("x", {6, 9, 5})},
      [](const std::vector<Value>& v) {
        return ops::slice(v[0], {0, 1, 2}, {1, -8, 0}, {5, 100, 4}, {2, 3, 1});
      },
      kElementwise);
  check_backward(
      "slice last axis step 2", {arg("x", {4, 10})},
      [](const std::vector<Value>& v) { return ops::slice(v[0], 1, 1, 9, 2); }, kElementwise);
  Arg table_ids{"ids", {4, 6}, {{4, 6}}, true, 11};
  check_backward(
      "gather (embedding), repeated ids", {arg("table", {11, 16}), table_ids},
      [](const std::vector<Value>& v) { return ops::gather(v[0], v[1]); }, kSums);
  Arg mid_ids{"ids", {5}, {{5}}, true, 4};
  check_backward(
      "gather axis 1", {arg("data", {3, 4, 6}), mid_ids},
      [](const std::vector<Value>& v) { return ops::gather(v[0], v[1], 1); }, kSums);
  check_backward(
      "concat + permute", {arg("a", {2, 3, 4}), arg("b", {2, 3, 2})},
      [](const std::vector<Value>& v) {
        return ops::permute(ops::concat({v[0], v[1]}, 2), {2, 0, 1});
      },
      kElementwise);
}

}  // namespace
}  // namespace tensorgraph
