// The backward passes of conv2d through oneDNN: convolution_backward_data (d loss / d x) and
// convolution_backward_weights (d loss / d weight), each created with a forward_training
// primitive descriptor as its hint, as oneDNN requires. oneDNN picks the layouts (format_tag::any,
// usually blocked nChw8c/nChw16c activations and blocked weights); our tensors are plain NCHW /
// OIHW, so every argument whose chosen layout differs is reordered through scratch memory on the
// way in (or out, for the result). The bias gradient is a reduction in the graph, not part of
// these kernels.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "cpu.hpp"
#include "onednn.hpp"
#include "tensorgraph/core/error.hpp"

namespace tensorgraph::runtime::cpu {

namespace {

using dnnl::memory;

constexpr std::size_t kAlign = 64;
std::size_t align_up(std::size_t v) {
  return (v + kAlign - 1) / kAlign * kAlign;
}

// One argument of a primitive: the plain tensor of the graph and, when the primitive wants
// another layout, a reorder through a scratch buffer.
struct Port {
  int arg = 0;           // DNNL_ARG_*
  int graph_index = -1;  // input index in the kernel's args, or -1 for the output
  memory prim;           // in the primitive's layout
  memory plain;          // the graph tensor (plain layout) when a reorder is needed
  std::optional<dnnl::reorder> reorder;
  std::size_t offset = 0;  // of the reordered copy in scratch
};

struct ConvBackwardState {
  bool empty = false;
  bool small_k = false;  // our im2col + dot-product path (see SmallKWeights)
  dnnl::primitive prim;
  memory scratchpad;
  std::size_t scratchpad_bytes = 0;
  std::vector<Port> inputs;
  Port output;
};

// d loss / d weight when each output sees few inputs (K = C * kH * kW <= 32, no groups), such as
// a first layer on 1-channel images: oneDNN's kernels are built for many channels and run such
// shapes at a few GFLOP/s. Here, per image, the K shifted copies of the input (im2col, K x P with
// P output positions) are built once and each weight is a dot product of one output channel's
// gradient with one copy; threads own disjoint output channels, so the sums do not depend on the
// thread count.
class SmallKWeights {
 public:
  static constexpr std::int64_t kMaxK = 32;

  static bool applies(const Attrs& a, const Shape& w) {
    return a.groups == 1 && w[1] * w[2] * w[3] <= kMaxK;
  }
  // Scratch floats per thread: the im2col buffer of one image.
  static std::size_t scratch_floats(const Shape& w, const Shape& dy) {
    return static_cast<std::size_t>(w[1] * w[2] * w[3] * dy[2] * dy[3]);
  }

  static void run(const Attrs& a, const TensorRef& dy, const TensorRef& x, const TensorRef& out,
                  float* scratch, int threads) {
    const std::int64_t n = x.shape[0], c = x.shape[1], h = x.shape[2], wd = x.shape[3];
    const std::int64_t oc = out.shape[0], kh = out.shape[2], kw = out.shape[3];
    const std::int64_t oh = dy.shape[2], ow = dy.shape[3], p = oh * ow, k = c * kh * kw;
    const float* xs = x.as<const float>();
    const float* g = dy.as<const float>();
    float* dw = out.as<float>();
    std::fill_n(dw, oc * k, 0.f);
    const int nt = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, oc)));
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
      const int t = omp_get_thread_num(), count = omp_get_num_threads();
      const std::int64_t first = oc * t / count, last = oc * (t + 1) / count;
      float* col = scratch + static_cast<std::size_t>(t) * static_cast<std::size_t>(k * p);
      std::vector<double> acc(static_cast<std::size_t>((last - first) * k), 0.0);
      for (std::int64_t img = 0; img < n && first < last; ++img) {
        // im2col of this image: row (ci, u, v) holds x[ci, i*s - pad + u*d, j*s - pad + v*d].
        for (std::int64_t ci = 0; ci < c; ++ci)
          for (std::int64_t u = 0; u < kh; ++u)
            for (std::int64_t v = 0; v < kw; ++v) {
              float* row = col + ((ci * kh + u) * kw + v) * p;
              const float* plane = xs + (img * c + ci) * h * wd;
              for (std::int64_t i = 0; i < oh; ++i) {
                const std::int64_t yy = i * a.stride[0] - a.padding[0] + u * a.dilation[0];
                float* r = row + i * ow;
                if (yy < 0 || yy >= h) {
                  std::fill_n(r, ow, 0.f);
                  continue;
                }
                for (std::int64_t j = 0; j < ow; ++j) {
                  const std::int64_t xx = j * a.stride[1] - a.padding[1] + v * a.dilation[1];
                  r[j] = xx >= 0 && xx < wd ? plane[yy * wd + xx] : 0.f;
                }
              }
            }
        for (std::int64_t o = first; o < last; ++o) {
          const float* go = g + (img * oc + o) * p;
          for (std::int64_t kk = 0; kk < k; ++kk) {
            const float* r = col + kk * p;
            float sum = 0.f;
#pragma omp simd reduction(+ : sum)
            for (std::int64_t q = 0; q < p; ++q) sum += go[q] * r[q];
            acc[static_cast<std::size_t>((o - first) * k + kk)] += sum;
          }
        }
      }
      for (std::int64_t o = first; o < last; ++o)
        for (std::int64_t kk = 0; kk < k; ++kk)
          dw[o * k + kk] = static_cast<float>(acc[static_cast<std::size_t>((o - first) * k + kk)]);
    }
  }
};

class ConvBackwardKernel final : public Kernel {
 public:
  ConvBackwardKernel(OpKind op, const Attrs& attrs, int threads)
      : op_(op), attrs_(attrs), threads_(std::max(threads, 1)) {}

  Preparation prepare(std::span<const TensorRef> inputs, const TensorRef& output) override {
    return onednn::guarded("a convolution backward primitive",
                           [&] { return prepare_impl(inputs, output); });
  }

  void run(const KernelArgs& args) override {
    const auto& s = *static_cast<const ConvBackwardState*>(args.state);
    if (s.empty) {
      if (args.output.nbytes()) std::memset(args.output.data, 0, args.output.nbytes());
      return;
    }
    if (s.small_k) {
      SmallKWeights::run(attrs_, args.inputs[0], args.inputs[1], args.output,
                         reinterpret_cast<float*>(args.scratch), std::min(args.threads, threads_));
      return;
    }
    std::byte* scratch = args.scratch;
    dnnl_exec_arg_t list[4];
    int n = 0;
    for (const Port& p : s.inputs) {
      void* data = args.inputs[p.graph_index].data;
      if (p.reorder) {
        onednn::set_handle(p.plain, data);
        onednn::set_handle(p.prim, scratch + p.offset);
        onednn::execute(*p.reorder, {{DNNL_ARG_FROM, p.plain.get()}, {DNNL_ARG_TO, p.prim.get()}});
      } else {
        onednn::set_handle(p.prim, data);
      }
      list[n++] = {p.arg, p.prim.get()};
    }
    const Port& o = s.output;
    onednn::set_handle(o.prim,
                       o.reorder ? static_cast<void*>(scratch + o.offset) : args.output.data);
    list[n++] = {o.arg, o.prim.get()};
    if (s.scratchpad_bytes) {
      onednn::set_handle(s.scratchpad, scratch);
      list[n++] = {DNNL_ARG_SCRATCHPAD, s.scratchpad.get()};
    }
    onednn::execute(s.prim, list, n);
    if (o.reorder) {
      onednn::set_handle(o.plain, args.output.data);
      onednn::execute(*o.reorder, {{DNNL_ARG_FROM, o.prim.get()}, {DNNL_ARG_TO, o.plain.get()}});
    }
  }

  std::string name() const override {
    if (impl_.starts_with("im2col"))
      return fmt::format("cpu convolution backward weights ({})", impl_);
    return fmt::format("onednn convolution backward {} ({})",
                       op_ == OpKind::Conv2dBackwardData ? "data" : "weights",
                       impl_.empty() ? "not prepared" : impl_);
  }

 private:
  memory::dims weight_dims(const Shape& w) const {
    const std::int64_t g = attrs_.groups;
    if (g > 1) return {g, w[0] / g, w[1], w[2], w[3]};
    return {w[0], w[1], w[2], w[3]};
  }
  memory::desc plain_weights(const memory::dims& dims) const {
    return memory::desc(dims, memory::data_type::f32,
                        attrs_.groups > 1 ? memory::format_tag::goihw : memory::format_tag::oihw);
  }

  Preparation prepare_impl(std::span<const TensorRef> inputs, const TensorRef& output) {
    auto s = std::make_shared<ConvBackwardState>();
    const bool data = op_ == OpKind::Conv2dBackwardData;
    const Shape& dy_shape = inputs[0].shape;
    const Shape& x_shape = data ? output.shape : inputs[1].shape;
    const Shape& w_shape = data ? inputs[1].shape : output.shape;
    if (dy_shape.numel() == 0 || x_shape.numel() == 0 || w_shape.numel() == 0) {
      s->empty = true;
      return {0, std::move(s)};
    }
    if (!data && SmallKWeights::applies(attrs_, w_shape)) {
      s->small_k = true;
      impl_ = "im2col + dot products, small K";
      return {SmallKWeights::scratch_floats(w_shape, dy_shape) * sizeof(float) *
                  static_cast<std::size_t>(threads_),
              std::move(s)};
    }
    const auto f32 = memory::data_type::f32;
    const auto any = memory::format_tag::any;
    const memory::dims wd = weight_dims(w_shape);
    const memory::desc x_any(onednn::dims_of(x_shape), f32, any);
    const memory::desc y_any(onednn::dims_of(dy_shape), f32, any);
    const memory::desc w_any(wd, f32, any);
    const memory::dims strides{attrs_.stride[0], attrs_.stride[1]};
    const memory::dims dilation{attrs_.dilation[0] - 1, attrs_.dilation[1] - 1};
    const memory::dims padding{attrs_.padding[0], attrs_.padding[1]};
    const dnnl::convolution_forward::primitive_desc hint(
        dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training,
                                        dnnl::algorithm::convolution_direct, x_any, w_any, y_any,
                                        strides, dilation, padding, padding),
        onednn::engine());
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const memory::desc x_plain = onednn::plain_desc(x_shape, DType::F32);
    const memory::desc y_plain = onednn::plain_desc(dy_shape, DType::F32);
    const memory::desc w_plain = plain_weights(wd);
    memory::desc scratchpad_desc;
    // Ports in primitive order: (diff_dst, weights) -> diff_src, or (src, diff_dst) ->
    // diff_weights.
    struct Want {
      int arg;
      int graph_index;
      memory::desc plain, chosen;
    };
    std::vector<Want> ins;
    Want out{};
    if (data) {
      const dnnl::convolution_backward_data::primitive_desc pd(
          dnnl::convolution_backward_data::desc(dnnl::algorithm::convolution_direct, x_any, w_any,
                                                y_any, strides, dilation, padding, padding),
          attr, onednn::engine(), hint);
      impl_ = onednn::impl_name(pd);
      s->prim = dnnl::convolution_backward_data(pd);
      scratchpad_desc = pd.scratchpad_desc();
      ins.push_back({DNNL_ARG_DIFF_DST, 0, y_plain, pd.diff_dst_desc()});
      ins.push_back({DNNL_ARG_WEIGHTS, 1, w_plain, pd.weights_desc()});
      out = {DNNL_ARG_DIFF_SRC, -1, x_plain, pd.diff_src_desc()};
    } else {
      const dnnl::convolution_backward_weights::primitive_desc pd(
          dnnl::convolution_backward_weights::desc(dnnl::algorithm::convolution_direct, x_any,
                                                   w_any, y_any, strides, dilation, padding,
                                                   padding),
          attr, onednn::engine(), hint);
      impl_ = onednn::impl_name(pd);
      s->prim = dnnl::convolution_backward_weights(pd);
      scratchpad_desc = pd.scratchpad_desc();
      ins.push_back({DNNL_ARG_SRC, 1, x_plain, pd.src_desc()});
      ins.push_back({DNNL_ARG_DIFF_DST, 0, y_plain, pd.diff_dst_desc()});
      out = {DNNL_ARG_DIFF_WEIGHTS, -1, w_plain, pd.diff_weights_desc()};
    }
    s->scratchpad_bytes = scratchpad_desc.get_size();
    s->scratchpad = onednn::unbound_memory(scratchpad_desc);
    std::size_t offset = align_up(s->scratchpad_bytes);
    auto make_port = [&](const Want& w, bool is_input) {
      Port p;
      p.arg = w.arg;
      p.graph_index = w.graph_index;
      p.prim = onednn::unbound_memory(w.chosen);
      if (w.chosen != w.plain) {
        p.plain = onednn::unbound_memory(w.plain);
        p.reorder = is_input ? dnnl::reorder(p.plain, p.prim) : dnnl::reorder(p.prim, p.plain);
        p.offset = offset;
        offset += align_up(w.chosen.get_size());
      }
      return p;
    };
    for (const Want& w : ins) s->inputs.push_back(make_port(w, true));
    s->output = make_port(out, false);
    return {offset, std::move(s)};
  }

  OpKind op_;
  Attrs attrs_;
  int threads_ = 1;
  std::string impl_;
};

}  // namespace

std::unique_ptr<Kernel> make_conv2d_backward_data(const KernelContext& ctx) {
  return std::make_unique<ConvBackwardKernel>(ctx.node().op, ctx.node().attrs, ctx.threads);
}

std::unique_ptr<Kernel> make_conv2d_backward_weights(const KernelContext& ctx) {
  return std::make_unique<ConvBackwardKernel>(ctx.node().op, ctx.node().attrs, ctx.threads);
}

}  // namespace tensorgraph::runtime::cpu
