// Fast element-wise kernels. Every element-wise node (single op or fused tree) runs through one
// engine: the output is walked in blocks of kBlock elements; for each block every instruction of
// the program runs over the block on SIMD vectors (vec_math.hpp), reading inputs in place (or
// from a per-thread register buffer for broadcast values and ragged tails) and writing the last
// result straight into the output. One pass over memory however long the chain.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include <fmt/format.h>

#include "broadcast.hpp"
#include "cpu.hpp"
#include "tensorgraph/core/error.hpp"
#include "tensorgraph/graph/op_registry.hpp"
#include "tensorgraph/runtime/vec_math.hpp"

namespace tensorgraph::runtime::cpu {

namespace {

using vec::kWidth;
using vec::VecF;

constexpr std::int64_t kBlock = 256;  // elements per block; a multiple of every vector width
static_assert(kBlock % 16 == 0);
// Below this much work (elements x per-element cost) a single thread beats an OpenMP fork.
constexpr double kParallelWork = 48 * 1024;

enum class Code : std::uint8_t {
  Const,
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Neg,
  Relu,
  Gelu,
  Tanh,
  Sigmoid,
  Exp,
  Log,
  Sqrt,
  Rsqrt,
  Square,
  Cube,
  Recip,
  Copy,  // pow with the exponents 2, 3, -1, 1
  ReluBackward,
  GeluBackward,
};

struct Instr {
  Code code;
  std::int16_t a = -1, b = -1;
  float imm = 0;
};

Code code_of(EwOp op) {
  switch (op) {
    case EwOp::Const:
      return Code::Const;
    case EwOp::Add:
      return Code::Add;
    case EwOp::Sub:
      return Code::Sub;
    case EwOp::Mul:
      return Code::Mul;
    case EwOp::Div:
      return Code::Div;
    case EwOp::Pow:
      return Code::Pow;
    case EwOp::Neg:
      return Code::Neg;
    case EwOp::Relu:
      return Code::Relu;
    case EwOp::Gelu:
      return Code::Gelu;
    case EwOp::Tanh:
      return Code::Tanh;
    case EwOp::Sigmoid:
      return Code::Sigmoid;
    case EwOp::Exp:
      return Code::Exp;
    case EwOp::Log:
      return Code::Log;
    case EwOp::Sqrt:
      return Code::Sqrt;
    case EwOp::Rsqrt:
      return Code::Rsqrt;
    case EwOp::ReluBackward:
      return Code::ReluBackward;
    case EwOp::GeluBackward:
      return Code::GeluBackward;
  }
  fail("invalid element-wise op");
}

double cost_of(Code c) {
  switch (c) {
    case Code::Exp:
    case Code::Log:
    case Code::Tanh:
    case Code::Sigmoid:
      return 8;
    case Code::Gelu:
      return 14;
    case Code::GeluBackward:
      return 16;
    case Code::Pow:
      return 18;
    case Code::Div:
    case Code::Sqrt:
    case Code::Rsqrt:
    case Code::Recip:
      return 2;
    default:
      return 1;
  }
}

// Two independent vectors per iteration give the out-of-order core work to overlap the long
// dependency chains of exp/tanh/gelu.
template <typename F>
inline void map1(float* d, const float* a, std::int64_t nvec, F f) {
  std::int64_t j = 0;
  for (; j + 2 <= nvec; j += 2) {
    const VecF x0 = vec::load(a + j * kWidth), x1 = vec::load(a + (j + 1) * kWidth);
    const VecF y0 = f(x0), y1 = f(x1);
    vec::store(d + j * kWidth, y0);
    vec::store(d + (j + 1) * kWidth, y1);
  }
  if (j < nvec) vec::store(d + j * kWidth, f(vec::load(a + j * kWidth)));
}
template <typename F>
inline void map2(float* d, const float* a, const float* b, std::int64_t nvec, F f) {
  std::int64_t j = 0;
  for (; j + 2 <= nvec; j += 2) {
    const VecF y0 = f(vec::load(a + j * kWidth), vec::load(b + j * kWidth));
    const VecF y1 = f(vec::load(a + (j + 1) * kWidth), vec::load(b + (j + 1) * kWidth));
    vec::store(d + j * kWidth, y0);
    vec::store(d + (j + 1) * kWidth, y1);
  }
  if (j < nvec) vec::store(d + j * kWidth, f(vec::load(a + j * kWidth), vec::load(b + j * kWidth)));
}

void apply(const Instr& ins, float* d, const float* a, const float* b, std::int64_t nvec) {
  using vec::splat;
  switch (ins.code) {
    case Code::Const:
      break;
    case Code::Add:
      map2(d, a, b, nvec, [](VecF x, VecF y) { return x + y; });
      break;
    case Code::Sub:
      map2(d, a, b, nvec, [](VecF x, VecF y) { return x - y; });
      break;
    case Code::Mul:
      map2(d, a, b, nvec, [](VecF x, VecF y) { return x * y; });
      break;
    case Code::Div:
      map2(d, a, b, nvec, [](VecF x, VecF y) { return x / y; });
      break;
    case Code::Pow:
      map2(d, a, b, nvec, [](VecF x, VecF y) { return vec::pow(x, y); });
      break;
    case Code::Neg:
      map1(d, a, nvec, [](VecF x) { return -x; });
      break;
    case Code::Relu:  // NaN stays NaN, as in PyTorch
      map1(d, a, nvec, [](VecF x) { return vec::select(x < splat(0.f), splat(0.f), x); });
      break;
    case Code::Gelu:
      map1(d, a, nvec, [](VecF x) { return vec::gelu(x); });
      break;
    case Code::Tanh:
      map1(d, a, nvec, [](VecF x) { return vec::tanh(x); });
      break;
    case Code::Sigmoid:
      map1(d, a, nvec, [](VecF x) { return vec::sigmoid(x); });
      break;
    case Code::Exp:
      map1(d, a, nvec, [](VecF x) { return vec::exp(x); });
      break;
    case Code::Log:
      map1(d, a, nvec, [](VecF x) { return vec::log(x); });
      break;
    case Code::Sqrt:
      map1(d, a, nvec, [](VecF x) { return vec::sqrt(x); });
      break;
    case Code::Rsqrt:
      map1(d, a, nvec, [](VecF x) { return splat(1.f) / vec::sqrt(x); });
      break;
    case Code::Square:
      map1(d, a, nvec, [](VecF x) { return x * x; });
      break;
    case Code::Cube:
      map1(d, a, nvec, [](VecF x) { return x * x * x; });
      break;
    case Code::Recip:
      map1(d, a, nvec, [](VecF x) { return splat(1.f) / x; });
      break;
    case Code::Copy:
      map1(d, a, nvec, [](VecF x) { return x; });
      break;
    case Code::ReluBackward:  // a: gradient, b: relu output
      map2(d, a, b, nvec,
           [](VecF g, VecF y) { return vec::select(y > splat(0.f), g, splat(0.f)); });
      break;
    case Code::GeluBackward:  // a: gradient, b: gelu input
      map2(d, a, b, nvec, [](VecF g, VecF x) { return g * vec::gelu_derivative(x); });
      break;
  }
}

class ElementwiseKernel final : public Kernel {
 public:
  ElementwiseKernel(const ElementwiseProgram& program, std::string description)
      : num_inputs_(program.num_inputs), description_(std::move(description)) {
    TG_CHECK(program.num_registers() <= kMaxFusedRegisters,
             "fused element-wise program of {} registers exceeds {}", program.num_registers(),
             kMaxFusedRegisters);
    num_registers_ = program.num_registers();
    for (const EwInstr& e : program.code) {
      Instr ins{code_of(e.op), e.a, e.b, e.imm};
      // pow with a constant exponent: exact and cheap special cases.
      if (ins.code == Code::Pow && ins.b >= num_inputs_) {
        const EwInstr& exponent = program.code[ins.b - num_inputs_];
        if (exponent.op == EwOp::Const) {
          const float p = exponent.imm;
          if (p == 2.f) ins.code = Code::Square;
          if (p == 3.f) ins.code = Code::Cube;
          if (p == 1.f) ins.code = Code::Copy;
          if (p == -1.f) ins.code = Code::Recip;
          if (p == 0.5f) ins.code = Code::Sqrt;
          if (p == -0.5f) ins.code = Code::Rsqrt;
        }
      }
      cost_ += cost_of(ins.code);
      code_.push_back(ins);
    }
  }

  Preparation prepare(std::span<const TensorRef> inputs, const TensorRef& output) override {
    std::vector<Shape> shapes;
    for (const TensorRef& t : inputs) shapes.push_back(t.shape);
    auto layout = std::make_shared<BroadcastLayout>(make_broadcast_layout(output.shape, shapes));
    Preparation p;
    p.scratch_bytes = static_cast<std::size_t>(max_threads_) * per_thread_floats() * sizeof(float);
    p.state = std::move(layout);
    return p;
  }

  void run(const KernelArgs& args) override {
    const auto& layout = *static_cast<const BroadcastLayout*>(args.state);
    const std::int64_t per_row = (layout.inner + kBlock - 1) / kBlock;
    const std::int64_t blocks = layout.rows * per_row;
    const double work = static_cast<double>(layout.rows * layout.inner) * cost_;
    const int threads = work < kParallelWork ? 1
                                             : static_cast<int>(std::min<std::int64_t>(
                                                   std::min(args.threads, max_threads_), blocks));
    auto* scratch = reinterpret_cast<float*>(args.scratch);
    if (threads <= 1) {
      process(args, layout, 0, blocks, scratch);
      return;
    }
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
      const int nt = omp_get_num_threads();
      const std::int64_t begin = blocks * t / nt;
      const std::int64_t end = blocks * (t + 1) / nt;
      process(args, layout, begin, end,
              scratch + static_cast<std::size_t>(t) * per_thread_floats());
    }
  }

  std::string name() const override {
    return description_;
  }

  // The thread count the scratch was sized for (set once from the session).
  void set_max_threads(int n) {
    max_threads_ = std::max(n, 1);
  }

 private:
  std::size_t per_thread_floats() const {
    return static_cast<std::size_t>(num_registers_) * kBlock;
  }

  void process(const KernelArgs& args, const BroadcastLayout& layout, std::int64_t begin,
               std::int64_t end, float* regs) const {
    if (begin >= end) return;
    auto reg = [&](int r) { return regs + static_cast<std::size_t>(r) * kBlock; };
    const int last = num_inputs_ + static_cast<int>(code_.size()) - 1;
    for (std::size_t i = 0; i < code_.size(); ++i)
      if (code_[i].code == Code::Const)
        std::fill_n(reg(num_inputs_ + static_cast<int>(i)), kBlock, code_[i].imm);
    const float* in[kMaxFusedRegisters];
    std::int64_t offsets[kMaxFusedRegisters];
    const float* ptr[kMaxFusedRegisters];
    for (int k = 0; k < num_inputs_; ++k) in[k] = static_cast<const float*>(args.inputs[k].data);
    for (std::size_t i = 0; i < code_.size(); ++i)
      ptr[num_inputs_ + i] = reg(num_inputs_ + static_cast<int>(i));
    float* out = static_cast<float*>(args.output.data);
    const std::int64_t per_row = (layout.inner + kBlock - 1) / kBlock;
    // Broadcast values fill only as much of a register as a row can use.
    const std::int64_t fill = std::min(kBlock, (layout.inner + kWidth - 1) / kWidth * kWidth);
    std::int64_t row = -1;
    for (std::int64_t blk = begin; blk < end; ++blk) {
      const std::int64_t r = blk / per_row;
      const std::int64_t start = (blk % per_row) * kBlock;
      const std::int64_t len = std::min(kBlock, layout.inner - start);
      const std::int64_t nvec = (len + kWidth - 1) / kWidth;
      if (r != row) {
        row = r;
        layout.row_offsets(r, offsets);
        for (int k = 0; k < num_inputs_; ++k)
          if (layout.inner_stride[k] == 0) std::fill_n(reg(k), fill, in[k][offsets[k]]);
      }
      for (int k = 0; k < num_inputs_; ++k) {
        if (layout.inner_stride[k] == 0) {
          ptr[k] = reg(k);
        } else if (len == kBlock) {
          ptr[k] = in[k] + offsets[k] + start;
        } else {  // ragged tail: copy into the (padded) register
          std::memcpy(reg(k), in[k] + offsets[k] + start,
                      static_cast<std::size_t>(len) * sizeof(float));
          ptr[k] = reg(k);
        }
      }
      float* dst_out = out + r * layout.inner + start;
      for (std::size_t i = 0; i < code_.size(); ++i) {
        const Instr& ins = code_[i];
        if (ins.code == Code::Const) continue;
        const int target = num_inputs_ + static_cast<int>(i);
        float* d = (target == last && len == kBlock) ? dst_out : reg(target);
        apply(ins, d, ptr[ins.a], ins.b >= 0 ? ptr[ins.b] : nullptr, nvec);
        ptr[target] = d;
      }
      if (len != kBlock)
        std::memcpy(dst_out, reg(last), static_cast<std::size_t>(len) * sizeof(float));
    }
  }

  int num_inputs_ = 0;
  int num_registers_ = 0;
  int max_threads_ = 1;
  double cost_ = 0;
  std::vector<Instr> code_;
  std::string description_;
};

// ---- where ----------------------------------------------------------------------------------

// The condition as a typed value: loops are instantiated per (value size, condition type).
template <typename C>
inline bool truthy(C v) {
  if constexpr (std::is_same_v<C, std::uint16_t>)
    return (v & 0x7FFFu) != 0;  // f16/bf16: any non-zero magnitude (-0 is false)
  else
    return v != C{0};
}

class WhereKernel final : public Kernel {
 public:
  Preparation prepare(std::span<const TensorRef> inputs, const TensorRef& output) override {
    std::vector<Shape> shapes;
    for (const TensorRef& t : inputs) shapes.push_back(t.shape);
    return {0, std::make_shared<BroadcastLayout>(make_broadcast_layout(output.shape, shapes))};
  }
  void run(const KernelArgs& args) override {
    const auto& layout = *static_cast<const BroadcastLayout*>(args.state);
    switch (dtype_size(args.output.dtype)) {
      case 1:
        by_condition<std::uint8_t>(args, layout);
        break;
      case 2:
        by_condition<std::uint16_t>(args, layout);
        break;
      case 4:
        by_condition<std::uint32_t>(args, layout);
        break;
      default:
        by_condition<std::uint64_t>(args, layout);
        break;
    }
  }
  std::string name() const override { return "cpu where"; }

 private:
  template <typename T>
  static void by_condition(const KernelArgs& args, const BroadcastLayout& layout) {
    switch (args.inputs[0].dtype) {
      case DType::F32:
        loop<T, float>(args, layout);
        break;
      case DType::F64:
        loop<T, double>(args, layout);
        break;
      case DType::F16:
      case DType::BF16:
        loop<T, std::uint16_t>(args, layout);
        break;
      case DType::I32:
        loop<T, std::int32_t>(args, layout);
        break;
      case DType::I64:
        loop<T, std::int64_t>(args, layout);
        break;
      case DType::I8:
      case DType::U8:
      case DType::Bool:
        loop<T, std::uint8_t>(args, layout);
        break;
    }
  }

  template <typename T, typename C>
  static void loop(const KernelArgs& args, const BroadcastLayout& layout) {
    const auto* cond = static_cast<const C*>(args.inputs[0].data);
    const auto* a = static_cast<const T*>(args.inputs[1].data);
    const auto* b = static_cast<const T*>(args.inputs[2].data);
    auto* y = static_cast<T*>(args.output.data);
    const std::int64_t sc = layout.inner_stride[0], sa = layout.inner_stride[1],
                       sb = layout.inner_stride[2];
    std::int64_t off[3];
    for (std::int64_t r = 0; r < layout.rows; ++r) {
      layout.row_offsets(r, off);
      T* yr = y + r * layout.inner;
      const C* cr = cond + off[0];
      const T* ar = a + off[1];
      const T* br = b + off[2];
      for (std::int64_t i = 0; i < layout.inner; ++i)
        yr[i] = truthy(cr[i * sc]) ? ar[i * sa] : br[i * sb];
    }
  }
};

// ---- cast -----------------------------------------------------------------------------------

template <typename To>
To saturate(double v) {
  if (v != v) return 0;
  constexpr double lo = static_cast<double>(std::numeric_limits<To>::min());
  constexpr double hi = static_cast<double>(std::numeric_limits<To>::max());
  if (v <= lo) return std::numeric_limits<To>::min();
  if (v >= hi) return std::numeric_limits<To>::max();
  return static_cast<To>(v);
}

class CastKernel final : public Kernel {
 public:
  void run(const KernelArgs& args) override {
    const TensorRef& in = args.inputs[0];
    const TensorRef& out = args.output;
    const std::int64_t n = out.numel();
    const DType from = in.dtype, to = out.dtype;
    if (from == to) {
      std::memcpy(out.data, in.data, out.nbytes());
      return;
    }
    // Fast paths for the conversions models use; the rest element by element through double.
    if (to == DType::F32 && from == DType::F16) {
      const auto* s = in.as<const std::uint16_t>();
      float* d = out.as<float>();
      for (std::int64_t i = 0; i < n; ++i) d[i] = f16_to_f32(s[i]);
    } else if (to == DType::F32 && from == DType::BF16) {
      const auto* s = in.as<const std::uint16_t>();
      auto* d = out.as<std::uint32_t>();
#pragma omp simd
      for (std::int64_t i = 0; i < n; ++i) d[i] = static_cast<std::uint32_t>(s[i]) << 16;
    } else if (to == DType::F32 &&
               (from == DType::I64 || from == DType::I32 || from == DType::Bool)) {
      float* d = out.as<float>();
      if (from == DType::I64)
        for (std::int64_t i = 0; i < n; ++i)
          d[i] = static_cast<float>(in.as<const std::int64_t>()[i]);
      else if (from == DType::I32)
        for (std::int64_t i = 0; i < n; ++i)
          d[i] = static_cast<float>(in.as<const std::int32_t>()[i]);
      else
        for (std::int64_t i = 0; i < n; ++i) d[i] = in.as<const std::uint8_t>()[i] != 0 ? 1.f : 0.f;
    } else if (to == DType::F32 && from == DType::U8) {  // images
      const auto* s = in.as<const std::uint8_t>();
      float* d = out.as<float>();
#pragma omp simd
      for (std::int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
    } else if (from == DType::F32 && to == DType::F16) {
      const float* s = in.as<const float>();
      auto* d = out.as<std::uint16_t>();
      for (std::int64_t i = 0; i < n; ++i) d[i] = f32_to_f16(s[i]);
    } else if (from == DType::F32 && to == DType::BF16) {
      const float* s = in.as<const float>();
      auto* d = out.as<std::uint16_t>();
      for (std::int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(s[i]);
    } else if (from == DType::I64 && to == DType::I32) {
      for (std::int64_t i = 0; i < n; ++i)
        out.as<std::int32_t>()[i] = static_cast<std::int32_t>(in.as<const std::int64_t>()[i]);
    } else if (from == DType::I32 && to == DType::I64) {
      for (std::int64_t i = 0; i < n; ++i)
        out.as<std::int64_t>()[i] = in.as<const std::int32_t>()[i];
    } else {
      for (std::int64_t i = 0; i < n; ++i) store(out, i, load(in, i), from);
    }
  }
  std::string name() const override {
    return "cpu cast";
  }

 private:
  static double load(const TensorRef& t, std::int64_t i) {
    switch (t.dtype) {
      case DType::F32:
        return t.as<const float>()[i];
      case DType::F16:
        return f16_to_f32(t.as<const std::uint16_t>()[i]);
      case DType::BF16:
        return bf16_to_f32(t.as<const std::uint16_t>()[i]);
      case DType::F64:
        return t.as<const double>()[i];
      case DType::I8:
        return t.as<const std::int8_t>()[i];
      case DType::U8:
        return t.as<const std::uint8_t>()[i];
      case DType::I32:
        return t.as<const std::int32_t>()[i];
      case DType::I64:
        return static_cast<double>(t.as<const std::int64_t>()[i]);
      case DType::Bool:
        return t.as<const std::uint8_t>()[i] != 0;
    }
    return 0;
  }
  static void store(const TensorRef& t, std::int64_t i, double v, DType from) {
    switch (t.dtype) {
      case DType::F32:
        t.as<float>()[i] = static_cast<float>(v);
        break;
      case DType::F16:
        t.as<std::uint16_t>()[i] = f32_to_f16(static_cast<float>(v));
        break;
      case DType::BF16:
        t.as<std::uint16_t>()[i] = f32_to_bf16(static_cast<float>(v));
        break;
      case DType::F64:
        t.as<double>()[i] = v;
        break;
      case DType::I8:
        t.as<std::int8_t>()[i] = saturate<std::int8_t>(v);
        break;
      case DType::U8:
        t.as<std::uint8_t>()[i] = saturate<std::uint8_t>(v);
        break;
      case DType::I32:
        t.as<std::int32_t>()[i] = saturate<std::int32_t>(v);
        break;
      case DType::I64:
        t.as<std::int64_t>()[i] = saturate<std::int64_t>(v);
        break;
      case DType::Bool:
        t.as<std::uint8_t>()[i] = v != 0 ? 1 : 0;
        break;
    }
    (void)from;
  }
};

}  // namespace

std::unique_ptr<Kernel> make_elementwise(const KernelContext& ctx) {
  const Node& node = ctx.node();
  std::unique_ptr<ElementwiseKernel> kernel;
  if (node.op == OpKind::FusedElementwise) {
    std::size_t ops = 0;  // constants are immediates, not ops
    for (const EwInstr& ins : node.attrs.program->code) ops += ins.op == EwOp::Const ? 0 : 1;
    kernel = std::make_unique<ElementwiseKernel>(
        *node.attrs.program, fmt::format("cpu fused element-wise ({} ops)", ops));
  } else {
    ElementwiseProgram p;
    p.num_inputs = static_cast<int>(node.inputs.size());
    EwInstr ins;
    switch (node.op) {
      case OpKind::Add:
        ins.op = EwOp::Add;
        break;
      case OpKind::Sub:
        ins.op = EwOp::Sub;
        break;
      case OpKind::Mul:
        ins.op = EwOp::Mul;
        break;
      case OpKind::Div:
        ins.op = EwOp::Div;
        break;
      case OpKind::Pow:
        ins.op = EwOp::Pow;
        break;
      case OpKind::Neg:
        ins.op = EwOp::Neg;
        break;
      case OpKind::Relu:
        ins.op = EwOp::Relu;
        break;
      case OpKind::Gelu:
        ins.op = EwOp::Gelu;
        break;
      case OpKind::Tanh:
        ins.op = EwOp::Tanh;
        break;
      case OpKind::Sigmoid:
        ins.op = EwOp::Sigmoid;
        break;
      case OpKind::Exp:
        ins.op = EwOp::Exp;
        break;
      case OpKind::Log:
        ins.op = EwOp::Log;
        break;
      case OpKind::Sqrt:
        ins.op = EwOp::Sqrt;
        break;
      case OpKind::Rsqrt:
        ins.op = EwOp::Rsqrt;
        break;
      case OpKind::ReluBackward:
        ins.op = EwOp::ReluBackward;
        break;
      case OpKind::GeluBackward:
        ins.op = EwOp::GeluBackward;
        break;
      default:
        fail("{} is not element-wise", op_name(node.op));
    }
    ins.a = 0;
    if (p.num_inputs > 1) ins.b = 1;
    p.code.push_back(ins);
    kernel = std::make_unique<ElementwiseKernel>(
        p, fmt::format("cpu element-wise {}", op_name(node.op)));
  }
  kernel->set_max_threads(ctx.threads);
  return kernel;
}

std::unique_ptr<Kernel> make_where(const KernelContext&) {
  return std::make_unique<WhereKernel>();
}
std::unique_ptr<Kernel> make_cast(const KernelContext&) {
  return std::make_unique<CastKernel>();
}

}  // namespace tensorgraph::runtime::cpu
