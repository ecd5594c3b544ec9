// The inference graphs built from saved weights (nn::MlpRegressor, nn::MnistCnn: constants,
// prepacked and fused) give the outputs of the training graph's forward pass (parameters as
// inputs, computed weights) on the same inputs.
#include <cmath>

#include <gtest/gtest.h>

#include "support/shared_data.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/nn/cnn.hpp"
#include "tensorgraph/nn/mlp.hpp"
#include "tensorgraph/train/cnn_training.hpp"
#include "tensorgraph/train/gradient_session.hpp"
#include "tensorgraph/train/init.hpp"
#include "tensorgraph/train/losses.hpp"
#include "tensorgraph/train/mlp_training.hpp"

namespace tensorgraph::train {
namespace {

template <typename Specs>
Parameters random_parameters(const Specs& specs, std::uint32_t seed) {
  Rng rng(seed);
  Parameters p;
  for (const nn::ParameterSpec& s : specs)
    p.add(s.name, s.kind == nn::ParameterSpec::Kind::Weight
                      ? kaiming_uniform(s.shape, rng)
                      : uniform(s.shape, rng, -0.1, 0.1));  // non-zero biases: they matter here
  return p;
}

void expect_close(const Tensor& got, const Tensor& want, double tol) {
  ASSERT_EQ(got.shape(), want.shape());
  double scale = 0;
  for (std::int64_t i = 0; i < want.numel(); ++i)
    scale = std::max(scale, std::fabs(want.value_as_double(i)));
  for (std::int64_t i = 0; i < want.numel(); ++i)
    ASSERT_NEAR(got.value_as_double(i), want.value_as_double(i), tol * scale) << "element " << i;
}

TEST(InferenceParity, MlpRegressor) {
  testing::TempDir dir;
  const nn::MlpSpec spec;
  const Parameters params = random_parameters(nn::mlp_parameters(spec), 1);
  const Tensor mean =
      Tensor::from<float>({8}, {3.9f, 28.6f, 5.4f, 1.1f, 1425.f, 3.1f, 35.6f, -119.6f});
  const Tensor scale =
      Tensor::from<float>({8}, {1.9f, 12.6f, 2.5f, 0.47f, 1132.f, 10.4f, 2.1f, 2.0f});
  Rng rng(2);
  Tensor x = Tensor::empty(DType::F32, {37, 8});
  for (std::int64_t i = 0; i < x.numel(); ++i)
    x.mutable_data<float>()[i] =
        mean.data<float>()[i % 8] + static_cast<float>(rng.normal()) * scale.data<float>()[i % 8];
  const Tensor y = Tensor::zeros(DType::F32, {37, 1});

  GradientSession training({{"x", DType::F32, {-1, 8}}, {"y", DType::F32, {-1, 1}}}, params,
                           [&](Graph& g, std::span<const Value> d, const ParameterValues& p) {
                             const Value pred = nn::mlp_regressor(
                                 d[0], spec, [&](const std::string& n, const Shape&) {
                                   if (n == "scaler.mean") return g.constant(mean);
                                   if (n == "scaler.scale") return g.constant(scale);
                                   return p.at(n);
                                 });
                             return ModelOutputs{mse_loss(pred, d[1]), {{"prediction", pred}}};
                           });
  const std::vector<Tensor> batch{x, y};
  training.run(batch, params);

  std::vector<std::pair<std::string, Tensor>> tensors = params.named();
  tensors.emplace_back("scaler.mean", mean);
  tensors.emplace_back("scaler.scale", scale);
  nn::save_mlp_regressor(dir / "mlp.safetensors", spec, tensors, {{"note", "test"}});
  nn::MlpRegressor model = nn::MlpRegressor::load(dir / "mlp.safetensors");
  const std::vector<double> p = model.predict(x);
  const Tensor predicted = Tensor::from<double>({37, 1}, p).to(DType::F32);
  expect_close(predicted, training.output("prediction"), 1e-5);
  EXPECT_EQ(model.metadata().at("note"), "test");
  EXPECT_EQ(model.spec().to_string(), "8,128,64,1");
}

TEST(InferenceParity, MnistCnn) {
  testing::TempDir dir;
  const nn::CnnSpec spec;
  const Parameters params = random_parameters(nn::cnn_parameters(spec), 3);
  Rng rng(4);
  Tensor images = Tensor::empty(DType::U8, {9, 28, 28});
  for (std::int64_t i = 0; i < images.numel(); ++i)
    images.mutable_data<std::uint8_t>()[i] = static_cast<std::uint8_t>(rng.interval(255));
  Tensor target = Tensor::zeros(DType::F32, {9, 10});
  GradientSession training(
      {{"images", DType::U8, {-1, 28, 28}}, {"target", DType::F32, {-1, 10}}}, params,
      [&](Graph&, std::span<const Value> d, const ParameterValues& p) {
        const Value logits =
            nn::mnist_cnn(d[0], spec, [&](const std::string& n, const Shape&) { return p.at(n); });
        return ModelOutputs{cross_entropy_with_logits(logits, d[1]), {{"logits", logits}}};
      });
  const std::vector<Tensor> batch{images, target};
  training.run(batch, params);

  nn::save_mnist_cnn(dir / "cnn.safetensors", spec, params.named(), {});
  nn::MnistCnn model = nn::MnistCnn::load(dir / "cnn.safetensors");
  // Batches of 4 (with a last batch of 1): the same values however the images are grouped.
  const Tensor logits = model.logits(images, 4);
  expect_close(logits, training.output("logits"), 1e-5);
  EXPECT_EQ(model.classify(images), nn::argmax_rows(training.output("logits")));
}

TEST(InferenceParity, WeightFileErrorsNameTheFileAndTensor) {
  testing::TempDir dir;
  const nn::MlpSpec spec;
  Parameters params = random_parameters(nn::mlp_parameters(spec), 1);
  std::vector<std::pair<std::string, Tensor>> tensors = params.named();
  nn::save_mlp_regressor(dir / "noscaler.safetensors", spec, tensors, {});
  try {
    nn::MlpRegressor::load(dir / "noscaler.safetensors");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("scaler.mean"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("noscaler.safetensors"), std::string::npos) << e.what();
  }
  // A CNN file is not an MLP.
  nn::save_mnist_cnn(dir / "cnn.safetensors", nn::CnnSpec{},
                     random_parameters(nn::cnn_parameters(nn::CnnSpec{}), 2).named(), {});
  EXPECT_THROW(nn::MlpRegressor::load(dir / "cnn.safetensors"), Error);
  EXPECT_THROW(nn::MnistCnn::load(dir / "missing.safetensors"), Error);
  // A tensor of the wrong shape.
  tensors.emplace_back("scaler.mean", Tensor::zeros(DType::F32, {7}));
  tensors.emplace_back("scaler.scale", Tensor::zeros(DType::F32, {8}));
  nn::save_mlp_regressor(dir / "shape.safetensors", spec, tensors, {});
  try {
    nn::MlpRegressor::load(dir / "shape.safetensors");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("tensor 'scaler.mean' has shape [7], the model expects [8]"),
        std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace tensorgraph::train
