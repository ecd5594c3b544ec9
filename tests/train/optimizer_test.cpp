// Optimisers, losses, initialisers and schedules against PyTorch 1.13's values (torch.optim,
// torch.nn.functional, computed once in Python; the numbers are in the tests).
#include <cmath>

#include <gtest/gtest.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/runtime/session.hpp"
#include "tensorgraph/train/init.hpp"
#include "tensorgraph/train/losses.hpp"
#include "tensorgraph/train/optimizer.hpp"
#include "tensorgraph/train/schedule.hpp"

namespace tensorgraph::train {
namespace {

// p = [0.5, -1, 2] after three steps with the gradients below.
std::vector<float> three_steps(Optimizer& opt) {
  Parameters p;
  p.add("p", Tensor::from<float>({3}, {0.5f, -1.f, 2.f}));
  const std::vector<std::vector<float>> grads = {
      {0.1f, -0.2f, 0.3f}, {-0.4f, 0.5f, 0.f}, {1.f, 1.f, 1.f}};
  for (const auto& g : grads) {
    const std::vector<Tensor> gt{Tensor::from<float>({3}, g)};
    opt.step(p, gt);
  }
  return p.value(0).to_vector<float>();
}

void expect_values(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  // To one unit in the last place of f32 (2.4e-7 near 2): the order of float operations differs.
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], 2.5e-7 * std::max(1.f, std::fabs(want[i]))) << i;
}

TEST(Optimizer, AdamMatchesPyTorch) {
  AdamOptions o;
  o.learning_rate = 0.01;
  Adam adam(o);
  expect_values(three_steps(adam), {0.491336614f, -1.00166738f, 1.97569323f});
  o.weight_decay = 0.1;  // L2 added to the gradient (torch.optim.Adam)
  Adam adam_l2(o);
  expect_values(three_steps(adam_l2), {0.489319652f, -0.998261929f, 1.97235227f});
  o.decoupled_weight_decay = true;  // torch.optim.AdamW
  Adam adamw(o);
  expect_values(three_steps(adamw), {0.489852518f, -0.998685956f, 1.96972609f});
  EXPECT_EQ(adamw.steps(), 3);
}

TEST(Optimizer, SgdMatchesPyTorch) {
  SgdOptions o;
  o.learning_rate = 0.1;
  Sgd plain(o);
  expect_values(three_steps(plain), {0.430000037f, -1.13f, 1.87f});
  o.momentum = 0.9;
  o.weight_decay = 0.01;
  Sgd momentum(o);
  expect_values(three_steps(momentum), {0.446095407f, -1.13522077f, 1.8076036f});
  o.weight_decay = 0;
  o.nesterov = true;
  Sgd nesterov(o);
  expect_values(three_steps(nesterov), {0.384010017f, -1.25671995f, 1.70683002f});
  o.nesterov = false;
  o.dampening = 0.5;
  Sgd damped(o);
  expect_values(three_steps(damped), {0.460899979f, -1.04330003f, 1.86870003f});
  SgdOptions bad;
  bad.nesterov = true;
  EXPECT_THROW(Sgd{bad}, Error);
}

TEST(Optimizer, StateRoundTripContinuesIdentically) {
  AdamOptions o;
  o.learning_rate = 0.01;
  Adam a(o), b(o);
  Parameters pa, pb;
  pa.add("w", Tensor::from<float>({2}, {1.f, 2.f}));
  pb.add("w", Tensor::from<float>({2}, {1.f, 2.f}));
  const std::vector<Tensor> g{Tensor::from<float>({2}, {0.3f, -0.1f})};
  a.step(pa, g);
  b.step(pb, g);
  // Move b's state into a fresh optimiser, as a checkpoint does.
  std::map<std::string, Tensor, std::less<>> state;
  for (auto& [k, v] : b.state()) state[k] = v.clone();
  Adam c(o);
  c.load_state(pb, state);
  a.step(pa, g);
  c.step(pb, g);
  EXPECT_EQ(pa.value(0).to_vector<float>(), pb.value(0).to_vector<float>());
  state.erase("adam.m.w");
  Adam d(o);
  EXPECT_THROW(d.load_state(pb, state), Error);
  // Mismatched gradients are errors, not memory corruption.
  const std::vector<Tensor> wrong{Tensor::from<float>({3}, {1.f, 2.f, 3.f})};
  EXPECT_THROW(a.step(pa, wrong), Error);
}

double evaluate(const std::function<Value(Graph&)>& build) {
  Graph g;
  g.output("y", build(g));
  Session s = compile(g);
  return s.run({})["y"].value_as_double(0);
}

TEST(Losses, MatchPyTorch) {
  // F.mse_loss([1, 2, 4], [1.5, 2, 3])
  EXPECT_NEAR(evaluate([](Graph& g) {
                return mse_loss(g.constant(Tensor::from<float>({3}, {1.f, 2.f, 4.f})),
                                g.constant(Tensor::from<float>({3}, {1.5f, 2.f, 3.f})));
              }),
              0.4166666567325592, 1e-7);
  // F.cross_entropy([[1, 2, 0.5], [-1, 0, 3]], [1, 2]) with one-hot targets
  EXPECT_NEAR(evaluate([](Graph& g) {
                return cross_entropy_with_logits(
                    g.constant(Tensor::from<float>({2, 3}, {1.f, 2.f, 0.5f, -1.f, 0.f, 3.f})),
                    g.constant(Tensor::from<float>({2, 3}, {0, 1, 0, 0, 0, 1})));
              }),
              0.2651263475418091, 1e-6);
  Graph g;
  EXPECT_THROW(
      cross_entropy_with_logits(g.input("l", DType::F32, {4}), g.input("t", DType::F32, {4})),
      Error);
}

TEST(Init, BoundsStatisticsAndDeterminism) {
  Rng rng(1);
  const Tensor w = kaiming_uniform({256, 100}, rng);  // bound sqrt(2) * sqrt(3 / 100)
  const double bound = std::sqrt(2.0) * std::sqrt(3.0 / 100.0);
  double sum = 0, sq = 0;
  for (float v : w.span<float>()) {
    ASSERT_LE(std::fabs(v), bound);
    sum += v;
    sq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(w.numel());
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sq / n, bound * bound / 3, 0.002);         // variance of U(-b, b)
  const Tensor k = kaiming_normal({64, 32, 3, 3}, rng);  // fan_in 288, std sqrt(2/288)
  sq = 0;
  for (float v : k.span<float>()) sq += static_cast<double>(v) * v;
  EXPECT_NEAR(std::sqrt(sq / static_cast<double>(k.numel())), std::sqrt(2.0 / 288), 0.003);
  const Tensor x = xavier_uniform({30, 70}, rng);
  for (float v : x.span<float>()) ASSERT_LE(std::fabs(v), std::sqrt(6.0 / 100));
  EXPECT_EQ(fans_of({64, 32, 3, 3}).in, 288);
  EXPECT_EQ(fans_of({64, 32, 3, 3}).out, 576);
  // The same seed, the same weights.
  Rng a(9), b(9);
  EXPECT_EQ(xavier_normal({5, 7}, a).to_vector<float>(),
            xavier_normal({5, 7}, b).to_vector<float>());
  EXPECT_THROW(kaiming_uniform({5}, rng), Error);
}

TEST(Schedule, CosineWithWarmup) {
  const CosineSchedule c{1.0, 100};
  EXPECT_DOUBLE_EQ(c.at(0), 1.0);
  EXPECT_NEAR(c.at(50), 0.5, 1e-12);
  EXPECT_NEAR(c.at(100), 0.0, 1e-12);
  EXPECT_NEAR(c.at(150), 0.0, 1e-12);
  const CosineSchedule w{2.0, 110, 0.1, 10};
  EXPECT_DOUBLE_EQ(w.at(0), 0.2);
  EXPECT_DOUBLE_EQ(w.at(9), 2.0);
  EXPECT_DOUBLE_EQ(w.at(10), 2.0);
  EXPECT_NEAR(w.at(60), 0.1 + 1.9 * 0.5, 1e-12);
}

}  // namespace
}  // namespace tensorgraph::train
