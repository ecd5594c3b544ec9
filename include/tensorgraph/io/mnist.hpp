#pragma once
// MNIST from its IDX files in DIR/mnist/ (the layout of ../shared/data and of
// `tensorgraph download-data mnist`): {train,t10k}-images-idx3-ubyte(.gz) and
// {train,t10k}-labels-idx1-ubyte(.gz), gzip-compressed or not.
#include <filesystem>

#include "tensorgraph/core/tensor.hpp"

namespace tensorgraph::io {

enum class MnistSplit { Train, Test };

struct Mnist {
  Tensor images;  // u8 [N, 28, 28], 0 = background, 255 = ink
  Tensor labels;  // u8 [N], 0..9
};

// The images and labels files of a split (the .gz name unless only the plain file exists).
std::filesystem::path mnist_images_file(const std::filesystem::path& data_dir, MnistSplit split);
std::filesystem::path mnist_labels_file(const std::filesystem::path& data_dir, MnistSplit split);
// Reads a split; throws Error naming the file when it is missing, malformed, or the images and
// labels disagree (counts, 28x28, labels above 9).
Mnist load_mnist(const std::filesystem::path& data_dir, MnistSplit split);

}  // namespace tensorgraph::io
