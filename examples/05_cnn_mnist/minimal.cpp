// Example 05, minimal: the CNN trained by `tensorgraph train cnn` (weights committed beside this
// file) classifies the 10,000 MNIST test digits.
//
//   build/examples/05_cnn_mnist_minimal [DATA_DIR]     (default: $TG_DATA_DIR or datasets/)
#include <cstdio>

#include "tensorgraph/hub/paths.hpp"
#include "tensorgraph/io/mnist.hpp"
#include "tensorgraph/nn/cnn.hpp"

using namespace tensorgraph;

int main(int argc, char** argv) try {
  const auto data_dir =
      hub::data_dir(argc > 1 ? std::optional<std::filesystem::path>(argv[1]) : std::nullopt);
  // The inference graph takes raw u8 images: normalisation, two convolutions, two linear layers.
  nn::MnistCnn model = nn::MnistCnn::load(TG_EXAMPLE_DIR "/weights/cnn.safetensors");
  const io::Mnist test = io::load_mnist(data_dir, io::MnistSplit::Test);

  const std::vector<int> predicted = model.classify(test.images);
  int correct = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i)
    correct += predicted[i] == test.labels.data<std::uint8_t>()[i];
  std::printf("first test digit: predicted %d, label %d\n", predicted[0],
              test.labels.data<std::uint8_t>()[0]);
  std::printf("test accuracy %.2f%% (%d of %zu)\n", 100.0 * correct / predicted.size(), correct,
              predicted.size());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "05_cnn_mnist_minimal: error: %s\n", e.what());
  return 1;
}
