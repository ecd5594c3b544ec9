// Matmul and linear through oneDNN's matmul primitive.
//
// Weights mode (linear with constant W; matmul with a constant 2-D right operand): the input is
// seen as [M, K] (all leading dims merged); the weights are reordered ONCE, at compile time, into
// the layout oneDNN prefers (format_tag::any), which does not depend on M; each shape class gets
// a primitive for its M (no DNNL_RUNTIME_DIM_VAL: runtime dims select slower kernels). Bias,
// activations, scale and residual add are oneDNN post-ops. Activation mode (both operands
// computed, e.g. attention scores): batched, with the transposes expressed as strides.
// Post-ops oneDNN cannot take for a shape class (an unusual broadcast) run afterwards on our
// vectorised code.
#include <algorithm>
#include <cstring>
#include <optional>

#include <fmt/format.h>

#include "broadcast.hpp"
#include "cpu.hpp"
#include "onednn.hpp"
#include "packed_gemm.hpp"
#include "small_matmul.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/runtime/vec_math.hpp"

namespace tensorgraph::runtime::cpu {

namespace {

using dnnl::memory;

constexpr int kMaxArgs = 16;
constexpr std::int64_t kRepresentativeM = 16;  // M used to pick the prepacked weight layout

std::optional<dnnl::algorithm> eltwise_algorithm(PostOpKind k) {
  switch (k) {
    case PostOpKind::Relu:
      return dnnl::algorithm::eltwise_relu;
    case PostOpKind::Gelu:
      return dnnl::algorithm::eltwise_gelu_erf;
    case PostOpKind::Tanh:
      return dnnl::algorithm::eltwise_tanh;
    case PostOpKind::Sigmoid:
      return dnnl::algorithm::eltwise_logistic;
    case PostOpKind::Affine:
      return dnnl::algorithm::eltwise_linear;
    case PostOpKind::Add:
      return std::nullopt;
  }
  return std::nullopt;
}

// Per shape class.
struct MatmulState {
  std::int64_t m = 0;  // rows (weights mode) or 0 when the product is empty
  bool empty = false;
  dnnl::matmul prim;
  memory src, weights, bias, dst, scratchpad;
  std::vector<memory> binary;      // fused Add post-op operands
  std::vector<int> binary_inputs;  // their node input indices
  std::vector<int> binary_args;    // their DNNL_ARG_ATTR_MULTIPLE_POST_OP(i) | DNNL_ARG_SRC_1
  std::size_t fused = 0;           // post-ops [0, fused) run inside oneDNN
  std::vector<BroadcastLayout> tail_layouts;  // per post-op from `fused` on (Add only)
  std::string impl;
  std::optional<SmallMatmulPlan> small;  // our kernel instead of oneDNN (small batched shapes)
  bool own_gemm = false;                 // packed_gemm with the compile-time packed weights
};

constexpr std::size_t kMaxPostOps = 8;

class MatmulKernel final : public Kernel {
 public:
  explicit MatmulKernel(const KernelContext& ctx)
      : op_(ctx.node().op), attrs_(ctx.node().attrs), max_threads_(std::max(ctx.threads, 1)) {
    const Node& node = ctx.node();
    const Tensor* w = ctx.constant_input(1);
    if (op_ == OpKind::Linear) {
      weights_mode_ = true;
      k_ = ctx.graph.node(node.inputs[1]).shape[1];
      n_ = ctx.graph.node(node.inputs[1]).shape[0];
    } else if (w && w->rank() == 2 && !attrs_.transpose_a) {
      weights_mode_ = true;
      k_ = attrs_.transpose_b ? w->shape()[1] : w->shape()[0];
      n_ = attrs_.transpose_b ? w->shape()[0] : w->shape()[1];
    }
    if (weights_mode_) {
      // The weights as a {K, N} matrix: linear's W is [N, K] row-major (= {K, N} transposed).
      const bool transposed = op_ == OpKind::Linear || attrs_.transpose_b;
      weights_src_desc_ = memory::desc({k_, n_}, memory::data_type::f32,
                                       transposed ? memory::dims{1, k_} : memory::dims{n_, 1});
      if (w) {
        weights_f32_ = w->dtype() == DType::F32 ? *w : w->to(DType::F32);
        if (use_packed_gemm() && attrs_.post_ops.size() <= kMaxPostOps) {
          own_packed_ = pack_weights(weights_f32_.data<float>(), k_, n_, transposed);
          weights_f32_ = Tensor();
        } else {
          prepack();
        }
      } else {
        TG_CHECK(ctx.graph.node(node.inputs[1]).dtype == DType::F32,
                 "linear: a computed (non-constant) weight must be f32");
      }
      if (attrs_.has_bias) {
        if (const Tensor* b = ctx.constant_input(2)) {
          bias_f32_ = b->dtype() == DType::F32 ? *b : b->to(DType::F32);
        } else {
          TG_CHECK(ctx.graph.node(node.inputs[2]).dtype == DType::F32,
                   "linear: a computed bias must be f32");
        }
      }
    }
  }

  Preparation prepare(std::span<const TensorRef> inputs, const TensorRef& output) override {
    return onednn::guarded("a matmul primitive", [&] { return prepare_impl(inputs, output); });
  }

  Preparation prepare_impl(std::span<const TensorRef> inputs, const TensorRef& output) {
    auto state = std::make_shared<MatmulState>();
    if (output.numel() == 0 || inputs[0].numel() == 0) {
      state->empty = true;
      return {0, std::move(state)};
    }
    const std::size_t total = attrs_.post_ops.size();
    if (own_packed_) {
      // Our GEMM: every post-op runs in its epilogue up to the first Add whose operand is not
      // exactly the output's shape (that one and the rest run afterwards).
      state->own_gemm = true;
      state->m = output.numel() / n_;
      std::size_t fused = 0;
      while (fused < total) {
        const PostOp& p = attrs_.post_ops[fused];
        if (p.kind == PostOpKind::Add && !(inputs[p.input].shape == output.shape)) break;
        ++fused;
      }
      state->fused = fused;
      state->impl = fmt::format("own packed gemm, {}x{} tiles", kRows, kPanel);
      add_tail_layouts(inputs, output, *state);
      last_impl_ = state->impl;
      return {0, std::move(state)};
    }
    if (!weights_mode_) {
      const std::int64_t m = output.shape[-2], n = output.shape[-1];
      const std::int64_t k = attrs_.transpose_a ? inputs[0].shape[-2] : inputs[0].shape[-1];
      if (small_matmul_pays(m, n, k)) {
        state->small = plan_small_matmul(inputs[0].shape, inputs[1].shape, output.shape,
                                         attrs_.transpose_a, attrs_.transpose_b);
        state->impl = "own small-matmul kernel";
        state->fused = 0;  // every post-op runs after the product
        add_tail_layouts(inputs, output, *state);
        last_impl_ = state->impl;
        const std::size_t scratch = small_matmul_scratch_floats(*state->small) * sizeof(float) *
                                    static_cast<std::size_t>(max_threads_);
        return {scratch, std::move(state)};
      }
    }
    // Try with every post-op inside oneDNN, then with fewer (the rest run afterwards).
    std::optional<dnnl::matmul::primitive_desc> pd;
    for (std::size_t fused = total + 1; fused-- > 0;) {
      try {
        pd = make_pd(inputs, output, fused, *state);
        state->fused = fused;
        break;
      } catch (const dnnl::error&) {
        if (fused == 0) throw;
      } catch (const Error&) {
        if (fused == 0) throw;
      }
    }
    state->impl = onednn::impl_name(*pd);
    state->prim = dnnl::matmul(*pd);
    state->src = onednn::unbound_memory(pd->src_desc());
    state->dst = onednn::unbound_memory(pd->dst_desc());
    state->scratchpad = onednn::unbound_memory(pd->scratchpad_desc());
    if (weights_mode_ && packed_) {
      state->weights = packed_for(pd->weights_desc());
    } else {
      state->weights = onednn::unbound_memory(pd->weights_desc());
    }
    if (attrs_.has_bias) {
      state->bias = onednn::unbound_memory(pd->bias_desc());
      if ((bias_f32_.raw() != nullptr)) onednn::set_handle(state->bias, bias_f32_.raw());
    }
    add_tail_layouts(inputs, output, *state);
    last_impl_ = state->impl;
    const std::size_t scratch = pd->scratchpad_desc().get_size();
    return {scratch, std::move(state)};
  }

  void run(const KernelArgs& args) override {
    const auto& s = *static_cast<const MatmulState*>(args.state);
    if (s.empty) return;
    if (s.own_gemm) {
      std::array<const float*, kMaxPostOps> add_operands{};
      for (std::size_t i = 0; i < s.fused; ++i)
        if (attrs_.post_ops[i].kind == PostOpKind::Add)
          add_operands[i] = args.inputs[attrs_.post_ops[i].input].as<const float>();
      GemmEpilogue e;
      if (attrs_.has_bias)
        e.bias = bias_f32_.raw() ? bias_f32_.data<float>() : args.inputs[2].as<const float>();
      e.post_ops = std::span<const PostOp>(attrs_.post_ops.data(), s.fused);
      e.add_operands = add_operands.data();
      packed_gemm(args.inputs[0].as<const float>(), s.m, k_, *own_packed_, args.output.as<float>(),
                  n_, e, std::min(args.threads, max_threads_));
      if (s.fused < attrs_.post_ops.size()) run_tail(args, s);
      return;
    }
    if (s.small) {
      small_matmul(*s.small, args.inputs[0].as<const float>(), args.inputs[1].as<const float>(),
                   args.output.as<float>(), reinterpret_cast<float*>(args.scratch),
                   std::min(args.threads, max_threads_));
      if (!attrs_.post_ops.empty()) run_tail(args, s);
      return;
    }
    dnnl_exec_arg_t list[kMaxArgs];
    int n = 0;
    onednn::set_handle(s.src, args.inputs[0].data);
    list[n++] = {DNNL_ARG_SRC, s.src.get()};
    if (!(weights_mode_ && packed_)) onednn::set_handle(s.weights, args.inputs[1].data);
    list[n++] = {DNNL_ARG_WEIGHTS, s.weights.get()};
    if (attrs_.has_bias) {
      if (!(bias_f32_.raw() != nullptr)) onednn::set_handle(s.bias, args.inputs[2].data);
      list[n++] = {DNNL_ARG_BIAS, s.bias.get()};
    }
    onednn::set_handle(s.dst, args.output.data);
    list[n++] = {DNNL_ARG_DST, s.dst.get()};
    for (std::size_t i = 0; i < s.binary.size(); ++i) {
      onednn::set_handle(s.binary[i], args.inputs[s.binary_inputs[i]].data);
      list[n++] = {s.binary_args[i], s.binary[i].get()};
    }
    if (args.scratch) {
      onednn::set_handle(s.scratchpad, args.scratch);
      list[n++] = {DNNL_ARG_SCRATCHPAD, s.scratchpad.get()};
    }
    onednn::execute(s.prim, list, n);
    if (s.fused < attrs_.post_ops.size()) run_tail(args, s);
  }

  std::string name() const override {
    std::string what = weights_mode_
                           ? (packed_ || own_packed_ ? "weights prepacked" : "weights computed")
                           : "batched";
    if (own_packed_)
      return fmt::format("matmul ({}), {}", last_impl_.empty() ? "own packed gemm" : last_impl_,
                         what);
    return fmt::format("onednn matmul ({}), {}", last_impl_.empty() ? "not prepared" : last_impl_,
                       what);
  }

 private:
  dnnl::matmul::primitive_desc make_pd(std::span<const TensorRef> inputs, const TensorRef& output,
                                       std::size_t fused, MatmulState& state) {
    memory::desc src_md, w_md, bias_md, dst_md;
    memory::dims dst_dims;
    if (weights_mode_) {
      const std::int64_t m = output.numel() / n_;
      state.m = m;
      src_md = memory::desc({m, k_}, memory::data_type::f32, memory::format_tag::ab);
      w_md = packed_ ? packed_desc_ : weights_src_desc_;
      dst_dims = {m, n_};
      dst_md = memory::desc(dst_dims, memory::data_type::f32, memory::format_tag::ab);
      if (attrs_.has_bias)
        bias_md = memory::desc({1, n_}, memory::data_type::f32, memory::format_tag::ab);
    } else {
      const int rank = output.shape.rank();
      src_md = operand_desc(inputs[0].shape, rank, attrs_.transpose_a);
      w_md = operand_desc(inputs[1].shape, rank, attrs_.transpose_b);
      dst_dims = onednn::dims_of(output.shape);
      dst_md = onednn::plain_desc(output.shape, DType::F32);
    }
    dnnl::post_ops ops;
    state.binary.clear();
    state.binary_inputs.clear();
    state.binary_args.clear();
    for (std::size_t i = 0; i < fused; ++i) {
      const PostOp& p = attrs_.post_ops[i];
      if (auto alg = eltwise_algorithm(p.kind)) {
        const float alpha = p.kind == PostOpKind::Affine ? p.alpha : 0.f;
        const float beta = p.kind == PostOpKind::Affine ? p.beta : 0.f;
        ops.append_eltwise(1.f, *alg, alpha, beta);
        continue;
      }
      // Add: the operand's shape aligned to the result's dims (weights mode: [M, N]).
      const Shape& os = inputs[p.input].shape;
      memory::dims od(dst_dims.size(), 1);
      if (weights_mode_) {
        if (os.numel() == output.numel()) {
          od = dst_dims;
        } else if (os.numel() == n_ && os[-1] == n_) {
          od[1] = n_;
        } else if (os.numel() != 1) {
          fail("linear: post-op add operand {} is not supported by oneDNN", os.to_string());
        }
      } else {
        const int off = static_cast<int>(dst_dims.size()) - os.rank();
        for (int d = 0; d < os.rank(); ++d) od[off + d] = os.dims()[d];
      }
      const memory::desc md(od, memory::data_type::f32, contiguous_strides(od));
      ops.append_binary(dnnl::algorithm::binary_add, md);
      state.binary.push_back(onednn::unbound_memory(md));
      state.binary_inputs.push_back(p.input);
      // oneDNN numbers post-ops in the chain, eltwise ones included.
      state.binary_args.push_back(DNNL_ARG_ATTR_MULTIPLE_POST_OP(static_cast<int>(i)) |
                                  DNNL_ARG_SRC_1);
    }
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    attr.set_post_ops(ops);
    auto& eng = onednn::engine();
    auto desc = attrs_.has_bias && weights_mode_ ? dnnl::matmul::desc(src_md, w_md, bias_md, dst_md)
                                                 : dnnl::matmul::desc(src_md, w_md, dst_md);
    if (weights_mode_ && packed_) {
      try {
        return dnnl::matmul::primitive_desc(desc, attr, eng);
      } catch (const dnnl::error&) {
        // The prepacked layout is not accepted for this M: let oneDNN choose and repack.
        const memory::desc any({k_, n_}, memory::data_type::f32, memory::format_tag::any);
        auto desc_any = attrs_.has_bias ? dnnl::matmul::desc(src_md, any, bias_md, dst_md)
                                        : dnnl::matmul::desc(src_md, any, dst_md);
        return dnnl::matmul::primitive_desc(desc_any, attr, eng);
      }
    }
    return dnnl::matmul::primitive_desc(desc, attr, eng);
  }

  // Broadcast layouts of the post-op adds that run after the product.
  void add_tail_layouts(std::span<const TensorRef> inputs, const TensorRef& output,
                        MatmulState& state) const {
    for (std::size_t i = state.fused; i < attrs_.post_ops.size(); ++i) {
      const PostOp& p = attrs_.post_ops[i];
      if (p.kind == PostOpKind::Add) {
        const Shape shapes[] = {inputs[p.input].shape};
        state.tail_layouts.push_back(make_broadcast_layout(output.shape, shapes));
      } else {
        state.tail_layouts.emplace_back();
      }
    }
  }

  static memory::dims contiguous_strides(const memory::dims& dims) {
    memory::dims st(dims.size());
    std::int64_t s = 1;
    for (std::size_t d = dims.size(); d-- > 0;) {
      st[d] = s;
      s *= dims[d];
    }
    return st;
  }

  // A batched operand [..., R, C] (stored [..., C, R] when transposed) padded to `rank` dims.
  static memory::desc operand_desc(const Shape& s, int rank, bool transposed) {
    memory::dims dims(static_cast<std::size_t>(rank), 1),
        strides(static_cast<std::size_t>(rank), 0);
    const int off = rank - s.rank();
    const std::int64_t rows = s[-2], cols = s[-1];  // as stored
    std::int64_t stride = rows * cols;
    for (int d = s.rank() - 3; d >= 0; --d) {
      dims[off + d] = s.dims()[d];
      strides[off + d] = stride;
      stride *= s.dims()[d];
    }
    for (int d = 0; d < off; ++d) strides[d] = stride;
    if (transposed) {
      dims[rank - 2] = cols;
      dims[rank - 1] = rows;
      strides[rank - 2] = 1;
      strides[rank - 1] = cols;
    } else {
      dims[rank - 2] = rows;
      dims[rank - 1] = cols;
      strides[rank - 2] = cols;
      strides[rank - 1] = 1;
    }
    return memory::desc(dims, memory::data_type::f32, strides);
  }

  // Reorders the constant weights into the layout oneDNN picks for a representative M.
  void prepack() {
    onednn::guarded("the prepacked weights", [&] {
      const memory::desc src_md({kRepresentativeM, k_}, memory::data_type::f32,
                                memory::format_tag::ab);
      const memory::desc any({k_, n_}, memory::data_type::f32, memory::format_tag::any);
      const memory::desc dst_md({kRepresentativeM, n_}, memory::data_type::f32,
                                memory::format_tag::ab);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src_md, any, dst_md), attr,
                                            onednn::engine());
      packed_desc_ = pd.weights_desc();
      memory src(weights_src_desc_, onednn::engine(), const_cast<void*>(weights_f32_.raw()));
      packed_ = reordered(src, packed_desc_);
      weights_f32_ = Tensor();  // the packed copy is all we need (an f32 upcast is freed here)
      return 0;
    });
  }

  static memory reordered(memory src, const memory::desc& desc) {
    memory dst(desc, onednn::engine());
    dnnl::reorder(src, dst).execute(onednn::stream(), src, dst);
    onednn::stream().wait();
    return dst;
  }

  // The packed weights in `desc` (normally the compile-time packing).
  memory packed_for(const memory::desc& desc) {
    if (desc == packed_desc_) return *packed_;
    for (auto& [d, m] : extra_packs_)
      if (d == desc) return m;
    extra_packs_.emplace_back(desc, reordered(*packed_, desc));
    return extra_packs_.back().second;
  }

  // Post-ops oneDNN did not take, applied in order over the output.
  void run_tail(const KernelArgs& args, const MatmulState& s) const {
    float* y = args.output.as<float>();
    const std::int64_t total = args.output.numel();
    for (std::size_t i = s.fused; i < attrs_.post_ops.size(); ++i) {
      const PostOp& p = attrs_.post_ops[i];
      if (p.kind == PostOpKind::Add) {
        const BroadcastLayout& l = s.tail_layouts[i - s.fused];
        const float* other = args.inputs[p.input].as<const float>();
        std::int64_t off[1];
        for (std::int64_t r = 0; r < l.rows; ++r) {
          l.row_offsets(r, off);
          float* yr = y + r * l.inner;
          const float* o = other + off[0];
          if (l.inner_stride[0] == 1)
            for (std::int64_t j = 0; j < l.inner; ++j) yr[j] += o[j];
          else
            for (std::int64_t j = 0; j < l.inner; ++j) yr[j] += o[0];
        }
        continue;
      }
      std::int64_t j = 0;
      auto f = [&](vec::VecF v) {
        switch (p.kind) {
          case PostOpKind::Relu:
            return vec::select(v < vec::splat(0.f), vec::splat(0.f), v);
          case PostOpKind::Gelu:
            return vec::gelu(v);
          case PostOpKind::Tanh:
            return vec::tanh(v);
          case PostOpKind::Sigmoid:
            return vec::sigmoid(v);
          case PostOpKind::Affine:
            return v * vec::splat(p.alpha) + vec::splat(p.beta);
          case PostOpKind::Add:
            break;
        }
        return v;
      };
      for (; j + vec::kWidth <= total; j += vec::kWidth) vec::store(y + j, f(vec::load(y + j)));
      for (; j < total; ++j) y[j] = f(vec::splat(y[j]))[0];
    }
  }

  OpKind op_;
  Attrs attrs_;
  int max_threads_ = 1;
  bool weights_mode_ = false;
  std::int64_t k_ = 0, n_ = 0;
  memory::desc weights_src_desc_;
  Tensor weights_f32_;  // the constant weights as f32, until prepacked
  Tensor bias_f32_;
  memory::desc packed_desc_;
  std::optional<memory> packed_;
  std::vector<std::pair<memory::desc, memory>> extra_packs_;
  std::optional<PackedWeights> own_packed_;  // our GEMM's packing (instead of oneDNN's)
  std::string last_impl_;
};

}  // namespace

std::unique_ptr<Kernel> make_matmul(const KernelContext& ctx) {
  return onednn::guarded("a matmul kernel", [&] { return std::make_unique<MatmulKernel>(ctx); });
}

}  // namespace tensorgraph::runtime::cpu
