// Reference backward kernels: direct loops in double, written from the definitions of the
// forward ops (every output element of the forward op adds its share to the inputs it read).
#include <cmath>
#include <limits>
#include <vector>

#include "graph/op_infer.hpp"
#include "reference.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::runtime::reference {

namespace {

// Accumulates in double, then stores into the output.
struct Accumulator {
  explicit Accumulator(std::int64_t n) : values(static_cast<std::size_t>(n), 0.0) {}
  void store_into(const TensorRef& out) const {
    for (std::size_t i = 0; i < values.size(); ++i)
      store(out, static_cast<std::int64_t>(i), values[i]);
  }
  std::vector<double> values;
};

}  // namespace

void slice_backward(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& dy = args.inputs[0];
  const TensorRef& out = args.output;  // x's shape
  const int rank = out.shape.rank();
  std::array<std::int64_t, Shape::kMaxRank> start{}, step{};
  step.fill(1);
  for (std::size_t j = 0; j < attrs.axes.size(); ++j) {
    const int axis = out.shape.normalize_axis(static_cast<int>(attrs.axes[j]));
    step[axis] = attrs.steps.empty() ? 1 : attrs.steps[j];
    start[axis] =
        detail::slice_bounds(out.shape.dims()[axis], attrs.starts[j], attrs.ends[j], step[axis])
            .start;
  }
  const auto strides = out.shape.strides();
  Accumulator acc(out.numel());
  for (std::int64_t i = 0; i < dy.numel(); ++i) {
    const auto c = unravel(dy.shape, i);
    std::int64_t dst = 0;
    for (int d = 0; d < rank; ++d) dst += (start[d] + c[d] * step[d]) * strides[d];
    acc.values[dst] += load(dy, i);
  }
  acc.store_into(out);
}

void gather_backward(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& dy = args.inputs[0];
  const TensorRef& idx = args.inputs[1];
  const TensorRef& out = args.output;  // data's shape
  const int axis = out.shape.normalize_axis(static_cast<int>(attrs.axis));
  const std::int64_t extent = out.shape.dims()[axis];
  const int idx_rank = idx.shape.rank();
  const auto strides = out.shape.strides();
  Accumulator acc(out.numel());
  for (std::int64_t i = 0; i < dy.numel(); ++i) {
    const auto c = unravel(dy.shape, i);
    std::int64_t flat_idx = 0;
    for (int d = 0; d < idx_rank; ++d) flat_idx = flat_idx * idx.shape.dims()[d] + c[axis + d];
    const auto id = static_cast<std::int64_t>(load(idx, flat_idx));
    TG_CHECK(id >= 0 && id < extent,
             "gather_backward: index {} is out of range for axis {} of size {}", id, axis, extent);
    std::int64_t dst = 0;
    for (int d = 0; d < axis; ++d) dst += c[d] * strides[d];
    dst += id * strides[axis];
    for (int d = axis + 1; d < out.shape.rank(); ++d) dst += c[d - 1 + idx_rank] * strides[d];
    acc.values[dst] += load(dy, i);
  }
  acc.store_into(out);
}

// y = xhat * w (+ b), xhat = (x - mean) / sigma. With g = dy * w:
// dx = (g - mean(g) - xhat * mean(g * xhat)) / sigma.
void layer_norm_backward(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& dy = args.inputs[0];
  const TensorRef& x = args.inputs[1];
  const TensorRef* w = attrs.has_weight ? &args.inputs[2] : nullptr;
  const std::int64_t d = x.shape[-1];
  const std::int64_t rows = d > 0 ? x.numel() / d : 0;
  std::vector<double> xhat(static_cast<std::size_t>(d)), g(static_cast<std::size_t>(d));
  for (std::int64_t r = 0; r < rows; ++r) {
    double mean = 0;
    for (std::int64_t j = 0; j < d; ++j) mean += load(x, r * d + j);
    mean /= static_cast<double>(d);
    double var = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      const double c = load(x, r * d + j) - mean;
      var += c * c;
    }
    var /= static_cast<double>(d);
    const double inv = 1.0 / std::sqrt(var + attrs.epsilon);
    double mean_g = 0, mean_gx = 0;
    for (std::int64_t j = 0; j < d; ++j) {
      xhat[j] = (load(x, r * d + j) - mean) * inv;
      g[j] = load(dy, r * d + j) * (w ? load(*w, j) : 1.0);
      mean_g += g[j];
      mean_gx += g[j] * xhat[j];
    }
    mean_g /= static_cast<double>(d);
    mean_gx /= static_cast<double>(d);
    for (std::int64_t j = 0; j < d; ++j)
      store(args.output, r * d + j, (g[j] - mean_g - xhat[j] * mean_gx) * inv);
  }
}

void reduce_backward(OpKind op, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& dy = args.inputs[0];
  const TensorRef& x = args.inputs[1];
  const TensorRef& out = args.output;
  const int rank = x.shape.rank();
  std::array<bool, Shape::kMaxRank> reduced{};
  for (int d = 0; d < rank; ++d) reduced[d] = attrs.axes.empty();
  for (std::int64_t a : attrs.axes) reduced[a < 0 ? a + rank : a] = true;
  Shape kept;
  std::int64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    if (reduced[d])
      count *= x.shape.dims()[d];
    else
      kept.push_back(x.shape.dims()[d]);
  }
  // The reduction's output element (flat, keepdims or not: the same order) of input element i.
  auto group = [&](std::int64_t i) {
    const auto c = unravel(x.shape, i);
    std::int64_t o = 0;
    int k = 0;
    for (int d = 0; d < rank; ++d)
      if (!reduced[d]) o = o * kept.dims()[k++] + c[d];
    return o;
  };
  if (op == OpKind::ReduceMaxBackward) {
    const TensorRef& y = args.inputs[2];
    std::vector<double> ties(static_cast<std::size_t>(dy.numel()), 0.0);
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      const std::int64_t o = group(i);
      if (load(x, i) == load(y, o)) ties[o] += 1;
    }
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      const std::int64_t o = group(i);
      store(out, i, load(x, i) == load(y, o) ? load(dy, o) / ties[o] : 0.0);
    }
    return;
  }
  const double scale = op == OpKind::ReduceMeanBackward ? 1.0 / static_cast<double>(count) : 1.0;
  for (std::int64_t i = 0; i < x.numel(); ++i) store(out, i, load(dy, group(i)) * scale);
}

// Every product x[n, c, yy, xx] * w[oc, ic, u, v] of the forward pass sends dy[n, oc, i, j]
// back to both factors.
namespace {
template <typename F>
void for_each_conv_term(const Attrs& attrs, const Shape& x, const Shape& w, const Shape& y,
                        F&& term) {
  const std::int64_t batch = x[0], c_in = x[1], h = x[2], wd = x[3];
  const std::int64_t c_out = y[1], oh = y[2], ow = y[3];
  const std::int64_t kh = w[2], kw = w[3];
  const std::int64_t cin_g = c_in / attrs.groups, cout_g = c_out / attrs.groups;
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t oc = 0; oc < c_out; ++oc)
      for (std::int64_t i = 0; i < oh; ++i)
        for (std::int64_t j = 0; j < ow; ++j)
          for (std::int64_t ic = 0; ic < cin_g; ++ic)
            for (std::int64_t u = 0; u < kh; ++u)
              for (std::int64_t v = 0; v < kw; ++v) {
                const std::int64_t yy =
                    i * attrs.stride[0] - attrs.padding[0] + u * attrs.dilation[0];
                const std::int64_t xx =
                    j * attrs.stride[1] - attrs.padding[1] + v * attrs.dilation[1];
                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                const std::int64_t c = (oc / cout_g) * cin_g + ic;
                term(((n * c_in + c) * h + yy) * wd + xx, ((oc * cin_g + ic) * kh + u) * kw + v,
                     ((n * c_out + oc) * oh + i) * ow + j);
              }
}
}  // namespace

void conv2d_backward_data(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& dy = args.inputs[0];
  const TensorRef& w = args.inputs[1];
  const TensorRef& out = args.output;  // x's shape
  Accumulator acc(out.numel());
  for_each_conv_term(attrs, out.shape, w.shape, dy.shape,
                     [&](std::int64_t xi, std::int64_t wi, std::int64_t yi) {
                       acc.values[xi] += load(w, wi) * load(dy, yi);
                     });
  acc.store_into(out);
}

void conv2d_backward_weights(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& dy = args.inputs[0];
  const TensorRef& x = args.inputs[1];
  const TensorRef& out = args.output;  // the weight's shape
  Accumulator acc(out.numel());
  for_each_conv_term(attrs, x.shape, out.shape, dy.shape,
                     [&](std::int64_t xi, std::int64_t wi, std::int64_t yi) {
                       acc.values[wi] += load(x, xi) * load(dy, yi);
                     });
  acc.store_into(out);
}

// Windows as in pool2d: max sends dy to the first maximum of its window (scan order, padding
// excluded); avg spreads dy / count over the window's inputs, count as in the forward pass.
void pool2d_backward(OpKind op, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& dy = args.inputs[0];
  const TensorRef& x = args.inputs[1];
  const TensorRef& out = args.output;
  const std::int64_t planes = x.shape[0] * x.shape[1], h = x.shape[2], wd = x.shape[3];
  const std::int64_t oh = dy.shape[2], ow = dy.shape[3];
  const bool is_max = op == OpKind::MaxPool2dBackward;
  Accumulator acc(out.numel());
  for (std::int64_t p = 0; p < planes; ++p)
    for (std::int64_t i = 0; i < oh; ++i)
      for (std::int64_t j = 0; j < ow; ++j) {
        const double g = load(dy, (p * oh + i) * ow + j);
        double best = -std::numeric_limits<double>::infinity();
        std::int64_t best_at = -1, count = 0;
        for (std::int64_t u = 0; u < attrs.kernel[0]; ++u)
          for (std::int64_t v = 0; v < attrs.kernel[1]; ++v) {
            const std::int64_t yy = i * attrs.stride[0] - attrs.padding[0] + u;
            const std::int64_t xx = j * attrs.stride[1] - attrs.padding[1] + v;
            if (yy < 0 || yy >= h || xx < 0 || xx >= wd) {
              if (!is_max && attrs.count_include_pad && yy < h + attrs.padding[0] &&
                  xx < wd + attrs.padding[1])
                ++count;
              continue;
            }
            const std::int64_t at = (p * h + yy) * wd + xx;
            if (is_max && (best_at < 0 || load(x, at) > best)) {
              best = load(x, at);
              best_at = at;
            }
            ++count;
          }
        if (is_max) {
          if (best_at >= 0) acc.values[best_at] += g;
          continue;
        }
        if (count == 0) continue;
        for (std::int64_t u = 0; u < attrs.kernel[0]; ++u)
          for (std::int64_t v = 0; v < attrs.kernel[1]; ++v) {
            const std::int64_t yy = i * attrs.stride[0] - attrs.padding[0] + u;
            const std::int64_t xx = j * attrs.stride[1] - attrs.padding[1] + v;
            if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
            acc.values[(p * h + yy) * wd + xx] += g / static_cast<double>(count);
          }
      }
  acc.store_into(out);
}

}  // namespace tensorgraph::runtime::reference
