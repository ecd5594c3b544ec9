#include "tensorgraph/train/mlp_training.hpp"

#include <chrono>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "recipe_common.hpp"

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/train/init.hpp"
#include "tensorgraph/train/losses.hpp"
#include "tensorgraph/train/schedule.hpp"

namespace tensorgraph::train {

namespace {

Tensor scaler_tensor(const std::vector<double>& v) {
  std::vector<float> f(v.begin(), v.end());
  return Tensor::from<float>({static_cast<std::int64_t>(f.size())}, f);
}

// Model parameters from the lookup's graph inputs, the scaler as constants.
nn::ParameterLookup training_lookup(Graph& g, const ParameterValues& params, const Tensor& mean,
                                    const Tensor& scale) {
  return [&g, &params, mean, scale](const std::string& name, const Shape& shape) {
    if (name == "scaler.mean") return g.constant(mean, name);
    if (name == "scaler.scale") return g.constant(scale, name);
    const Value v = params.at(name);
    TG_CHECK(v.shape() == shape, "parameter '{}' is {}, the model expects {}", name,
             v.shape().to_string(), shape.to_string());
    return v;
  };
}

// Batches of rows gathered into buffers, one set per batch size met (full and last batch).
class Batcher {
 public:
  Batcher(const Tensor& x, const Tensor& y) : x_(x), y_(y) {}
  std::span<const Tensor> fill(std::span<const std::int64_t> rows) {
    auto& b = buffers_[static_cast<std::int64_t>(rows.size())];
    if (b.empty()) {
      b.push_back(
          Tensor::empty(x_.dtype(), {static_cast<std::int64_t>(rows.size()), x_.shape()[1]}));
      b.push_back(Tensor::empty(y_.dtype(), {static_cast<std::int64_t>(rows.size()), 1}));
    }
    gather_rows_into(x_, rows, b[0]);
    gather_rows_into(y_, rows, b[1]);
    return b;
  }

 private:
  const Tensor& x_;
  const Tensor& y_;
  std::map<std::int64_t, std::vector<Tensor>> buffers_;
};

}  // namespace

MlpTrainingResult train_mlp_regressor(const io::CaliforniaHousing& data,
                                      const MlpTrainingOptions& o, const FitCallbacks& callbacks) {
  const nn::MlpSpec& spec = o.spec;
  std::int64_t n = data.features.shape()[0];
  TG_CHECK(data.features.rank() == 2 && data.features.shape()[1] == spec.layers.front(),
           "MLP training: features {} do not match the model's {} inputs",
           data.features.description(), spec.layers.front());
  TG_CHECK(spec.layers.back() == 1, "MLP training: the regressor needs one output, got {}",
           spec.layers.back());
  TG_CHECK(o.limit >= 0, "MLP training: limit must be >= 0");
  if (o.limit > 0) n = std::min(n, o.limit);
  const Split outer = train_test_split(n, o.test_fraction, o.split_seed);
  const Split inner = split_indices(outer.train, o.validation_fraction, o.split_seed);

  MlpTrainingResult result;
  result.rows = n;
  result.scaler = StandardScaler::fit(data.features, inner.train);
  const Tensor mean = scaler_tensor(result.scaler.mean);
  const Tensor scale = scaler_tensor(result.scaler.scale);
  const Tensor x = data.features.to(DType::F32);
  const Tensor y = data.target.to(DType::F32).reshaped({data.target.shape()[0], 1});

  Rng rng(derive_seed(o.seed, 0xC0FFEE));
  for (const nn::ParameterSpec& p : nn::mlp_parameters(spec))
    result.params.add(p.name, p.kind == nn::ParameterSpec::Kind::Weight
                                  ? kaiming_uniform(p.shape, rng)
                                  : Tensor::zeros(DType::F32, p.shape));
  Parameters& params = result.params;

  CompileOptions compile_options;
  compile_options.threads = o.threads;
  const std::int64_t features = spec.layers.front();
  GradientSession session(
      {{"x", DType::F32, {-1, features}}, {"y", DType::F32, {-1, 1}}}, params,
      [&](Graph& g, std::span<const Value> d, const ParameterValues& p) {
        const Value prediction = nn::mlp_regressor(d[0], spec, training_lookup(g, p, mean, scale));
        return ModelOutputs{mse_loss(prediction, d[1]), {}};
      },
      compile_options);
  ForwardSession forward(
      {{"x", DType::F32, {-1, features}}}, params,
      [&](Graph& g, std::span<const Value> d, const ParameterValues& p) {
        return std::vector<std::pair<std::string, Value>>{
            {"prediction", nn::mlp_regressor(d[0], spec, training_lookup(g, p, mean, scale))}};
      },
      compile_options);
  auto evaluate = [&](std::span<const std::int64_t> rows) {
    const Tensor xs = gather_rows(x, rows);
    const Tensor& pred = forward.run(std::span<const Tensor>(&xs, 1), params)[0];
    std::vector<double> p(rows.size()), t(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      p[i] = pred.data<float>()[i];
      t[i] = data.target.data<double>()[rows[i]];
    }
    return regression_metrics(p, t);
  };

  Batcher batcher(x, y);
  const TrainingData training = recipe::subset_data(inner.train, batcher);

  Adam optimizer(recipe::adamw(o.learning_rate, o.weight_decay));
  const CosineSchedule schedule =
      recipe::cosine_over_epochs(o.learning_rate, o.epochs, training.size, o.batch_size);

  FitOptions fo;
  fo.epochs = o.epochs;
  fo.batch_size = o.batch_size;
  fo.seed = o.seed;
  fo.patience = o.patience;
  fo.checkpoint = o.checkpoint;
  fo.resume = o.resume;
  fo.identity = {{"model", "mlp-regressor " + spec.to_string()},
                 {"rows", std::to_string(n)},
                 {"epochs", std::to_string(o.epochs)},
                 {"batch_size", std::to_string(o.batch_size)},
                 {"learning_rate", fmt::format("{}", o.learning_rate)},
                 {"weight_decay", fmt::format("{}", o.weight_decay)},
                 {"seed", std::to_string(o.seed)},
                 {"split_seed", std::to_string(o.split_seed)}};
  FitCallbacks cb = callbacks;
  cb.validate = [&](const Parameters&) { return evaluate(inner.test).rmse; };
  const auto started = std::chrono::steady_clock::now();
  result.fit = fit(
      session, params, optimizer, [&](std::int64_t step) { return schedule.at(step); }, training,
      fo, cb);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (result.fit.interrupted) return result;
  result.train = evaluate(inner.train);
  result.validation = evaluate(inner.test);
  result.test = evaluate(outer.test);
  return result;
}

void save_mlp_regressor(const std::filesystem::path& path, const MlpTrainingResult& result,
                        const nn::MlpSpec& spec, std::map<std::string, std::string> metadata) {
  std::vector<std::pair<std::string, Tensor>> tensors = result.params.named();
  tensors.emplace_back("scaler.mean", scaler_tensor(result.scaler.mean));
  tensors.emplace_back("scaler.scale", scaler_tensor(result.scaler.scale));
  nn::save_mlp_regressor(path, spec, tensors, std::move(metadata));
}

}  // namespace tensorgraph::train
