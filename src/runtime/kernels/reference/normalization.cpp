// Reference softmax, log_softmax, layer_norm and reductions, in double.
#include <limits>
#include <vector>

#include "reference.hpp"

namespace tensorgraph::runtime::reference {

void softmax(OpKind op, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& in = args.inputs[0];
  const TensorRef& out = args.output;
  const int axis = in.shape.normalize_axis(static_cast<int>(attrs.axis));
  const std::int64_t n = in.shape.dims()[axis];
  std::int64_t inner = 1;
  for (int d = axis + 1; d < in.shape.rank(); ++d) inner *= in.shape.dims()[d];
  const std::int64_t outer = n > 0 ? in.numel() / (n * inner) : 0;
  auto x = [&](std::int64_t i) { return load(in, i); };
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t i = 0; i < inner; ++i) {
      const std::int64_t base = o * n * inner + i;
      double mx = -std::numeric_limits<double>::infinity();
      for (std::int64_t j = 0; j < n; ++j) mx = std::max(mx, x(base + j * inner));
      double sum = 0;
      for (std::int64_t j = 0; j < n; ++j) sum += std::exp(x(base + j * inner) - mx);
      for (std::int64_t j = 0; j < n; ++j) {
        const double v = x(base + j * inner) - mx;
        store(out, base + j * inner,
              op == OpKind::LogSoftmax ? v - std::log(sum) : std::exp(v) / sum);
      }
    }
  }
}

void layer_norm(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& in = args.inputs[0];
  const std::int64_t d = in.shape[-1];
  const std::int64_t rows = d > 0 ? in.numel() / d : 0;
  const TensorRef* w = attrs.has_weight ? &args.inputs[1] : nullptr;
  const TensorRef* b = attrs.has_bias ? &args.inputs[attrs.has_weight ? 2 : 1] : nullptr;
  for (std::int64_t r = 0; r < rows; ++r) {
    auto xr = [&](std::int64_t j) { return load(in, r * d + j); };
    double mean = 0;
    for (std::int64_t j = 0; j < d; ++j) mean += xr(j);
    mean /= static_cast<double>(d);
    double var = 0;
    for (std::int64_t j = 0; j < d; ++j) var += (xr(j) - mean) * (xr(j) - mean);
    var /= static_cast<double>(d);  // biased, as PyTorch
    const double inv = 1.0 / std::sqrt(var + attrs.epsilon);
    for (std::int64_t j = 0; j < d; ++j) {
      double v = (xr(j) - mean) * inv;
      if (w) v *= load(*w, j);
      if (b) v += load(*b, j);
      store(args.output, r * d + j, v);
    }
  }
}

void reduce(OpKind op, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& in = args.inputs[0];
  const TensorRef& out = args.output;
  const int rank = in.shape.rank();
  std::array<bool, Shape::kMaxRank> reduced{};
  for (int d = 0; d < rank; ++d) reduced[d] = attrs.axes.empty();
  for (std::int64_t a : attrs.axes) reduced[a < 0 ? a + rank : a] = true;
  // Output index of each input element: drop (or zero, with keepdims) the reduced coordinates.
  Shape kept;
  std::int64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    if (reduced[d])
      count *= in.shape.dims()[d];
    else
      kept.push_back(in.shape.dims()[d]);
  }
  const double init = op == OpKind::ReduceMax ? -std::numeric_limits<double>::infinity() : 0.0;
  std::vector<double> acc(static_cast<std::size_t>(out.numel()), init);
  for (std::int64_t i = 0; i < in.numel(); ++i) {
    const auto c = unravel(in.shape, i);
    std::int64_t o = 0;
    int k = 0;
    for (int d = 0; d < rank; ++d)
      if (!reduced[d]) o = o * kept.dims()[k++] + c[d];
    if (op == OpKind::ReduceMax)
      acc[o] = std::max(acc[o], load(in, i));
    else
      acc[o] += load(in, i);
  }
  for (std::int64_t o = 0; o < out.numel(); ++o)
    store(out, o, op == OpKind::ReduceMean ? acc[o] / static_cast<double>(count) : acc[o]);
}

}  // namespace tensorgraph::runtime::reference
