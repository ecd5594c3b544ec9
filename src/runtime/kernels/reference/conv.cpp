// Reference convolution and pooling: direct loops over NCHW, in double.
#include <limits>

#include "reference.hpp"

namespace tensorgraph::runtime::reference {

void conv2d(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& x = args.inputs[0];
  const TensorRef& w = args.inputs[1];
  const TensorRef& out = args.output;
  const std::int64_t batch = x.shape[0], c_in = x.shape[1], h = x.shape[2], wd = x.shape[3];
  const std::int64_t c_out = out.shape[1], oh = out.shape[2], ow = out.shape[3];
  const std::int64_t kh = w.shape[2], kw = w.shape[3];
  const std::int64_t groups = attrs.groups;
  const std::int64_t cin_g = c_in / groups, cout_g = c_out / groups;
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t oc = 0; oc < c_out; ++oc) {
      const std::int64_t g = oc / cout_g;
      for (std::int64_t i = 0; i < oh; ++i)
        for (std::int64_t j = 0; j < ow; ++j) {
          double acc = attrs.has_bias ? load(args.inputs[2], oc) : 0.0;
          for (std::int64_t ic = 0; ic < cin_g; ++ic)
            for (std::int64_t u = 0; u < kh; ++u)
              for (std::int64_t v = 0; v < kw; ++v) {
                const std::int64_t yy =
                    i * attrs.stride[0] - attrs.padding[0] + u * attrs.dilation[0];
                const std::int64_t xx =
                    j * attrs.stride[1] - attrs.padding[1] + v * attrs.dilation[1];
                if (yy < 0 || yy >= h || xx < 0 || xx >= wd) continue;
                const std::int64_t c = g * cin_g + ic;
                acc += load(x, ((n * c_in + c) * h + yy) * wd + xx) *
                       load(w, ((oc * cin_g + ic) * kh + u) * kw + v);
              }
          store(out, ((n * c_out + oc) * oh + i) * ow + j, acc);
        }
    }
}

void pool2d(OpKind op, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& x = args.inputs[0];
  const TensorRef& out = args.output;
  const std::int64_t planes = x.shape[0] * x.shape[1], h = x.shape[2], wd = x.shape[3];
  const std::int64_t oh = out.shape[2], ow = out.shape[3];
  const bool is_max = op == OpKind::MaxPool2d;
  for (std::int64_t p = 0; p < planes; ++p)
    for (std::int64_t i = 0; i < oh; ++i)
      for (std::int64_t j = 0; j < ow; ++j) {
        double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
        std::int64_t count = 0;
        for (std::int64_t u = 0; u < attrs.kernel[0]; ++u)
          for (std::int64_t v = 0; v < attrs.kernel[1]; ++v) {
            const std::int64_t yy = i * attrs.stride[0] - attrs.padding[0] + u;
            const std::int64_t xx = j * attrs.stride[1] - attrs.padding[1] + v;
            if (yy < 0 || yy >= h || xx < 0 || xx >= wd) {
              // Padding: ignored by max; counted as zeros by avg with count_include_pad, but
              // (as in PyTorch) only where the window lies inside the padded input.
              if (!is_max && attrs.count_include_pad && yy < h + attrs.padding[0] &&
                  xx < wd + attrs.padding[1])
                ++count;
              continue;
            }
            const double v_in = load(x, (p * h + yy) * wd + xx);
            if (is_max)
              acc = std::max(acc, v_in);
            else
              acc += v_in;
            ++count;
          }
        store(out, (p * oh + i) * ow + j, is_max ? acc : (count ? acc / count : 0.0));
      }
}

}  // namespace tensorgraph::runtime::reference
