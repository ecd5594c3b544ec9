// Gradient checks of every differentiable op: the gradient graph built by grad() (autodiff.hpp),
// run in f64 on the reference kernels, against central finite differences of the forward pass,
// also in f64. Each check computes the vector-Jacobian product with a random cotangent R
// (d/dx sum(R * op(x))) for every float input, element by element.
#include <cmath>
#include <functional>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include "tensorgraph/graph/autodiff.hpp"
#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/runtime/session.hpp"

namespace tensorgraph {
namespace {

enum class Fill {
  Signed,    // uniform in [-2, 2]
  Positive,  // uniform in [0.2, 2] (log, sqrt, div, pow bases)
  Away,      // |x| in [0.1, 2] (relu: away from the kink)
  Ids,       // integer ids in [0, id_range)
  Mask,      // 0 or 1 (where)
};

struct Arg {
  std::string name;
  Shape shape;
  Fill fill = Fill::Signed;
  DType dtype = DType::F64;
  std::int64_t id_range = 0;
};

Arg arg(std::string name, Shape shape, Fill fill = Fill::Signed) {
  return {std::move(name), shape, fill};
}
Arg ids(std::string name, Shape shape, std::int64_t range) {
  return {std::move(name), shape, Fill::Ids, DType::I64, range};
}

Tensor random_tensor(const Arg& a, std::mt19937_64& rng) {
  const std::int64_t n = a.shape.numel();
  if (a.fill == Fill::Ids) {
    std::vector<std::int64_t> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(a.id_range));
    return Tensor::from<std::int64_t>(a.shape, v);
  }
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<double> v(static_cast<std::size_t>(n));
  for (auto& x : v) {
    const double r = u(rng);
    switch (a.fill) {
      case Fill::Signed:
        x = -2.0 + 4.0 * r;
        break;
      case Fill::Positive:
        x = 0.2 + 1.8 * r;
        break;
      case Fill::Away:
        x = (r < 0.5 ? -1.0 : 1.0) * (0.1 + 1.9 * u(rng));
        break;
      case Fill::Mask:
        x = r < 0.5 ? 0.0 : 1.0;
        break;
      case Fill::Ids:
        break;
    }
  }
  Tensor t = Tensor::from<double>(a.shape, v);
  return a.dtype == DType::F64 ? t : t.to(a.dtype);
}

using Build = std::function<Value(Graph&, const std::vector<Value>&)>;

// Checks d sum(R * f(inputs)) / d input for every float input against central differences.
void gradcheck(const std::string& name, const std::vector<Arg>& args, const Build& build,
               double rtol = 1e-6, double atol = 1e-8) {
  SCOPED_TRACE(name);
  Graph g;
  std::vector<Value> inputs;
  for (const Arg& a : args) inputs.push_back(g.input(a.name, a.dtype, a.shape));
  const Value out = build(g, inputs);
  ASSERT_TRUE(out.shape().is_static());
  std::mt19937_64 rng(std::hash<std::string>{}(name));
  const Arg r_arg{"R", out.shape(), Fill::Signed, out.dtype()};
  const Tensor r = random_tensor(r_arg, rng);
  std::vector<Value> params;
  std::vector<std::size_t> param_index;
  for (std::size_t i = 0; i < args.size(); ++i)
    if (args[i].fill != Fill::Ids && args[i].fill != Fill::Mask) {
      params.push_back(inputs[i]);
      param_index.push_back(i);
    }
  const std::vector<Value> grads = grad(out, params, g.constant(r));
  g.output("out", out);
  for (std::size_t k = 0; k < grads.size(); ++k)
    g.output("d" + args[param_index[k]].name, grads[k]);
  CompileOptions options;
  options.kernels = KernelSet::Reference;
  options.threads = 1;
  Session s = compile(g, options);

  NamedTensors feed;
  for (const Arg& a : args) feed[a.name] = random_tensor(a, rng);
  const NamedTensors analytic = s.run(feed);
  auto objective = [&](const NamedTensors& in) {
    const Tensor y = s.run(in)["out"];
    double sum = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) sum += y.value_as_double(i) * r.value_as_double(i);
    return sum;
  };
  for (std::size_t k = 0; k < params.size(); ++k) {
    const Arg& a = args[param_index[k]];
    const Tensor& dx = analytic.at("d" + a.name);
    ASSERT_EQ(dx.shape(), a.shape) << a.name;
    const bool f64 = a.dtype == DType::F64;
    const double h = f64 ? 1e-6 : 1.0 / 1024;
    int reported = 0;
    for (std::int64_t i = 0; i < a.shape.numel(); ++i) {
      NamedTensors plus = feed, minus = feed;
      plus[a.name] = feed.at(a.name).clone();
      minus[a.name] = feed.at(a.name).clone();
      if (f64) {
        plus[a.name].mutable_data<double>()[i] += h;
        minus[a.name].mutable_data<double>()[i] -= h;
      } else {
        plus[a.name].mutable_data<float>()[i] += static_cast<float>(h);
        minus[a.name].mutable_data<float>()[i] -= static_cast<float>(h);
      }
      const double numeric = (objective(plus) - objective(minus)) / (2 * h);
      const double got = dx.value_as_double(i);
      if (!(std::fabs(got - numeric) <= atol + rtol * std::fabs(numeric))) {
        ADD_FAILURE() << "d" << a.name << "[" << i << "]: autodiff " << got << ", numeric "
                      << numeric << " (diff " << std::fabs(got - numeric) << ")";
        if (++reported >= 5) break;
      }
    }
  }
}

Value scalar64(Graph& g, double v) {
  return g.constant(Tensor::scalar<double>(v));
}

TEST(GradCheck, BinaryWithBroadcasting) {
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 4}, {3, 4}}, {{2, 3, 4}, {4}}, {{3, 1}, {1, 5}}, {{2, 1, 3}, {4, 1}}, {{}, {2, 3}}};
  for (const auto& [sa, sb] : shapes) {
    const std::string suffix = " " + sa.to_string() + " " + sb.to_string();
    gradcheck("add" + suffix, {arg("a", sa), arg("b", sb)},
              [](Graph&, const std::vector<Value>& v) { return v[0] + v[1]; });
    gradcheck("sub" + suffix, {arg("a", sa), arg("b", sb)},
              [](Graph&, const std::vector<Value>& v) { return v[0] - v[1]; });
    gradcheck("mul" + suffix, {arg("a", sa), arg("b", sb)},
              [](Graph&, const std::vector<Value>& v) { return v[0] * v[1]; });
    gradcheck("div" + suffix, {arg("a", sa), arg("b", sb, Fill::Positive)},
              [](Graph&, const std::vector<Value>& v) { return v[0] / v[1]; });
    gradcheck("pow" + suffix, {arg("a", sa, Fill::Positive), arg("b", sb)},
              [](Graph&, const std::vector<Value>& v) { return ops::pow(v[0], v[1]); });
  }
}

TEST(GradCheck, SameValueTwice) {  // contributions of both uses add up
  gradcheck("x * x", {arg("x", {5})},
            [](Graph&, const std::vector<Value>& v) { return v[0] * v[0]; });
  gradcheck("x / (x + 3)", {arg("x", {2, 3}, Fill::Positive)},
            [](Graph& g, const std::vector<Value>& v) { return v[0] / (v[0] + scalar64(g, 3)); });
}

TEST(GradCheck, Unary) {
  const Shape s{3, 5};
  const std::vector<std::tuple<std::string, Fill, Value (*)(Value)>> unary = {
      {"neg", Fill::Signed, ops::neg},         {"relu", Fill::Away, ops::relu},
      {"gelu", Fill::Signed, ops::gelu},       {"tanh", Fill::Signed, ops::tanh},
      {"sigmoid", Fill::Signed, ops::sigmoid}, {"exp", Fill::Signed, ops::exp},
      {"log", Fill::Positive, ops::log},       {"sqrt", Fill::Positive, ops::sqrt},
      {"rsqrt", Fill::Positive, ops::rsqrt}};
  for (const auto& [name, fill, f] : unary)
    gradcheck(name, {arg("x", s, fill)},
              [fn = f](Graph&, const std::vector<Value>& v) { return fn(v[0]); });
  gradcheck("pow scalar exponent", {arg("x", s, Fill::Positive)},
            [](Graph& g, const std::vector<Value>& v) { return ops::pow(v[0], scalar64(g, 2.5)); });
}

TEST(GradCheck, WhereAndCast) {
  gradcheck("where", {arg("c", {3, 4}, Fill::Mask), arg("a", {3, 4}), arg("b", {4})},
            [](Graph&, const std::vector<Value>& v) { return ops::where(v[0], v[1], v[2]); });
  // f32 input, f64 computation: the gradient is cast back to f32 (exact here: linear in x).
  Arg x32 = arg("x", {6});
  x32.dtype = DType::F32;
  gradcheck("cast f32 -> f64", {x32},
            [](Graph&, const std::vector<Value>& v) { return ops::cast(v[0], DType::F64); });
}

TEST(GradCheck, MatMul) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      const Shape a = ta ? Shape{4, 3} : Shape{3, 4};
      const Shape b = tb ? Shape{5, 4} : Shape{4, 5};
      gradcheck(fmt::format("matmul ta={} tb={}", ta, tb), {arg("a", a), arg("b", b)},
                [ta, tb](Graph&, const std::vector<Value>& v) {
                  return ops::matmul(v[0], v[1], ta, tb);
                });
    }
  gradcheck("batched matmul, broadcast batch", {arg("a", {2, 3, 4}), arg("b", {1, 4, 2})},
            [](Graph&, const std::vector<Value>& v) { return ops::matmul(v[0], v[1]); });
  gradcheck(
      "batched matmul, 2-D right operand", {arg("a", {2, 3, 4}), arg("b", {4, 2})},
      [](Graph&, const std::vector<Value>& v) { return ops::matmul(v[0], v[1], false, false); });
}

TEST(GradCheck, Linear) {
  gradcheck("linear with bias", {arg("x", {4, 3}), arg("w", {5, 3}), arg("b", {5})},
            [](Graph&, const std::vector<Value>& v) { return ops::linear(v[0], v[1], v[2]); });
  gradcheck("linear rank 3", {arg("x", {2, 3, 4}), arg("w", {2, 4})},
            [](Graph&, const std::vector<Value>& v) { return ops::linear(v[0], v[1]); });
  gradcheck("linear rank 1", {arg("x", {3}), arg("w", {2, 3}), arg("b", {2})},
            [](Graph&, const std::vector<Value>& v) { return ops::linear(v[0], v[1], v[2]); });
}

TEST(GradCheck, Layout) {
  gradcheck("reshape", {arg("x", {2, 6})}, [](Graph&, const std::vector<Value>& v) {
    return ops::reshape(v[0], {3, 2, 2});
  });
  gradcheck("flatten", {arg("x", {2, 3, 2, 2})},
            [](Graph&, const std::vector<Value>& v) { return ops::flatten(v[0], 1); });
  gradcheck("permute", {arg("x", {2, 3, 4})}, [](Graph&, const std::vector<Value>& v) {
    return ops::permute(v[0], {2, 0, 1});
  });
  gradcheck("concat", {arg("a", {2, 3}), arg("b", {2, 1}), arg("c", {2, 2})},
            [](Graph&, const std::vector<Value>& v) {
              return ops::concat({v[0], v[1], v[2]}, 1);
            });
  gradcheck("slice with steps", {arg("x", {5, 7})}, [](Graph&, const std::vector<Value>& v) {
    return ops::slice(v[0], {0, 1}, {1, -6}, {4, 100}, {2, 3});
  });
  gradcheck("gather rows, repeated ids", {arg("table", {6, 3}), ids("ids", {2, 4}, 6)},
            [](Graph&, const std::vector<Value>& v) { return ops::gather(v[0], v[1], 0); });
  gradcheck("gather axis 1", {arg("data", {2, 5, 3}), ids("ids", {4}, 5)},
            [](Graph&, const std::vector<Value>& v) { return ops::gather(v[0], v[1], 1); });
}

TEST(GradCheck, Normalization) {
  gradcheck("softmax", {arg("x", {3, 5})},
            [](Graph&, const std::vector<Value>& v) { return ops::softmax(v[0]); });
  gradcheck("softmax axis 0", {arg("x", {4, 3})},
            [](Graph&, const std::vector<Value>& v) { return ops::softmax(v[0], 0); });
  gradcheck("log_softmax", {arg("x", {3, 5})},
            [](Graph&, const std::vector<Value>& v) { return ops::log_softmax(v[0]); });
  gradcheck(
      "layer_norm", {arg("x", {3, 6}), arg("w", {6}), arg("b", {6})},
      [](Graph&, const std::vector<Value>& v) { return ops::layer_norm(v[0], v[1], v[2], 1e-5f); });
  gradcheck("layer_norm rank 3 without affine", {arg("x", {2, 3, 4})},
            [](Graph&, const std::vector<Value>& v) {
              return ops::layer_norm(v[0], std::nullopt, std::nullopt, 1e-3f);
            });
  gradcheck("layer_norm weight only", {arg("x", {2, 5}), arg("w", {5})},
            [](Graph&, const std::vector<Value>& v) {
              return ops::layer_norm(v[0], v[1], std::nullopt);
            });
}

TEST(GradCheck, Reductions) {
  const std::vector<std::pair<std::vector<std::int64_t>, bool>> cases = {
      {{}, false}, {{1}, false}, {{0, 2}, true}, {{-1}, true}, {{0}, false}};
  for (const auto& [axes, keep] : cases) {
    const std::string suffix = fmt::format(" axes [{}] keepdims {}", fmt::join(axes, ","), keep);
    gradcheck("reduce_sum" + suffix, {arg("x", {2, 3, 4})},
              [ax = axes, k = keep](Graph&, const std::vector<Value>& v) {
                return ops::reduce_sum(v[0], ax, k);
              });
    gradcheck("reduce_mean" + suffix, {arg("x", {2, 3, 4})},
              [ax = axes, k = keep](Graph&, const std::vector<Value>& v) {
                return ops::reduce_mean(v[0], ax, k);
              });
    gradcheck("reduce_max" + suffix, {arg("x", {2, 3, 4})},
              [ax = axes, k = keep](Graph&, const std::vector<Value>& v) {
                return ops::reduce_max(v[0], ax, k);
              });
  }
}

TEST(GradCheck, Conv2d) {
  struct Case {
    std::string name;
    Shape x, w;
    ops::Conv2dOptions o;
    bool bias;
  };
  const std::vector<Case> cases = {
      {"3x3 pad 1 with bias", {2, 3, 5, 5}, {4, 3, 3, 3}, {{1, 1}, {1, 1}, {1, 1}, 1}, true},
      {"stride 2", {1, 2, 6, 5}, {3, 2, 3, 2}, {{2, 2}, {0, 1}, {1, 1}, 1}, false},
      {"dilation 2", {1, 2, 7, 7}, {2, 2, 3, 3}, {{1, 1}, {2, 2}, {2, 2}, 1}, true},
      {"groups 2", {2, 4, 4, 4}, {6, 2, 3, 3}, {{1, 1}, {1, 1}, {1, 1}, 2}, true},
      {"1 input channel (MNIST's first layer)",
       {2, 1, 6, 6},
       {3, 1, 3, 3},
       {{1, 1}, {1, 1}, {1, 1}, 1},
       true},
  };
  for (const Case& c : cases) {
    std::vector<Arg> args = {arg("x", c.x), arg("w", c.w)};
    if (c.bias) args.push_back(arg("b", {c.w[0]}));
    gradcheck("conv2d " + c.name, args,
              [o = c.o, bias = c.bias](Graph&, const std::vector<Value>& v) {
                return ops::conv2d(v[0], v[1], bias ? std::optional<Value>(v[2]) : std::nullopt, o);
              });
  }
}

TEST(GradCheck, Pooling) {
  gradcheck("max_pool2d 2x2", {arg("x", {2, 2, 4, 6})},
            [](Graph&, const std::vector<Value>& v) { return ops::max_pool2d(v[0]); });
  gradcheck("max_pool2d 3x3 stride 2 pad 1", {arg("x", {1, 2, 5, 5})},
            [](Graph&, const std::vector<Value>& v) {
              return ops::max_pool2d(v[0], {{3, 3}, {2, 2}, {1, 1}});
            });
  gradcheck("avg_pool2d 2x2", {arg("x", {2, 2, 4, 4})},
            [](Graph&, const std::vector<Value>& v) { return ops::avg_pool2d(v[0]); });
  gradcheck("avg_pool2d pad 1 include pad", {arg("x", {1, 2, 5, 4})},
            [](Graph&, const std::vector<Value>& v) {
              return ops::avg_pool2d(v[0], {{3, 3}, {2, 2}, {1, 1}, true});
            });
  gradcheck("avg_pool2d pad 1 exclude pad", {arg("x", {1, 2, 5, 4})},
            [](Graph&, const std::vector<Value>& v) {
              return ops::avg_pool2d(v[0], {{3, 3}, {2, 2}, {1, 1}, false});
            });
}

TEST(GradCheck, SmallNetworks) {
  // The MLP of example 04 in miniature: linear-relu-linear-relu-linear, mean squared error.
  gradcheck("mlp + mse",
            {arg("x", {5, 4}), arg("t", {5, 1}), arg("w1", {6, 4}), arg("b1", {6}),
             arg("w2", {3, 6}), arg("b2", {3}), arg("w3", {1, 3}), arg("b3", {1})},
            [](Graph&, const std::vector<Value>& v) {
              Value h = ops::relu(ops::linear(v[0], v[2], v[3]));
              h = ops::relu(ops::linear(h, v[4], v[5]));
              const Value d = ops::linear(h, v[6], v[7]) - v[1];
              return ops::reduce_mean(d * d);
            });
  // The CNN of example 05 in miniature, with cross-entropy from logits.
  gradcheck("cnn + cross-entropy",
            {arg("x", {2, 1, 6, 6}), arg("onehot", {2, 3}, Fill::Mask), arg("k1", {2, 1, 3, 3}),
             arg("c1", {2}), arg("w", {3, 18}), arg("b", {3})},
            [](Graph& g, const std::vector<Value>& v) {
              Value h = ops::relu(ops::conv2d(v[0], v[2], v[3], {{1, 1}, {1, 1}, {1, 1}, 1}));
              h = ops::flatten(ops::max_pool2d(h), 1);
              const Value logits = ops::linear(h, v[4], v[5]);
              const Value nll = ops::neg(ops::reduce_sum(v[1] * ops::log_softmax(logits), {-1}));
              return ops::reduce_mean(nll) * scalar64(g, 1.0);
            });
  // A transformer-style block: layer norm, attention-like softmax of a matmul, gelu.
  gradcheck("attention-like block",
            {arg("x", {2, 3, 4}), arg("w", {4, 4}), arg("g", {4}), arg("b", {4})},
            [](Graph&, const std::vector<Value>& v) {
              const Value n = ops::layer_norm(v[0], v[2], v[3]);
              const Value q = ops::linear(n, v[1]);
              const Value att = ops::softmax(ops::matmul(q, n, false, true));
              return ops::gelu(ops::matmul(att, q)) + v[0];
            });
}

}  // namespace
}  // namespace tensorgraph
