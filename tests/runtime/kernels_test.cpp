// Every op of the fast (cpu) kernel set against the reference set on random data: odd sizes,
// broadcasting, batch 1 and larger, dynamic dimensions run with two different shapes. The cpu
// session fuses (so fused nodes are checked too); the reference session runs the graph as
// written. Tolerances are stated per op: |cpu - ref| <= atol + rtol * |ref|.
#include <cmath>
#include <functional>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <cstdlib>

#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/runtime/session.hpp"

namespace tensorgraph {
namespace {

struct Tolerance {
  double rtol;
  double atol;
};
constexpr Tolerance kExact{0, 0};
constexpr Tolerance kArith{1e-6, 1e-7};           // + - * / (float vs double rounding)
constexpr Tolerance kTranscendental{2e-6, 1e-7};  // exp log tanh sigmoid gelu sqrt
constexpr Tolerance kPow{1e-5, 1e-6};
constexpr Tolerance kMatmul{1e-5, 1e-4};  // sums of K products
constexpr Tolerance kNorm{1e-5, 2e-6};    // softmax, layer_norm

enum class Fill { Signed, Positive, Ids, Bool };

struct InputSpec {
  std::string name;
  DType dtype;
  Shape declared;               // may hold -1
  std::vector<Shape> concrete;  // one per run
  Fill fill = Fill::Signed;
  std::int64_t id_range = 0;  // Fill::Ids
};

Tensor random_tensor(DType dtype, const Shape& shape, Fill fill, std::int64_t id_range,
                     std::mt19937& rng) {
  const std::int64_t n = shape.numel();
  if (fill == Fill::Ids) {
    std::uniform_int_distribution<std::int64_t> d(0, id_range - 1);
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = d(rng);
    return Tensor::from<std::int64_t>(shape, v).to(dtype);
  }
  std::uniform_real_distribution<float> d(fill == Fill::Positive ? 0.05f : -2.f,
                                          fill == Fill::Positive ? 3.f : 2.f);
  std::vector<float> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = fill == Fill::Bool ? (d(rng) > 0 ? 1.f : 0.f) : d(rng);
  Tensor t = Tensor::from<float>(shape, v);
  return dtype == DType::F32 ? t : t.to(dtype);
}

using Builder = std::function<Value(Graph&, const std::vector<Value>&)>;

void expect_close(const Tensor& got, const Tensor& want, Tolerance tol) {
  ASSERT_EQ(got.dtype(), want.dtype());
  ASSERT_EQ(got.shape(), want.shape());
  int reported = 0;
  for (std::int64_t i = 0; i < want.numel(); ++i) {
    const double g = got.value_as_double(i), w = want.value_as_double(i);
    if (std::isnan(w) && std::isnan(g)) continue;
    if (std::isinf(w) && g == w) continue;
    const double bound = tol.atol + tol.rtol * std::fabs(w);
    if (!(std::fabs(g - w) <= bound)) {
      ADD_FAILURE() << "element " << i << " of " << want.description() << ": cpu " << g
                    << ", reference " << w << " (diff " << std::fabs(g - w) << " > " << bound
                    << ")";
      if (++reported >= 5) return;
    }
  }
}

// Builds the graph once, compiles it with both kernel sets, runs every concrete shape set.
void check(const std::string& name, const std::vector<InputSpec>& specs, const Builder& build,
           Tolerance tol, int threads = 2) {
  SCOPED_TRACE(name);
  Graph g;
  std::vector<Value> values;
  for (const InputSpec& s : specs) values.push_back(g.input(s.name, s.dtype, s.declared));
  g.output("out", build(g, values));
  CompileOptions ref_opts;
  ref_opts.kernels = KernelSet::Reference;
  ref_opts.threads = 1;
  CompileOptions cpu_opts;
  cpu_opts.threads = threads;
  Session ref = compile(g, ref_opts);
  Session cpu = compile(g, cpu_opts);
  std::mt19937 rng(1234);
  const std::size_t runs = specs.empty() ? 1 : specs.front().concrete.size();
  for (std::size_t r = 0; r < runs; ++r) {
    NamedTensors inputs;
    for (const InputSpec& s : specs)
      inputs[s.name] = random_tensor(s.dtype, s.concrete[r], s.fill, s.id_range, rng);
    const Tensor want = ref.run(inputs)["out"];
    const Tensor got = cpu.run(inputs)["out"];
    SCOPED_TRACE("run " + std::to_string(r) + ": " + cpu.describe());
    expect_close(got, want, tol);
  }
}

InputSpec in(const std::string& name, Shape shape, Fill fill = Fill::Signed) {
  return {name, DType::F32, shape, {shape}, fill};
}
// A dynamic input run with two shapes.
InputSpec dyn(const std::string& name, Shape declared, Shape a, Shape b, Fill fill = Fill::Signed) {
  return {name, DType::F32, declared, {a, b}, fill};
}

Value constant(Graph& g, const Shape& shape, std::uint32_t seed, DType dtype = DType::F32) {
  std::mt19937 rng(seed);
  return g.constant(random_tensor(dtype, shape, Fill::Signed, 0, rng));
}

TEST(CpuVsReference, BinaryBroadcasting) {
  const std::vector<std::pair<Shape, Shape>> shapes = {{{3, 5}, {3, 5}},
                                                       {{2, 3, 7}, {7}},
                                                       {{4, 1, 5}, {1, 6, 5}},
                                                       {{1}, {5, 3}},
                                                       {{2, 1, 1, 17}, {2, 3, 4, 17}},
                                                       {{257, 513}, {257, 1}},
                                                       {{1, 1000}, {1000}},
                                                       {{}, {3, 3}}};
  const std::vector<std::pair<std::string, OpKind>> ops_list = {
      {"add", OpKind::Add}, {"sub", OpKind::Sub}, {"mul", OpKind::Mul}, {"div", OpKind::Div}};
  for (const auto& [a, b] : shapes)
    for (const auto& [name, kind] : ops_list) {
      const Fill fill_b = kind == OpKind::Div ? Fill::Positive : Fill::Signed;
      check(
          name + " " + a.to_string() + " " + b.to_string(), {in("a", a), in("b", b, fill_b)},
          [k = kind](Graph& g, const std::vector<Value>& v) {
            return g.add_node(k, {v[0].id, v[1].id});
          },
          kArith);
    }
}

TEST(CpuVsReference, Unary) {
  struct U {
    std::string name;
    Value (*fn)(Value);
    Fill fill;
    Tolerance tol;
  };
  const std::vector<U> unary = {{"neg", ops::neg, Fill::Signed, kExact},
                                {"relu", ops::relu, Fill::Signed, kExact},
                                {"gelu", ops::gelu, Fill::Signed, kTranscendental},
                                {"tanh", ops::tanh, Fill::Signed, kTranscendental},
                                {"sigmoid", ops::sigmoid, Fill::Signed, kTranscendental},
                                {"exp", ops::exp, Fill::Signed, kTranscendental},
                                {"log", ops::log, Fill::Positive, kTranscendental},
                                {"sqrt", ops::sqrt, Fill::Positive, kTranscendental},
                                {"rsqrt", ops::rsqrt, Fill::Positive, kTranscendental}};
  for (const U& u : unary)
    for (const Shape& s : {Shape{3, 37}, Shape{1}, Shape{257, 513}}) {
      check(
          u.name + " " + s.to_string(), {in("x", s, u.fill)},
          [f = u.fn](Graph&, const std::vector<Value>& v) { return f(v[0]); }, u.tol);
    }
}

TEST(CpuVsReference, Pow) {
  check(
      "pow tensor", {in("a", {5, 33}, Fill::Positive), in("b", {33})},
      [](Graph&, const std::vector<Value>& v) { return ops::pow(v[0], v[1]); }, kPow);
  for (float e : {2.f, 3.f, 0.5f, -1.f, -0.5f, 1.f, 1.7f})
    check(
        "pow scalar " + std::to_string(e), {in("a", {7, 9}, Fill::Positive)},
        [e](Graph&, const std::vector<Value>& v) { return ops::pow(v[0], e); }, kPow);
  check(
      "pow negative base, integral exponent", {in("a", {40})},
      [](Graph&, const std::vector<Value>& v) { return ops::pow(v[0], 3.f); }, kPow);
}

TEST(CpuVsReference, FusedElementwiseChains) {
  check(
      "gelu(x * w + b) - tanh(x) / 2", {in("x", {6, 130}), in("w", {130}), in("b", {6, 1})},
      [](Graph&, const std::vector<Value>& v) {
        return ops::gelu(v[0] * v[1] + v[2]) - ops::tanh(v[0]) / 2.0f;
      },
      kTranscendental);
  check(
      "dynamic: relu(x * 2 + 1)", {dyn("x", {-1, 4}, {1, 4}, {1000, 4})},
      [](Graph&, const std::vector<Value>& v) { return ops::relu(v[0] * 2.0f + 1.0f); }, kArith);
  check(
      "mask: s + (1 - m) * -1e4",
      {dyn("s", {-1, 3, 5, 5}, {1, 3, 5, 5}, {4, 3, 5, 5}),
       dyn("m", {-1, 1, 1, 5}, {1, 1, 1, 5}, {4, 1, 1, 5}, Fill::Bool)},
      [](Graph&, const std::vector<Value>& v) { return v[0] + (1.0f - v[1]) * -10000.0f; }, kArith);
  check(
      "sqrt(mean-square) normaliser", {in("x", {9, 300})},
      [](Graph&, const std::vector<Value>& v) {
        Value ms = ops::reduce_mean(v[0] * v[0], {-1}, true);
        return v[0] * ops::rsqrt(ms + 1e-6f);
      },
      kTranscendental);
  check("long chain", {in("x", {3, 1001})},
        [](Graph&, const std::vector<Value>& v) {
          Value y = v[0];
          for (int i = 0; i < 30; ++i) y = ops::sigmoid(y * 1.5f - 0.25f);
          return ops::exp(y) + ops::log(y + 1.0f);
        },
        {2e-5, 1e-6});
}

TEST(CpuVsReference, WhereAndCast) {
  check(
      "where broadcast", {in("c", {4, 1}, Fill::Bool), in("a", {4, 6}), in("b", {6})},
      [](Graph&, const std::vector<Value>& v) { return ops::where(v[0], v[1], v[2]); }, kExact);
  check(
      "where bool condition", {in("c", {3, 5})},
      [](Graph&, const std::vector<Value>& v) {
        return ops::where(ops::cast(v[0], DType::Bool), v[0], ops::neg(v[0]));
      },
      kExact);
  for (DType to : {DType::I32, DType::I64, DType::F16, DType::BF16, DType::Bool, DType::U8})
    check(
        std::string("cast f32 -> ") + std::string(dtype_name(to)) + " -> f32", {in("x", {7, 11})},
        [to](Graph&, const std::vector<Value>& v) {
          return ops::cast(ops::cast(v[0] * 100.0f, to), DType::F32);
        },
        kExact);
  InputSpec ids{"ids", DType::I64, {-1}, {{17}, {3}}, Fill::Ids, 1000};
  check(
      "cast i64 -> f32", {ids},
      [](Graph&, const std::vector<Value>& v) { return ops::cast(v[0], DType::F32); }, kExact);
}

TEST(CpuVsReference, MatMul) {
  struct M {
    Shape a, b;
    bool ta, tb;
  };
  const std::vector<M> cases = {
      {{5, 7}, {7, 3}, false, false},
      {{2, 5, 7}, {2, 7, 3}, false, false},
      {{3, 1, 4, 6}, {5, 6, 2}, false, false},
      {{1, 33, 65}, {1, 65, 17}, false, false},
      {{2, 7, 5}, {2, 7, 3}, true, false},
      {{2, 5, 7}, {2, 3, 7}, false, true},
      {{4, 7, 5}, {4, 3, 7}, true, true},
      {{2, 3, 16, 64}, {2, 3, 16, 64}, false, true},
      // large enough per batch item for oneDNN (the small ones run on our own kernel)
      {{2, 70, 80}, {2, 80, 90}, false, false},
      {{2, 80, 70}, {2, 90, 80}, true, true},
      {{3, 1, 70, 80}, {2, 64, 80}, false, true},
      {{1, 128, 64}, {1, 128, 64}, false, true}};
  for (const M& m : cases)
    check(
        "matmul " + m.a.to_string() + (m.ta ? "^T" : "") + " x " + m.b.to_string() +
            (m.tb ? "^T" : ""),
        {in("a", m.a), in("b", m.b)},
        [m](Graph&, const std::vector<Value>& v) { return ops::matmul(v[0], v[1], m.ta, m.tb); },
        kMatmul);
  // Constant right operand: the prepacked (weights) path, with transpose_b.
  check(
      "matmul x const", {dyn("x", {-1, 5, 24}, {1, 5, 24}, {3, 5, 24})},
      [](Graph& g, const std::vector<Value>& v) {
        return ops::matmul(v[0], constant(g, {24, 10}, 1));
      },
      kMatmul);
  check(
      "matmul x const^T", {in("x", {6, 24})},
      [](Graph& g, const std::vector<Value>& v) {
        return ops::matmul(v[0], constant(g, {10, 24}, 2), false, true);
      },
      kMatmul);
  // Attention-like: scores scaled then masked (post-ops; the mask add broadcasts), small (our
  // kernel) and large (oneDNN).
  check(
      "attention scores",
      {dyn("q", {-1, 2, -1, 8}, {1, 2, 5, 8}, {3, 2, 9, 8}),
       dyn("k", {-1, 2, -1, 8}, {1, 2, 5, 8}, {3, 2, 9, 8}),
       dyn("mask", {-1, 1, 1, -1}, {1, 1, 1, 5}, {3, 1, 1, 9})},
      [](Graph&, const std::vector<Value>& v) {
        return ops::softmax(ops::matmul(v[0], v[1], false, true) * 0.35f + v[2] * -100.0f);
      },
      kNorm);
}

TEST(CpuVsReference, Linear) {
  for (const Shape& x : {Shape{1, 7}, Shape{16, 7}, Shape{2, 3, 7}})
    check(
        "linear " + x.to_string(), {in("x", x)},
        [](Graph& g, const std::vector<Value>& v) {
          return ops::linear(v[0], constant(g, {5, 7}, 3), constant(g, {5}, 4));
        },
        kMatmul);
  check(
      "linear 16x768 -> 3072, dynamic batch", {dyn("x", {-1, 768}, {16, 768}, {3, 768})},
      [](Graph& g, const std::vector<Value>& v) {
        return ops::linear(v[0], constant(g, {3072, 768}, 5));
      },
      kMatmul);
  for (DType wt : {DType::F16, DType::BF16})
    check(
        std::string("linear with ") + std::string(dtype_name(wt)) + " weights", {in("x", {4, 33})},
        [wt](Graph& g, const std::vector<Value>& v) {
          return ops::linear(v[0], constant(g, {17, 33}, 6, wt), constant(g, {17}, 7, wt));
        },
        kMatmul);
  check(
      "linear with computed weights", {in("x", {4, 9}), in("w", {6, 9}), in("b", {6})},
      [](Graph&, const std::vector<Value>& v) { return ops::linear(v[0], v[1], v[2]); }, kMatmul);
}

TEST(CpuVsReference, LinearEpilogues) {
  using F = Value (*)(Value);
  for (F act : {F(ops::relu), F(ops::gelu), F(ops::tanh), F(ops::sigmoid)})
    check("linear + activation", {dyn("x", {-1, 3, 40}, {1, 3, 40}, {2, 3, 40})},
          [act](Graph& g, const std::vector<Value>& v) {
            return act(ops::linear(v[0], constant(g, {24, 40}, 8), constant(g, {24}, 9)));
          },
          {1e-5, 2e-4});
  check("linear + bias add + gelu + scale + residual",
        {dyn("x", {-1, 40}, {5, 40}, {1, 40}), dyn("r", {-1, 24}, {5, 24}, {1, 24})},
        [](Graph& g, const std::vector<Value>& v) {
          Value y = ops::linear(v[0], constant(g, {24, 40}, 10)) + constant(g, {24}, 11);
          return ops::gelu(y) * 0.5f + v[1];
        },
        {1e-5, 2e-4});
  // The residual broadcasts at run time (a row): the add runs after oneDNN if it cannot fuse it.
  check(
      "linear + broadcast residual",
      {dyn("x", {-1, 40}, {5, 40}, {7, 40}), dyn("r", {-1, 24}, {1, 24}, {1, 24})},
      [](Graph& g, const std::vector<Value>& v) {
        return ops::linear(v[0], constant(g, {24, 40}, 12)) + v[1];
      },
      kMatmul);
}

// Products with constant weights run on our packed GEMM or on oneDNN (TG_GEMM; the default
// depends on the ISA): both are checked on every machine, on shapes that exercise partial
// tiles (rows not a multiple of the tile, columns not a multiple of the panel) and epilogues.
TEST(CpuVsReference, LinearBothGemms) {
  for (const char* gemm : {"own", "onednn"}) {
    ::setenv("TG_GEMM", gemm, 1);
    for (std::int64_t m : {1, 5, 13, 37})
      for (const auto& [n, k] : {std::pair<std::int64_t, std::int64_t>{1, 1}, {2, 7}, {17, 33},
                                 {33, 64}, {100, 129}, {64, 300}})
        check(fmt::format("{} gemm: linear [{},{}] x [{},{}]^T + relu", gemm, m, k, n, k),
              {in("x", {m, k})},
              [n = n, k = k](Graph& g, const std::vector<Value>& v) {
                return ops::relu(ops::linear(v[0], constant(g, {n, k}, 21), constant(g, {n}, 22)));
              },
              kMatmul);
    check(std::string(gemm) + " gemm: linear + gelu, then linear + residual (dynamic rows)",
          {dyn("x", {-1, 48}, {13, 48}, {1, 48})},
          [](Graph& g, const std::vector<Value>& v) {
            Value h = ops::gelu(ops::linear(v[0], constant(g, {40, 48}, 23), constant(g, {40}, 24)));
            return ops::linear(h, constant(g, {48, 40}, 25), constant(g, {48}, 26)) + v[0];
          },
          {1e-5, 2e-4});
    check(std::string(gemm) + " gemm: 3-D input, partial panel + residual + scale",
          {in("x", {2, 7, 20}), in("r", {2, 7, 19})},
          [](Graph& g, const std::vector<Value>& v) {
            return (ops::linear(v[0], constant(g, {19, 20}, 27)) + v[1]) * 0.25f;
          },
          kMatmul);
  }
  ::unsetenv("TG_GEMM");
}

TEST(CpuVsReference, Layout) {
  check(
      "reshape + transpose (heads)", {dyn("x", {-1, -1, 24}, {1, 5, 24}, {2, 7, 24})},
      [](Graph&, const std::vector<Value>& v) {
        return ops::permute(ops::reshape(v[0], {0, 0, 4, 6}), {0, 2, 1, 3});
      },
      kExact);
  check(
      "flatten", {in("x", {2, 3, 4, 5})},
      [](Graph&, const std::vector<Value>& v) { return ops::flatten(v[0]); }, kExact);
  check(
      "reshape output", {in("x", {6, 4})},
      [](Graph&, const std::vector<Value>& v) {
        return ops::reshape(v[0], {3, -1});
      },
      kExact);
  for (const std::vector<std::int64_t>& perm : std::vector<std::vector<std::int64_t>>{
           {0, 2, 1, 3}, {0, 1, 3, 2}, {3, 2, 1, 0}, {1, 0, 2, 3}, {2, 0, 3, 1}})
    check(
        "permute", {in("x", {3, 5, 7, 9})},
        [perm](Graph&, const std::vector<Value>& v) { return ops::permute(v[0], perm); }, kExact);
  check(
      "transpose 2-D large", {in("x", {300, 301})},
      [](Graph&, const std::vector<Value>& v) { return ops::transpose(v[0], 0, 1); }, kExact);
  for (int axis : {0, 1, -1})
    check(
        "concat axis " + std::to_string(axis),
        {in("a", {4, 6, 5}), in("b", {4, 6, 5}), in("c", {4, 6, 5})},
        [axis](Graph&, const std::vector<Value>& v) {
          return ops::concat({v[0], v[1], v[2]}, axis);
        },
        kExact);
  check(
      "concat different extents", {in("a", {2, 3}), in("b", {2, 5})},
      [](Graph&, const std::vector<Value>& v) {
        return ops::concat({v[0], v[1]}, 1);
      },
      kExact);
  check(
      "slice steps and negatives", {in("x", {7, 9, 11})},
      [](Graph&, const std::vector<Value>& v) {
        return ops::slice(v[0], {0, 2, 1}, {1, -8, 0}, {7, -1, 100}, {2, 3, 1});
      },
      kExact);
  check(
      "slice [CLS] row, dynamic", {dyn("x", {-1, -1, 16}, {1, 5, 16}, {3, 8, 16})},
      [](Graph&, const std::vector<Value>& v) {
        return ops::reshape(ops::slice(v[0], 1, 0, 1), {0, 16});
      },
      kExact);
  for (DType idt : {DType::I32, DType::I64}) {
    InputSpec ids{"ids", idt, {-1, -1}, {{2, 5}, {1, 3}}, Fill::Ids, 11};
    check(
        "gather embedding", {ids},
        [](Graph& g, const std::vector<Value>& v) {
          return ops::gather(constant(g, {11, 9}, 13), v[0]);
        },
        kExact);
  }
  InputSpec cols{"ids", DType::I64, {4}, {{4}}, Fill::Ids, 6};
  check(
      "gather axis 1", {in("x", {3, 6, 2}), cols},
      [](Graph&, const std::vector<Value>& v) { return ops::gather(v[0], v[1], 1); }, kExact);
}

TEST(CpuVsReference, SoftmaxAndLayerNorm) {
  for (const Shape& s : {Shape{3, 17}, Shape{2, 1000}, Shape{1, 1}, Shape{64, 128}})
    for (bool log : {false, true})
      check(
          std::string(log ? "log_softmax " : "softmax ") + s.to_string(), {in("x", s)},
          [log](Graph&, const std::vector<Value>& v) {
            return log ? ops::log_softmax(v[0]) : ops::softmax(v[0]);
          },
          kNorm);
  for (bool log : {false, true})
    check(
        std::string(log ? "log_softmax" : "softmax") + " axis 1", {in("x", {2, 5, 7})},
        [log](Graph&, const std::vector<Value>& v) {
          return log ? ops::log_softmax(v[0], 1) : ops::softmax(v[0], 1);
        },
        kNorm);
  check(
      "softmax of large values", {in("x", {4, 33})},
      [](Graph&, const std::vector<Value>& v) { return ops::softmax(v[0] * 50.0f); }, kNorm);
  check(
      "layer_norm", {dyn("x", {-1, 33}, {3, 33}, {1, 33})},
      [](Graph& g, const std::vector<Value>& v) {
        return ops::layer_norm(v[0], constant(g, {33}, 14), constant(g, {33}, 15), 1e-12f);
      },
      kNorm);
  check(
      "layer_norm 768 without affine", {in("x", {2, 5, 768})},
      [](Graph&, const std::vector<Value>& v) {
        return ops::layer_norm(v[0], std::nullopt, std::nullopt);
      },
      kNorm);
  check("layer_norm with offset data", {in("x", {4, 100})},
        [](Graph& g, const std::vector<Value>& v) {
          return ops::layer_norm(v[0] + 1000.0f, constant(g, {100}, 16), std::nullopt);
        },
        {1e-4, 1e-4});
}

TEST(CpuVsReference, Reductions) {
  const std::vector<std::vector<std::int64_t>> axes_list = {{}, {-1}, {0}, {1}, {0, 2}, {1, 2}};
  for (const auto& axes : axes_list)
    for (bool keep : {false, true}) {
      check("reduce_sum", {in("x", {3, 4, 5})},
            [&](Graph&, const std::vector<Value>& v) { return ops::reduce_sum(v[0], axes, keep); },
            {1e-6, 1e-5});
      check("reduce_mean", {in("x", {3, 4, 5})},
            [&](Graph&, const std::vector<Value>& v) { return ops::reduce_mean(v[0], axes, keep); },
            {1e-6, 1e-6});
      check(
          "reduce_max", {in("x", {3, 4, 5})},
          [&](Graph&, const std::vector<Value>& v) { return ops::reduce_max(v[0], axes, keep); },
          kExact);
    }
  check("reduce_sum large rows", {in("x", {5, 100000})},
        [](Graph&, const std::vector<Value>& v) { return ops::reduce_sum(v[0], {1}); },
        {1e-6, 1e-4});
  check("reduce_mean large middle axis", {in("x", {2, 3000, 70})},
        [](Graph&, const std::vector<Value>& v) { return ops::reduce_mean(v[0], {1}); },
        {1e-6, 1e-6});
}

TEST(CpuVsReference, ConvAndPool) {
  struct C {
    Shape x, w;
    ops::Conv2dOptions o;
    bool bias;
  };
  std::vector<C> cases = {
      {{2, 3, 9, 11}, {4, 3, 3, 3}, {{1, 1}, {1, 1}, {1, 1}, 1}, true},
      {{1, 3, 13, 13}, {5, 3, 3, 3}, {{2, 2}, {2, 2}, {2, 2}, 1}, false},
      {{1, 4, 8, 8}, {6, 2, 3, 3}, {{1, 1}, {0, 0}, {1, 1}, 2}, true},
      {{2, 8, 5, 5}, {16, 8, 1, 1}, {{1, 1}, {0, 0}, {1, 1}, 1}, true},
      {{2, 1, 28, 28}, {8, 1, 3, 3}, {{1, 1}, {1, 1}, {1, 1}, 1}, true},
      {{1, 32, 14, 14}, {64, 32, 3, 3}, {{1, 1}, {1, 1}, {1, 1}, 1}, true},
  };
  for (const C& c : cases)
    check(
        "conv2d " + c.x.to_string() + " " + c.w.to_string(), {in("x", c.x)},
        [c](Graph& g, const std::vector<Value>& v) {
          std::optional<Value> b;
          if (c.bias) b = constant(g, {c.w[0]}, 18);
          return ops::conv2d(v[0], constant(g, c.w, 17), b, c.o);
        },
        kMatmul);
  check(
      "conv2d dynamic batch", {dyn("x", {-1, 3, 10, 10}, {1, 3, 10, 10}, {4, 3, 10, 10})},
      [](Graph& g, const std::vector<Value>& v) {
        return ops::relu(ops::conv2d(v[0], constant(g, {6, 3, 3, 3}, 19), constant(g, {6}, 20),
                                     {{1, 1}, {1, 1}}));
      },
      kMatmul);
  struct P {
    ops::Pool2dOptions o;
  };
  for (const ops::Pool2dOptions& o : {ops::Pool2dOptions{{2, 2}, {0, 0}, {0, 0}, true},
                                      ops::Pool2dOptions{{3, 3}, {2, 2}, {1, 1}, true},
                                      ops::Pool2dOptions{{3, 3}, {2, 2}, {1, 1}, false},
                                      ops::Pool2dOptions{{2, 3}, {1, 2}, {1, 0}, true}}) {
    check(
        "max_pool2d", {in("x", {2, 3, 11, 9})},
        [o](Graph&, const std::vector<Value>& v) { return ops::max_pool2d(v[0], o); }, kExact);
    check(
        "avg_pool2d", {in("x", {2, 3, 11, 9})},
        [o](Graph&, const std::vector<Value>& v) { return ops::avg_pool2d(v[0], o); }, kArith);
  }
}

TEST(CpuVsReference, OneThreadAndFour) {
  for (int threads : {1, 4})
    check(
        "mlp block, threads " + std::to_string(threads), {dyn("x", {-1, 64}, {300, 64}, {1, 64})},
        [](Graph& g, const std::vector<Value>& v) {
          Value h =
              ops::gelu(ops::linear(v[0], constant(g, {256, 64}, 21), constant(g, {256}, 22)));
          Value y = ops::linear(h, constant(g, {64, 256}, 23), constant(g, {64}, 24)) + v[0];
          return ops::layer_norm(y, constant(g, {64}, 25), constant(g, {64}, 26));
        },
        {1e-4, 1e-4}, threads);
}

}  // namespace
}  // namespace tensorgraph

namespace tensorgraph {
namespace {

// A DistilBERT-style transformer layer (attention + feed-forward, post-norm) built from the
// ops: the path the DistilBERT issue takes, checked end to end with dynamic batch and sequence.
Value transformer_layer(Graph& g, Value x, Value mask, std::int64_t dim, std::int64_t heads,
                        std::int64_t hidden) {
  const std::int64_t dh = dim / heads;
  std::uint32_t seed = 100;
  auto lin = [&](Value in, std::int64_t out, std::int64_t inner) {
    Value w = constant(g, {out, inner}, seed++);
    Value b = constant(g, {out}, seed++);
    return ops::linear(in, w, b);
  };
  auto norm = [&](Value in) {
    Value w = constant(g, {dim}, seed++);
    Value b = constant(g, {dim}, seed++);
    return ops::layer_norm(in, w, b, 1e-12f);
  };
  auto split = [&](Value t) {
    return ops::permute(ops::reshape(t, {0, 0, heads, dh}), {0, 2, 1, 3});
  };
  Value q = split(lin(x, dim, dim)) / std::sqrt(static_cast<float>(dh));
  Value k = split(lin(x, dim, dim));
  Value v = split(lin(x, dim, dim));
  Value bias = ops::reshape((1.0f - mask) * -10000.0f, {0, 1, 1, -1});
  Value w = ops::softmax(ops::matmul(q, k, false, true) + bias);
  Value ctx = ops::reshape(ops::permute(ops::matmul(w, v), {0, 2, 1, 3}), {0, 0, dim});
  Value x1 = norm(lin(ctx, dim, dim) + x);
  Value h = ops::gelu(lin(x1, hidden, dim));
  return norm(lin(h, dim, hidden) + x1);
}

TEST(CpuVsReference, TransformerLayer) {
  check("transformer layer",
        {dyn("x", {-1, -1, 64}, {1, 7, 64}, {3, 20, 64}),
         dyn("mask", {-1, -1}, {1, 7}, {3, 20}, Fill::Bool)},
        [](Graph& g, const std::vector<Value>& v) {
          return transformer_layer(g, v[0], v[1], 64, 4, 128);
        },
        {1e-4, 1e-4});
  // Its plan: gelu and both residual adds are oneDNN post-ops of the linears.
  Graph g;
  Value x = g.input("x", DType::F32, {-1, -1, 64});
  Value mask = g.input("mask", DType::F32, {-1, -1});
  g.output("y", transformer_layer(g, x, mask, 64, 4, 128));
  Session s = compile(g);
  const PlanInfo info = s.plan(std::vector<Shape>{{2, 9, 64}, {2, 9}});
  int linears = 0, with_gelu = 0, with_add = 0;
  for (const PlannedStep& step : info.steps) {
    if (step.op != OpKind::Linear) continue;
    ++linears;
    for (const std::string& f : step.fused) {
      with_gelu += f == "gelu" ? 1 : 0;
      with_add += f == "add" ? 1 : 0;
    }
  }
  EXPECT_EQ(linears, 6);
  EXPECT_EQ(with_gelu, 1);
  EXPECT_EQ(with_add, 2);
  EXPECT_LT(info.arena_bytes, info.intermediate_bytes + info.scratch_bytes);
}

}  // namespace
}  // namespace tensorgraph
