#include "tensorgraph/nn/cnn.hpp"

#include <cstring>
#include <string>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/ops.hpp"

namespace tensorgraph::nn {

namespace {

std::int64_t parse_size(const WeightFile& file, const std::string& key) {
  const std::string& s = file.meta(key);
  try {
    std::size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used == s.size() && v >= 1) return v;
  } catch (const std::exception&) {
  }
  fail("{}: metadata '{}' is not a positive size: '{}'", file.path(), key, s);
}

}  // namespace

std::vector<ParameterSpec> cnn_parameters(const CnnSpec& s) {
  TG_CHECK(s.image >= 4 && s.image % 4 == 0, "CNN: the image size must be a multiple of 4, got {}",
           s.image);
  const std::int64_t flat = s.conv2 * (s.image / 4) * (s.image / 4);
  using K = ParameterSpec::Kind;
  return {
      {"conv1.weight", {s.conv1, 1, 3, 3}, K::Weight},       {"conv1.bias", {s.conv1}, K::Bias},
      {"conv2.weight", {s.conv2, s.conv1, 3, 3}, K::Weight}, {"conv2.bias", {s.conv2}, K::Bias},
      {"fc1.weight", {s.hidden, flat}, K::Weight},           {"fc1.bias", {s.hidden}, K::Bias},
      {"fc2.weight", {s.classes, s.hidden}, K::Weight},      {"fc2.bias", {s.classes}, K::Bias}};
}

Value mnist_cnn(Value images, const CnnSpec& s, const ParameterLookup& lookup) {
  TG_CHECK(images.dtype() == DType::U8 && images.rank() == 3 && images.shape()[1] == s.image &&
               images.shape()[2] == s.image,
           "CNN: expects u8 images [N, {}, {}], got {}{}", s.image, s.image,
           dtype_name(images.dtype()), images.shape().to_string());
  const std::vector<ParameterSpec> p = cnn_parameters(s);
  auto param = [&](std::size_t i) { return lookup(p[i].name, p[i].shape); };
  Graph& g = *images.graph;
  const Value pixels = ops::reshape(ops::cast(images, DType::F32), {-1, 1, s.image, s.image});
  const Value x = pixels * g.scalar(static_cast<float>(1.0 / (255.0 * kMnistStd))) +
                  g.scalar(static_cast<float>(-kMnistMean / kMnistStd));
  const ops::Conv2dOptions same{{1, 1}, {1, 1}, {1, 1}, 1};
  Value h = ops::max_pool2d(ops::relu(ops::conv2d(x, param(0), param(1), same)));
  h = ops::max_pool2d(ops::relu(ops::conv2d(h, param(2), param(3), same)));
  h = ops::relu(ops::linear(ops::flatten(h, 1), param(4), param(5)));
  return ops::linear(h, param(6), param(7));
}

void save_mnist_cnn(const std::filesystem::path& path, const CnnSpec& spec,
                    const std::vector<std::pair<std::string, Tensor>>& tensors,
                    std::map<std::string, std::string> metadata) {
  metadata["model"] = "mnist-cnn";
  metadata["conv1_channels"] = std::to_string(spec.conv1);
  metadata["conv2_channels"] = std::to_string(spec.conv2);
  metadata["hidden"] = std::to_string(spec.hidden);
  metadata["classes"] = std::to_string(spec.classes);
  metadata["image_size"] = std::to_string(spec.image);
  io::write_safetensors(path, tensors, metadata);
}

MnistCnn MnistCnn::load(const std::filesystem::path& weights, const CompileOptions& options) {
  const WeightFile file = WeightFile::open(weights);
  TG_CHECK(file.meta("model") == "mnist-cnn", "{}: holds a '{}' model, not the MNIST CNN",
           file.path(), file.meta("model"));
  CnnSpec spec;
  spec.conv1 = parse_size(file, "conv1_channels");
  spec.conv2 = parse_size(file, "conv2_channels");
  spec.hidden = parse_size(file, "hidden");
  spec.classes = parse_size(file, "classes");
  spec.image = parse_size(file, "image_size");
  Graph g;
  const Value images = g.input("images", DType::U8, {-1, spec.image, spec.image});
  g.output("logits", mnist_cnn(images, spec, file.constants(g)));
  return MnistCnn(spec, compile(g, options), file.metadata());
}

Tensor MnistCnn::logits(const Tensor& images, std::int64_t batch) {
  TG_CHECK(images.dtype() == DType::U8 && images.rank() == 3 && images.shape()[1] == spec_.image &&
               images.shape()[2] == spec_.image,
           "CNN: expects u8 images [N, {}, {}], got {}", spec_.image, spec_.image,
           images.description());
  TG_CHECK(batch >= 1, "CNN: the batch size must be >= 1");
  const std::int64_t n = images.shape()[0];
  Tensor out = Tensor::empty(DType::F32, {n, spec_.classes});
  const std::size_t image_bytes = static_cast<std::size_t>(spec_.image * spec_.image);
  for (std::int64_t begin = 0; begin < n; begin += batch) {
    const std::int64_t rows = std::min(batch, n - begin);
    // Views of the caller's images and of our output rows: no copies.
    std::vector<Tensor> in{Tensor::view(
        DType::U8, {rows, spec_.image, spec_.image},
        static_cast<const std::byte*>(images.raw()) + static_cast<std::size_t>(begin) * image_bytes,
        nullptr)};
    std::vector<Tensor> o{Tensor::borrow(
        DType::F32, {rows, spec_.classes},
        out.mutable_data<float>() + static_cast<std::size_t>(begin * spec_.classes))};
    session_.run(in, o);
  }
  return out;
}

std::vector<int> MnistCnn::classify(const Tensor& images, std::int64_t batch) {
  return argmax_rows(logits(images, batch));
}

std::vector<int> argmax_rows(const Tensor& scores) {
  TG_CHECK(scores.dtype() == DType::F32 && scores.rank() == 2, "argmax: expects f32 [N, C], got {}",
           scores.description());
  const std::int64_t n = scores.shape()[0], c = scores.shape()[1];
  const float* p = scores.data<float>();
  std::vector<int> out(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    int best = 0;
    for (std::int64_t j = 1; j < c; ++j)
      if (p[i * c + j] > p[i * c + best]) best = static_cast<int>(j);
    out[static_cast<std::size_t>(i)] = best;
  }
  return out;
}

}  // namespace tensorgraph::nn
