#pragma once
// The CNN of example 05 (MNIST), the architecture of the original project:
//
//   images u8 [N, 28, 28] -> (x / 255 - 0.1307) / 0.3081 (in the graph) -> [N, 1, 28, 28]
//   -> conv1 1->32 3x3 pad 1, ReLU, max-pool 2 -> [N, 32, 14, 14]
//   -> conv2 32->64 3x3 pad 1, ReLU, max-pool 2 -> [N, 64, 7, 7] -> flatten [N, 3136]
//   -> fc1 3136->128, ReLU -> fc2 128->10 -> logits [N, 10]
//
// Parameter names follow PyTorch's (conv1.weight [32, 1, 3, 3], ..., fc2.bias [10]).
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tensorgraph/nn/model_weights.hpp"
#include "tensorgraph/runtime/session.hpp"

namespace tensorgraph::nn {

// MNIST's pixel mean and standard deviation (of x / 255 over the training images), the usual
// normalisation.
inline constexpr double kMnistMean = 0.1307;
inline constexpr double kMnistStd = 0.3081;

struct CnnSpec {
  std::int64_t conv1 = 32;    // channels of the first convolution
  std::int64_t conv2 = 64;    // of the second
  std::int64_t hidden = 128;  // units of fc1
  std::int64_t classes = 10;
  std::int64_t image = 28;  // square images; a multiple of 4
};

std::vector<ParameterSpec> cnn_parameters(const CnnSpec& spec);
// The forward pass: u8 images [N, image, image] -> logits [N, classes].
Value mnist_cnn(Value images, const CnnSpec& spec, const ParameterLookup& lookup);

// Writes a weight file: the parameters of cnn_parameters(spec) (f32) and metadata
// {"model": "mnist-cnn", "conv1_channels", "conv2_channels", "hidden", "classes", "image_size"}
// plus `metadata` (how it was trained), atomically.
void save_mnist_cnn(const std::filesystem::path& path, const CnnSpec& spec,
                    const std::vector<std::pair<std::string, Tensor>>& tensors,
                    std::map<std::string, std::string> metadata);

// Inference from a weight file written by `tensorgraph train cnn`.
class MnistCnn {
 public:
  static MnistCnn load(const std::filesystem::path& weights, const CompileOptions& options = {});
  // Logits [N, classes] of u8 images [N, image, image], computed in batches of `batch` images.
  Tensor logits(const Tensor& images, std::int64_t batch = 500);
  // The predicted class of every image.
  std::vector<int> classify(const Tensor& images, std::int64_t batch = 500);

  const CnnSpec& spec() const { return spec_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  Session& session() { return session_; }

 private:
  MnistCnn(CnnSpec spec, Session session, std::map<std::string, std::string> metadata)
      : spec_(spec), session_(std::move(session)), metadata_(std::move(metadata)) {}
  CnnSpec spec_;
  Session session_;
  std::map<std::string, std::string> metadata_;
};

// The index of the largest value of each row of [N, C] (the first on ties).
std::vector<int> argmax_rows(const Tensor& scores);

}  // namespace tensorgraph::nn
