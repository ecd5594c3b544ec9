// conv2d and pooling through oneDNN (forward inference). Tensors are plain NCHW at the graph
// boundary; convolution lets oneDNN pick its layouts (format_tag::any): constant weights are
// reordered once into the chosen layout and kept, computed weights (training) on every run,
// activations are reordered in and out through scratch memory when oneDNN prefers a blocked
// layout. PyTorch's dilation 1 is oneDNN's 0.
#include <algorithm>
#include <optional>

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

struct ConvState {
  bool empty = false;
  dnnl::convolution_forward prim;
  memory src, weights, bias, dst, scratchpad;
  // Reorders at the boundary when oneDNN picked blocked activations.
  std::optional<dnnl::reorder> src_in, dst_out;
  memory src_plain, dst_plain;
  // Computed (non-constant) weights, e.g. parameters in training, reordered on every run when
  // oneDNN wants a blocked layout.
  std::optional<dnnl::reorder> weights_in;
  memory weights_plain;
  std::size_t scratchpad_bytes = 0, src_offset = 0, dst_offset = 0, weights_offset = 0;
  std::string impl;
};

class ConvKernel final : public Kernel {
 public:
  explicit ConvKernel(const KernelContext& ctx) : attrs_(ctx.node().attrs) {
    const Node& node = ctx.node();
    const Shape& ws = ctx.graph.node(node.inputs[1]).shape;
    groups_ = attrs_.groups;
    // OIHW, or GOIHW with groups.
    if (groups_ > 1)
      weights_dims_ = {groups_, ws[0] / groups_, ws[1], ws[2], ws[3]};
    else
      weights_dims_ = {ws[0], ws[1], ws[2], ws[3]};
    if (const Tensor* w = ctx.constant_input(1)) {
      weights_f32_ = w->dtype() == DType::F32 ? *w : w->to(DType::F32);
    } else {
      TG_CHECK(ctx.graph.node(node.inputs[1]).dtype == DType::F32,
               "conv2d: a computed weight must be f32");
    }
    if (attrs_.has_bias) {
      if (const Tensor* b = ctx.constant_input(2))
        bias_f32_ = b->dtype() == DType::F32 ? *b : b->to(DType::F32);
      else
        TG_CHECK(ctx.graph.node(node.inputs[2]).dtype == DType::F32,
                 "conv2d: a computed bias must be f32");
    }
  }

  Preparation prepare(std::span<const TensorRef> inputs, const TensorRef& output) override {
    return onednn::guarded("a convolution or pooling primitive",
                           [&] { return prepare_impl(inputs, output); });
  }

  Preparation prepare_impl(std::span<const TensorRef> inputs, const TensorRef& output) {
    auto s = std::make_shared<ConvState>();
    if (output.numel() == 0) {
      s->empty = true;
      return {0, std::move(s)};
    }
    const memory::dims strides{attrs_.stride[0], attrs_.stride[1]};
    const memory::dims dilation{attrs_.dilation[0] - 1, attrs_.dilation[1] - 1};
    const memory::dims padding{attrs_.padding[0], attrs_.padding[1]};
    const auto f32 = memory::data_type::f32;
    const memory::desc src_any(onednn::dims_of(inputs[0].shape), f32, memory::format_tag::any);
    const memory::desc dst_any(onednn::dims_of(output.shape), f32, memory::format_tag::any);
    const memory::desc w_any(weights_dims_, f32, memory::format_tag::any);
    const memory::desc bias_md({output.shape[1]}, f32, memory::format_tag::a);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    auto desc = attrs_.has_bias
                    ? dnnl::convolution_forward::desc(
                          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                          src_any, w_any, bias_md, dst_any, strides, dilation, padding, padding)
                    : dnnl::convolution_forward::desc(
                          dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                          src_any, w_any, dst_any, strides, dilation, padding, padding);
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, onednn::engine());
    s->impl = onednn::impl_name(pd);
    s->prim = dnnl::convolution_forward(pd);
    const memory::desc src_plain = onednn::plain_desc(inputs[0].shape, DType::F32);
    const memory::desc dst_plain = onednn::plain_desc(output.shape, DType::F32);
    s->scratchpad_bytes = pd.scratchpad_desc().get_size();
    std::size_t offset = align_up(s->scratchpad_bytes);
    s->scratchpad = onednn::unbound_memory(pd.scratchpad_desc());
    s->src = onednn::unbound_memory(pd.src_desc());
    s->dst = onednn::unbound_memory(pd.dst_desc());
    if (pd.src_desc() != src_plain) {
      s->src_plain = onednn::unbound_memory(src_plain);
      s->src_in = dnnl::reorder(s->src_plain, s->src);
      s->src_offset = offset;
      offset += align_up(pd.src_desc().get_size());
    }
    if (pd.dst_desc() != dst_plain) {
      s->dst_plain = onednn::unbound_memory(dst_plain);
      s->dst_out = dnnl::reorder(s->dst, s->dst_plain);
      s->dst_offset = offset;
      offset += align_up(pd.dst_desc().get_size());
    }
    if ((weights_f32_.raw() != nullptr)) {
      s->weights = packed_for(pd.weights_desc());
    } else {
      s->weights = onednn::unbound_memory(pd.weights_desc());
      if (pd.weights_desc() != plain_weights_desc()) {
        s->weights_plain = onednn::unbound_memory(plain_weights_desc());
        s->weights_in = dnnl::reorder(s->weights_plain, s->weights);
        s->weights_offset = offset;
        offset += align_up(pd.weights_desc().get_size());
      }
    }
    if (attrs_.has_bias) {
      s->bias = onednn::unbound_memory(pd.bias_desc());
      if ((bias_f32_.raw() != nullptr)) onednn::set_handle(s->bias, bias_f32_.raw());
    }
    last_impl_ = s->impl;
    return {offset, std::move(s)};
  }

  void run(const KernelArgs& args) override {
    const auto& s = *static_cast<const ConvState*>(args.state);
    if (s.empty) return;
    std::byte* scratch = args.scratch;
    if (s.src_in) {
      onednn::set_handle(s.src_plain, args.inputs[0].data);
      onednn::set_handle(s.src, scratch + s.src_offset);
      onednn::execute(*s.src_in, {{DNNL_ARG_FROM, s.src_plain.get()}, {DNNL_ARG_TO, s.src.get()}});
    } else {
      onednn::set_handle(s.src, args.inputs[0].data);
    }
    if (s.weights_in) {
      onednn::set_handle(s.weights_plain, args.inputs[1].data);
      onednn::set_handle(s.weights, scratch + s.weights_offset);
      onednn::execute(*s.weights_in,
                      {{DNNL_ARG_FROM, s.weights_plain.get()}, {DNNL_ARG_TO, s.weights.get()}});
    } else if (weights_f32_.raw() == nullptr) {
      onednn::set_handle(s.weights, args.inputs[1].data);
    }
    if (attrs_.has_bias && !(bias_f32_.raw() != nullptr))
      onednn::set_handle(s.bias, args.inputs[2].data);
    onednn::set_handle(s.dst,
                       s.dst_out ? static_cast<void*>(scratch + s.dst_offset) : args.output.data);
    dnnl_exec_arg_t list[5];
    int n = 0;
    list[n++] = {DNNL_ARG_SRC, s.src.get()};
    list[n++] = {DNNL_ARG_WEIGHTS, s.weights.get()};
    if (attrs_.has_bias) list[n++] = {DNNL_ARG_BIAS, s.bias.get()};
    list[n++] = {DNNL_ARG_DST, s.dst.get()};
    if (s.scratchpad_bytes) {
      onednn::set_handle(s.scratchpad, scratch);
      list[n++] = {DNNL_ARG_SCRATCHPAD, s.scratchpad.get()};
    }
    onednn::execute(s.prim, list, n);
    if (s.dst_out) {
      onednn::set_handle(s.dst_plain, args.output.data);
      onednn::execute(*s.dst_out, {{DNNL_ARG_FROM, s.dst.get()}, {DNNL_ARG_TO, s.dst_plain.get()}});
    }
  }

  std::string name() const override {
    return fmt::format("onednn convolution ({})", last_impl_.empty() ? "not prepared" : last_impl_);
  }

 private:
  memory::desc plain_weights_desc() const {
    return memory::desc(weights_dims_, memory::data_type::f32,
                        groups_ > 1 ? memory::format_tag::goihw : memory::format_tag::oihw);
  }

  // The constant weights reordered into `desc`, once per layout.
  memory packed_for(const memory::desc& desc) {
    for (auto& [d, m] : packs_)
      if (d == desc) return m;
    memory src(plain_weights_desc(), onednn::engine(), const_cast<void*>(weights_f32_.raw()));
    memory dst(desc, onednn::engine());
    dnnl::reorder(src, dst).execute(onednn::stream(), src, dst);
    onednn::stream().wait();
    packs_.emplace_back(desc, dst);
    return dst;
  }

  Attrs attrs_;
  std::int64_t groups_ = 1;
  memory::dims weights_dims_;
  Tensor weights_f32_;
  Tensor bias_f32_;
  std::vector<std::pair<memory::desc, memory>> packs_;
  std::string last_impl_;
};

struct PoolState {
  bool empty = false;
  dnnl::pooling_forward prim;
  memory src, dst, scratchpad;
  // Blocked activations (nChw8c / nChw16c): oneDNN's pooling on plain NCHW is a simple loop,
  // several times slower than its JIT kernels plus the two reorders.
  std::optional<dnnl::reorder> src_in, dst_out;
  memory src_plain, dst_plain;
  std::size_t scratchpad_bytes = 0, src_offset = 0, dst_offset = 0;
  std::string impl;
};

class PoolKernel final : public Kernel {
 public:
  PoolKernel(OpKind op, const Attrs& attrs) : op_(op), attrs_(attrs) {}

  Preparation prepare(std::span<const TensorRef> inputs, const TensorRef& output) override {
    return onednn::guarded("a convolution or pooling primitive",
                           [&] { return prepare_impl(inputs, output); });
  }

  Preparation prepare_impl(std::span<const TensorRef> inputs, const TensorRef& output) {
    auto s = std::make_shared<PoolState>();
    if (output.numel() == 0) {
      s->empty = true;
      return {0, std::move(s)};
    }
    const memory::desc src_plain = onednn::plain_desc(inputs[0].shape, DType::F32);
    const memory::desc dst_plain = onednn::plain_desc(output.shape, DType::F32);
    const bool wide = dnnl::get_effective_cpu_isa() >= dnnl::cpu_isa::avx512_core;
    const memory::desc src_blocked(onednn::dims_of(inputs[0].shape), memory::data_type::f32,
                                   wide ? memory::format_tag::aBcd16b : memory::format_tag::aBcd8b);
    const memory::desc dst_any(onednn::dims_of(output.shape), memory::data_type::f32,
                               memory::format_tag::any);
    std::optional<dnnl::pooling_forward::primitive_desc> pd;
    try {
      pd = make_pd(src_blocked, dst_any);
      if (onednn::impl_name(*pd).find("jit") == std::string::npos) pd.reset();
    } catch (const dnnl::error&) {
      pd.reset();
    }
    if (!pd) pd = make_pd(src_plain, dst_plain);
    s->impl = onednn::impl_name(*pd);
    s->prim = dnnl::pooling_forward(*pd);
    s->src = onednn::unbound_memory(pd->src_desc());
    s->dst = onednn::unbound_memory(pd->dst_desc());
    s->scratchpad = onednn::unbound_memory(pd->scratchpad_desc());
    s->scratchpad_bytes = pd->scratchpad_desc().get_size();
    std::size_t offset = align_up(s->scratchpad_bytes);
    if (pd->src_desc() != src_plain) {
      s->src_plain = onednn::unbound_memory(src_plain);
      s->src_in = dnnl::reorder(s->src_plain, s->src);
      s->src_offset = offset;
      offset += align_up(pd->src_desc().get_size());
    }
    if (pd->dst_desc() != dst_plain) {
      s->dst_plain = onednn::unbound_memory(dst_plain);
      s->dst_out = dnnl::reorder(s->dst, s->dst_plain);
      s->dst_offset = offset;
      offset += align_up(pd->dst_desc().get_size());
    }
    last_impl_ = s->impl;
    return {offset, std::move(s)};
  }

  void run(const KernelArgs& args) override {
    const auto& s = *static_cast<const PoolState*>(args.state);
    if (s.empty) return;
    std::byte* scratch = args.scratch;
    if (s.src_in) {
      onednn::set_handle(s.src_plain, args.inputs[0].data);
      onednn::set_handle(s.src, scratch + s.src_offset);
      onednn::execute(*s.src_in, {{DNNL_ARG_FROM, s.src_plain.get()}, {DNNL_ARG_TO, s.src.get()}});
    } else {
      onednn::set_handle(s.src, args.inputs[0].data);
    }
    onednn::set_handle(s.dst,
                       s.dst_out ? static_cast<void*>(scratch + s.dst_offset) : args.output.data);
    if (s.scratchpad_bytes) {
      onednn::set_handle(s.scratchpad, scratch);
      onednn::execute(s.prim, {{DNNL_ARG_SRC, s.src.get()},
                               {DNNL_ARG_DST, s.dst.get()},
                               {DNNL_ARG_SCRATCHPAD, s.scratchpad.get()}});
    } else {
      onednn::execute(s.prim, {{DNNL_ARG_SRC, s.src.get()}, {DNNL_ARG_DST, s.dst.get()}});
    }
    if (s.dst_out) {
      onednn::set_handle(s.dst_plain, args.output.data);
      onednn::execute(*s.dst_out, {{DNNL_ARG_FROM, s.dst.get()}, {DNNL_ARG_TO, s.dst_plain.get()}});
    }
  }

  std::string name() const override {
    return fmt::format("onednn pooling ({})", last_impl_.empty() ? "not prepared" : last_impl_);
  }

 private:
  dnnl::pooling_forward::primitive_desc make_pd(const memory::desc& src,
                                                const memory::desc& dst) const {
    const auto alg = op_ == OpKind::MaxPool2d   ? dnnl::algorithm::pooling_max
                     : attrs_.count_include_pad ? dnnl::algorithm::pooling_avg_include_padding
                                                : dnnl::algorithm::pooling_avg_exclude_padding;
    const memory::dims padding{attrs_.padding[0], attrs_.padding[1]};
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const dnnl::pooling_forward::desc desc(dnnl::prop_kind::forward_inference, alg, src, dst,
                                           {attrs_.stride[0], attrs_.stride[1]},
                                           {attrs_.kernel[0], attrs_.kernel[1]}, padding, padding);
    return dnnl::pooling_forward::primitive_desc(desc, attr, onednn::engine());
  }

  OpKind op_;
  Attrs attrs_;
  std::string last_impl_;
};

}  // namespace

std::unique_ptr<Kernel> make_conv2d(const KernelContext& ctx) {
  return onednn::guarded("a convolution kernel", [&] { return std::make_unique<ConvKernel>(ctx); });
}

std::unique_ptr<Kernel> make_pool2d(const KernelContext& ctx) {
  // 2x2 max pooling is memory-bound: our plain-layout loop beats oneDNN plus two reorders.
  if (is_max_pool_2x2(ctx.node())) return make_max_pool_2x2(ctx);
  return std::make_unique<PoolKernel>(ctx.node().op, ctx.node().attrs);
}

}  // namespace tensorgraph::runtime::cpu
