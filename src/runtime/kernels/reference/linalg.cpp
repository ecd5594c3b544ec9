// Reference matmul and linear: triple loops accumulating in double, then the post-ops.
#include <vector>

#include "reference.hpp"

namespace tensorgraph::runtime::reference {

namespace {

// Applies post-ops to the finished result y (in place).
void apply_post_ops(const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& out = args.output;
  for (const PostOp& p : attrs.post_ops) {
    for (std::int64_t i = 0; i < out.numel(); ++i) {
      const double v = load(out, i);
      double r = v;
      switch (p.kind) {
        case PostOpKind::Relu:
          r = v < 0 ? 0.0 : v;
          break;
        case PostOpKind::Gelu:
          r = gelu_exact(v);
          break;
        case PostOpKind::Tanh:
          r = std::tanh(v);
          break;
        case PostOpKind::Sigmoid:
          r = sigmoid_exact(v);
          break;
        case PostOpKind::Affine:
          r = static_cast<double>(p.alpha) * v + p.beta;
          break;
        case PostOpKind::Add: {
          const TensorRef& other = args.inputs[p.input];
          r = v + load(other, broadcast_index(other.shape, out.shape, unravel(out.shape, i)));
          break;
        }
      }
      store(out, i, r);
    }
  }
}

}  // namespace

void matmul(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& a = args.inputs[0];
  const TensorRef& b = args.inputs[1];
  const TensorRef& out = args.output;
  const int rank = out.shape.rank();
  const std::int64_t m = out.shape[-2];
  const std::int64_t n = out.shape[-1];
  const std::int64_t k = attrs.transpose_a ? a.shape[-2] : a.shape[-1];
  // Batch shapes (all but the last two dims) for broadcasting.
  Shape out_batch, a_batch, b_batch;
  for (int d = 0; d < rank - 2; ++d) out_batch.push_back(out.shape.dims()[d]);
  for (int d = 0; d < a.shape.rank() - 2; ++d) a_batch.push_back(a.shape.dims()[d]);
  for (int d = 0; d < b.shape.rank() - 2; ++d) b_batch.push_back(b.shape.dims()[d]);
  std::int64_t batches = 1;
  for (std::int64_t d : out_batch.dims()) batches *= d;
  for (std::int64_t bi = 0; bi < batches; ++bi) {
    const auto c = unravel(out_batch, bi);
    const std::int64_t a_off = broadcast_index(a_batch, out_batch, c) * a.shape[-2] * a.shape[-1];
    const std::int64_t b_off = broadcast_index(b_batch, out_batch, c) * b.shape[-2] * b.shape[-1];
    for (std::int64_t i = 0; i < m; ++i) {
      for (std::int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (std::int64_t p = 0; p < k; ++p) {
          const std::int64_t ai = attrs.transpose_a ? p * m + i : i * k + p;
          const std::int64_t bj = attrs.transpose_b ? j * k + p : p * n + j;
          acc += load(a, a_off + ai) * load(b, b_off + bj);
        }
        store(out, bi * m * n + i * n + j, acc);
      }
    }
  }
  apply_post_ops(attrs, args);
}

void linear(OpKind, const Attrs& attrs, const KernelArgs& args) {
  const TensorRef& x = args.inputs[0];
  const TensorRef& w = args.inputs[1];
  const TensorRef& out = args.output;
  const std::int64_t k = w.shape[1];
  const std::int64_t n = w.shape[0];
  const std::int64_t rows = k > 0 ? x.numel() / k : out.numel() / (n > 0 ? n : 1);
  for (std::int64_t i = 0; i < rows; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = attrs.has_bias ? load(args.inputs[2], j) : 0.0;
      for (std::int64_t p = 0; p < k; ++p) acc += load(x, i * k + p) * load(w, j * k + p);
      store(out, i * n + j, acc);
    }
  }
  apply_post_ops(attrs, args);
}

}  // namespace tensorgraph::runtime::reference
