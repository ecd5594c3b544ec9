// Example 05, full version: the CNN trained by `tensorgraph train cnn` on MNIST (weights and
// training log committed in weights/), on the 10,000 test images. Settings from config.toml. It
//   - loads the weight file and builds the inference graph from raw u8 images (normalisation,
//     conv-relu-pool twice, two linear layers) and shows its plan (oneDNN convolutions, our 2x2
//     max pooling, fused bias + ReLU in the linear layers);
//   - checks the first images' logits against the reference kernels (naive loops in double);
//   - reports accuracy, the confusion matrix, throughput, and draws one misclassified digit;
//   - requires accuracy >= min_accuracy.
//
//   build/examples/05_cnn_mnist examples/05_cnn_mnist/config.toml
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include <toml++/toml.h>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/hub/paths.hpp"
#include "tensorgraph/io/mnist.hpp"
#include "tensorgraph/nn/cnn.hpp"

using namespace tensorgraph;

namespace {

struct Config {
  std::filesystem::path weights;
  std::string data_dir;
  std::int64_t threads = 0, batch = 500, limit = 0, reference_images = 8;
  double min_accuracy = 0.99;
};

Config load_config(const std::filesystem::path& path) {
  toml::table t;
  try {
    t = toml::parse_file(path.string());
  } catch (const toml::parse_error& e) {
    fail("{}: {} (line {})", path.string(), e.description(), e.source().begin.line);
  }
  Config c;
  c.weights = path.parent_path() / t["weights"].value_or(std::string("weights/cnn.safetensors"));
  c.data_dir = t["data_dir"].value_or(c.data_dir);
  c.threads = t["threads"].value_or(c.threads);
  c.batch = t["batch"].value_or(c.batch);
  c.limit = t["limit"].value_or(c.limit);
  c.reference_images = t["reference_images"].value_or(c.reference_images);
  c.min_accuracy = t["min_accuracy"].value_or(c.min_accuracy);
  TG_CHECK(c.threads >= 0 && c.batch >= 1 && c.limit >= 0 && c.reference_images >= 0,
           "{}: threads, limit and reference_images must be >= 0, batch >= 1", path.string());
  return c;
}

// One digit as text, darker pixels as denser characters.
void draw(const std::uint8_t* pixels) {
  const char* shades = " .:-=+*#%@";
  for (int y = 0; y < 28; y += 2) {
    std::string line;
    for (int x = 0; x < 28; ++x)
      line += shades[std::max(pixels[y * 28 + x], pixels[(y + 1) * 28 + x]) * 9 / 255];
    std::printf("    %s\n", line.c_str());
  }
}

int run(const std::filesystem::path& config_path) {
  const Config cfg = load_config(config_path);
  const auto data_dir = hub::data_dir(
      cfg.data_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(cfg.data_dir));
  CompileOptions options;
  options.threads = static_cast<int>(cfg.threads);
  nn::MnistCnn model = nn::MnistCnn::load(cfg.weights, options);
  const auto& meta = model.metadata();
  auto meta_or = [&](const char* key) {
    auto it = meta.find(key);
    return it == meta.end() ? std::string("?") : it->second;
  };
  std::printf("weights: %s\n", cfg.weights.string().c_str());
  std::printf("  trained by: %s\n  on %s, seed %s, %s epochs (best %s), %s s per epoch\n",
              meta_or("command").c_str(), meta_or("date").c_str(), meta_or("seed").c_str(),
              meta_or("epochs_run").c_str(), meta_or("best_epoch").c_str(),
              meta_or("seconds_per_epoch").c_str());

  const io::Mnist test = io::load_mnist(data_dir, io::MnistSplit::Test);
  std::int64_t n = test.images.shape()[0];
  if (cfg.limit > 0) n = std::min(n, cfg.limit);
  const Tensor images = Tensor::view(DType::U8, {n, 28, 28}, test.images.raw(), nullptr);
  const auto start = std::chrono::steady_clock::now();
  const Tensor logits = model.logits(images, cfg.batch);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\n%s\n", model.session().describe().c_str());

  // The same images through the reference kernels (naive loops in double).
  double max_diff = 0;
  const std::int64_t checked = std::min(cfg.reference_images, n);
  if (checked > 0) {
    CompileOptions ref;
    ref.kernels = KernelSet::Reference;
    nn::MnistCnn oracle = nn::MnistCnn::load(cfg.weights, ref);
    const Tensor first = Tensor::view(DType::U8, {checked, 28, 28}, test.images.raw(), nullptr);
    const Tensor want = oracle.logits(first, checked);
    for (std::int64_t i = 0; i < want.numel(); ++i)
      max_diff = std::max(max_diff, std::fabs(static_cast<double>(logits.data<float>()[i]) -
                                              want.data<float>()[i]));
  }

  const std::vector<int> predicted = nn::argmax_rows(logits);
  const std::uint8_t* labels = test.labels.data<std::uint8_t>();
  int confusion[10][10] = {};
  std::int64_t correct = 0, first_wrong = -1;
  for (std::int64_t i = 0; i < n; ++i) {
    ++confusion[labels[i]][predicted[static_cast<std::size_t>(i)]];
    if (predicted[static_cast<std::size_t>(i)] == labels[i])
      ++correct;
    else if (first_wrong < 0)
      first_wrong = i;
  }
  std::printf("confusion matrix (rows: label, columns: predicted)\n     ");
  for (int c = 0; c < 10; ++c) std::printf("%5d", c);
  std::printf("\n");
  for (int r = 0; r < 10; ++r) {
    std::printf("  %d: ", r);
    for (int c = 0; c < 10; ++c) std::printf("%5d", confusion[r][c]);
    std::printf("\n");
  }
  if (first_wrong >= 0) {
    std::printf("\ntest image %lld: label %d, predicted %d\n", static_cast<long long>(first_wrong),
                labels[first_wrong], predicted[static_cast<std::size_t>(first_wrong)]);
    draw(test.images.data<std::uint8_t>() + first_wrong * 784);
  }
  const double accuracy = n ? static_cast<double>(correct) / static_cast<double>(n) : 0;
  std::printf(
      "\ntest: %lld images, accuracy %.2f%% (%lld correct), %.2f s (%.0f images/s, %d thread(s))\n",
      static_cast<long long>(n), accuracy * 100, static_cast<long long>(correct), seconds,
      static_cast<double>(n) / seconds, model.session().threads());
  constexpr double kTolerance = 1e-3;  // logits: sums of ~3,000 products in f32 vs double
  if (!(max_diff <= kTolerance) || !(accuracy >= cfg.min_accuracy)) {
    std::printf(
        "FAILED: max logit difference to the reference kernels %.3g (<= %.0e?), accuracy %.4f (>= "
        "%.2f?)\n",
        max_diff, kTolerance, accuracy, cfg.min_accuracy);
    return 1;
  }
  std::printf(
      "verified: %lld images match the reference kernels (max logit difference %.2g) and accuracy "
      "%.2f%% >= %.0f%%\n",
      static_cast<long long>(checked), max_diff, accuracy * 100, cfg.min_accuracy * 100);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string config = argc > 1 ? argv[1] : std::string(TG_EXAMPLE_DIR) + "/config.toml";
  if (argc > 2 ||
      (argc == 2 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help"))) {
    std::printf("usage: %s [config.toml]\n", argv[0]);
    return argc > 2 ? 2 : 0;
  }
  try {
    return run(config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "05_cnn_mnist: error: %s\n", e.what());
    return 1;
  }
}
