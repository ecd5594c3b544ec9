#include "tensorgraph/io/mnist.hpp"

#include <string>

#include "tensorgraph/core/error.hpp"
#include "tensorgraph/io/idx.hpp"

namespace tensorgraph::io {

namespace {

std::filesystem::path find(const std::filesystem::path& data_dir, const std::string& stem) {
  const std::filesystem::path dir = data_dir / "mnist";
  const std::filesystem::path gz = dir / (stem + ".gz");
  if (!std::filesystem::exists(gz) && std::filesystem::exists(dir / stem)) return dir / stem;
  return gz;
}

std::string prefix(MnistSplit split) {
  return split == MnistSplit::Train ? "train" : "t10k";
}

}  // namespace

std::filesystem::path mnist_images_file(const std::filesystem::path& data_dir, MnistSplit split) {
  return find(data_dir, prefix(split) + "-images-idx3-ubyte");
}

std::filesystem::path mnist_labels_file(const std::filesystem::path& data_dir, MnistSplit split) {
  return find(data_dir, prefix(split) + "-labels-idx1-ubyte");
}

Mnist load_mnist(const std::filesystem::path& data_dir, MnistSplit split) {
  const std::filesystem::path images_path = mnist_images_file(data_dir, split);
  const std::filesystem::path labels_path = mnist_labels_file(data_dir, split);
  for (const auto& p : {images_path, labels_path})
    TG_CHECK(std::filesystem::exists(p),
             "{}: not found (`tensorgraph download-data mnist` fetches it, or pass --data with a "
             "directory holding mnist/)",
             p.string());
  Mnist m{read_idx(images_path), read_idx(labels_path)};
  const Shape& is = m.images.shape();
  TG_CHECK(m.images.dtype() == DType::U8 && is.rank() == 3 && is[1] == 28 && is[2] == 28,
           "{}: expected u8 images [N,28,28], got {}", images_path.string(),
           m.images.description());
  TG_CHECK(m.labels.dtype() == DType::U8 && m.labels.rank() == 1,
           "{}: expected u8 labels [N], got {}", labels_path.string(), m.labels.description());
  TG_CHECK(m.labels.shape()[0] == is[0], "{}: {} labels for {} images in {}", labels_path.string(),
           m.labels.shape()[0], is[0], images_path.string());
  const auto labels = m.labels.span<std::uint8_t>();
  for (std::size_t i = 0; i < labels.size(); ++i)
    TG_CHECK(labels[i] <= 9, "{}: label {} of image {} is not a digit", labels_path.string(),
             labels[i], i);
  return m;
}

}  // namespace tensorgraph::io
