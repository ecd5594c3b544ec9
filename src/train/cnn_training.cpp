#include "tensorgraph/train/cnn_training.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "recipe_common.hpp"

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/train/data.hpp"
#include "tensorgraph/train/init.hpp"
#include "tensorgraph/train/losses.hpp"
#include "tensorgraph/train/random.hpp"
#include "tensorgraph/train/schedule.hpp"

namespace tensorgraph::train {

namespace {

nn::ParameterLookup training_lookup(const ParameterValues& params) {
  return [&params](const std::string& name, const Shape& shape) {
    const Value v = params.at(name);
    TG_CHECK(v.shape() == shape, "parameter '{}' is {}, the model expects {}", name,
             v.shape().to_string(), shape.to_string());
    return v;
  };
}

// Image and one-hot buffers per batch size met (the full batch and the last one).
class Batcher {
 public:
  Batcher(const io::Mnist& data, std::int64_t classes) : data_(data), classes_(classes) {}
  std::span<const Tensor> fill(std::span<const std::int64_t> rows) {
    const auto n = static_cast<std::int64_t>(rows.size());
    auto& b = buffers_[n];
    if (b.empty()) {
      Shape s = data_.images.shape();
      s[0] = n;
      b.push_back(Tensor::empty(DType::U8, s));
      b.push_back(Tensor::empty(DType::F32, {n, classes_}));
    }
    gather_rows_into(data_.images, rows, b[0]);
    one_hot_into(data_.labels, rows, classes_, b[1]);
    return b;
  }

 private:
  const io::Mnist& data_;
  std::int64_t classes_;
  std::map<std::int64_t, std::vector<Tensor>> buffers_;
};

}  // namespace

CnnTrainingResult train_mnist_cnn(const io::Mnist& train_set, const io::Mnist& test_set,
                                  const CnnTrainingOptions& o, const FitCallbacks& callbacks) {
  const nn::CnnSpec& spec = o.spec;
  TG_CHECK(o.limit >= 0 && o.test_limit >= 0, "CNN training: limits must be >= 0");
  std::int64_t n = train_set.images.shape()[0];
  if (o.limit > 0) n = std::min(n, o.limit);
  std::int64_t n_test = test_set.images.shape()[0];
  if (o.test_limit > 0) n_test = std::min(n_test, o.test_limit);
  TG_CHECK(o.validation >= 1 && o.validation < n,
           "CNN training: {} validation images out of {} training images", o.validation, n);

  // The validation part: a seeded selection of the training images.
  const std::vector<std::int64_t> order = permutation(n, derive_seed(o.seed, 0x5EED));
  std::vector<std::int64_t> validation(order.begin(), order.begin() + o.validation);
  std::vector<std::int64_t> trained(order.begin() + o.validation, order.end());
  std::sort(validation.begin(), validation.end());
  std::sort(trained.begin(), trained.end());

  CnnTrainingResult result;
  Rng rng(derive_seed(o.seed, 0xC0FFEE));
  for (const nn::ParameterSpec& p : nn::cnn_parameters(spec))
    result.params.add(p.name, p.kind == nn::ParameterSpec::Kind::Weight
                                  ? kaiming_uniform(p.shape, rng)
                                  : Tensor::zeros(DType::F32, p.shape));
  Parameters& params = result.params;

  CompileOptions compile_options;
  compile_options.threads = o.threads;
  const DataInput images{"images", DType::U8, {-1, spec.image, spec.image}};
  GradientSession session(
      {images, {"target", DType::F32, {-1, spec.classes}}}, params,
      [&](Graph&, std::span<const Value> d, const ParameterValues& p) {
        const Value logits = nn::mnist_cnn(d[0], spec, training_lookup(p));
        return ModelOutputs{cross_entropy_with_logits(logits, d[1]), {}};
      },
      compile_options);
  ForwardSession forward(
      {images, {"target", DType::F32, {-1, spec.classes}}}, params,
      [&](Graph&, std::span<const Value> d, const ParameterValues& p) {
        const Value logits = nn::mnist_cnn(d[0], spec, training_lookup(p));
        return std::vector<std::pair<std::string, Value>>{
            {"logits", logits}, {"loss", cross_entropy_with_logits(logits, d[1])}};
      },
      compile_options);

  Batcher train_batches(train_set, spec.classes);
  Batcher test_batches(test_set, spec.classes);
  auto evaluate = [&](Batcher& batches, const io::Mnist& set, std::span<const std::int64_t> rows) {
    ClassificationMetrics m;
    double loss = 0;
    for (std::size_t begin = 0; begin < rows.size();
         begin += static_cast<std::size_t>(o.eval_batch)) {
      const std::size_t end = std::min(rows.size(), begin + static_cast<std::size_t>(o.eval_batch));
      const std::span<const std::int64_t> chunk = rows.subspan(begin, end - begin);
      const std::vector<Tensor>& out = forward.run(batches.fill(chunk), params);
      const std::vector<int> predicted = nn::argmax_rows(out[0]);
      for (std::size_t i = 0; i < chunk.size(); ++i)
        m.correct += predicted[i] == set.labels.data<std::uint8_t>()[chunk[i]] ? 1 : 0;
      loss += out[1].value_as_double(0) * static_cast<double>(chunk.size());
    }
    m.count = static_cast<std::int64_t>(rows.size());
    m.accuracy = m.count ? static_cast<double>(m.correct) / static_cast<double>(m.count) : 0;
    m.loss = m.count ? loss / static_cast<double>(m.count) : 0;
    return m;
  };

  const TrainingData training = recipe::subset_data(trained, train_batches);

  Adam optimizer(recipe::adamw(o.learning_rate, o.weight_decay));
  const CosineSchedule schedule =
      recipe::cosine_over_epochs(o.learning_rate, o.epochs, training.size, o.batch_size);

  FitOptions fo;
  fo.epochs = o.epochs;
  fo.batch_size = o.batch_size;
  fo.seed = o.seed;
  fo.patience = o.patience;
  fo.higher_is_better = true;
  fo.checkpoint = o.checkpoint;
  fo.resume = o.resume;
  fo.identity = {{"model", fmt::format("mnist-cnn {} {} {} {} {}", spec.conv1, spec.conv2,
                                       spec.hidden, spec.classes, spec.image)},
                 {"images", std::to_string(n)},
                 {"validation", std::to_string(o.validation)},
                 {"epochs", std::to_string(o.epochs)},
                 {"batch_size", std::to_string(o.batch_size)},
                 {"learning_rate", fmt::format("{}", o.learning_rate)},
                 {"weight_decay", fmt::format("{}", o.weight_decay)},
                 {"seed", std::to_string(o.seed)}};
  FitCallbacks cb = callbacks;
  cb.validate = [&](const Parameters&) {
    return evaluate(train_batches, train_set, validation).accuracy;
  };
  const auto started = std::chrono::steady_clock::now();
  result.fit = fit(
      session, params, optimizer, [&](std::int64_t step) { return schedule.at(step); }, training,
      fo, cb);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (result.fit.interrupted) return result;
  result.train = evaluate(train_batches, train_set, trained);
  result.validation = evaluate(train_batches, train_set, validation);
  std::vector<std::int64_t> test_rows(static_cast<std::size_t>(n_test));
  for (std::int64_t i = 0; i < n_test; ++i) test_rows[static_cast<std::size_t>(i)] = i;
  result.test = evaluate(test_batches, test_set, test_rows);
  return result;
}

void save_mnist_cnn(const std::filesystem::path& path, const CnnTrainingResult& result,
                    const nn::CnnSpec& spec, std::map<std::string, std::string> metadata) {
  nn::save_mnist_cnn(path, spec, result.params.named(), std::move(metadata));
}

}  // namespace tensorgraph::train
