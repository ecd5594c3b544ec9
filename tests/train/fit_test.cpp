// The training loop on a small linear-regression problem: gradients of the compiled graph,
// convergence, checkpoints (an interrupted and resumed run ends with exactly the weights of an
// uninterrupted one), early stopping with the best weights restored, and errors.
#include "tensorgraph/train/fit.hpp"

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/ops.hpp"
#include "tensorgraph/train/checkpoint.hpp"
#include "tensorgraph/train/data.hpp"
#include "tensorgraph/train/losses.hpp"
#include "tensorgraph/train/random.hpp"

namespace tensorgraph::train {
namespace {

// y = x . [1, -2, 0.5] + 0.25 over 100 rows.
struct Problem {
  Tensor x = Tensor::empty(DType::F32, {100, 3});
  Tensor y = Tensor::empty(DType::F32, {100, 1});
  Problem() {
    Rng rng(3);
    for (int i = 0; i < 100; ++i) {
      float t = 0.25f;
      const float w[3] = {1.f, -2.f, 0.5f};
      for (int j = 0; j < 3; ++j) {
        const auto v = static_cast<float>(rng.uniform(-1, 1));
        x.mutable_data<float>()[i * 3 + j] = v;
        t += w[j] * v;
      }
      y.mutable_data<float>()[i] = t;
    }
  }
};

Parameters initial() {
  Parameters p;
  p.add("w", Tensor::zeros(DType::F32, {1, 3}));
  p.add("b", Tensor::zeros(DType::F32, {1}));
  return p;
}

std::unique_ptr<GradientSession> session_for(const Parameters& p) {
  return std::make_unique<GradientSession>(
      std::vector<DataInput>{{"x", DType::F32, {-1, 3}}, {"y", DType::F32, {-1, 1}}}, p,
      [](Graph&, std::span<const Value> d, const ParameterValues& params) {
        const Value pred = ops::linear(d[0], params.at("w"), params.at("b"));
        return ModelOutputs{mse_loss(pred, d[1]), {{"prediction", pred}}};
      });
}

struct Trainer {
  Problem problem;
  Parameters params = initial();
  std::unique_ptr<GradientSession> session = session_for(params);
  Adam adam{AdamOptions{0.05}};
  std::vector<Tensor> buffers;
  TrainingData data() {
    TrainingData d;
    d.size = 100;
    d.fill = [this](std::span<const std::int64_t> rows) -> std::span<const Tensor> {
      buffers = {gather_rows(problem.x, rows), gather_rows(problem.y, rows)};
      return buffers;
    };
    return d;
  }
  FitResult fit_with(const FitOptions& o, const FitCallbacks& cb = {}) {
    return fit(
        *session, params, adam, [](std::int64_t) { return 0.05; }, data(), o, cb);
  }
};

TEST(GradientSession, GradientsOfMeanSquaredError) {
  Problem prob;
  Parameters p = initial();
  p["w"].mutable_data<float>()[0] = 0.5f;
  auto s = session_for(p);
  const std::vector<Tensor> batch{prob.x, prob.y};
  const double loss = s->run(batch, p);
  // d/dw mean((xw + b - y)^2) = 2/N sum (pred - y) x
  double want_loss = 0, dw0 = 0, db = 0;
  for (int i = 0; i < 100; ++i) {
    const double e = 0.5 * prob.x.data<float>()[i * 3] - prob.y.data<float>()[i];
    want_loss += e * e / 100;
    dw0 += 2 * e * prob.x.data<float>()[i * 3] / 100;
    db += 2 * e / 100;
  }
  EXPECT_NEAR(loss, want_loss, 1e-5);
  EXPECT_NEAR(s->gradients()[0].data<float>()[0], dw0, 1e-5);
  EXPECT_NEAR(s->gradients()[1].data<float>()[0], db, 1e-5);
  EXPECT_EQ(s->output("prediction").shape(), (Shape{100, 1}));
  EXPECT_THROW(s->output("logits"), Error);
  const std::vector<Tensor> one{prob.x};
  EXPECT_THROW(s->run(one, p), Error);
}

TEST(Fit, ConvergesAndReportsEveryEpoch) {
  Trainer r;
  FitOptions o;
  o.epochs = 30;
  o.batch_size = 16;
  std::vector<StepInfo> steps;
  std::vector<EpochInfo> epochs;
  FitCallbacks cb;
  cb.on_step = [&](const StepInfo& s) { steps.push_back(s); };
  cb.on_epoch = [&](const EpochInfo& e) { epochs.push_back(e); };
  const FitResult res = r.fit_with(o, cb);
  EXPECT_EQ(res.epochs_completed, 30);
  EXPECT_EQ(res.steps, 30 * 7);  // 100 rows in batches of 16: 6 full + 1 of 4
  ASSERT_EQ(steps.size(), 210u);
  EXPECT_EQ(steps[6].samples, 100);
  EXPECT_EQ(steps[6].step, 7);
  EXPECT_EQ(epochs.size(), 30u);
  EXPECT_LT(epochs.back().train_loss, 1e-3);
  EXPECT_NEAR(r.params["w"].data<float>()[1], -2.f, 0.05f);
  EXPECT_NEAR(r.params["b"].data<float>()[0], 0.25f, 0.05f);
}

TEST(Fit, ResumedRunEndsWithTheSameWeights) {
  testing::TempDir dir;
  FitOptions o;
  o.epochs = 5;
  o.batch_size = 16;
  o.seed = 9;
  o.identity = {{"model", "linear"}};
  Trainer whole;
  const FitResult full = whole.fit_with(o);

  // Interrupted in the middle of epoch 3, then resumed by fresh objects.
  o.checkpoint = dir / "ckpt.safetensors";
  int polls = 0;
  FitCallbacks stop;
  stop.stop_requested = [&] { return ++polls > 17; };
  Trainer first;
  const FitResult part = first.fit_with(o, stop);
  EXPECT_TRUE(part.interrupted);
  EXPECT_EQ(part.epochs_completed, 2);
  const Checkpoint c = load_checkpoint(o.checkpoint);
  EXPECT_EQ(c.meta("step_in_epoch"), "3");
  EXPECT_EQ(c.meta("identity.model"), "linear");

  o.resume = true;
  Trainer second;
  const FitResult rest = second.fit_with(o);
  EXPECT_TRUE(rest.resumed);
  EXPECT_FALSE(rest.interrupted);
  EXPECT_EQ(rest.steps, full.steps);
  ASSERT_EQ(rest.history.size(), full.history.size());
  for (std::size_t i = 0; i < full.history.size(); ++i)
    EXPECT_EQ(rest.history[i].train_loss, full.history[i].train_loss) << "epoch " << i + 1;
  for (std::size_t i = 0; i < whole.params.size(); ++i)
    EXPECT_EQ(second.params.value(i).to_vector<float>(), whole.params.value(i).to_vector<float>())
        << whole.params.name(i);

  // A finished checkpoint resumes to the end at once; other settings are refused.
  Trainer third;
  EXPECT_EQ(third.fit_with(o).steps, full.steps);
  EXPECT_EQ(third.params.value(0).to_vector<float>(), whole.params.value(0).to_vector<float>());
  o.identity["model"] = "other";
  Trainer fourth;
  EXPECT_THROW(fourth.fit_with(o), Error);
  o.checkpoint = dir / "missing.safetensors";
  EXPECT_THROW(fourth.fit_with(o), Error);
}

TEST(Fit, EarlyStoppingKeepsTheBestEpoch) {
  Trainer r;
  FitOptions o;
  o.epochs = 50;
  o.batch_size = 25;
  o.patience = 3;
  std::vector<std::vector<float>> weights;  // after every epoch
  int epoch = 0;
  FitCallbacks cb;
  // A metric that is best at epoch 2 and worse after.
  cb.validate = [&](const Parameters& p) {
    weights.push_back(p["w"].to_vector<float>());
    ++epoch;
    return epoch == 2 ? 0.5 : 1.0 + epoch;
  };
  const FitResult res = r.fit_with(o, cb);
  EXPECT_TRUE(res.early_stopped);
  EXPECT_EQ(res.epochs_completed, 5);
  EXPECT_EQ(res.best_epoch, 2);
  EXPECT_DOUBLE_EQ(res.best_metric, 0.5);
  EXPECT_EQ(r.params["w"].to_vector<float>(), weights[1]);
  EXPECT_TRUE(res.history[1].best);
  EXPECT_FALSE(res.history[2].best);
}

TEST(Fit, DivergenceAndBadOptionsAreErrors) {
  Trainer r;
  r.adam.set_learning_rate(1e30);
  FitOptions o;
  o.epochs = 3;
  EXPECT_THROW(
      fit(*r.session, r.params, r.adam, [](std::int64_t) { return 1e30; }, r.data(), o, {}), Error);
  o.batch_size = 0;
  EXPECT_THROW(r.fit_with(o), Error);
}

}  // namespace
}  // namespace tensorgraph::train
